import type { ICryptoInterface } from '@chainsafe/libp2p-noise'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import { SODIUM, type Sodium } from '../util/sodium.js'

/**
 * Noise's ChaCha20-Poly1305 through libsodium for the frames gossip sends.
 *
 * @chainsafe/libp2p-noise seals every frame under 1,200 bytes with its AssemblyScript cipher and
 * larger ones with node:crypto, whose cipher object costs more to set up than a small frame costs to
 * seal. Nearly every gossip frame is small: one market message is about 500 bytes. libsodium's
 * one-shot AEAD calls have no setup: on the development machine a 500-byte frame is sealed or opened
 * 2.7 to 3.4x faster, and a 4 KiB one about 6x (`npm run bench:noise`, README "Figures"). At 64 KiB,
 * node:crypto's vectorised cipher is as fast or faster, so frames from 16 KiB still go there.
 *
 * The construction is the same RFC 8439 AEAD with a 12-byte nonce (4 zero bytes, then noise's
 * 64-bit counter, little-endian), so a peer on any implementation reads the frames. The key exchange
 * and hashing stay noise's own.
 */

/** frames of this much plaintext or more go to noise's default (node:crypto) */
export const SODIUM_AEAD_MAX_BYTES = 16 * 1024

const TAG_BYTES = 16

/** a Uint8Array or noise's Uint8ArrayList (its own copy of the package) */
function flat (data: Uint8Array | { subarray: () => Uint8Array }): Uint8Array {
  return data instanceof Uint8Array ? data : data.subarray()
}

/** `dst` can take the plaintext: the right length, and either at the ciphertext's own start or apart from it */
function fits (dst: Uint8Array | undefined, c: Uint8Array): dst is Uint8Array {
  if (dst === undefined || dst.byteLength !== c.byteLength - TAG_BYTES) return false
  if (dst.buffer !== c.buffer || dst.byteOffset === c.byteOffset) return true
  return dst.byteOffset + dst.byteLength <= c.byteOffset || c.byteOffset + c.byteLength <= dst.byteOffset
}

/** the noise crypto for this platform: libsodium's AEAD where the addon loads, else noise's default */
export function noiseCrypto (sodium: Sodium | undefined = SODIUM): ICryptoInterface {
  if (sodium === undefined) return defaultCrypto
  return {
    ...defaultCrypto,
    chaCha20Poly1305Encrypt (plaintext, nonce, ad, k) {
      if (plaintext.byteLength >= SODIUM_AEAD_MAX_BYTES) return defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)
      const m = flat(plaintext)
      const c = Buffer.allocUnsafe(m.byteLength + TAG_BYTES)
      sodium.crypto_aead_chacha20poly1305_ietf_encrypt(c, m, ad, null, nonce, k)
      return c
    },
    chaCha20Poly1305Decrypt (ciphertext, nonce, ad, k, dst) {
      if (ciphertext.byteLength - TAG_BYTES >= SODIUM_AEAD_MAX_BYTES) return defaultCrypto.chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k, dst)
      if (ciphertext.byteLength < TAG_BYTES) throw new Error('Invalid chacha20poly1305 decryption')
      const c = flat(ciphertext)
      // noise hands a `dst` that starts where the ciphertext starts, to open in place: libsodium
      // checks the tag over the whole ciphertext before it writes, then XORs byte for byte
      const m = fits(dst, c) ? dst : Buffer.allocUnsafe(c.byteLength - TAG_BYTES)
      try {
        sodium.crypto_aead_chacha20poly1305_ietf_decrypt(m, null, c, ad, nonce, k)
      } catch {
        throw new Error('Invalid chacha20poly1305 decryption')
      }
      return m
    }
  }
}
