import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto'
import { SODIUM, SODIUM_PATH } from './sodium.js'

/**
 * ed25519 through Node's native crypto: about 7,000 verifications/s on one core, against about 200/s
 * for pure-JS sr25519. Hot paths (gossip validation, vouchers) verify with this; the slow hotkey
 * signature is checked once per certificate. Market message keys, voucher keys and the simulated
 * attestation keys all go through these helpers.
 *
 * Market messages, the one path verified for every message a peer sends, verify with libsodium
 * (`ed25519VerifyRaw`) when its prebuilt addon loads: about 1.8x faster per signature than
 * node:crypto on the same core (`npm run bench:gossip`, "validator alone").
 */

/**
 * Which implementation `ed25519VerifyRaw` uses, and where sodium-native's module is (a worker
 * thread loads it from there).
 */
export const ED25519_BACKEND: { readonly name: 'libsodium' | 'node:crypto', readonly sodiumPath?: string } =
  SODIUM !== undefined ? { name: 'libsodium', sodiumPath: SODIUM_PATH } : { name: 'node:crypto' }

// DER prefixes of the SPKI / PKCS#8 wrappings of a raw 32-byte ed25519 key (RFC 8410).
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

/** A KeyObject for a raw 32-byte ed25519 public key; RangeError for another length. */
export function ed25519PublicKeyObject (raw: Uint8Array): KeyObject {
  if (raw.byteLength !== 32) throw new RangeError('ed25519 public key must be 32 bytes')
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' })
}

/** A KeyObject for a raw 32-byte ed25519 seed; RangeError for another length. */
export function ed25519PrivateKeyObject (seed: Uint8Array): KeyObject {
  if (seed.byteLength !== 32) throw new RangeError('ed25519 seed must be 32 bytes')
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' })
}

/** A fresh ed25519 key: the 32-byte seed and the 32-byte public key. */
export function ed25519Generate (): { seed: Uint8Array, publicKey: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length)
  const pub = publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length)
  return { seed: new Uint8Array(seed), publicKey: new Uint8Array(pub) }
}

/** The raw 32-byte public key of an ed25519 KeyObject, private or public. */
export function ed25519RawPublicKey (key: KeyObject): Uint8Array<ArrayBuffer> {
  const pub = key.type === 'private' ? createPublicKey(key) : key
  return new Uint8Array(pub.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length))
}

/** The raw 32-byte public key of a raw 32-byte seed. */
export function ed25519PublicFromSeed (seed: Uint8Array): Uint8Array<ArrayBuffer> {
  return ed25519RawPublicKey(ed25519PrivateKeyObject(seed))
}

/** A 64-byte signature of `message` */
export function ed25519Sign (key: KeyObject, message: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(sign(null, message, key))
}

/**
 * Verifies with the raw 32-byte public key, through libsodium when it loaded, else through
 * node:crypto with `key` (the same key as a KeyObject). libsodium's check is the strict one (RFC
 * 8032 with S below the group order, as node:crypto, and also refusing a public key or R of small
 * order, which no honest signer produces); docs/protocol.md §2.2. false for a wrong or malformed
 * signature; never throws on bad input.
 */
export function ed25519VerifyRaw (publicKey: Uint8Array, key: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.byteLength !== 64 || publicKey.byteLength !== 32) return false
  const sodium = SODIUM
  if (sodium === undefined) return ed25519Verify(key, message, signature)
  try {
    return sodium.crypto_sign_verify_detached(signature, message, publicKey)
  } catch {
    return false
  }
}

/** false for a wrong signature or a malformed one; never throws on bad input */
export function ed25519Verify (key: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.byteLength !== 64) return false
  try {
    return verify(null, message, key, signature)
  } catch {
    return false
  }
}
