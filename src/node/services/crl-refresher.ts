import type { Logger } from '../logger.js'
import type { Clock } from '../../util/clock.js'
import { fetchCrls, type FetchCrlsOptions, type FetchedCrl } from '../crl-fetch.js'
import { REFRESH_MAX_MS, REFRESH_MIN_MS, RETRY_FIRST_MS, RefreshLoop } from './refresh-loop.js'
import type { NodeService } from './types.js'

/** the longest a held CRL goes without a look for a newer one */
export const CRL_REFRESH_MAX_MS = REFRESH_MAX_MS
/** the soonest a held CRL is looked at again, however close its next update */
export const CRL_REFRESH_MIN_MS = REFRESH_MIN_MS
/** the first retry of a source whose fetch failed; it doubles up to CRL_REFRESH_MIN_MS */
export const CRL_RETRY_FIRST_MS = RETRY_FIRST_MS

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
  private readonly loop: RefreshLoop<FetchedCrl>

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
    this.loop = new RefreshLoop<FetchedCrl>({
      clock: c.clock,
      round: async (sources, now, signal) => await (c.fetch ?? fetchCrls)({ dir: c.dir, sources, ...(c.urls != null ? { urls: c.urls } : {}), now: new Date(now), signal }),
      keyOf: (r) => r.source,
      report: (r, waitMs) => { this.report(r, waitMs) },
      roundFailed: (err) => { c.logger.warn('CRL refresh failed', { dir: c.dir, err }) }
    })
  }

  /** resolves once the first round ended (or the refresher stopped before it did) */
  get ready (): Promise<void> { return this.loop.ready }

  async start (): Promise<void> {
    // not awaited: a daemon starts whether the vendors answer or not
    this.loop.start(this.c.sources)
  }

  async stop (): Promise<void> { await this.loop.stop() }

  /** the sources due now, fetched in one round; then the timer for the next one due */
  async refresh (): Promise<void> { await this.loop.refresh() }

  private report (r: FetchedCrl, waitMs: number): void {
    if (r.result === 'failed') {
      this.c.logger.warn('CRL fetch failed; the file keeps what it held', { source: r.source, code: r.code, error: r.error, retryInS: waitMs / 1000 })
      return
    }
    const fields = { source: r.source, file: r.file, thisUpdate: r.thisUpdate, nextUpdate: r.nextUpdate, revoked: r.revoked, nextLookInS: Math.round(waitMs / 1000) }
    if (r.result === 'updated') this.c.logger.info('CRL updated', fields)
    else this.c.logger.debug('CRL unchanged', fields)
  }
}
