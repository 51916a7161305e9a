import { randomBytes } from 'node:crypto'

/** something stored under a 32-byte hotkey */
export interface Keyed { readonly bytes: Uint8Array }

/**
 * Records by 32-byte hotkey, found without building a string from the key: the hotkey hashes to a
 * small integer (a Smi, which a Map hashes without allocating) and the bucket is checked byte by
 * byte. On the book's insert path this replaces hex-encoding the hotkey and hashing a fresh
 * 64-character string, the largest share of an insert's cost.
 *
 * The hash is seeded per index from the OS random source, so a peer cannot choose hotkeys that land
 * in one bucket on every node; if some do collide, lookups stay correct (the bytes decide) and
 * only slower, and the number of records is bounded by the book's own limits.
 */
export class PartyIndex<R extends Keyed> {
  private readonly buckets = new Map<number, R | R[]>()
  private count = 0

  /** `seed` only for tests that need to know where keys land */
  constructor (private readonly seed: number = randomBytes(4).readUInt32LE(0)) {}

  get size (): number { return this.count }

  get (key: Uint8Array): R | undefined {
    const b = this.buckets.get(partyHash(this.seed, key))
    if (b === undefined) return undefined
    if (!Array.isArray(b)) return sameKey(b.bytes, key) ? b : undefined
    for (const r of b) if (sameKey(r.bytes, key)) return r
    return undefined
  }

  /** adds a record whose key is not in the index yet */
  add (r: R): void {
    const h = partyHash(this.seed, r.bytes)
    const b = this.buckets.get(h)
    if (b === undefined) this.buckets.set(h, r)
    else if (Array.isArray(b)) b.push(r)
    else this.buckets.set(h, [b, r])
    this.count++
  }

  delete (r: R): void {
    const h = partyHash(this.seed, r.bytes)
    const b = this.buckets.get(h)
    if (b === r) {
      this.buckets.delete(h)
      this.count--
    } else if (Array.isArray(b)) {
      const i = b.indexOf(r)
      if (i < 0) return
      b.splice(i, 1)
      this.count--
      if (b.length === 1) this.buckets.set(h, b[0])
    }
  }
}

/** a multiply-xorshift mix of the key's 32-bit words under the seed, cut to 30 bits (a Smi) */
export function partyHash (seed: number, k: Uint8Array): number {
  let h = seed
  const n = k.length & ~3
  for (let i = 0; i < n; i += 4) {
    h = Math.imul(h ^ (k[i] | (k[i + 1] << 8) | (k[i + 2] << 16) | (k[i + 3] << 24)), 0x9e3779b1)
    h ^= h >>> 15
  }
  for (let i = n; i < k.length; i++) h = Math.imul(h ^ k[i], 0x9e3779b1)
  h = Math.imul(h ^ (h >>> 13), 0x85ebca6b)
  return (h ^ (h >>> 16)) & 0x3fffffff
}

function sameKey (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
