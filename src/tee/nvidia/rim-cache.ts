import { createHash } from 'node:crypto'
import { checkRimRevocation, verifyRim, type Rim, type VerifyRimOptions } from './verify-rim.js'
import { BoundedMap } from '../../util/bounded-map.js'

/** RIMs remembered by default: a few driver and VBIOS versions in use at once. */
export const DEFAULT_RIM_CACHE_SIZE = 32

/**
 * Verified RIMs by the SHA-256 of their bytes. A renter sees the same driver and VBIOS RIMs in every
 * session with a supplier, and their XML-DSig check (canonicalisation of 20 KiB of XML) costs far
 * more than the report's. A hit is used only when `at` lies inside the signer chain's validity;
 * revocation is checked afresh on every call, against the CRLs and OCSP answers of that call.
 * Bounded: the oldest entry goes first.
 */
export class RimCache {
  private readonly entries: BoundedMap<string, Rim>
  constructor (max = DEFAULT_RIM_CACHE_SIZE) {
    this.entries = new BoundedMap(max)
  }

  verify (bytes: Uint8Array, opts: VerifyRimOptions = {}): Rim {
    const at = opts.at ?? new Date()
    const key = createHash('sha256').update(bytes).digest('hex')
    let rim = this.entries.get(key)
    if (rim == null || at < rim.validFrom || at > rim.validTo) {
      // cached as verified without revocation sources: those belong to each call
      rim = verifyRim(bytes, { at })
      this.entries.set(key, rim)
    }
    return checkRimRevocation(rim, opts, at)
  }

  get size (): number { return this.entries.size }
}
