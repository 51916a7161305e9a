import type { MetricsRegistry, ObservedHistogram } from '../util/metrics.js'

/**
 * How often the event loop's lateness is sampled (ms). A sample says how late a timer due at that
 * moment ran, so the rate sets only how many samples a window holds, not which stalls are seen: a
 * stall delays the next sample by what is left of it. Ten a second keep a resting daemon's cost
 * small (each wake of an idle process costs tens of microseconds) and give 600 samples a minute.
 */
export const EVENT_LOOP_SAMPLE_MS = 100

/** upper bounds (seconds) of the lateness buckets: a healthy loop is late by a millisecond or less */
export const EVENT_LOOP_DELAY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/**
 * The daemon process's own figures in `/metrics`: resident memory (`process_resident_memory_bytes`,
 * as Prometheus's clients name it), and how late the event loop ran, as a histogram
 * (`bazaar_event_loop_delay_seconds`). A request, a gossip message and a timer all wait for the
 * loop: when the control API answers slowly, this says whether the loop itself was late. The
 * histogram is cumulative, as Prometheus expects, so any number of scrapers can each take the
 * difference between two of their scrapes (`histogram_quantile` over a `rate`); gauges reset on
 * each scrape, as Prometheus's Node client keeps its event-loop figures, would give each scraper
 * only what the others left.
 *
 * A timer every `EVENT_LOOP_SAMPLE_MS` records how much later than that it ran. One per process,
 * as the memory reducer: nodes that share a process share its loop.
 */
export class ProcessMetrics {
  private readonly delay: ObservedHistogram
  private timer?: NodeJS.Timeout
  private last = 0

  constructor (registry: MetricsRegistry) {
    registry.gauge('process_resident_memory_bytes', 'resident memory of the process').collect(() => process.memoryUsage.rss())
    this.delay = registry.observedHistogram('bazaar_event_loop_delay_seconds', `how late the event loop ran a timer, sampled every ${EVENT_LOOP_SAMPLE_MS} ms`, EVENT_LOOP_DELAY_BUCKETS)
  }

  start (): this {
    if (this.timer != null) return this
    this.last = performance.now()
    this.timer = setInterval(() => {
      const now = performance.now()
      this.delay.observe(Math.max(0, now - this.last - EVENT_LOOP_SAMPLE_MS) / 1000)
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
