/**
 * A Map with a hard entry limit: inserting past the limit evicts the oldest insertion first.
 * Every map whose keys a peer controls is one of these.
 */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>()
  constructor (readonly maxEntries: number) {}

  get size (): number { return this.map.size }
  get (k: K): V | undefined { return this.map.get(k) }
  has (k: K): boolean { return this.map.has(k) }
  delete (k: K): boolean { return this.map.delete(k) }
  entries (): IterableIterator<[K, V]> { return this.map.entries() }

  set (k: K, v: V): void {
    if (this.map.has(k)) this.map.delete(k)
    else if (this.map.size >= this.maxEntries) {
      const oldest = this.map.keys().next()
      if (oldest.done !== true) this.map.delete(oldest.value)
    }
    this.map.set(k, v)
  }

  /** removes entries for which `stale` is true */
  prune (stale: (v: V, k: K) => boolean): number {
    let n = 0
    for (const [k, v] of this.map) {
      if (stale(v, k)) { this.map.delete(k); n++ }
    }
    return n
  }
}

/** Token bucket per key, bounded in keys. */
export class RateLimiter {
  private readonly buckets: BoundedMap<string, { tokens: number, at: number }>
  constructor (private readonly ratePerS: number, private readonly burst: number, maxKeys = 4096) {
    this.buckets = new BoundedMap(maxKeys)
  }

  take (key: string, now: number): boolean {
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.ratePerS)
    b.at = now
    const ok = b.tokens >= 1
    if (ok) b.tokens -= 1
    this.buckets.set(key, b)
    return ok
  }
}
