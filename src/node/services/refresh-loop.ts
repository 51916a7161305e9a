import type { Clock, TimerHandle } from '../../util/clock.js'

/** the longest a held document goes without a look for a newer one */
export const REFRESH_MAX_MS = 24 * 3600_000
/** the soonest a held document is looked at again, however close its next update */
export const REFRESH_MIN_MS = 3600_000
/** the first retry of a key whose fetch failed; it doubles up to REFRESH_MIN_MS */
export const RETRY_FIRST_MS = 5 * 60_000

/** What one key's fetch came to, as a round reports it (FetchedCrl, FetchedTdxCollateral). */
export interface RefreshResult {
  result: 'updated' | 'kept' | 'failed'
  /** the next update of the document the file holds now (ISO time) */
  nextUpdate?: string
}

export interface RefreshLoopInit<R extends RefreshResult> {
  clock: Clock
  /** fetches the keys due, in one round; throws when the round failed as a whole (every key of it retries) */
  round: (keys: string[], now: number, signal: AbortSignal) => Promise<R[]>
  keyOf: (r: R) => string
  /** says what a result was, with how long until its key is looked at again */
  report: (r: R, nextLookMs: number) => void
  /** says why a round failed as a whole */
  roundFailed: (err: unknown, keys: string[]) => void
}

/**
 * The schedule of documents a vendor reissues before they expire (CRLs, Intel's TCB info), kept in
 * files by a daemon. Each key has its own next look:
 *
 * - fetched (newer, or the file already as new): half the time left to the document's next
 *   update, between REFRESH_MIN_MS and REFRESH_MAX_MS. Vendors reissue well before the next
 *   update, so a document is replaced while the one held is still current, and a vendor outage of
 *   several days costs nothing.
 * - failed: RETRY_FIRST_MS, doubling up to REFRESH_MIN_MS; the file keeps what it held.
 *
 * Rounds run one at a time on the given clock; `stop()` aborts a running round and waits for it.
 * `ready` resolves once the first round has ended, whatever it found.
 */
export class RefreshLoop<R extends RefreshResult> {
  private timer?: TimerHandle
  private running?: Promise<void>
  private controller = new AbortController()
  /** per key: when it is next due, and the delay of its next retry after a failure */
  private readonly due = new Map<string, { at: number, retryMs: number }>()
  private readonly first: { promise: Promise<void>, resolve: () => void }

  constructor (private readonly c: RefreshLoopInit<R>) {
    let resolve = (): void => {}
    const promise = new Promise<void>((resolve_) => { resolve = resolve_ })
    this.first = { promise, resolve }
  }

  /** resolves once the first round ended (or the loop stopped before it did) */
  get ready (): Promise<void> { return this.first.promise }

  /** the keys the loop keeps */
  keys (): string[] { return [...this.due.keys()] }

  /** starts with `keys` all due now; the first round runs on the next tick of the clock */
  start (keys: readonly string[]): void {
    this.controller = new AbortController()
    const now = this.c.clock.now()
    for (const k of keys) this.due.set(k, { at: now, retryMs: RETRY_FIRST_MS })
    this.arm(0)
  }

  async stop (): Promise<void> {
    this.timer?.clear()
    this.timer = undefined
    this.controller.abort()
    await this.running
    this.first.resolve()
  }

  /**
   * Keeps `key` from now on, fetched just now outside a round (a daemon's fetch on demand): its
   * next look as for a round's result. A key already kept keeps its schedule.
   */
  add (key: string, nextUpdate: string | undefined): void {
    if (this.due.has(key) || this.controller.signal.aborted) return
    const now = this.c.clock.now()
    this.due.set(key, { at: now + nextLookMs(nextUpdate, now), retryMs: RETRY_FIRST_MS })
    if (this.running == null) this.arm(this.untilNext())
  }

  /** the keys due now, fetched in one round; then the timer for the next one due */
  async refresh (): Promise<void> {
    if (this.running != null) return await this.running
    const signal = this.controller.signal
    if (signal.aborted) return
    const run = this.round(signal)
    this.running = run
    try {
      await run
    } finally {
      this.running = undefined
      this.first.resolve()
    }
    if (!signal.aborted) this.arm(this.untilNext())
  }

  private async round (signal: AbortSignal): Promise<void> {
    const now = this.c.clock.now()
    const keys = [...this.due].filter(([, d]) => d.at <= now).map(([k]) => k)
    if (keys.length === 0) return
    try {
      const results = await this.c.round(keys, now, signal)
      for (const r of results) this.record(r, this.c.clock.now())
    } catch (err) {
      // the round as a whole failed (its directory cannot be made), or it was aborted: every key retries
      if (!signal.aborted) {
        this.c.roundFailed(err, keys)
        for (const k of keys) this.failed(k, this.c.clock.now())
      }
    }
  }

  private record (r: R, now: number): void {
    const key = this.c.keyOf(r)
    if (r.result === 'failed') {
      this.c.report(r, this.failed(key, now))
      return
    }
    const wait = nextLookMs(r.nextUpdate, now)
    this.due.set(key, { at: now + wait, retryMs: RETRY_FIRST_MS })
    this.c.report(r, wait)
  }

  /** schedules a key's retry; returns its delay */
  private failed (key: string, now: number): number {
    const d = this.due.get(key) ?? { at: now, retryMs: RETRY_FIRST_MS }
    this.due.set(key, { at: now + d.retryMs, retryMs: Math.min(REFRESH_MIN_MS, d.retryMs * 2) })
    return d.retryMs
  }

  private untilNext (): number {
    if (this.due.size === 0) return REFRESH_MAX_MS
    return Math.max(0, Math.min(...[...this.due.values()].map((d) => d.at)) - this.c.clock.now())
  }

  private arm (ms: number): void {
    this.timer?.clear()
    this.timer = this.c.clock.setTimeout(() => { void this.refresh() }, ms)
  }
}

/** half the time left to `nextUpdate`, between REFRESH_MIN_MS and REFRESH_MAX_MS (the most without one) */
function nextLookMs (nextUpdate: string | undefined, now: number): number {
  const next = nextUpdate != null ? Date.parse(nextUpdate) : Number.NaN
  return Number.isNaN(next) ? REFRESH_MAX_MS : Math.min(REFRESH_MAX_MS, Math.max(REFRESH_MIN_MS, (next - now) / 2))
}
