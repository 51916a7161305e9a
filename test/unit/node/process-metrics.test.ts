import { describe, expect, it } from 'vitest'
import { Registry } from '../../../src/node/metrics.js'
import { ProcessMetrics } from '../../../src/node/process-metrics.js'

const series = (text: string, name: string): number => Number(new RegExp(`^${name.replace(/[{}"+.]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN)

/** turns of the event loop, each with its timers phase, where the sampler runs */
async function turns (n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve))
}

describe('ProcessMetrics', () => {
  it('reports resident memory, and each stall of the event loop in the bucket of its length', async () => {
    const registry = new Registry()
    const pm = new ProcessMetrics(registry).start()
    const count = (): number => series(registry.render(), 'bazaar_event_loop_delay_seconds_count')
    /** samples later than 100 ms so far */
    const late = (text: string): number => series(text, 'bazaar_event_loop_delay_seconds_count') - series(text, 'bazaar_event_loop_delay_seconds_bucket{le="0.1"}')
    try {
      // the sampler's first sample, on a free loop
      while (!(count() >= 1)) await turns(1)
      const n = count()
      const late0 = late(registry.render())
      // the loop held for 300 ms: the next sample is late by what was left of it once due, over 200 ms
      const until = performance.now() + 300
      while (performance.now() < until) { /* the stall under test */ }
      while (count() === n) await turns(1)
      const text = registry.render()
      // one sample more, and it is the late one (a busy test machine may add late samples of its own elsewhere, never fewer)
      expect(late(text)).toBe(late0 + 1)
      // in a bucket near its length, not past it (2.5 s: a loaded machine may keep the process off a core a while after the stall)
      expect(series(text, 'bazaar_event_loop_delay_seconds_bucket{le="2.5"}')).toBe(series(text, 'bazaar_event_loop_delay_seconds_count'))
      expect(series(text, 'bazaar_event_loop_delay_seconds_sum')).toBeGreaterThan(0.2)
      const rss = series(text, 'process_resident_memory_bytes')
      expect(rss).toBeGreaterThan(10 * 2 ** 20)
      expect(rss).toBe(Math.round(rss))
      // cumulative: a second scrape reads the same stall again (each scraper takes its own differences)
      expect(late(registry.render())).toBeGreaterThanOrEqual(late0 + 1)
    } finally {
      pm.stop()
    }
  })
})
