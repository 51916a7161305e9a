import { describe, expect, it } from 'vitest'
import { SettleQueue } from '../../../src/escrow/settle-queue.js'

/** a task that runs until `finish` is called; `signal` is the one it was given */
function held (): { fn: (signal: AbortSignal) => Promise<string>, finish: (v: string) => void, started: () => boolean, signal: () => AbortSignal | undefined } {
  let finish!: (v: string) => void
  let signal: AbortSignal | undefined
  const done = new Promise<string>((resolve) => { finish = resolve })
  return {
    fn: async (s) => {
      signal = s
      return await new Promise<string>((resolve, reject) => {
        s.addEventListener('abort', () => { reject(s.reason) }, { once: true })
        void done.then(resolve)
      })
    },
    finish: (v) => { finish(v) },
    started: () => signal != null,
    signal: () => signal
  }
}

const ESCROW = '0x' + '01'.repeat(32)

describe('SettleQueue', () => {
  it('joins a repeated request, queues another kind behind it, and forgets both once they end', async () => {
    const q = new SettleQueue<string>()
    const a = held()
    const other = held()
    const first = q.run(ESCROW, 'close:arbiter', a.fn)
    const joined = q.run(ESCROW, 'close:arbiter', async () => 'never runs')
    const next = q.run(ESCROW, 'refund', other.fn)
    const elsewhere = q.run('0x' + '02'.repeat(32), 'refund', async () => 'another escrow')
    expect(await elsewhere).toBe('another escrow')
    expect(q.size).toBe(2)
    expect(a.started()).toBe(true)
    expect(other.started()).toBe(false)
    a.finish('closed')
    expect(await first).toBe('closed')
    expect(await joined).toBe('closed')
    other.finish('refunded')
    expect(await next).toBe('refunded')
    expect(q.size).toBe(0)
  })

  it('the task is aborted only when every caller waiting on it gave up; a caller without a signal keeps it', async () => {
    const q = new SettleQueue<string>()
    const a = held()
    const c1 = new AbortController()
    const c2 = new AbortController()
    const r1 = q.run(ESCROW, 'close:cooperative', a.fn, { signal: c1.signal })
    const r2 = q.run(ESCROW, 'close:cooperative', async () => 'never runs', { signal: c2.signal })
    await expect.poll(() => a.started()).toBe(true)
    c1.abort()
    await expect(r1).rejects.toMatchObject({ code: 'ABORTED' })
    expect(a.signal()?.aborted).toBe(false)
    const reason = new Error('client gone')
    c2.abort(reason)
    // the last one waiting stops the task and learns how it ended
    await expect(r2).rejects.toBe(reason)
    expect(a.signal()?.aborted).toBe(true)

    const b = held()
    const c3 = new AbortController()
    const r3 = q.run(ESCROW, 'close:cooperative', b.fn, { signal: c3.signal })
    const r4 = q.run(ESCROW, 'close:cooperative', async () => 'never runs')
    await expect.poll(() => b.started()).toBe(true)
    c3.abort()
    await expect(r3).rejects.toMatchObject({ code: 'ABORTED' })
    expect(b.signal()?.aborted).toBe(false)
    b.finish('approved')
    expect(await r4).toBe('approved')
    expect(q.size).toBe(0)
  })

  it('a request arriving after every caller gave up gets an operation of its own, after the ending one', async () => {
    const q = new SettleQueue<string>()
    const a = held()
    const c = new AbortController()
    const r1 = q.run(ESCROW, 'close:arbiter', a.fn, { signal: c.signal })
    await expect.poll(() => a.started()).toBe(true)
    c.abort()
    const r2 = q.run(ESCROW, 'close:arbiter', async () => 'fresh')
    await expect(r1).rejects.toBeDefined()
    expect(await r2).toBe('fresh')
  })
})
