/**
 * A small typed Prometheus registry (text exposition format 0.0.4). Counters and gauges with
 * labels; label values come from closed sets in code (never from peers), so series stay bounded.
 * The interfaces the rest of the code records into are in `src/util/metrics.ts`.
 */
import type * as api from '../util/metrics.js'

type Labels = api.MetricLabels

function renderLabels (labels: Labels): string {
  const keys = Object.keys(labels).sort()
  return keys.map((k) => `${k}="${labels[k].replace(/["\\\n]/g, '_')}"`).join(',')
}

/**
 * Label sets rendered so far, by their names and values as given. Label values come from closed
 * sets in code, so this stays small; a counter bumped for every gossip message then costs one
 * string join and a lookup instead of a sort, a regex and an array per call.
 */
const rendered = new Map<string, string>()
const MAX_RENDERED = 10_000

function labelKey (labels: Labels): string {
  let raw = ''
  for (const k in labels) {
    const v = labels[k]
    // the separator inside a value would make two label sets one raw string: render it apart
    if (v.includes('\u0002')) return renderLabels(labels)
    raw += k + '\u0001' + v + '\u0002'
  }
  let key = rendered.get(raw)
  if (key === undefined) {
    key = renderLabels(labels)
    if (rendered.size < MAX_RENDERED) rendered.set(raw, key)
  }
  return key
}

abstract class Metric {
  protected readonly values = new Map<string, number>()
  constructor (readonly name: string, readonly help: string, readonly type: 'counter' | 'gauge') {}
  render (): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`]
    if (this.values.size === 0) lines.push(`${this.name} 0`)
    for (const [k, v] of this.values) lines.push(k === '' ? `${this.name} ${v}` : `${this.name}{${k}} ${v}`)
    return lines.join('\n')
  }
}

export class Counter extends Metric implements api.Counter {
  constructor (name: string, help: string) { super(name, help, 'counter') }
  inc (labels: Labels = {}, by = 1): void {
    const k = labelKey(labels)
    this.values.set(k, (this.values.get(k) ?? 0) + by)
  }
  get (labels: Labels = {}): number { return this.values.get(labelKey(labels)) ?? 0 }
}

export class Gauge extends Metric implements api.Gauge {
  private collectFn?: () => number
  constructor (name: string, help: string) { super(name, help, 'gauge') }
  set (v: number, labels: Labels = {}): void { this.values.set(labelKey(labels), v) }
  /** sample the value at scrape time */
  collect (fn: () => number): this { this.collectFn = fn; return this }
  override render (): string {
    if (this.collectFn != null) this.set(this.collectFn())
    return super.render()
  }
}

/**
 * A histogram sampled at scrape time from a set of current values (for example the score of every
 * connected peer): cumulative `le` buckets, `_sum` and `_count`.
 */
export class SampledHistogram implements api.Histogram {
  private collectFn: () => number[] = () => []
  constructor (readonly name: string, readonly help: string, readonly buckets: number[]) {}
  collect (fn: () => number[]): this { this.collectFn = fn; return this }
  render (): string {
    const values = this.collectFn()
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`]
    for (const b of this.buckets) lines.push(`${this.name}_bucket{le="${b}"} ${values.filter((v) => v <= b).length}`)
    lines.push(`${this.name}_bucket{le="+Inf"} ${values.length}`)
    lines.push(`${this.name}_sum ${values.reduce((a, v) => a + v, 0)}`)
    lines.push(`${this.name}_count ${values.length}`)
    return lines.join('\n')
  }
}

/**
 * A histogram of observations as they happen (request durations), per label set: cumulative `le`
 * buckets, `_sum` and `_count`, as Prometheus clients render one.
 */
export class ObservedHistogram implements api.ObservedHistogram {
  private readonly series = new Map<string, { counts: number[], sum: number, count: number }>()
  constructor (readonly name: string, readonly help: string, readonly buckets: number[]) {}
  observe (v: number, labels: Labels = {}): void {
    const k = labelKey(labels)
    let s = this.series.get(k)
    if (s === undefined) {
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 }
      this.series.set(k, s)
    }
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]) s.counts[i]++
    s.sum += v
    s.count++
  }

  render (): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`]
    for (const [k, s] of this.series) {
      const sep = k === '' ? '' : ','
      for (const [i, b] of this.buckets.entries()) lines.push(`${this.name}_bucket{${k}${sep}le="${b}"} ${s.counts[i]}`)
      lines.push(`${this.name}_bucket{${k}${sep}le="+Inf"} ${s.count}`)
      const braces = k === '' ? '' : `{${k}}`
      lines.push(`${this.name}_sum${braces} ${s.sum}`, `${this.name}_count${braces} ${s.count}`)
    }
    return lines.join('\n')
  }
}

/** The node's one registry: implements the metric interfaces of `util/metrics` and renders them. */
export class Registry implements api.MetricsRegistry {
  private readonly metrics: Array<Metric | SampledHistogram | ObservedHistogram> = []
  counter (name: string, help: string): Counter { const m = new Counter(name, help); this.metrics.push(m); return m }
  gauge (name: string, help: string): Gauge { const m = new Gauge(name, help); this.metrics.push(m); return m }
  histogram (name: string, help: string, buckets: number[]): SampledHistogram { const m = new SampledHistogram(name, help, buckets); this.metrics.push(m); return m }
  observedHistogram (name: string, help: string, buckets: number[]): ObservedHistogram { const m = new ObservedHistogram(name, help, buckets); this.metrics.push(m); return m }
  render (): string { return this.metrics.map((m) => m.render()).join('\n') + '\n' }
}
