import { createHash } from 'node:crypto'
import { verifyRim, type Rim, type VerifyRimOptions } from './verify-rim.js'
import { BoundedMap } from '../../util/bounded-map.js'

/** RIMs remembered by default: a few driver and VBIOS versions in use at once. */
export const DEFAULT_RIM_CACHE_SIZE = 32

/**
 * Verified RIMs by the SHA-256 of their bytes. A renter sees the same driver and VBIOS RIMs in every
 * session with a supplier, and their XML-DSig check (canonicalisation of 20 KiB of XML) costs far
 * more than the report's. A hit is used only when `at` lies inside the signer chain's validity and
 * no CRLs are given (revocation is always checked afresh). Bounded: the oldest entry goes first.
 */
export class RimCache {
  private readonly entries: BoundedMap<string, Rim>
  constructor (max = DEFAULT_RIM_CACHE_SIZE) {
    this.entries = new BoundedMap(max)
  }

  verify (bytes: Uint8Array, opts: VerifyRimOptions = {}): Rim {
    const at = opts.at ?? new Date()
    if ((opts.crls?.length ?? 0) > 0) return verifyRim(bytes, opts)
    const key = createHash('sha256').update(bytes).digest('hex')
    const hit = this.entries.get(key)
    if (hit != null && at >= hit.validFrom && at <= hit.validTo) return hit
    const rim = verifyRim(bytes, { ...opts, at })
    this.entries.set(key, rim)
    return rim
  }

  get size (): number { return this.entries.size }
}
