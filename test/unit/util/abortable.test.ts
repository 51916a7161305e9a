import { describe, expect, it } from 'vitest'
import { abortable, mapBounded } from '../../../src/util/abortable.js'

describe('abortable', () => {
  it('ends with the signal when it aborts first, though the work behind the promise never ends', async () => {
    const ac = new AbortController()
    const never = new Promise<number>(() => {})
    const raced = abortable(never, ac.signal)
    ac.abort(new Error('deadline'))
    await expect(raced).rejects.toThrow('deadline')
  })

  it('gives the promise\'s own result or failure when it settles first', async () => {
    const ac = new AbortController()
    await expect(abortable(Promise.resolve(7), ac.signal)).resolves.toBe(7)
    await expect(abortable(Promise.reject(new Error('refused')), ac.signal)).rejects.toThrow('refused')
  })

  it('refuses at once on a signal that already aborted', async () => {
    await expect(abortable(Promise.resolve(1), AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone')
  })
})

describe('mapBounded', () => {
  /** calls the test ends by hand, in the order they started */
  function gated (): { fn: (n: number, signal: AbortSignal) => Promise<number>, running: Array<{ n: number, signal: AbortSignal, end: (v: number | Error) => void }>, peak: () => number } {
    const running: Array<{ n: number, signal: AbortSignal, end: (v: number | Error) => void }> = []
    let inFlight = 0
    let peak = 0
    const fn = async (n: number, signal: AbortSignal): Promise<number> => {
      signal.throwIfAborted()
      inFlight++
      peak = Math.max(peak, inFlight)
      try {
        return await new Promise<number>((resolve, reject) => { running.push({ n, signal, end: (v) => { if (v instanceof Error) reject(v); else resolve(v) } }) })
      } finally {
        inFlight--
      }
    }
    return { fn, running, peak: () => peak }
  }
  const settle = async (): Promise<void> => { for (let i = 0; i < 10; i++) await Promise.resolve() }

  it('runs at most `limit` at a time and gives the results in the order of the items, whatever order they end in', async () => {
    const g = gated()
    const all = mapBounded([1, 2, 3, 4, 5, 6, 7], 3, g.fn)
    await settle()
    expect(g.running.map((r) => r.n)).toEqual([1, 2, 3])
    // the last started ends first; the next item starts in its place
    g.running[2]!.end(30)
    await settle()
    expect(g.running.map((r) => r.n)).toEqual([1, 2, 3, 4])
    for (let i = g.running.length - 1; i >= 0; i--) g.running[i]!.end(g.running[i]!.n * 10)
    await settle()
    for (const r of g.running.slice(4)) r.end(r.n * 10)
    await settle()
    for (const r of g.running.slice(7)) r.end(r.n * 10)
    await expect(all).resolves.toEqual([10, 20, 30, 40, 50, 60, 70])
    expect(g.peak()).toBe(3)
    expect(await mapBounded([], 3, g.fn)).toEqual([])
  })

  it('the first failure aborts the calls running, starts no more, and is what it rejects with once they end', async () => {
    const g = gated()
    const all = mapBounded([1, 2, 3, 4, 5], 2, g.fn)
    void all.catch(() => {})
    await settle()
    g.running[1]!.end(new Error('node gone'))
    await settle()
    expect(g.running[0]!.signal.aborted).toBe(true)
    let done = false
    void all.catch(() => {}).finally(() => { done = true })
    await settle()
    // it waits for the call still running
    expect(done).toBe(false)
    g.running[0]!.end(10)
    await expect(all).rejects.toThrow('node gone')
    expect(g.running.map((r) => r.n)).toEqual([1, 2])
  })

  it('an abort of the caller\'s signal reaches the calls running, and the next call says what it is', async () => {
    const g = gated()
    const ac = new AbortController()
    const all = mapBounded([1, 2, 3], 1, g.fn, ac.signal)
    void all.catch(() => {})
    await settle()
    ac.abort(new Error('stopping'))
    expect(g.running[0]!.signal.aborted).toBe(true)
    g.running[0]!.end(10)
    // the next item's call refuses on the aborted signal
    await expect(all).rejects.toThrow('stopping')
    expect(g.running).toHaveLength(1)
    await expect(mapBounded([1], 1, g.fn, AbortSignal.abort(new Error('before')))).rejects.toThrow('before')
  })
})
