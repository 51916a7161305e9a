import { EscrowService, escrowIdOfAgreement } from '../../../escrow/index.js'
import { roleMetrics, type RoleMetrics } from '../metrics.js'
import { RentError } from './errors.js'
import { errorCode } from '../errors.js'
import { cancelStaleApprovals, DEFAULT_MATCH_TIMEOUT_MS, findMatch, negotiateAgreement, openMayLand, openRentEscrow, openRentSession, publishRentBid, rentJob, runRentJob, settleRent, withdrawRent, type RentContext } from './saga.js'
import { awaitSettled, SETTLE_WAIT_MS } from './settle.js'
import { reattachRental } from './reattach.js'
import type { RefundedEscrow, RentalToResume, RentOptions, RentRequest, RentSummary, RenterRoleInit, ResumedEscrow } from './types.js'
import type { ChainPort, LocalEscrow, VoucherSigner } from '../../../escrow/index.js'
import type { JobResult } from '../../../jobs/index.js'
import { AMOUNT_UNIT } from '../../../util/units.js'
import type { AttestationPolicy } from '../../../tee/index.js'

/**
 * How long past its expiry an escrow this renter paid into may stay open before refundExpired
 * takes the money back: a supplier that restarted late still closes on its voucher first. The
 * escrow's expiry already lies MIN_SETTLE_WINDOW_MS past the job's latest end.
 */
export const REFUND_GRACE_MS = 10 * 60_000

/**
 * Escrows whose open's outcome was unknown that one renter watches at most (`approveLateOpens`), and
 * how long past the agreement's startBy it still approves the refund of one that landed: its next
 * look (a minute) after the supplier's own at the startBy.
 */
export const MAX_LATE_OPENS = 256
export const LATE_OPEN_LOOK_MS = 2 * 60_000

/** how long `stop` waits for rentals in flight to settle by default */
export const DEFAULT_RENTER_STOP_WAIT_MS = 45_000

/**
 * The renter's side as a service: `rent` runs one rental as explicit saga steps (bid, match,
 * negotiate, escrow, attested session, metered job, settle; see ./saga.ts), each emitting an event
 * (the CLI prints them; the control API streams them). `resume` settles the escrows a previous
 * run left open. `stop` cancels the rentals in flight and waits, bounded, for their settlement.
 */
export class RenterRole {
  readonly escrow: EscrowService
  private readonly metrics: RoleMetrics
  /** cancels every rental (stop) */
  private readonly controller = new AbortController()
  /** ends settlement waits once stop's bound has passed */
  private readonly settling = new AbortController()
  private readonly rentals = new Set<Promise<unknown>>()
  private stopping?: Promise<void>
  /** escrows of rentals running in this process: refundExpired leaves them alone */
  private readonly active = new Set<string>()
  /** escrows refundExpired found settled (without a key vault it would ask the chain again) */
  private readonly settledIds = new Set<string>()
  /**
   * escrows whose open failed with its outcome unknown (an inclusion timeout, the chain gone), of
   * rentals that ended there: `refundExpired` looks for each until its expiry, and approves the
   * refund of one that landed all the same (`approveLateOpens`)
   */
  private readonly lateOpens = new Map<string, { payer: string, startBy: number, expiresAt: number }>()

  constructor (private readonly i: RenterRoleInit) {
    this.escrow = i.escrow ?? new EscrowService({ chain: i.chain, escrows: i.escrowDb.escrows, vouchers: i.escrowDb.vouchers, account: i.account, arbiter: i.arbiter, clock: i.node.clock })
    this.metrics = roleMetrics(i.node.metrics)
  }

  /** nothing to bring up: a renter acts only when asked to rent (or resume) */
  async start (): Promise<void> {}

  /**
   * Cancels the rentals in flight (each job stops and its escrow settles on the last voucher
   * signed) and waits for them, at most `stopWaitMs` on the node's clock; past that their
   * settlement waits end too. A later `rent` is refused with ABORTED.
   */
  async stop (): Promise<void> {
    this.stopping ??= this.stopRentals()
    await this.stopping
  }

  private async stopRentals (): Promise<void> {
    this.controller.abort(new RentError('ABORTED', 'the renter is stopping'))
    const bound = new AbortController()
    await Promise.race([
      Promise.allSettled([...this.rentals]),
      this.i.node.clock.sleep(this.i.stopWaitMs ?? DEFAULT_RENTER_STOP_WAIT_MS, { signal: bound.signal }).catch(() => {})
    ])
    bound.abort()
    this.settling.abort()
    await Promise.allSettled([...this.rentals])
  }

  /**
   * One rental, step by step; the bid is withdrawn however it ends. `policy` and `matchTimeoutMs`
   * are this rental's own (a rent's `--tee` kinds and CRLs), the role's init otherwise.
   */
  async rent (req: RentRequest, opts: RentOptions = {}): Promise<RentSummary> {
    if (this.controller.signal.aborted) throw new RentError('ABORTED', 'the renter is stopping')
    const run = this.run(req, opts)
    this.rentals.add(run)
    try { return await run } finally { this.rentals.delete(run) }
  }

  private async run (req: RentRequest, opts: RentOptions): Promise<RentSummary> {
    const ctx: RentContext = {
      policy: opts.policy ?? this.i.policy,
      matchTimeoutMs: opts.matchTimeoutMs ?? this.i.matchTimeoutMs ?? DEFAULT_MATCH_TIMEOUT_MS,
      init: this.i,
      escrow: this.escrow,
      metrics: this.metrics,
      logger: this.i.logger,
      emit: opts.onEvent ?? (() => {}),
      signal: opts.signal != null ? AbortSignal.any([this.controller.signal, opts.signal]) : this.controller.signal,
      settleSignal: this.settling.signal
    }
    await chainReady(this.i.chain, ctx.signal)
    const { bidId, bid } = await publishRentBid(ctx, req)
    let rented: string | undefined
    try {
      await findMatch(ctx, req, bid)
      const { match, agreed } = await negotiateAgreement(ctx, bid)
      // a rental that fails before its session gives the agreement back: the supplier's GPUs are free at once
      const escrow = await openRentEscrow(ctx, agreed).catch(async (err: unknown) => {
        if (openMayLand(err) && this.lateOpens.size < MAX_LATE_OPENS) {
          this.lateOpens.set(escrowIdOfAgreement(agreed.id), { payer: this.i.account.address, startBy: Number(agreed.terms.startBy), expiresAt: Number(agreed.terms.escrow!.expiresAt) })
        }
        await withdrawRent(ctx, match, agreed)
        throw err
      })
      this.active.add(escrow.escrowId)
      rented = escrow.escrowId
      const opened = await openRentSession(ctx, match, agreed, escrow.escrowId).catch(async (err: unknown) => {
        await withdrawRent(ctx, match, agreed)
        await this.refundUnstarted(escrow.escrowId)
        throw err
      })
      const { session, measurement, gpu } = opened
      const { result, acked } = await runRentJob(ctx, req, agreed, escrow, opened)
      const settled = await settleRent(ctx, escrow, async (id) => { await this.forgetKey(id) })
      const final = settled.final
      return {
        agreementId: agreed.id,
        supplier: escrow.terms.payee,
        attestation: { ok: true, kind: session.kind, measurement, ...(gpu != null ? { gpu } : {}) },
        job: rentJob(result, req.spec.outputs ?? []),
        vouchers: acked,
        escrow: {
          id: escrow.escrowId,
          asset: final?.asset.kind ?? escrow.opened.asset.kind,
          unit: AMOUNT_UNIT,
          locked: agreed.terms.budget.toString(),
          paid: settled.paid.toString(),
          refunded: settled.refunded.toString(),
          ...(settled.carried > 0n ? { carried: settled.carried.toString() } : {}),
          status: final?.status ?? 'unknown',
          ...(settled.settledBy != null ? { settledBy: settled.settledBy } : {}),
          ...(settled.approved != null ? { approved: settled.approved.toString() } : {}),
          records: (final?.records ?? escrow.opened.records).map((r) => ({ kind: r.kind, blockNumber: r.blockNumber, blockHash: r.blockHash, txHash: r.txHash }))
        }
      }
    } finally {
      if (rented != null) this.active.delete(rented)
      await this.i.node.cancelBid(bidId).catch(() => {})
    }
  }

  /**
   * After a restart: every escrow this renter paid into that is still open on chain belonged to a
   * session that died with the old process. Where `rentals` says what job it paid for and the
   * voucher key opens, the renter first takes the job up again (the supplier keeps it a while for
   * its renter, see the job protocol's `attach`): it pays from its last voucher on, receives the
   * rest of the output, the exit and the outputs (`job`). A job that cannot be taken up (the
   * supplier refuses with a typed code, or cannot be reached) is left. Then each escrow
   * is settled as the job's end would have settled it: this renter approves the cooperative close
   * on the last voucher it signed (each is stored before it is sent, so the crash lost none the
   * supplier could hold), which executes with the supplier's approval of the same settlement; a
   * supplier that already closed with the arbiter leaves nothing to do. Keys of escrows no longer open are removed.
   * Each escrow goes its own way, side by side with the others. `excluding` names escrows of
   * rentals running in this process.
   */
  async resume (opts: { signal?: AbortSignal, excluding?: ReadonlySet<string>, rentals?: ReadonlyMap<string, RentalToResume>, policy?: AttestationPolicy } = {}): Promise<ResumedEscrow[]> {
    // each escrow on its own: a job taken up again may run for hours, and the others' settlements
    // must not wait for it (they were running side by side before the restart too)
    const candidates = (await this.mayBeOpen()).filter((id) => opts.excluding?.has(id) !== true && !this.active.has(id))
    const done = await Promise.all(candidates.map(async (id) => await this.resumeOne(id, opts)))
    return done.filter((r): r is ResumedEscrow => r != null)
  }

  /** `resume` for one escrow; undefined when there was nothing to settle (or it failed, logged) */
  private async resumeOne (id: string, opts: { signal?: AbortSignal, rentals?: ReadonlyMap<string, RentalToResume>, policy?: AttestationPolicy }): Promise<ResumedEscrow | undefined> {
    const { logger, node } = this.i
    const vault = this.i.voucherKeys
    // a rental running in this process settles its own escrow
    if (this.active.has(id)) return undefined
    // while it is taken up and settled here, refundExpired leaves it alone
    this.active.add(id)
    try {
      const local = await this.i.escrowDb.escrows.get(id)
      // a key without a local escrow: the process stopped between writing the key and recording
      // the escrow, which comes before anything is submitted, so no escrow names it
      if (local == null) { await this.forgetKey(id); return undefined }
      if (local.role !== 'payer' || opts.signal?.aborted === true) return undefined
      const e = await this.i.chain.get(id, { signal: opts.signal, payer: local.terms.payer })
      if (e == null) {
        // its key stands, so it never settled: an open that never landed, or one opened before
        // the blocks the chain adapter scans (the subtensor adapter's lookback)
        if (vault != null) logger.warn('an escrow this node holds a voucher key for is not on chain in the blocks scanned: an open that never landed, or one older than the scan (restart with chain.scanFromBlock at or before its open block); it is not resumed', { escrow: id })
        return undefined
      }
      if (e.status !== 'open') { await this.forgetKey(id); return undefined }
      let key = false
      let signer: VoucherSigner | undefined
      if (vault != null) {
        // a key that does not open (another passphrase, a damaged file) does not stop the close:
        // settling on the last voucher signed needs no new signature
        signer = await vault.load(id).catch((err: unknown) => {
          logger.warn('the stored voucher key of an open escrow does not open', { escrow: id, code: errorCode(err) })
          return undefined
        })
        // [refuse] a key the escrow does not name would sign vouchers nobody accepts
        key = signer != null && signer.publicKeyHex === e.terms.voucherKey
        if (signer != null && !key) logger.warn('stored voucher key does not match the escrow', { escrow: id })
      }
      // the job may still run at the supplier (it waits for its renter a while): take it up again,
      // pay for it and fetch its outputs, then settle as the rental would have
      const rental = opts.rentals?.get(id)
      let job: JobResult | undefined
      let attachError: string | undefined
      if (rental != null && key && signer != null) {
        try {
          logger.info('taking up the job of an interrupted rental', { escrow: id, enclave: rental.enclave })
          job = (await reattachRental({ init: this.i, metrics: this.metrics, logger, ...(opts.signal != null ? { signal: opts.signal } : {}), ...(opts.policy != null ? { policy: opts.policy } : {}) }, rental, local.terms, signer)).result
          logger.info('job of an interrupted rental ended', { escrow: id, reason: job.reason, exitCode: job.exitCode, outputs: job.outputs.length })
        } catch (err) {
          attachError = (err as { remoteCode?: string }).remoteCode ?? errorCode(err) ?? 'FAILED'
          logger.warn('taking up the job of an interrupted rental failed: settling on the last voucher', { escrow: id, code: attachError })
        }
      }
      const latest = await this.i.escrowDb.vouchers.latest(id)
      logger.info('resuming an escrow left open by a restart: approving its close on the last voucher signed', { escrow: id, paid: (latest?.cumulative ?? 0n).toString(), voucherKey: key })
      let executed = false
      try {
        executed = (await this.escrow.close(id, { mode: 'cooperative', signal: opts.signal })).executed
      } catch (err) {
        logger.warn('cooperative approval after a restart failed', { escrow: id, err })
      }
      const final = await awaitSettled(this.i.chain, id, { payer: local.terms.payer, clock: node.clock, waitMs: executed ? 0 : this.i.settleWaitMs ?? SETTLE_WAIT_MS, signal: opts.signal })
      const status = final?.status ?? 'unknown'
      if (status !== 'open') {
        this.metrics.escrows.inc({ role: 'payer', event: status === 'refunded' ? 'refund' : 'close' })
        await this.forgetKey(id)
        // closed by the supplier with the arbiter while our approval was on its way: ours is stale
        if (!executed) await cancelStaleApprovals(this.escrow, logger, id, opts.signal)
      }
      logger.info('escrow of an interrupted rental', { escrow: id, status })
      return { escrowId: id, paid: (latest?.cumulative ?? 0n).toString(), status, key, ...(job != null ? { job } : {}), ...(attachError != null ? { attachError } : {}) }
    } catch (err) {
      logger.warn('resuming an escrow failed', { escrow: id, err })
      return undefined
    } finally {
      this.active.delete(id)
    }
  }

  /**
   * Takes back, with the arbiter, what this renter locked in escrows the supplier never closed: each
   * escrow it paid into that is still open `graceMs` (default REFUND_GRACE_MS) past its expiry. The
   * rules give the payer everything back after expiry; the grace leaves a supplier that restarted
   * late time to close on its voucher first. Where the arbiter already co-signed the supplier's
   * close on a voucher, that close is approved instead (EscrowService.refund): the supplier is paid
   * what the voucher says and the rest comes back. A refund that fails or is refused is tried again
   * on the next call. Escrows of rentals running in this process are left alone.
   */
  async refundExpired (opts: { signal?: AbortSignal, graceMs?: number } = {}): Promise<RefundedEscrow[]> {
    const { logger, node } = this.i
    await this.approveLateOpens(opts)
    const out: RefundedEscrow[] = []
    const due = node.clock.now() - (opts.graceMs ?? REFUND_GRACE_MS)
    const candidates = await this.mayBeOpen()
    const stopped = (): boolean => opts.signal?.aborted === true
    for (const id of candidates) {
      if (stopped()) break
      if (this.active.has(id) || this.settledIds.has(id)) continue
      const local = await this.i.escrowDb.escrows.get(id)
      if (local == null || local.role !== 'payer') continue
      if (local.terms.expiresAt > due) { await this.settledLater(id, local, opts.signal); continue }
      try {
        const e = await this.i.chain.get(id, { signal: opts.signal, payer: local.terms.payer })
        if (e == null) continue
        if (e.status !== 'open') { this.settledIds.add(id); await this.forgetKey(id); continue }
        const r = await this.escrow.refund(id, { signal: opts.signal })
        const paid = r.settlement.payouts.filter((x) => x.to === e.terms.payee).reduce((a, x) => a + x.amount, 0n)
        const refunded = r.settlement.payouts.filter((x) => x.to === e.terms.payer).reduce((a, x) => a + x.amount, 0n)
        const kind = r.settlement.kind === 'refund' ? 'refund' : 'voucher-close'
        if (r.executed) {
          this.settledIds.add(id)
          await this.forgetKey(id)
          this.metrics.escrows.inc({ role: 'payer', event: kind === 'refund' ? 'refund' : 'close' })
        }
        logger.info(kind === 'refund'
          ? 'refunded an escrow the supplier left open past its expiry'
          : 'closed an escrow left open past its expiry on the supplier\'s voucher the arbiter co-signed', { escrow: id, paid: paid.toString(), refunded: refunded.toString(), executed: r.executed })
        out.push({ escrowId: id, kind, paid: paid.toString(), refunded: refunded.toString(), executed: r.executed })
      } catch (err) {
        if (stopped()) break
        const reason = (err as { detail?: { reason?: string } }).detail?.reason
        logger.warn('refunding an expired escrow failed; the next check tries again', { escrow: id, code: errorCode(err), ...(reason != null ? { reason } : {}) })
        out.push({ escrowId: id, error: reason ?? errorCode(err) ?? 'FAILED' })
      }
    }
    return out
  }

  /**
   * The escrows whose open failed with its outcome unknown: one that landed after its rental ended
   * (which withdrew the agreement) gets this renter's approval of the close refunding everything at
   * once, which the supplier's executes (it looks for the escrow again at the agreement's
   * `startBy`). Without it the money came back only after the escrow's expiry, with the arbiter.
   * One not on chain by its expiry is left to `refundExpired` (after a restart, `resume` approves the
   * same close for every open escrow it holds a key for).
   */
  private async approveLateOpens (opts: { signal?: AbortSignal }): Promise<void> {
    for (const [id, o] of this.lateOpens) {
      if (opts.signal?.aborted === true) return
      // the supplier approves the refund only of an escrow it finds by the agreement's startBy (at
      // the withdrawal, or its look then): one found later is left to the arbiter after its expiry,
      // and an approval of ours would only hold a deposit until then
      if (this.i.node.clock.now() > o.startBy + LATE_OPEN_LOOK_MS) { this.lateOpens.delete(id); continue }
      const e = await this.i.chain.get(id, { payer: o.payer, ...(opts.signal != null ? { signal: opts.signal } : {}) }).catch(() => undefined)
      if (e == null) continue
      if (e.status !== 'open') { this.lateOpens.delete(id); continue }
      this.i.logger.info('an escrow whose open timed out landed after its rental ended', { escrow: id })
      // looked for again at the next look when the approval failed
      if (await this.refundUnstarted(id)) this.lateOpens.delete(id)
    }
  }

  /**
   * The rental ended after its escrow opened and before any job (a cancel, a failed attestation):
   * nothing was used, so this renter approves the cooperative close that refunds everything. It
   * executes when the supplier approves the same close, which it does once the agreement lapses at
   * its `startBy`: the money is back then, not only after the escrow's expiry.
   */
  private async refundUnstarted (escrowId: string): Promise<boolean> {
    const { logger } = this.i
    try {
      const r = await this.escrow.close(escrowId, { mode: 'cooperative', signal: this.settling.signal })
      logger.info('rental ended before its job: approved the close refunding everything (it executes with the supplier\'s approval at the agreement\'s startBy)', { escrow: escrowId, executed: r.executed })
      return true
    } catch (err) {
      logger.warn('rental ended before its job: the refunding close could not be approved (the escrow is refunded after its expiry)', { escrow: escrowId, err })
      return false
    }
  }

  /**
   * An escrow not yet due for a refund whose rental ended with it open (its close approved, not
   * executed: the supplier restarted, or turned to the arbiter): once the chain shows it settled, its
   * key goes, this renter's approval left pending is cancelled (its deposit comes back), and
   * `onSettledLater` tells the job's record how it settled. Before, all of that waited for the
   * escrow's expiry, or the next restart. A read that fails is made again at the next look.
   */
  private async settledLater (id: string, local: LocalEscrow, signal?: AbortSignal): Promise<void> {
    const e = await this.i.chain.get(id, { ...(signal != null ? { signal } : {}), payer: local.terms.payer }).catch(() => undefined)
    if (e == null || e.status === 'open' || this.active.has(id)) return
    this.settledIds.add(id)
    await this.forgetKey(id)
    await cancelStaleApprovals(this.escrow, this.i.logger, id, signal)
    this.i.logger.info('escrow of an ended rental settled', { escrow: id, status: e.status })
    await this.i.onSettledLater?.(id, e).catch((err: unknown) => { this.i.logger.warn('recording how an escrow settled failed', { escrow: id, err }) })
  }

  /**
   * The escrows of this node that may still be open. With a vault, those still holding a key (a key
   * goes once its escrow settles), so the chain is asked about those, not the whole history.
   */
  private async mayBeOpen (): Promise<string[]> {
    if (this.i.voucherKeys != null) return await this.i.voucherKeys.list()
    const ids: string[] = []
    for await (const l of this.i.escrowDb.escrows.all()) ids.push(l.terms.escrowId)
    return ids
  }

  private async forgetKey (escrowId: string): Promise<void> {
    await this.i.voucherKeys?.remove(escrowId).catch((err: unknown) => { this.i.logger.warn('removing a voucher key failed', { escrow: escrowId, err }) })
  }
}

/** how long a rental waits for a chain connection that is down when it begins (wall time) */
export const CHAIN_WAIT_MS = 10_000

/**
 * Waits up to CHAIN_WAIT_MS for the chain connection, where the port has one and it is down:
 * without a chain no escrow opens, and a rental that went on would sign an agreement, and hold a
 * supplier's GPUs, for an escrow that cannot come. RentError CHAIN_UNAVAILABLE (nothing agreed or
 * locked), ABORTED on the signal.
 */
export async function chainReady (chain: Pick<ChainPort, 'connected' | 'onConnection'>, signal: AbortSignal, waitMs = CHAIN_WAIT_MS): Promise<void> {
  if (chain.connected?.() !== false) return
  // an aborted signal would never fire its abort event again: the wait would have no end
  if (signal.aborted) throw new RentError('ABORTED', 'cancelled while waiting for the chain connection')
  await new Promise<void>((resolve) => {
    const bound = AbortSignal.any([signal, AbortSignal.timeout(waitMs)])
    const done = (): void => {
      off?.()
      bound.removeEventListener('abort', done)
      resolve()
    }
    const off = chain.onConnection?.((e) => { if (e.kind === 'restored') done() })
    bound.addEventListener('abort', done, { once: true })
  })
  if (signal.aborted) throw new RentError('ABORTED', 'cancelled while waiting for the chain connection')
  if (chain.connected?.() === false) throw new RentError('CHAIN_UNAVAILABLE', 'the chain is not connected, so no escrow can open: nothing was agreed or locked (the node reconnects by itself; a chain started again as another chain needs the daemon restarted)')
}

