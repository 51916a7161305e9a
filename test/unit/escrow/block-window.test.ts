import { describe, expect, it } from 'vitest'
import { ScanCursor, scanInOrder } from '../../../src/escrow/chain/subtensor/block-window.js'

/** Reads that the test answers by hand, in any order. */
function reads (): { read: (n: number) => Promise<string>, asked: number[], pending: Map<number, { resolve: (v: string) => void, reject: (e: Error) => void }>, inFlightMax: () => number } {
  const pending = new Map<number, { resolve: (v: string) => void, reject: (e: Error) => void }>()
  const asked: number[] = []
  let inFlight = 0
  let max = 0
  const read = async (n: number): Promise<string> => {
    asked.push(n)
    inFlight++
    max = Math.max(max, inFlight)
    try {
      return await new Promise<string>((resolve, reject) => { pending.set(n, { resolve, reject }) })
    } finally {
      inFlight--
      pending.delete(n)
    }
  }
  return { read, asked, pending, inFlightMax: () => max }
}

/** lets every promise chain that can move, move */
async function settle (): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => { setImmediate(resolve) })
}

describe('scanInOrder: blocks read several at once, applied in order', () => {
  it('applies blocks in order whatever order their reads end in, with at most `window` reads in flight', async () => {
    const r = reads()
    const applied: Array<[number, string]> = []
    const cursor = new ScanCursor(10)
    const done = scanInOrder(cursor, 21, 4, r.read, (n, got) => { applied.push([n, got]) })
    await settle()
    expect(r.asked).toEqual([10, 11, 12, 13])
    // the later blocks answer first: nothing is applied before block 10
    for (const n of [13, 12, 11]) r.pending.get(n)!.resolve(`b${n}`)
    await settle()
    expect(applied).toEqual([])
    expect(cursor.next).toBe(10)
    r.pending.get(10)!.resolve('b10')
    await settle()
    expect(applied.map(([n]) => n)).toEqual([10, 11, 12, 13])
    // answer the rest from the last one back
    while (applied.length < 12) {
      const last = Math.max(...r.pending.keys())
      r.pending.get(last)!.resolve(`b${last}`)
      await settle()
    }
    expect(await done).toBe(12)
    expect(applied).toEqual(Array.from({ length: 12 }, (_, i) => [10 + i, `b${10 + i}`]))
    expect(r.asked).toEqual(Array.from({ length: 12 }, (_, i) => 10 + i))
    expect(r.inFlightMax()).toBe(4)
    expect(cursor.next).toBe(22)
  })

  it('a window of 1 reads one block at a time', async () => {
    const r = reads()
    const done = scanInOrder(new ScanCursor(1), 3, 1, r.read, () => {})
    for (let n = 1; n <= 3; n++) {
      await settle()
      expect([...r.pending.keys()]).toEqual([n])
      r.pending.get(n)!.resolve('x')
    }
    expect(await done).toBe(3)
    expect(r.inFlightMax()).toBe(1)
  })

  it('a rewind while a block is read applies the blocks again from the new start, that block first', async () => {
    const r = reads()
    const applied: number[] = []
    const cursor = new ScanCursor(10)
    const done = scanInOrder(cursor, 14, 3, r.read, (n) => { applied.push(n) })
    await settle()
    r.pending.get(10)!.resolve('b10')
    await settle()
    expect(applied).toEqual([10])
    // 11 is awaited; the scan is asked to go back to block 5 (a restarted daemon's escrow)
    cursor.rewind(5)
    for (const n of [13, 12, 11]) r.pending.get(n)?.resolve(`b${n}`)
    await settle()
    // block 11 came back after the rewind: it is not applied, and block 5 is read next
    expect(applied).toEqual([10])
    expect(r.pending.has(5)).toBe(true)
    while (cursor.next <= 14) {
      const first = Math.min(...r.pending.keys())
      r.pending.get(first)!.resolve(`b${first}`)
      await settle()
    }
    expect(await done).toBe(11)
    expect(applied).toEqual([10, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14])
  })

  it('a rewind to a later block, or to the one next, changes nothing', () => {
    const cursor = new ScanCursor(7)
    cursor.rewind(7)
    cursor.rewind(9)
    expect(cursor.next).toBe(7)
    expect(cursor.rewinds).toBe(0)
  })

  it('a read that fails ahead fails the scan at its turn, with the blocks before it applied', async () => {
    const r = reads()
    const applied: number[] = []
    const cursor = new ScanCursor(1)
    const done = scanInOrder(cursor, 8, 4, r.read, (n) => { applied.push(n) })
    await settle()
    r.pending.get(3)!.reject(new Error('block 3 unreadable'))
    await settle()
    expect(applied).toEqual([])
    r.pending.get(1)!.resolve('b1')
    r.pending.get(2)!.resolve('b2')
    await expect(done).rejects.toThrow('block 3 unreadable')
    expect(applied).toEqual([1, 2])
    // the next scan starts at the block that failed
    expect(cursor.next).toBe(3)
  })

  it('an abort ends the scan between blocks', async () => {
    const r = reads()
    const applied: number[] = []
    const ac = new AbortController()
    const done = scanInOrder(new ScanCursor(1), 100, 2, r.read, (n) => { applied.push(n); if (n === 2) ac.abort() }, ac.signal)
    await settle()
    r.pending.get(2)!.resolve('b2')
    r.pending.get(1)!.resolve('b1')
    await expect(done).rejects.toThrow()
    expect(applied).toEqual([1, 2])
  })

  it('nothing to read: a cursor past the head applies nothing', async () => {
    const r = reads()
    expect(await scanInOrder(new ScanCursor(5), 4, 16, r.read, () => {})).toBe(0)
    expect(r.asked).toEqual([])
  })
})
