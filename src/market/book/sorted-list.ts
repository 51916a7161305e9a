/**
 * A sorted list of chunks (the layout of Python's sortedcontainers): a list of sorted arrays of at
 * most 2 * load items, with the last item of each chunk kept in `maxes`. Insert and delete cost two
 * binary searches and a shift of at most 2 * load items, so the cost stays flat from hundreds to
 * hundreds of thousands of items, and an in-order scan is a plain nested loop.
 *
 * The comparator must be a total order over the items stored (ties broken down to a unique key), so
 * that `delete` finds exactly the item given.
 *
 * `rank` and `rank2`, when given, are numbers per item consistent with the comparator: rank(a) <
 * rank(b) implies cmp(a, b) < 0, and with equal ranks rank2(a) < rank2(b) implies cmp(a, b) < 0
 * (the book uses the price, then the creation time). The list keeps them in number arrays beside
 * the items, and the binary searches compare those and call `cmp` only when both tie: on a large
 * list the probes then read contiguous arrays instead of following a pointer to each item.
 */
export class SortedList<T> {
  private readonly chunks: T[][] = []
  private readonly maxes: T[] = []
  /** ranks of each item, chunk by chunk (parallel to `chunks`), and of each chunk's last item */
  private readonly ranks: number[][] = []
  private readonly ranks2: number[][] = []
  private readonly maxRanks: number[] = []
  private readonly maxRanks2: number[] = []
  private count = 0

  constructor (
    private readonly cmp: (a: T, b: T) => number,
    private readonly load = 64,
    private readonly rank: (v: T) => number = noRank,
    private readonly rank2: (v: T) => number = noRank
  ) {}

  get size (): number { return this.count }

  /** index of the first chunk whose last item is >= v, or chunks.length */
  private chunkFor (v: T, r: number, r2: number): number {
    const maxRanks = this.maxRanks
    const maxRanks2 = this.maxRanks2
    let lo = 0
    let hi = maxRanks.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const m = maxRanks[mid]
      if (m < r || (m === r && (maxRanks2[mid] < r2 || (maxRanks2[mid] === r2 && this.cmp(this.maxes[mid], v) < 0)))) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** index of the first item of chunk `ci` that is >= v */
  private lowerBound (ci: number, v: T, r: number, r2: number): number {
    const c = this.chunks[ci]
    const rs = this.ranks[ci]
    const rs2 = this.ranks2[ci]
    let lo = 0
    let hi = c.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const m = rs[mid]
      if (m < r || (m === r && (rs2[mid] < r2 || (rs2[mid] === r2 && this.cmp(c[mid], v) < 0)))) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  insert (v: T): void {
    const r = this.rank(v)
    const r2 = this.rank2(v)
    this.count++
    if (this.chunks.length === 0) {
      this.chunks.push([v])
      this.ranks.push([r])
      this.ranks2.push([r2])
      this.maxes.push(v)
      this.maxRanks.push(r)
      this.maxRanks2.push(r2)
      return
    }
    let ci = this.chunkFor(v, r, r2)
    if (ci === this.chunks.length) ci--
    const c = this.chunks[ci]
    const rs = this.ranks[ci]
    const rs2 = this.ranks2[ci]
    const pos = this.lowerBound(ci, v, r, r2)
    // shift by hand: `splice(pos, 0, v)` allocates the (empty) array of removed items on every insert
    c.push(v)
    rs.push(r)
    rs2.push(r2)
    for (let i = c.length - 1; i > pos; i--) {
      c[i] = c[i - 1]
      rs[i] = rs[i - 1]
      rs2[i] = rs2[i - 1]
    }
    c[pos] = v
    rs[pos] = r
    rs2[pos] = r2
    this.setMax(ci)
    if (c.length > 2 * this.load) {
      this.chunks.splice(ci + 1, 0, c.splice(this.load))
      this.ranks.splice(ci + 1, 0, rs.splice(this.load))
      this.ranks2.splice(ci + 1, 0, rs2.splice(this.load))
      this.maxes.splice(ci + 1, 0, v)
      this.maxRanks.splice(ci + 1, 0, r)
      this.maxRanks2.splice(ci + 1, 0, r2)
      this.setMax(ci)
      this.setMax(ci + 1)
    }
  }

  /** refreshes the cached last item (and its ranks) of chunk `ci` */
  private setMax (ci: number): void {
    const last = this.chunks[ci].length - 1
    this.maxes[ci] = this.chunks[ci][last]
    this.maxRanks[ci] = this.ranks[ci][last]
    this.maxRanks2[ci] = this.ranks2[ci][last]
  }

  /** removes the item that compares equal to `v`; false if absent */
  delete (v: T): boolean {
    // the best entry leaving (filled, expired) is the common case: no search for it
    const head = this.chunks[0]
    if (head !== undefined && head[0] === v) {
      this.count--
      if (head.length === 1) this.dropChunk(0)
      else {
        head.shift()
        this.ranks[0].shift()
        this.ranks2[0].shift()
      }
      return true
    }
    const r = this.rank(v)
    const r2 = this.rank2(v)
    const ci = this.chunkFor(v, r, r2)
    if (ci === this.chunks.length) return false
    const c = this.chunks[ci]
    const pos = this.lowerBound(ci, v, r, r2)
    if (pos === c.length || this.cmp(c[pos], v) !== 0) return false
    this.count--
    if (c.length === 1) {
      this.dropChunk(ci)
      return true
    }
    const rs = this.ranks[ci]
    const rs2 = this.ranks2[ci]
    if (pos === 0) {
      c.shift()
      rs.shift()
      rs2.shift()
    } else {
      for (let i = pos + 1; i < c.length; i++) {
        c[i - 1] = c[i]
        rs[i - 1] = rs[i]
        rs2[i - 1] = rs2[i]
      }
      c.pop()
      rs.pop()
      rs2.pop()
    }
    this.setMax(ci)
    return true
  }

  private dropChunk (ci: number): void {
    if (ci === 0) {
      this.chunks.shift()
      this.ranks.shift()
      this.ranks2.shift()
      this.maxes.shift()
      this.maxRanks.shift()
      this.maxRanks2.shift()
    } else {
      this.chunks.splice(ci, 1)
      this.ranks.splice(ci, 1)
      this.ranks2.splice(ci, 1)
      this.maxes.splice(ci, 1)
      this.maxRanks.splice(ci, 1)
      this.maxRanks2.splice(ci, 1)
    }
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

/** without a rank every item ranks equal and the comparator decides */
function noRank (): number { return 0 }
