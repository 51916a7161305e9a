import { toHex } from '../../util/hex.js'

/**
 * A bounded set of nonces seen by the enclave. When full, the oldest are forgotten first; a renter
 * still refuses any evidence that does not answer its own fresh nonce, so forgetting is safe.
 */
export class NonceCache {
  private readonly seen = new Set<string>()
  constructor (private readonly max: number) {}

  /** Records the nonce; false when it was already there (a replay). */
  add (nonce: Uint8Array): boolean {
    const k = toHex(nonce)
    if (this.seen.has(k)) return false
    this.seen.add(k)
    if (this.seen.size > this.max) {
      const oldest = this.seen.values().next().value
      if (oldest !== undefined) this.seen.delete(oldest)
    }
    return true
  }

  get size (): number { return this.seen.size }
}
