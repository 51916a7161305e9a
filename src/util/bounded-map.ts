/**
 * A Map with a hard entry limit: inserting a new key past the limit evicts the oldest insertion
 * first (a Map iterates in insertion order). Setting a key again moves it to the newest place.
 * Every map whose keys a peer or a remote party controls is one of these, so a flood of fresh keys
 * costs a bounded amount of memory.
 */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>()

  constructor (readonly maxEntries: number) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer')
  }

  get size (): number { return this.map.size }
  get (k: K): V | undefined { return this.map.get(k) }
  has (k: K): boolean { return this.map.has(k) }
  delete (k: K): boolean { return this.map.delete(k) }
  clear (): void { this.map.clear() }
  keys (): MapIterator<K> { return this.map.keys() }
  values (): MapIterator<V> { return this.map.values() }
  entries (): MapIterator<[K, V]> { return this.map.entries() }
  [Symbol.iterator] (): MapIterator<[K, V]> { return this.map.entries() }

  /** inserts or replaces; returns the evicted oldest entry, if the insert evicted one */
  set (k: K, v: V): [K, V] | undefined {
    let evicted: [K, V] | undefined
    if (this.map.has(k)) this.map.delete(k)
    else if (this.map.size >= this.maxEntries) evicted = this.shift()
    this.map.set(k, v)
    return evicted
  }

  /** removes and returns the oldest entry */
  shift (): [K, V] | undefined {
    const oldest = this.map.entries().next()
    if (oldest.done === true) return undefined
    this.map.delete(oldest.value[0])
    return oldest.value
  }

  /** removes entries for which `stale` is true; returns how many */
  prune (stale: (v: V, k: K) => boolean): number {
    let n = 0
    for (const [k, v] of this.map) {
      if (stale(v, k)) { this.map.delete(k); n++ }
    }
    return n
  }
}

/**
 * A Set with a hard entry limit: adding a new value past the limit forgets the oldest addition
 * first. Adding a value already there changes nothing (its place included).
 */
export class BoundedSet<T> {
  private readonly set = new Set<T>()

  constructor (readonly maxEntries: number) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer')
  }

  get size (): number { return this.set.size }
  has (v: T): boolean { return this.set.has(v) }
  delete (v: T): boolean { return this.set.delete(v) }
  clear (): void { this.set.clear() }
  values (): SetIterator<T> { return this.set.values() }
  [Symbol.iterator] (): SetIterator<T> { return this.set.values() }

  /** adds `v`; false when it was already there */
  add (v: T): boolean {
    if (this.set.has(v)) return false
    if (this.set.size >= this.maxEntries) {
      const oldest = this.set.values().next()
      if (oldest.done !== true) this.set.delete(oldest.value)
    }
    this.set.add(v)
    return true
  }
}
