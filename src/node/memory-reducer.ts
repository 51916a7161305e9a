import { performance, type EventLoopUtilization } from 'node:perf_hooks'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { Clock, TimerHandle } from '../util/clock.js'
import type { Counter, MetricsRegistry } from '../util/metrics.js'
import type { Logger } from './logger.js'

/**
 * Gives a daemon's memory back once a burst is over. A flood of offers leaves V8 holding free
 * pages it keeps for reuse and old-generation pages that a regular collection does not compact,
 * and V8's own memory reducer, as Node runs it, returns little of it: after 100,000 offers a
 * receiver left alone for 130 s still held 517 MiB, and one memory-reducing collection (V8's
 * last-resort GC, which compacts and releases its pooled pages) took it to 366 MiB
 * (`npm run bench:gossip -- --rest 150`, README).
 *
 * Every `intervalMs` the reducer looks at the process. When RSS has grown by `growthBytes` since
 * the last collection (or the start), or the free part of V8's heap has, and the event loop was
 * busy less than `maxUtilization` of the interval, it runs that collection once; when the loop
 * rested (busy at most `restUtilization`), a growth of `restGrowthBytes` is enough. A collection
 * after a burst is followed by one more `followUpMs` later (when the loop is quiet then): what the
 * burst left in caches with a lifetime (gossipsub's seen ids, two minutes) dies only after the
 * first, and a resting process allocates too little for V8 to collect it by itself.
 *
 * Starting is a burst too: loading the module graph and the crypto packages, unlocking the keys
 * and joining the network leave V8's old generation a third free (a resting daemon held a 55 MiB
 * heap with 34 MiB of it used, at 152 MiB RSS; one collection took it to 123 MiB). So
 * `settleMs` after `start()` the reducer collects once, when the loop is quiet then or at a later
 * look.
 *
 * The collection stops the event loop for a while (about 0.4 s with 100,000 offers held), which
 * is why it waits for a quiet loop and runs at most once an interval. One per process: nodes that
 * share a process (a devnet) share its heap.
 */
export interface MemoryReducerInit {
  clock: Clock
  logger?: Logger
  metrics?: MetricsRegistry
  /** how often to look; default 30 s */
  intervalMs?: number
  /** RSS growth since the last reduction that calls for one; default 64 MiB */
  growthBytes?: number
  /** a second collection this long after one, once the burst's caches expired; default 150 s */
  followUpMs?: number
  /** one collection this long after `start()`, for what starting left behind; default 10 s, 0 none */
  settleMs?: number
  /** the most the event loop may have been busy over the last interval; default 0.2 */
  maxUtilization?: number
  /**
   * At rest (the loop busy at most `restUtilization` over the last interval; default 0.02), a smaller
   * growth calls for a collection too: default 8 MiB
   */
  restGrowthBytes?: number
  restUtilization?: number
  /** the process's RSS (tests give their own) */
  rss?: () => number
  /** bytes V8's heap holds beyond its used part (tests give their own) */
  heapSlack?: () => number
  /** the event loop's utilisation since the last call, 0 to 1 (tests give their own) */
  utilization?: () => number
  /** the collection itself (tests give their own); default `memoryReducingGc()` */
  collect?: () => void
}

export const DEFAULT_REDUCER_INTERVAL_MS = 30_000
export const DEFAULT_REDUCER_GROWTH_BYTES = 64 * 1024 * 1024
export const DEFAULT_REDUCER_MAX_UTILIZATION = 0.2
export const DEFAULT_REDUCER_FOLLOW_UP_MS = 150_000
export const DEFAULT_REDUCER_SETTLE_MS = 10_000
/**
 * Traffic a burst's threshold never sees: 4,000 offers at 100/s grew two daemons from 113 and 115
 * MiB to 146 and 163 MiB, mostly V8's young generation grown to its 32 MiB semi-spaces, and they
 * held that at rest (over 150 MB) because 64 MiB had not been reached. A resting daemon's loop is
 * busy 0.2 to 0.5% of the time, one taking 60 offers a second 6 to 10%: under 2% it rests, and a
 * collection then costs no message its latency.
 *
 * 8 MiB rather than the 16 the rule first had: a resting supplier re-publishes its standing offers
 * every period, and each run grew a publisher's young generation again, by 14 MiB of RSS (139 to
 * 153 MiB, heap 44 to 61 MiB), just under 16 and so kept. At 8, twelve daemons rested after traffic
 * with their largest at 135 to 143 MiB (two runs, four readings), against 140 to 148 MiB at 16
 * (`npm run bench:daemon -- --daemons 12 --publishers 4 --rate 60 --warmup 1000 --offers 3000
 * --rest 60 --rest-after 60,120,180,240 --node-options=''`). A resting daemon's RSS moves by 1 to
 * 2 MiB on its own, well under 8.
 */
export const DEFAULT_REDUCER_REST_GROWTH_BYTES = 8 * 1024 * 1024
export const DEFAULT_REDUCER_REST_UTILIZATION = 0.02

type GcFunction = (options?: { type?: string, execution?: string, flavor?: string }) => void | Promise<void>
let gcFunction: GcFunction | null | undefined

/**
 * V8's `gc` function: the global one when the process runs with `--expose-gc`, else one from a
 * fresh context after setting the flag now (V8 installs it in contexts created after). null where
 * neither works.
 */
function exposedGc (): GcFunction | null {
  if (gcFunction !== undefined) return gcFunction
  const global = (globalThis as { gc?: unknown }).gc
  if (typeof global === 'function') return (gcFunction = global as GcFunction)
  try {
    setFlagsFromString('--expose-gc')
    const fn = runInNewContext('gc') as unknown
    gcFunction = typeof fn === 'function' ? fn as GcFunction : null
  } catch {
    gcFunction = null
  }
  return gcFunction
}

/**
 * One memory-reducing collection, now, on this thread: V8's last-resort GC (several full
 * collections with compaction, then its pooled free pages released). false where V8's `gc` cannot
 * be had (the reducer then does nothing).
 */
export function memoryReducingGc (): boolean {
  const gc = exposedGc()
  if (gc == null) return false
  void gc({ type: 'major', execution: 'sync', flavor: 'last-resort' })
  return true
}

/** the event loop's utilisation between calls */
function loopUtilization (): () => number {
  let last: EventLoopUtilization = performance.eventLoopUtilization()
  return () => {
    const now = performance.eventLoopUtilization()
    const u = performance.eventLoopUtilization(now, last).utilization
    last = now
    return u
  }
}

export class MemoryReducer {
  private readonly intervalMs: number
  private readonly growthBytes: number
  private readonly maxUtilization: number
  private readonly restGrowthBytes: number
  private readonly restUtilization: number
  private readonly rss: () => number
  private readonly utilization: () => number
  private readonly heapSlack: () => number
  private readonly collect: () => void
  private readonly reductions?: Counter
  private readonly followUpMs: number
  private readonly settleMs: number
  private baseline: number
  /** the heap's free part after the last collection (or at the start) */
  private slackBaseline: number
  /** when the follow-up of the last collection (or the start's collection) is due (undefined: none pending) */
  private followUpAt?: number
  /** the start's collection is the pending follow-up */
  private settling = false
  private runs = 0
  private timer?: TimerHandle
  private settleTimer?: TimerHandle

  constructor (private readonly init: MemoryReducerInit) {
    this.intervalMs = init.intervalMs ?? DEFAULT_REDUCER_INTERVAL_MS
    this.growthBytes = init.growthBytes ?? DEFAULT_REDUCER_GROWTH_BYTES
    this.maxUtilization = init.maxUtilization ?? DEFAULT_REDUCER_MAX_UTILIZATION
    this.restGrowthBytes = init.restGrowthBytes ?? DEFAULT_REDUCER_REST_GROWTH_BYTES
    this.restUtilization = init.restUtilization ?? DEFAULT_REDUCER_REST_UTILIZATION
    this.followUpMs = init.followUpMs ?? DEFAULT_REDUCER_FOLLOW_UP_MS
    this.settleMs = init.settleMs ?? DEFAULT_REDUCER_SETTLE_MS
    this.rss = init.rss ?? (() => process.memoryUsage.rss())
    this.utilization = init.utilization ?? loopUtilization()
    this.heapSlack = init.heapSlack ?? (() => { const m = process.memoryUsage(); return m.heapTotal - m.heapUsed })
    this.collect = init.collect ?? (() => { memoryReducingGc() })
    this.reductions = init.metrics?.counter('bazaar_memory_reductions_total', 'memory-reducing collections run after a burst (the process RSS grew and the event loop went quiet)')
    this.baseline = this.rss()
    this.slackBaseline = this.heapSlack()
  }

  /** collections run so far */
  get collections (): number { return this.runs }

  start (): this {
    if (this.timer !== undefined) return this
    this.timer = this.init.clock.setInterval(() => { this.check() }, this.intervalMs)
    if (this.settleMs > 0) {
      // a follow-up due then: collected at that look if the loop is quiet, else at a later one
      this.followUpAt = this.init.clock.now() + this.settleMs
      this.settling = true
      this.settleTimer = this.init.clock.setTimeout(() => { this.settleTimer = undefined; this.check() }, this.settleMs)
    }
    return this
  }

  stop (): void {
    this.timer?.clear()
    this.settleTimer?.clear()
    this.timer = undefined
    this.settleTimer = undefined
  }

  /**
   * One look: collects when RSS or the heap's free part grew by `growthBytes` since the last
   * collection (by `restGrowthBytes` when the loop rested), or that collection's follow-up is due,
   * and the loop was quiet since the last look.
   * true when it collected. The baselines are then the figures after it; the RSS baseline also
   * falls with the RSS when the process shrinks on its own.
   */
  check (): boolean {
    const busy = this.utilization()
    const before = this.rss()
    if (before < this.baseline) this.baseline = before
    if (busy > this.maxUtilization) return false
    const now = this.init.clock.now()
    const followUp = this.followUpAt !== undefined && now >= this.followUpAt
    const growth = Math.max(before - this.baseline, this.heapSlack() - this.slackBaseline)
    const atRest = busy <= this.restUtilization && growth >= this.restGrowthBytes
    const grown = growth >= this.growthBytes || atRest
    if (!grown && !followUp) return false
    const t0 = performance.now()
    this.collect()
    const ms = performance.now() - t0
    const after = this.rss()
    this.baseline = after
    this.slackBaseline = this.heapSlack()
    // a burst's collection gets its follow-up; a follow-up does not get another
    this.followUpAt = grown ? now + this.followUpMs : undefined
    const what = growth >= this.growthBytes ? 'memory reduced after a burst' : atRest ? 'memory reduced at rest' : this.settling ? 'memory reduced after start' : 'memory reduced once the burst\'s caches expired'
    this.settling = false
    this.runs++
    this.reductions?.inc()
    this.init.logger?.info(what, { rssBeforeMiB: mib(before), rssAfterMiB: mib(after), pauseMs: Math.round(ms) })
    return true
  }
}

const mib = (b: number): number => Math.round(b / 1048576)
