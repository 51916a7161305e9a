/**
 * Reading a range of blocks several at a time while applying them one by one, in block order.
 *
 * Each block costs the scan round trips to its node, so blocks are read `window` at a time; but
 * what a block holds is applied only after every block before it (an escrow's close counts only
 * after its open). The scan's next block may be moved back while it runs (`ScanCursor.rewind`, a
 * restarted daemon reaching back to an escrow's open block): the block it was waiting for is then
 * not applied, the reads ahead are dropped, and the scan goes on from the new block.
 */

/** Where a scan stands: the next block to apply. */
export class ScanCursor {
  /** bumped by each `rewind`: a scan that sees it change drops what it read ahead */
  private moves = 0

  constructor (private nextBlock: number) {}

  get next (): number { return this.nextBlock }
  get rewinds (): number { return this.moves }

  /** the next block is `block`, before the one the scan was at */
  rewind (block: number): void {
    if (block >= this.nextBlock) return
    this.nextBlock = block
    this.moves++
  }

  /** the blocks before `block` are passed over (they cannot be read): the next is `block` */
  skip (block: number): void {
    if (block > this.nextBlock) this.nextBlock = block
  }

  /** block `n` was applied: the next is the one after */
  applied (n: number): void { this.nextBlock = n + 1 }
}

/**
 * Applies blocks from `cursor.next` to `head` in order, `window` of them read at once (the one
 * applied and those after it). A read that fails fails the scan at its block's turn (never as an
 * unhandled rejection before it); an abort of `signal` ends it between blocks. Returns how many
 * blocks were applied.
 */
export async function scanInOrder<T> (
  cursor: ScanCursor,
  head: number,
  window: number,
  read: (n: number) => Promise<T>,
  apply: (n: number, got: T) => void,
  signal?: AbortSignal
): Promise<number> {
  const width = Math.max(1, Math.floor(window))
  // by number, not by position: a rewind changes which block comes next
  const ahead = new Map<number, Promise<T>>()
  let rewinds = cursor.rewinds
  let applied = 0
  while (cursor.next <= head) {
    signal?.throwIfAborted()
    if (cursor.rewinds !== rewinds) {
      ahead.clear()
      rewinds = cursor.rewinds
    }
    const n = cursor.next
    for (let k = n; k <= head && k < n + width; k++) {
      if (ahead.has(k)) continue
      const reading = read(k)
      reading.catch(() => {})
      ahead.set(k, reading)
    }
    const got = await ahead.get(n)!
    // moved back while block n was read: its turn comes again from the new start
    if (cursor.rewinds !== rewinds) continue
    ahead.delete(n)
    apply(n, got)
    cursor.applied(n)
    applied++
  }
  return applied
}
