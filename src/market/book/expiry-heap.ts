import { compareExpiry } from './compare.js'

interface Item { expiresN: number, key: string }

/**
 * Binary min-heap of entries by (expiry, key) with lazy deletion: a removed or replaced entry stays
 * in the heap until it reaches the top, where `isLive` tells it apart and it is dropped. Inserting
 * costs a few number comparisons (entries mostly arrive in expiry order), unlike a sorted
 * structure. The heap is rebuilt from the live entries when stale ones outnumber them, so its size
 * stays within twice the book's.
 *
 * The expiry of each entry sits in a number array beside the heap, with an optional second number
 * (`rank2`, consistent with `cmp` among equal expiries: the book uses the supplier's key prefix),
 * so sifting compares numbers and calls `cmp` only when both tie.
 */
export class ExpiryHeap<T extends Item> {
  private heap: T[] = []
  private at: number[] = []
  private at2: number[] = []

  /** `cmp` must order like `compareExpiry` (the default); the book passes one that avoids building keys */
  constructor (
    private readonly isLive: (e: T) => boolean,
    private readonly cmp: (a: T, b: T) => number = compareExpiry,
    private readonly rank2: (e: T) => number = noRank
  ) {}

  get size (): number { return this.heap.length }

  /** whether entry `i` (expiry x, second rank x2) orders before the item with `y`, `y2`, `e` */
  private before (x: number, x2: number, i: number, y: number, y2: number, e: T): boolean {
    return x < y || (x === y && (x2 < y2 || (x2 === y2 && this.cmp(this.heap[i], e) < 0)))
  }

  push (e: T): void {
    const h = this.heap
    const at = this.at
    const at2 = this.at2
    const y = e.expiresN
    const y2 = this.rank2(e)
    h.push(e)
    at.push(y)
    at2.push(y2)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      // the parent stays when it is not after the newcomer
      const x = at[p]
      if (x < y || (x === y && (at2[p] < y2 || (at2[p] === y2 && this.cmp(h[p], e) <= 0)))) break
      h[i] = h[p]
      at[i] = at[p]
      at2[i] = at2[p]
      i = p
    }
    h[i] = e
    at[i] = y
    at2[i] = y2
  }

  /** the live entry that expires first, dropping stale ones on the way */
  peek (): T | undefined {
    const h = this.heap
    while (h.length > 0 && !this.isLive(h[0])) this.pop()
    return h[0]
  }

  private pop (): void {
    const h = this.heap
    const at = this.at
    const at2 = this.at2
    const last = h.pop()
    const y = at.pop() ?? 0
    const y2 = at2.pop() ?? 0
    if (last === undefined || h.length === 0) return
    let i = 0
    const n = h.length
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const c = r < n && this.before(at[r], at2[r], r, at[l], at2[l], h[l]) ? r : l
      // stop when `last` is not after the smaller child
      if (!this.before(at[c], at2[c], c, y, y2, last)) break
      h[i] = h[c]
      at[i] = at[c]
      at2[i] = at2[c]
      i = c
    }
    h[i] = last
    at[i] = y
    at2[i] = y2
  }

  /**
   * rebuilds from the live entries when the heap is over twice `live` (and not tiny), each once:
   * an entry pushed again while its earlier copy was still here (the book moves entries between
   * standings and back) is live twice
   */
  compact (live: number): void {
    if (this.heap.length <= 1024 || this.heap.length <= 2 * live) return
    const keep = new Set(this.heap.filter((e) => this.isLive(e)))
    this.heap = []
    this.at = []
    this.at2 = []
    for (const e of keep) this.push(e)
  }
}

function noRank (): number { return 0 }
