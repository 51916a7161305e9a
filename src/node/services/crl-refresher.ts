import type { Logger } from '../logger.js'
import type { Clock, TimerHandle } from '../../util/clock.js'
import { fetchCrls, type FetchCrlsOptions, type FetchedCrl } from '../crl-fetch.js'
import type { NodeService } from './types.js'

/** the longest a held CRL goes without a look for a newer one */
export const CRL_REFRESH_MAX_MS = 24 * 3600_000
/** the soonest a held CRL is looked at again, however close its next update */
export const CRL_REFRESH_MIN_MS = 3600_000
/** the first retry of a source whose fetch failed; it doubles up to CRL_REFRESH_MIN_MS */
export const CRL_RETRY_FIRST_MS = 5 * 60_000

/**
 * Keeps the AMD and Intel CRLs of `tee.crlDir` current while the daemon runs, so that a renter
 * needs no timer of its own (`bazaar attest fetch-crls` does the same from the command line, and
 * writes the same files). The first round fetches every source at start; after it each source has
 * its own next look:
 *
 * - fetched (newer, or the file already as new): half the time left to the CRL's next update,
 *   between 1 hour and 1 day. AMD and Intel reissue well before the next update, so a CRL is
 *   replaced while the one held is still current, and a vendor outage of several days costs
 *   nothing.
 * - failed (no answer, an HTTP error, a CRL that does not verify): 5 minutes, doubling up to an
 *   hour, with a warning that names the source and why; the file keeps what it held.
 *
 * Rounds run one at a time on the node's clock; `stop()` aborts a running round and waits for it.
 * Every file is written by `fetchCrls`: verified against the pinned vendor keys, then written to a
 * temporary file and renamed over the old one, so a rental reading the directory never sees half
 * of one. `ready` resolves once the first round has ended, whatever it found.
 */
export class CrlRefresher implements NodeService {
  readonly name = 'crl-refresher'
  private timer?: TimerHandle
  private running?: Promise<void>
  private controller = new AbortController()
  /** per source: when it is next due, and the delay of its next retry after a failure */
  private readonly due = new Map<string, { at: number, retryMs: number }>()
  private readonly first: { promise: Promise<void>, resolve: () => void }

  constructor (private readonly c: {
    dir: string
    /** source names; all of them by default */
    sources: readonly string[]
    urls?: Readonly<Record<string, string>>
    clock: Clock
    logger: Logger
    /** `fetchCrls`, or a stand-in in tests */
    fetch?: (opts: FetchCrlsOptions) => Promise<FetchedCrl[]>
  }) {
    let resolve = (): void => {}
    const promise = new Promise<void>((resolve_) => { resolve = resolve_ })
    this.first = { promise, resolve }
  }

  /** resolves once the first round ended (or the refresher stopped before it did) */
  get ready (): Promise<void> { return this.first.promise }

  async start (): Promise<void> {
    this.controller = new AbortController()
    const now = this.c.clock.now()
    for (const s of this.c.sources) this.due.set(s, { at: now, retryMs: CRL_RETRY_FIRST_MS })
    // not awaited: a daemon starts whether the vendors answer or not
    this.arm(0)
  }

  async stop (): Promise<void> {
    this.timer?.clear()
    this.timer = undefined
    this.controller.abort()
    await this.running
    this.first.resolve()
  }

  /** the sources due now, fetched in one round; then the timer for the next one due */
  async refresh (): Promise<void> {
    if (this.running != null) return await this.running
    const signal = this.controller.signal
    if (signal.aborted) return
    this.running = (async () => {
      const now = this.c.clock.now()
      const sources = [...this.due].filter(([, d]) => d.at <= now).map(([s]) => s)
      try {
        if (sources.length > 0) {
          const results = await (this.c.fetch ?? fetchCrls)({ dir: this.c.dir, sources, ...(this.c.urls != null ? { urls: this.c.urls } : {}), now: new Date(now), signal })
          for (const r of results) this.record(r, this.c.clock.now())
        }
      } catch (err) {
        // the directory cannot be made (a UserError), or the round was aborted: every source retries
        if (!signal.aborted) {
          this.c.logger.warn('CRL refresh failed', { dir: this.c.dir, err })
          for (const s of sources) this.failed(s, this.c.clock.now())
        }
      } finally {
        this.running = undefined
        this.first.resolve()
      }
      if (!signal.aborted) this.arm(Math.max(0, Math.min(...[...this.due.values()].map((d) => d.at)) - this.c.clock.now()))
    })()
    await this.running
  }

  private record (r: FetchedCrl, now: number): void {
    if (r.result === 'failed') {
      const retryMs = this.failed(r.source, now)
      this.c.logger.warn('CRL fetch failed; the file keeps what it held', { source: r.source, code: r.code, error: r.error, retryInS: retryMs / 1000 })
      return
    }
    const next = r.nextUpdate != null ? Date.parse(r.nextUpdate) : Number.NaN
    const wait = Number.isNaN(next) ? CRL_REFRESH_MAX_MS : Math.min(CRL_REFRESH_MAX_MS, Math.max(CRL_REFRESH_MIN_MS, (next - now) / 2))
    this.due.set(r.source, { at: now + wait, retryMs: CRL_RETRY_FIRST_MS })
    const fields = { source: r.source, file: r.file, thisUpdate: r.thisUpdate, nextUpdate: r.nextUpdate, revoked: r.revoked, nextLookInS: Math.round(wait / 1000) }
    if (r.result === 'updated') this.c.logger.info('CRL updated', fields)
    else this.c.logger.debug('CRL unchanged', fields)
  }

  /** schedules a source's retry; returns its delay */
  private failed (source: string, now: number): number {
    const d = this.due.get(source) ?? { at: now, retryMs: CRL_RETRY_FIRST_MS }
    this.due.set(source, { at: now + d.retryMs, retryMs: Math.min(CRL_REFRESH_MIN_MS, d.retryMs * 2) })
    return d.retryMs
  }

  private arm (ms: number): void {
    this.timer?.clear()
    this.timer = this.c.clock.setTimeout(() => { void this.refresh() }, ms)
  }
}
