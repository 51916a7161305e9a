/**
 * Metric interfaces the domains and protocols record into. The node's Prometheus registry
 * (`src/node/metrics.ts`) implements them; code below `node` takes these types, never the registry
 * class, so it neither imports the node nor cares how the figures are exposed.
 *
 * Label values come from closed sets in code (codes, topics, verdicts), never from peers, so the
 * number of series stays bounded.
 */

/** label name → value; values from closed sets in code */
export type MetricLabels = Record<string, string>

/** a monotonically increasing count per label set */
export interface Counter {
  inc: (labels?: MetricLabels, by?: number) => void
  get: (labels?: MetricLabels) => number
}

/** a value that goes up and down, set directly or sampled at scrape time */
export interface Gauge {
  set: (v: number, labels?: MetricLabels) => void
  /** sample the value at scrape time */
  collect: (fn: () => number) => Gauge
}

/** a histogram of a set of current values, sampled at scrape time */
export interface Histogram {
  collect: (fn: () => number[]) => Histogram
}

/** a histogram of events as they happen (durations): each observation lands in its bucket */
export interface ObservedHistogram {
  observe: (v: number, labels?: MetricLabels) => void
}

/** Creates metrics; each name is registered once by the component that owns it. */
export interface MetricsRegistry {
  counter: (name: string, help: string) => Counter
  gauge: (name: string, help: string) => Gauge
  histogram: (name: string, help: string, buckets: number[]) => Histogram
  observedHistogram: (name: string, help: string, buckets: number[]) => ObservedHistogram
}
