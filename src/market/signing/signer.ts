import type { KeyObject } from 'node:crypto'
import type { AccountPair } from '../../util/sr25519.js'
import { encodeSs58 } from '../../util/ss58.js'
import type { SignerCert } from '../../wire/market.js'
import { createSignerCert } from './cert.js'
import { ed25519Generate, ed25519PrivateKeyObject, ed25519PublicFromSeed, ed25519Sign } from '../../util/ed25519.js'

export const SS58_PREFIX = 42

/** Domain tags: every signature covers its tag, so a signature for one kind never verifies as another. */
export const DOMAIN = {
  offer: 'bazaar-offer-v1',
  bid: 'bazaar-bid-v1',
  agreement: 'bazaar-agreement-v1',
  /** a renter giving back an agreement no session started (/bazaar/withdraw/1.0.0) */
  withdraw: 'bazaar-withdraw-v1'
} as const
export type Domain = typeof DOMAIN[keyof typeof DOMAIN] | string

const enc = new TextEncoder()
/** the encoded tags of the fixed domains: every market message is signed under one of them */
const TAG_BYTES = new Map<string, Uint8Array>(Object.values(DOMAIN).map((d) => [d, enc.encode(d)]))

/** domain || 0x00 || body: what the signing key signs. */
export function signedBytes (domain: Domain, body: Uint8Array): Uint8Array {
  const d = TAG_BYTES.get(domain) ?? enc.encode(domain)
  const out = new Uint8Array(d.length + 1 + body.byteLength)
  out.set(d, 0)
  out.set(body, d.length + 1)
  return out
}

/** ss58 (prefix 42) of a 32-byte public key. */
export function ss58 (publicKey: Uint8Array): string {
  return encodeSs58(publicKey, SS58_PREFIX)
}

/**
 * A node's market signer: a fast ed25519 key certified by the party's sr25519 hotkey.
 */
export class MessageSigner {
  readonly cert: SignerCert
  readonly address: string
  private readonly key: KeyObject

  private constructor (seed: Uint8Array, cert: SignerCert) {
    this.key = ed25519PrivateKeyObject(seed)
    this.cert = cert
    this.address = ss58(cert.hotkey)
  }

  /**
   * Certifies a signing key with the hotkey. Without a seed a fresh key is generated (a node does
   * this at every start; the certificate lives `ttlMs`).
   */
  static create (hotkey: AccountPair, opts: { now: number, ttlMs?: number, seed?: Uint8Array }): MessageSigner {
    const seed = opts.seed ?? ed25519Generate().seed
    const cert = createSignerCert(hotkey, ed25519PublicFromSeed(seed), opts.now + (opts.ttlMs ?? 30 * 24 * 3600_000))
    return new MessageSigner(seed, cert)
  }

  get hotkey (): Uint8Array<ArrayBuffer> { return this.cert.hotkey }

  sign (domain: Domain, body: Uint8Array): Uint8Array<ArrayBuffer> {
    return ed25519Sign(this.key, signedBytes(domain, body))
  }
}
