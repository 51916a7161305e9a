import type { KeyObject } from 'node:crypto'
import type { AccountPair } from '../../util/sr25519.js'
import type { SignerCert } from '../../wire/market.js'
import { ed25519PublicKeyObject } from '../../util/ed25519.js'
import { bytesEqual } from '../../util/bytes.js'
import { BoundedMap } from '../../util/bounded-map.js'
import { encodeSs58 } from '../../util/ss58.js'
import { sr25519Verify } from '../../util/sr25519.js'

const CERT_DOMAIN = new TextEncoder().encode('bazaar-cert-v1')

/** The bytes a hotkey signs to certify a signing key: domain || hotkey || signingKey || notAfter (u64 BE). */
export function certPayload (hotkey: Uint8Array, signingKey: Uint8Array, notAfter: bigint): Uint8Array {
  const out = new Uint8Array(CERT_DOMAIN.length + 32 + 32 + 8)
  out.set(CERT_DOMAIN, 0)
  out.set(hotkey, CERT_DOMAIN.length)
  out.set(signingKey, CERT_DOMAIN.length + 32)
  new DataView(out.buffer).setBigUint64(CERT_DOMAIN.length + 64, notAfter)
  return out
}

/** Certifies `signingKey` (ed25519, 32 bytes) with the sr25519 hotkey until `notAfter` (ms). */
export function createSignerCert (hotkey: AccountPair, signingKey: Uint8Array, notAfter: number): SignerCert {
  if (hotkey.type !== 'sr25519') throw new TypeError('the hotkey must be sr25519')
  const na = BigInt(notAfter)
  return {
    hotkey: new Uint8Array(hotkey.publicKey),
    signingKey: new Uint8Array(signingKey),
    notAfter: na,
    signature: new Uint8Array(hotkey.sign(certPayload(hotkey.publicKey, signingKey, na)))
  }
}

/** the cache key of a certificate: its signature in base64, read in place (no copy of the bytes) */
function cacheKey (signature: Uint8Array): string {
  return Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength).toString('base64')
}

/**
 * the key of a certificate whose signature did not verify: every field, so that a good certificate
 * sharing its signature bytes is not refused by it
 */
function badKey (cert: SignerCert): string {
  return `${cacheKey(cert.signature)}/${cacheKey(cert.hotkey)}/${cacheKey(cert.signingKey)}/${cert.notAfter}`
}

/** forged certificates remembered (sr25519 is not run on them again) */
const MAX_BAD_CERTS = 4096

export type CertVerdict = 'ok' | 'malformed' | 'bad-signature' | 'expired'

interface CacheEntry { cert: SignerCert, key: KeyObject, address: string }

/**
 * Verified certificates, keyed by their signature and compared field by field on a hit. The sr25519 check (slow) runs once per
 * certificate; later messages only pay for a map lookup and an ed25519 verification. Bounded: the
 * oldest entry is evicted first (a Map iterates in insertion order), so a peer that floods fresh
 * certificates only evicts, it never grows memory.
 */
export class CertCache {
  private readonly entries: BoundedMap<string, CacheEntry>
  /**
   * certificates that failed their sr25519 check: many messages carrying one forged certificate
   * (a burst of 400 in one RPC) would each run the 0.3 ms check again, all in one macrotask
   */
  private readonly bad = new BoundedMap<string, true>(MAX_BAD_CERTS)
  constructor (maxEntries = 10_000) {
    this.entries = new BoundedMap(maxEntries)
  }

  get size (): number { return this.entries.size }

  /**
   * What `check` answers without an sr25519 verification: a malformed or expired certificate, or
   * one verified before; undefined when only the slow check can tell.
   */
  lookup (cert: SignerCert, now: number): { verdict: CertVerdict, key?: KeyObject, address?: string } | undefined {
    if (cert.hotkey.byteLength !== 32 || cert.signingKey.byteLength !== 32 || cert.signature.byteLength !== 64) {
      return { verdict: 'malformed' }
    }
    if (cert.notAfter < BigInt(now)) return { verdict: 'expired' }
    const hit = this.entries.get(cacheKey(cert.signature))
    if (hit != null && hit.cert.notAfter === cert.notAfter && bytesEqual(hit.cert.hotkey, cert.hotkey) && bytesEqual(hit.cert.signingKey, cert.signingKey)) {
      return { verdict: 'ok', key: hit.key, address: hit.address }
    }
    return undefined
  }

  /**
   * Checks a certificate at time `now`; on success returns the signing key as a KeyObject.
   * Never throws on malformed input.
   */
  check (cert: SignerCert, now: number): { verdict: CertVerdict, key?: KeyObject, address?: string } {
    const quick = this.lookup(cert, now)
    if (quick !== undefined) return quick
    const id = cacheKey(cert.signature)
    const forged = badKey(cert)
    if (this.bad.has(forged)) return { verdict: 'bad-signature' }
    // sr25519 on schnorrkel's wasm (util/sr25519.ts), about 0.3 ms: once per certificate
    if (!sr25519Verify(certPayload(cert.hotkey, cert.signingKey, cert.notAfter), cert.signature, cert.hotkey)) {
      this.bad.set(forged, true)
      return { verdict: 'bad-signature' }
    }
    let key: KeyObject
    try {
      key = ed25519PublicKeyObject(cert.signingKey)
    } catch {
      return { verdict: 'malformed' }
    }
    const address = encodeSs58(cert.hotkey, 42)
    this.entries.set(id, { cert: { ...cert }, key, address })
    return { verdict: 'ok', key, address }
  }
}
