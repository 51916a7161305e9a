import { BoundedSet } from '../../util/bounded-map.js'
import { toHex } from '../../util/hex.js'

/**
 * A bounded set of nonces seen by the enclave. When full, the oldest are forgotten first; a renter
 * still refuses any evidence that does not answer its own fresh nonce, so forgetting is safe.
 */
export class NonceCache {
  private readonly seen: BoundedSet<string>
  constructor (max: number) {
    this.seen = new BoundedSet(max)
  }

  /** Records the nonce; false when it was already there (a replay). */
  add (nonce: Uint8Array): boolean {
    return this.seen.add(toHex(nonce))
  }

  get size (): number { return this.seen.size }
}
