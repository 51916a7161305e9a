import { describe, expect, it } from 'vitest'
import { Registry } from '../../../src/node/metrics.js'
import { ProcessMetrics } from '../../../src/node/process-metrics.js'

const gauge = (text: string, name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1])

/** turns of the event loop, each with its timers phase, where the delay monitor samples */
async function turns (n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve))
}

describe('ProcessMetrics', () => {
  it('reports resident memory and the event loop delay of each scrape window', async () => {
    const registry = new Registry()
    const pm = new ProcessMetrics(registry).start()
    try {
      while (pm.samples < 1) await turns(1)
      // the loop held for 200 ms: the next sample is that late
      const until = performance.now() + 200
      while (performance.now() < until) { /* the stall under test */ }
      const before = pm.samples
      while (pm.samples === before) await turns(1)
      const first = registry.render()
      expect(gauge(first, 'nodejs_eventloop_lag_max_seconds')).toBeGreaterThanOrEqual(0.15)
      expect(gauge(first, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0.15)
      expect(gauge(first, 'nodejs_eventloop_lag_p50_seconds')).toBeLessThanOrEqual(gauge(first, 'nodejs_eventloop_lag_p99_seconds'))
      const rss = gauge(first, 'process_resident_memory_bytes')
      expect(rss).toBeGreaterThan(10 * 2 ** 20)
      expect(rss).toBe(Math.round(rss))
      // the scrape started a new window: the stall is not in the next one
      expect(pm.samples).toBe(0)
      while (pm.samples < 2) await turns(1)
      expect(gauge(registry.render(), 'nodejs_eventloop_lag_max_seconds')).toBeLessThan(0.15)
      // a stall right after a scrape is in the next window (the sampler's last time carries over)
      const until2 = performance.now() + 200
      while (performance.now() < until2) { /* the stall under test */ }
      while (pm.samples < 1) await turns(1)
      expect(gauge(registry.render(), 'nodejs_eventloop_lag_max_seconds')).toBeGreaterThanOrEqual(0.15)
    } finally {
      pm.stop()
    }
  })
})
