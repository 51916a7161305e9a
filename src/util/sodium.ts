import { createRequire } from 'node:module'

/**
 * sodium-native, libsodium's prebuilt Node addon, when it loads on this platform. Two hot paths use
 * it: market signatures (`ed25519.ts`) and noise's ChaCha20-Poly1305 (`node/noise-crypto.ts`).
 * Where no prebuilt addon exists, both fall back to node:crypto and noise's own implementation.
 */
export interface Sodium {
  crypto_sign_verify_detached: (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean
  /** writes ciphertext and tag into `c`; returns their length */
  crypto_aead_chacha20poly1305_ietf_encrypt: (c: Uint8Array, m: Uint8Array, ad: Uint8Array | null, nsec: null, npub: Uint8Array, k: Uint8Array) => number
  /** writes the plaintext into `m`; throws when the tag does not verify */
  crypto_aead_chacha20poly1305_ietf_decrypt: (m: Uint8Array, nsec: null, c: Uint8Array, ad: Uint8Array | null, npub: Uint8Array, k: Uint8Array) => number
}

const requireHere = createRequire(import.meta.url)

function load (): { sodium?: Sodium, path?: string } {
  try {
    const path = requireHere.resolve('sodium-native')
    const sodium = requireHere(path) as Partial<Sodium>
    const complete = typeof sodium.crypto_sign_verify_detached === 'function' &&
      typeof sodium.crypto_aead_chacha20poly1305_ietf_encrypt === 'function' &&
      typeof sodium.crypto_aead_chacha20poly1305_ietf_decrypt === 'function'
    return complete ? { sodium: sodium as Sodium, path } : {}
  } catch {
    // no prebuilt addon for this platform
    return {}
  }
}

const loaded = load()

/** the addon, or undefined where it did not load */
export const SODIUM: Sodium | undefined = loaded.sodium

/** where the addon's module is, so that a worker thread can load the same one */
export const SODIUM_PATH: string | undefined = loaded.path
