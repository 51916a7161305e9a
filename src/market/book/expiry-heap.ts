import { compareExpiry } from './compare.js'

interface Item { expiresN: number, key: string }

/**
 * Binary min-heap of entries by (expiry, key) with lazy deletion: a removed or replaced entry stays
 * in the heap until it reaches the top, where `isLive` tells it apart and it is dropped. Inserting
 * costs a few number comparisons (entries mostly arrive in expiry order), unlike a sorted
 * structure. The heap is rebuilt from the live entries when stale ones outnumber them, so its size
 * stays within twice the book's.
 */
export class ExpiryHeap<T extends Item> {
  private heap: T[] = []

  /** `cmp` must order like `compareExpiry` (the default); the book passes one that avoids building keys */
  constructor (private readonly isLive: (e: T) => boolean, private readonly cmp: (a: T, b: T) => number = compareExpiry) {}

  get size (): number { return this.heap.length }

  push (e: T): void {
    const h = this.heap
    h.push(e)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (this.cmp(h[p], e) <= 0) break
      h[i] = h[p]
      i = p
    }
    h[i] = e
  }

  /** the live entry that expires first, dropping stale ones on the way */
  peek (): T | undefined {
    const h = this.heap
    while (h.length > 0 && !this.isLive(h[0])) this.pop()
    return h[0]
  }

  private pop (): void {
    const h = this.heap
    const last = h.pop()
    if (last === undefined || h.length === 0) return
    let i = 0
    const n = h.length
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const c = r < n && this.cmp(h[r], h[l]) < 0 ? r : l
      if (this.cmp(last, h[c]) <= 0) break
      h[i] = h[c]
      i = c
    }
    h[i] = last
  }

  /** rebuilds from the live entries when the heap is over twice `live` (and not tiny) */
  compact (live: number): void {
    if (this.heap.length <= 1024 || this.heap.length <= 2 * live) return
    const keep = this.heap.filter((e) => this.isLive(e))
    this.heap = []
    for (const e of keep) this.push(e)
  }
}
