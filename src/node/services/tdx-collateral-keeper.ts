import { readdir } from 'node:fs/promises'
import type { Logger } from '../logger.js'
import type { Clock } from '../../util/clock.js'
import { WindowLimiter } from '../../util/rate-limit.js'
import { AttestationErrorCode, fail } from '../../tee/errors.js'
import type { TdxCollateralSource } from '../../tee/policy.js'
import { loadTcbInfoCollateral, MAX_COLLATERAL_SIZE, type SignedTcbInfo } from '../../tee/tdx/collateral.js'
import { readBoundedFile } from '../../util/fs.js'
import { errorLine } from '../download.js'
import { FMSPC_RE, MAX_TDX_COLLATERAL_FILES, fetchTdxCollateral, type FetchTdxCollateralOptions, type FetchedTdxCollateral } from '../tdx-collateral-fetch.js'
import { RETRY_FIRST_MS, RefreshLoop } from './refresh-loop.js'
import type { NodeService } from './types.js'

/**
 * Platforms met for the first time whose TCB info one daemon fetches per ON_DEMAND_WINDOW_MS.
 * Each is a genuine Intel platform (its quote verified first), and a renter meets a few families
 * (one per CPU generation and cloud); the bound keeps a run of suppliers from keeping Intel's
 * service (or the operator's PCCS) busy on the renter's behalf.
 */
export const ON_DEMAND_MAX = 8
export const ON_DEMAND_WINDOW_MS = 3600_000

/**
 * Keeps Intel's TDX TCB info current in `tee.tdxCollateralDir` while a renter daemon runs, one
 * `<fmspc>.json` per platform family, so that no operator timer is needed (`bazaar attest
 * fetch-tdx-collateral` writes the same files):
 *
 * - every FMSPC whose file the directory holds at start is fetched then, and after that on the
 *   schedule of CRLs (RefreshLoop: half the time to the TCB info's nextUpdate, between an hour
 *   and a day; a failure retried after 5 minutes, doubling), with one warning line naming the
 *   FMSPC and why when a fetch fails;
 * - a rental whose TDX quote names a platform without TCB info (`collateralFor`, called by the
 *   session once the quote's PCK chain verified to Intel's root) fetches it then: concurrent
 *   rentals of one platform share one fetch, at most ON_DEMAND_MAX new platforms per
 *   ON_DEMAND_WINDOW_MS, and a platform whose fetch failed is refused at once for RETRY_FIRST_MS.
 *   Once fetched, the platform is refreshed on the schedule like the others.
 *
 * Every file is written by `fetchTdxCollateral`: verified, never older over newer, atomically.
 */
export class TdxCollateralKeeper implements NodeService, TdxCollateralSource {
  readonly name = 'tdx-collateral'
  private readonly loop: RefreshLoop<FetchedTdxCollateral>
  private readonly controller = new AbortController()
  private readonly inFlight = new Map<string, Promise<SignedTcbInfo>>()
  /** the last failed fetch of a platform on demand: refused again at once until RETRY_FIRST_MS passed */
  private readonly failures = new Map<string, { at: number, line: string }>()
  private readonly limiter = new WindowLimiter(ON_DEMAND_MAX, ON_DEMAND_WINDOW_MS, 1)
  /** what a fetch on demand brought, until its next update */
  private readonly fetched = new Map<string, { signed: SignedTcbInfo, until: number }>()

  constructor (private readonly c: {
    dir: string
    /** Intel PCS or a PCCS; INTEL_PCS_URL by default */
    pcsUrl?: string
    clock: Clock
    logger: Logger
    /** `fetchTdxCollateral`, or a stand-in in tests */
    fetch?: (opts: FetchTdxCollateralOptions) => Promise<FetchedTdxCollateral[]>
  }) {
    this.loop = new RefreshLoop<FetchedTdxCollateral>({
      clock: c.clock,
      round: async (fmspcs, now, signal) => await this.fetch({ fmspcs, now: new Date(now), signal }),
      keyOf: (r) => r.fmspc,
      report: (r, waitMs) => { this.report(r, waitMs) },
      roundFailed: (err) => { c.logger.warn('TDX collateral refresh failed', { dir: c.dir, err }) }
    })
  }

  /** resolves once the first round ended */
  get ready (): Promise<void> { return this.loop.ready }

  /** the FMSPCs kept current */
  fmspcs (): string[] { return this.loop.keys() }

  async start (): Promise<void> {
    const names = await readdir(this.c.dir).catch(() => [] as string[])
    const held = names.filter((n) => /^[0-9a-f]{12}\.json$/.test(n)).map((n) => n.slice(0, 12)).sort().slice(0, MAX_TDX_COLLATERAL_FILES)
    // not awaited: a daemon starts whether Intel answers or not
    this.loop.start(held)
  }

  async stop (): Promise<void> {
    this.controller.abort()
    await this.loop.stop()
    await Promise.allSettled([...this.inFlight.values()])
  }

  /** the platforms due now, fetched in one round (what the timer does) */
  async refresh (): Promise<void> { await this.loop.refresh() }

  async collateralFor (fmspc: string, opts: { signal?: AbortSignal } = {}): Promise<SignedTcbInfo> {
    // [REJECT] not an FMSPC (the session reads it from a verified PCK certificate: a bug, not a peer)
    if (!FMSPC_RE.test(fmspc)) fail(AttestationErrorCode.MALFORMED, `'${fmspc.slice(0, 32)}' is not an FMSPC`)
    const key = fmspc.toLowerCase()
    // fetched for an earlier rental and current: a session whose policy was read before that (a
    // re-attach, a rental started meanwhile) costs no request and no slot
    const got = this.fetched.get(key)
    if (got != null && this.c.clock.now() < got.until) return got.signed
    let p = this.inFlight.get(key)
    if (p == null) {
      const now = this.c.clock.now()
      const last = this.failures.get(key)
      // [REJECT] a platform whose fetch just failed: refused at once rather than asked again per rental
      if (last != null && now - last.at < RETRY_FIRST_MS) fail(AttestationErrorCode.COLLATERAL_NOT_FETCHED, `${last.line} (tried ${Math.round((now - last.at) / 1000)} s ago; tried again ${Math.round((last.at + RETRY_FIRST_MS - now) / 1000)} s from now)`)
      // [REJECT] more platforms met for the first time than ON_DEMAND_MAX per window
      if (!this.limiter.take('', now)) fail(AttestationErrorCode.COLLATERAL_NOT_FETCHED, `no TCB info for TDX platform ${key}, and ${ON_DEMAND_MAX} new platforms were fetched in the last ${ON_DEMAND_WINDOW_MS / 60_000} minutes already`)
      p = this.fetchNew(key)
      this.inFlight.set(key, p)
      void p.then(() => { this.inFlight.delete(key) }, () => { this.inFlight.delete(key) })
    }
    if (opts.signal == null) return await p
    const signal = opts.signal
    signal.throwIfAborted()
    // the rental stops waiting on its signal; the fetch goes on for the others and the directory
    return await new Promise<SignedTcbInfo>((resolve, reject) => {
      const onAbort = (): void => { reject(signal.reason) }
      signal.addEventListener('abort', onAbort, { once: true })
      p.then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
    })
  }

  private async fetchNew (fmspc: string): Promise<SignedTcbInfo> {
    let r: FetchedTdxCollateral | undefined
    try {
      [r] = await this.fetch({ fmspcs: [fmspc], now: new Date(this.c.clock.now()), signal: this.controller.signal })
    } catch (err) {
      // the directory cannot be made, or the daemon is stopping
      r = { fmspc, file: '', result: 'failed', code: (err as { code?: string }).code, error: errorLine(err) }
    }
    if (r == null || r.result === 'failed') {
      const line = `no TCB info for TDX platform ${fmspc}: the fetch failed (${r?.code ?? 'error'}): ${r?.error ?? 'no result'}`
      this.failures.set(fmspc, { at: this.c.clock.now(), line })
      if (this.failures.size > MAX_TDX_COLLATERAL_FILES) this.failures.delete(this.failures.keys().next().value!)
      this.c.logger.warn('TDX collateral fetch for a new platform failed; its rentals are refused (COLLATERAL_NOT_FETCHED)', { fmspc, code: r?.code, error: r?.error })
      fail(AttestationErrorCode.COLLATERAL_NOT_FETCHED, line)
    }
    this.failures.delete(fmspc)
    this.c.logger.info('TDX collateral fetched for a new platform', { fmspc, file: r.file, issueDate: r.issueDate, nextUpdate: r.nextUpdate })
    this.loop.add(fmspc, r.nextUpdate)
    try {
      return await this.keep(r)
    } catch (err) {
      fail(AttestationErrorCode.COLLATERAL_NOT_FETCHED, `no TCB info for TDX platform ${fmspc}: ${r.file} does not read back: ${(err as Error).message}`)
    }
  }

  /** the document a fetch left in the file (read back where the result does not carry it), kept in memory until its next update */
  private async keep (r: FetchedTdxCollateral): Promise<SignedTcbInfo> {
    const signed = r.collateral ?? loadTcbInfoCollateral([new Uint8Array(await readBoundedFile(r.file, MAX_COLLATERAL_SIZE))])
    this.remember(r.fmspc, signed, r.nextUpdate)
    return signed
  }

  private remember (fmspc: string, signed: SignedTcbInfo, nextUpdate: string | undefined): void {
    this.fetched.set(fmspc, { signed, until: Date.parse(nextUpdate ?? '') || 0 })
    if (this.fetched.size > MAX_TDX_COLLATERAL_FILES) this.fetched.delete(this.fetched.keys().next().value!)
  }

  private async fetch (o: { fmspcs: string[], now: Date, signal: AbortSignal }): Promise<FetchedTdxCollateral[]> {
    return await (this.c.fetch ?? fetchTdxCollateral)({ dir: this.c.dir, ...(this.c.pcsUrl != null ? { pcsUrl: this.c.pcsUrl } : {}), ...o })
  }

  private report (r: FetchedTdxCollateral, waitMs: number): void {
    if (r.result === 'failed') {
      this.c.logger.warn('TDX collateral fetch failed; the file keeps what it held', { fmspc: r.fmspc, code: r.code, error: r.error, retryInS: waitMs / 1000 })
      return
    }
    const fields = { fmspc: r.fmspc, file: r.file, issueDate: r.issueDate, nextUpdate: r.nextUpdate, tcbEvaluationDataNumber: r.tcbEvaluationDataNumber, nextLookInS: Math.round(waitMs / 1000) }
    // a newer document in the file: the copy a fetch on demand kept is replaced by it
    if (r.result === 'updated' && this.fetched.has(r.fmspc)) {
      if (r.collateral != null) this.remember(r.fmspc, r.collateral, r.nextUpdate)
      else this.fetched.delete(r.fmspc)
    }
    if (r.result === 'updated') this.c.logger.info('TDX collateral updated', fields)
    else this.c.logger.debug('TDX collateral unchanged', fields)
  }
}
