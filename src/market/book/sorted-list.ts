/**
 * A sorted list of chunks (the layout of Python's sortedcontainers): a list of sorted arrays of at
 * most 2 * load items, with the last item of each chunk kept in `maxes`. Insert and delete cost two
 * binary searches and a splice of at most 2 * load items, so the cost stays flat from hundreds to
 * hundreds of thousands of items, and an in-order scan is a plain nested loop.
 *
 * The comparator must be a total order over the items stored (ties broken down to a unique key), so
 * that `delete` finds exactly the item given.
 */
export class SortedList<T> {
  private readonly chunks: T[][] = []
  private readonly maxes: T[] = []
  private count = 0

  constructor (private readonly cmp: (a: T, b: T) => number, private readonly load = 64) {}

  get size (): number { return this.count }

  /** index of the first chunk whose last item is >= v, or chunks.length */
  private chunkFor (v: T): number {
    let lo = 0
    let hi = this.maxes.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.cmp(this.maxes[mid], v) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  private static lowerBound<T> (arr: T[], v: T, cmp: (a: T, b: T) => number): number {
    let lo = 0
    let hi = arr.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (cmp(arr[mid], v) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  insert (v: T): void {
    this.count++
    if (this.chunks.length === 0) {
      this.chunks.push([v])
      this.maxes.push(v)
      return
    }
    let ci = this.chunkFor(v)
    if (ci === this.chunks.length) ci--
    const c = this.chunks[ci]
    const pos = SortedList.lowerBound(c, v, this.cmp)
    if (pos === c.length) c.push(v)
    else c.splice(pos, 0, v)
    this.maxes[ci] = c[c.length - 1]
    if (c.length > 2 * this.load) {
      const right = c.splice(this.load)
      this.chunks.splice(ci + 1, 0, right)
      this.maxes[ci] = c[c.length - 1]
      this.maxes.splice(ci + 1, 0, right[right.length - 1])
    }
  }

  /** removes the item that compares equal to `v`; false if absent */
  delete (v: T): boolean {
    // the best entry leaving (filled, expired) is the common case: no search for it
    const head = this.chunks[0]
    if (head !== undefined && head[0] === v) {
      this.count--
      if (head.length === 1) {
        this.chunks.shift()
        this.maxes.shift()
      } else {
        head.shift()
      }
      return true
    }
    const ci = this.chunkFor(v)
    if (ci === this.chunks.length) return false
    const c = this.chunks[ci]
    const pos = SortedList.lowerBound(c, v, this.cmp)
    if (pos === c.length || this.cmp(c[pos], v) !== 0) return false
    this.count--
    if (c.length === 1) {
      this.chunks.splice(ci, 1)
      this.maxes.splice(ci, 1)
      return true
    }
    if (pos === 0) c.shift()
    else if (pos === c.length - 1) c.pop()
    else c.splice(pos, 1)
    this.maxes[ci] = c[c.length - 1]
    return true
  }

  first (): T | undefined {
    return this.chunks.length === 0 ? undefined : this.chunks[0][0]
  }

  /** visits items in order until `visit` returns true; returns the item it stopped at */
  scan (visit: (v: T) => boolean): T | undefined {
    const chunks = this.chunks
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]
      for (let j = 0; j < c.length; j++) {
        if (visit(c[j])) return c[j]
      }
    }
    return undefined
  }

  /** the chunks themselves, for allocation-free scans; callers must not modify them */
  chunkArrays (): readonly T[][] { return this.chunks }

  * [Symbol.iterator] (): IterableIterator<T> {
    for (const c of this.chunks) yield * c
  }
}
