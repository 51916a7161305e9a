import { createHistogram } from 'node:perf_hooks'
import type { MetricsRegistry } from '../util/metrics.js'

/** how often the event loop's delay is sampled (ms) */
export const EVENT_LOOP_SAMPLE_MS = 20

/**
 * The daemon process's own figures in `/metrics`, under the names Prometheus's Node client gives
 * them, so that existing dashboards read them: resident memory, and how late the event loop was
 * (p50, p99 and max since the last scrape, in seconds; each scrape starts a new window, so one
 * scraper should read them). A request, a gossip message and a timer all wait for the loop: when
 * the control API answers slowly, this says whether the loop itself was late.
 *
 * A timer every `EVENT_LOOP_SAMPLE_MS` records how much later than that it ran. Node's
 * `monitorEventLoopDelay` does the same natively, but its `reset()` also forgets the last sample's
 * time, so the stall that straddles a scrape is never recorded; here the time carries over.
 * One per process, as the memory reducer: nodes that share a process share its loop.
 */
export class ProcessMetrics {
  private readonly delays = createHistogram()
  private timer?: NodeJS.Timeout
  private last = 0
  /** the window read by the p50 gauge, which renders first; the others read the same window */
  private window = { p50: 0, p99: 0, max: 0 }

  constructor (registry: MetricsRegistry) {
    registry.gauge('process_resident_memory_bytes', 'resident memory of the process').collect(() => process.memoryUsage.rss())
    registry.gauge('nodejs_eventloop_lag_p50_seconds', 'how late the event loop was since the last scrape, median').collect(() => {
      // in nanoseconds; an empty window (no sample yet) reads NaN and max 0
      const s = (ns: number): number => (Number.isFinite(ns) && this.delays.count > 0 ? ns / 1e9 : 0)
      this.window = { p50: s(this.delays.percentile(50)), p99: s(this.delays.percentile(99)), max: s(this.delays.max) }
      this.delays.reset()
      return this.window.p50
    })
    registry.gauge('nodejs_eventloop_lag_p99_seconds', 'how late the event loop was since the last scrape, 99th percentile').collect(() => this.window.p99)
    registry.gauge('nodejs_eventloop_lag_max_seconds', 'how late the event loop was since the last scrape, largest').collect(() => this.window.max)
  }

  /** samples in the current window */
  get samples (): number { return this.delays.count }

  start (): this {
    if (this.timer != null) return this
    this.last = performance.now()
    this.timer = setInterval(() => {
      const now = performance.now()
      // a histogram records positive integers: on time counts as 1 ns
      this.delays.record(Math.max(1, Math.round((now - this.last - EVENT_LOOP_SAMPLE_MS) * 1e6)))
      this.last = now
    }, EVENT_LOOP_SAMPLE_MS)
    // it measures the loop and must never be what keeps it running
    this.timer.unref()
    return this
  }

  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
  }
}
