import { describe, expect, it } from 'vitest'
import { DEFAULT_REDUCER_REST_GROWTH_BYTES, DEFAULT_REDUCER_REST_UTILIZATION, MemoryReducer, memoryReducingGc } from '../../../src/node/memory-reducer.js'
import { Registry } from '../../../src/node/metrics.js'
import { ManualClock } from '../../../src/util/clock.js'
import { createLogger, type Logger } from '../../../src/node/logger.js'

const MiB = 1024 * 1024

/** a process whose RSS and loop utilisation the test sets; collecting brings RSS to `after` */
function fakeProcess (start: number): { rss: number, busy: number, slack: number, after: number, slackAfter: number, collected: number } {
  return { rss: start, busy: 0, slack: 0, after: start, slackAfter: 0, collected: 0 }
}

/** the reducer on a fake process; without `atRest`, its rule for a resting loop is off */
function reducerOn (p: ReturnType<typeof fakeProcess>, clock: ManualClock, metrics?: Registry, atRest?: { restGrowthBytes: number, restUtilization: number, logger: Logger }): MemoryReducer {
  return new MemoryReducer({
    clock,
    metrics,
    logger: atRest?.logger,
    intervalMs: 30_000,
    growthBytes: 64 * MiB,
    maxUtilization: 0.2,
    restGrowthBytes: atRest?.restGrowthBytes ?? Infinity,
    restUtilization: atRest?.restUtilization ?? 0,
    followUpMs: 150_000,
    settleMs: 0,
    rss: () => p.rss,
    utilization: () => p.busy,
    heapSlack: () => p.slack,
    collect: () => { p.collected++; p.rss = p.after; p.slack = p.slackAfter }
  })
}

describe('memory reducer', () => {
  it('collects a smaller growth once the loop rests, never while traffic keeps it busy', () => {
    const clock = new ManualClock()
    const p = fakeProcess(113 * MiB)
    const logs: string[] = []
    const logger = createLogger({ level: 'info', write: (line) => { logs.push(line) } })
    // the rule as a daemon runs it
    const r = reducerOn(p, clock, undefined, { restGrowthBytes: DEFAULT_REDUCER_REST_GROWTH_BYTES, restUtilization: DEFAULT_REDUCER_REST_UTILIZATION, logger }).start()
    try {
      // traffic at 60 offers/s keeps the loop 6% busy: the young generation grows, nothing is collected
      p.busy = 0.06
      p.rss = 160 * MiB
      clock.advance(30_000)
      expect(p.collected).toBe(0)
      // the traffic ends: the loop rests, and 47 MiB (under the burst's 64 MiB) is collected
      p.busy = 0.004
      p.after = 115 * MiB
      clock.advance(30_000)
      expect(p.collected).toBe(1)
      expect(logs.some((l) => l.includes('memory reduced at rest'))).toBe(true)
      // at rest with no new growth: nothing more until the follow-up, 150 s after the collection
      clock.advance(120_000)
      expect(p.collected).toBe(1)
      clock.advance(30_000)
      expect(p.collected).toBe(2)
      // then a growth under 8 MiB at rest: nothing
      p.rss = 121 * MiB
      clock.advance(60_000)
      expect(p.collected).toBe(2)
      // a resting supplier's re-publication grows the young generation again by 14 MiB, under the
      // burst's threshold and the 16 MiB the rule first had: collected
      p.rss = 129 * MiB
      clock.advance(30_000)
      expect(p.collected).toBe(3)
    } finally {
      r.stop()
    }
  })

  it('collects once RSS grew past the threshold and the loop went quiet, then from the new baseline', () => {
    const clock = new ManualClock()
    const p = fakeProcess(150 * MiB)
    const metrics = new Registry()
    const r = reducerOn(p, clock, metrics).start()
    try {
      // grown, but less than the threshold: nothing
      p.rss = 200 * MiB
      clock.advance(30_000)
      expect(p.collected).toBe(0)
      // grown past it while the loop is busy (a flood): nothing
      p.rss = 600 * MiB
      p.busy = 0.9
      clock.advance(30_000)
      expect(p.collected).toBe(0)
      // the flood is over: one collection
      p.busy = 0.05
      p.after = 380 * MiB
      clock.advance(30_000)
      expect(p.collected).toBe(1)
      expect(metrics.render()).toContain('bazaar_memory_reductions_total 1')
      // quiet and no new growth: nothing until the follow-up, 150 s after the collection
      clock.advance(120_000)
      expect(p.collected).toBe(1)
      // the follow-up waits for a quiet loop too
      p.busy = 0.5
      clock.advance(30_000)
      expect(p.collected).toBe(1)
      p.busy = 0.05
      p.after = 350 * MiB
      clock.advance(30_000)
      expect(p.collected).toBe(2)
      // and a follow-up has none of its own
      clock.advance(300_000)
      expect(p.collected).toBe(2)
      // growth is counted from the RSS after the last collection
      p.rss = 400 * MiB
      clock.advance(30_000)
      expect(p.collected).toBe(2)
      p.rss = 420 * MiB
      clock.advance(30_000)
      expect(p.collected).toBe(3)
    } finally {
      r.stop()
    }
    // stopped: no more looks
    p.rss = 2000 * MiB
    clock.advance(300_000)
    expect(p.collected).toBe(3)
  })

  it('collects once after start, when the loop is quiet then or at a later look', () => {
    const clock = new ManualClock()
    const p = fakeProcess(152 * MiB)
    const lines: string[] = []
    const logger = createLogger({ level: 'info', write: (l) => { lines.push(l) } })
    const settled = (busy: number): MemoryReducer => {
      p.busy = busy
      return new MemoryReducer({
        clock, logger, intervalMs: 30_000, growthBytes: 64 * MiB, maxUtilization: 0.2, followUpMs: 150_000, settleMs: 10_000,
        rss: () => p.rss, utilization: () => p.busy, heapSlack: () => p.slack,
        collect: () => { p.collected++; p.rss = p.after }
      }).start()
    }
    // quiet after start: one collection at 10 s, no growth needed, and none after it
    p.after = 123 * MiB
    const r = settled(0.05)
    clock.advance(9_999)
    expect(p.collected).toBe(0)
    clock.advance(1)
    expect(p.collected).toBe(1)
    expect(lines.at(-1)).toContain('memory reduced after start')
    clock.advance(600_000)
    expect(p.collected).toBe(1)
    r.stop()

    // busy at 10 s: the interval's look collects once the loop is quiet
    p.rss = 152 * MiB
    const busy = settled(0.6)
    clock.advance(10_000)
    clock.advance(20_000)
    expect(p.collected).toBe(1)
    p.busy = 0.05
    clock.advance(30_000)
    expect(p.collected).toBe(2)
    clock.advance(600_000)
    expect(p.collected).toBe(2)
    busy.stop()

    // stopped before it was due: nothing
    const early = settled(0)
    early.stop()
    clock.advance(600_000)
    expect(p.collected).toBe(2)
  })

  it('collects when the heap holds much more than its live objects, though RSS did not grow', () => {
    const clock = new ManualClock()
    const p = fakeProcess(400 * MiB)
    const r = reducerOn(p, clock)
    p.slack = 40 * MiB
    expect(r.check()).toBe(false)
    // caches expired: 100 MiB of the heap is free, but only while the loop is quiet
    p.slack = 100 * MiB
    p.busy = 0.5
    expect(r.check()).toBe(false)
    p.busy = 0.01
    p.after = 300 * MiB
    expect(r.check()).toBe(true)
    expect(r.check()).toBe(false)
    expect(p.collected).toBe(1)
  })

  it('does not collect again for slack the last collection left behind', () => {
    const clock = new ManualClock()
    const p = fakeProcess(400 * MiB)
    const r = reducerOn(p, clock)
    // a heap that stays fragmented: 80 MiB free after every collection
    p.slackAfter = 80 * MiB
    p.slack = 100 * MiB
    expect(r.check()).toBe(true)
    for (let i = 0; i < 5; i++) expect(r.check()).toBe(false)
    // 64 MiB more free than that: once more
    p.slack = 150 * MiB
    expect(r.check()).toBe(true)
    expect(p.collected).toBe(2)
  })

  it('follows the RSS down when the process shrinks on its own', () => {
    const clock = new ManualClock()
    const p = fakeProcess(400 * MiB)
    const r = reducerOn(p, clock)
    p.rss = 200 * MiB
    expect(r.check()).toBe(false)
    // 70 MiB above the lower RSS: a collection, though still below the first baseline
    p.rss = 270 * MiB
    expect(r.check()).toBe(true)
    expect(p.collected).toBe(1)
  })

  it('runs V8\'s memory-reducing collection in this process', async () => {
    const kept = { n: 1 }
    const refs = ((): { dropped: WeakRef<object>, kept: WeakRef<object> } => ({ dropped: new WeakRef({ n: 2 }), kept: new WeakRef(kept) }))()
    // a WeakRef's target lives at least until the turn that made it ends
    await new Promise((resolve) => setImmediate(resolve))
    expect(memoryReducingGc()).toBe(true)
    expect(refs.dropped.deref()).toBeUndefined()
    expect(refs.kept.deref()).toBe(kept)
  })
})
