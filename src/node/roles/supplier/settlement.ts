import { EscrowError, type ChainPort, type EscrowOnChain, type EscrowService, type VoucherStore } from '../../../escrow/index.js'
import type { Clock } from '../../../util/clock.js'
import type { Logger } from '../../logger.js'
import type { RoleMetrics } from '../metrics.js'
import type { SupplierJobRecord } from './types.js'
import { awaitSettled } from '../settle-wait.js'
import { settledAmounts } from '../renter/settle.js'

/**
 * How long before its escrow's expiry the supplier ends a job: the outputs go out, the cooperative
 * close waits its turn and the close with the arbiter lands, all before the renter could have the
 * escrow refunded. Below the MIN_SETTLE_WINDOW_MS the agreement leaves after the job's latest end,
 * so a job run as agreed is never cut by it.
 */
export const SETTLE_MARGIN_MS = 5 * 60_000

/** how long the supplier waits for the renter's cooperative approval by default */
export const DEFAULT_SUPPLIER_SETTLE_WAIT_MS = 15_000

/**
 * A close with the arbiter that failed (the arbiter unreachable, the chain timing out) is made again
 * after SETTLE_RETRY_FIRST_MS, doubling up to SETTLE_RETRY_MAX_MS, for as long as the escrow is open
 * and the role runs. The job ends SETTLE_MARGIN_MS before the escrow's expiry and the renter's node
 * refunds it REFUND_GRACE_MS (10 min) after: about 15 minutes in which the voucher must be claimed.
 * Attempts at 0, 0.5, 1.5, 3.5, 7.5 and 12.5 min fall inside it, so an arbiter or node that is back
 * within a few minutes costs a few minutes at most, and one away longer is still asked every 5
 * minutes (three times in the window), not hammered: each attempt may wait on the arbiter's decision
 * and the chain's blocks.
 */
export const SETTLE_RETRY_FIRST_MS = 30_000
export const SETTLE_RETRY_MAX_MS = 5 * 60_000

/** the wait before attempt `attempt` (2 or later) of a close with the arbiter */
function retryDelayMs (attempt: number): number {
  return Math.min(SETTLE_RETRY_FIRST_MS * 2 ** Math.max(0, attempt - 2), SETTLE_RETRY_MAX_MS)
}

/**
 * Executes the renter's approval of the cooperative close on the supplier's latest voucher, or on
 * a later one the supplier never received, where that approval is on chain now, and sends nothing
 * otherwise: a session that ended without the
 * supplier's own close (a restart, a failed close) still closes on the renter's approval, with no
 * arbiter needed. True when the escrow is settled (by this call, or before it). A failure to read or
 * execute is false: the caller's close with the arbiter follows, as without an approval.
 */
export async function closeOnRenterApproval (escrow: Pick<EscrowService, 'close'>, escrowId: string, signal?: AbortSignal): Promise<boolean> {
  try {
    const r = await escrow.close(escrowId, { mode: 'cooperative', ifApproved: true, ...(signal != null ? { signal } : {}) })
    return r.executed || r.already === 'settled'
  } catch {
    return false
  }
}

export interface SupplierSettlementComponents {
  escrow: Pick<EscrowService, 'close'>
  chain: Pick<ChainPort, 'get'>
  vouchers: Pick<VoucherStore, 'latest'>
  clock: Clock
  metrics: RoleMetrics
  logger: Logger
}

/**
 * Settles one session's escrow on the supplier's latest stored voucher: cooperative close first
 * (our approval; it executes once the renter approves the same settlement, and a renter's approval
 * of a close on a later voucher, one that never reached us, is executed instead); when the renter
 * has not approved within the wait, or the cooperative close failed, close with the arbiter on that
 * voucher. A close with the arbiter that fails is made again with a back-off (SETTLE_RETRY_FIRST_MS
 * doubling to SETTLE_RETRY_MAX_MS) until it succeeds or the chain shows the escrow settled by
 * someone else (the renter's cooperative approval landed late, or its refund: the record says how);
 * before each attempt, a renter's approval of a cooperative close that is pending on chain is
 * executed instead (`closeOnRenterApproval`).
 * The role's stop ends the wait at once; the escrow, tracked as ours with its voucher stored before
 * it was acknowledged, is then what the recovery after a restart closes, as after a crash.
 */
export class SupplierSettlement {
  constructor (private readonly c: SupplierSettlementComponents, private readonly init: { settleWaitMs?: number } = {}) {}

  /** `payer`: the agreement's renter, whose escrow of this id is meant (ChainPort.get) */
  async settle (escrowId: string, record: SupplierJobRecord, opts: { signal?: AbortSignal, payer?: string } = {}): Promise<void> {
    const { logger, metrics } = this.c
    const latest = await this.c.vouchers.latest(escrowId)
    record.paid = (latest?.cumulative ?? 0n).toString()
    record.vouchers = Number(latest?.sequence ?? 0n)
    metrics.vouchers.inc({ role: 'supplier', result: 'stored' }, record.vouchers)
    let closed = false
    try {
      const r = await this.c.escrow.close(escrowId, { mode: 'cooperative', signal: opts.signal })
      closed = r.executed || await this.closedWithin(escrowId, opts.signal, opts.payer)
    } catch (err) {
      // the role is stopping: recovery closes the escrow after the restart
      if (opts.signal?.aborted === true) { logger.warn('settlement failed', { escrow: escrowId, err }); return }
      // a cooperative close that could not be made (the chain refused or timed out) is no reason
      // to leave the voucher unclaimed until a restart: the arbiter is the remedy for it too
      logger.warn('cooperative close failed: closing with the arbiter', { escrow: escrowId, err })
    }
    if (closed) {
      // as the chain settled it, where its close record says (a refund, a payee share carried back)
      const final = await this.c.chain.get(escrowId, { ...(opts.signal != null ? { signal: opts.signal } : {}), ...(opts.payer != null ? { payer: opts.payer } : {}) }).catch(() => undefined)
      this.settledAs(record, final, 'cooperative')
      return
    }
    // nothing was ever acknowledged: there is nothing to claim, the renter refunds after expiry
    if (latest == null) { record.settledBy = 'none'; return }
    await this.closeWithArbiter(escrowId, record, opts)
  }

  /**
   * The close of an escrow whose session is gone (the recovery after a restart) and which the
   * renter has not approved yet. The renter's node learns that the job is gone when its session is
   * refused, then approves the close on the last voucher it signed, possibly one this supplier never
   * stored. So its approval is given the settle wait, as in a session's settlement, before the close
   * with the arbiter, which is made again on the same back-off. Returns as `retryWithArbiter`.
   */
  async closeInterrupted (escrowId: string, record: SupplierJobRecord, opts: { signal?: AbortSignal, payer?: string }): Promise<void> {
    try {
      await this.c.clock.sleep(this.init.settleWaitMs ?? DEFAULT_SUPPLIER_SETTLE_WAIT_MS, opts.signal != null ? { signal: opts.signal } : {})
    } catch {
      // the role stops mid-wait: the escrow is still ours to claim, by the recovery after the restart
      return
    }
    await this.closeWithArbiter(escrowId, record, opts)
  }

  /**
   * The close with the arbiter of an escrow whose first close with the arbiter failed elsewhere (the
   * recovery after a restart): made again on the same back-off as a session's, from its first wait.
   * Returns when the escrow is settled (`record.settledBy` says how) or the signal aborts.
   */
  async retryWithArbiter (escrowId: string, record: SupplierJobRecord, opts: { signal?: AbortSignal, payer?: string }): Promise<void> {
    await this.closeWithArbiter(escrowId, record, opts, 2)
  }

  /**
   * The close with the arbiter on the latest voucher, made again after each failure with a back-off
   * on the role's clock, one warning per failed attempt; before each retry the chain is read, and an
   * escrow no longer open ends it (settled by someone else, recorded as its close record says);
   * before each attempt, a renter's pending approval is executed instead where there is one.
   * Returns when the escrow is settled or the signal aborts (the role stops: recovery takes over
   * after the restart, the record's `settledBy` left unset as a settlement still pending).
   * `from`: the attempt to begin with (2 and later begin with that attempt's wait).
   */
  private async closeWithArbiter (escrowId: string, record: SupplierJobRecord, opts: { signal?: AbortSignal, payer?: string }, from = 1): Promise<void> {
    const { logger, metrics, clock } = this.c
    const signal = opts.signal
    const read = { ...(signal != null ? { signal } : {}), ...(opts.payer != null ? { payer: opts.payer } : {}) }
    for (let attempt = from; ; attempt++) {
      if (attempt > 1) {
        try {
          await clock.sleep(retryDelayMs(attempt), signal != null ? { signal } : {})
        } catch {
          // the role stops mid-wait: the escrow is still ours to claim, by the recovery after the restart
          return
        }
        metrics.escrows.inc({ role: 'payee', event: 'arbiter-close-retry' })
        // settled meanwhile by someone else: the renter's approval landed late, or its refund
        const now = await this.c.chain.get(escrowId, read).catch(() => undefined)
        if (now != null && now.status !== 'open') {
          this.settledAs(record, now, 'arbiter')
          logger.info('escrow settled meanwhile by another party', { escrow: escrowId, status: now.status, settledBy: record.settledBy, paid: record.paid })
          return
        }
      }
      // the renter approved a cooperative close on our voucher or a later one (after the wait for it
      // ended, or meanwhile): ours executes it, with no arbiter needed
      if (await closeOnRenterApproval(this.c.escrow, escrowId, signal)) {
        const final = await this.c.chain.get(escrowId, read).catch(() => undefined)
        this.settledAs(record, final, 'cooperative')
        logger.info('escrow closed on the renter\'s pending approval', { escrow: escrowId, settledBy: record.settledBy, paid: record.paid, attempt })
        return
      }
      try {
        await this.c.escrow.close(escrowId, { mode: 'arbiter', signal })
        record.settledBy = 'arbiter'
        metrics.escrows.inc({ role: 'payee', event: 'arbiter-close' })
        logger.info('escrow closed with the arbiter', { escrow: escrowId, paid: record.paid, ...(attempt > 1 ? { attempt } : {}) })
        return
      } catch (err) {
        metrics.escrows.inc({ role: 'payee', event: 'arbiter-close-failed' })
        if (signal?.aborted === true) { logger.warn('settlement failed: the role is stopping, recovery closes the escrow after the restart', { escrow: escrowId, attempt, err }); return }
        // no arbiter to reach until the node is configured with one: recovery closes it after that restart
        if (err instanceof EscrowError && err.detail?.reason === 'NO_ARBITER') { logger.warn('settlement failed: no arbiter configured (set chain.arbiterPeer and restart: recovery then closes the escrow)', { escrow: escrowId, err }); return }
        logger.warn('settlement failed: closing with the arbiter again later', { escrow: escrowId, attempt, retryInS: retryDelayMs(attempt + 1) / 1000, err })
      }
    }
  }

  /** records on the job how the chain settled its escrow: by the close record where it is readable */
  private settledAs (record: SupplierJobRecord, final: EscrowOnChain | undefined, fallback: 'cooperative' | 'arbiter'): void {
    const settled = final != null && final.status !== 'open' ? settledAmounts(final, final.terms.payee, final.terms.payer) : undefined
    record.settledBy = settled?.settledBy ?? fallback
    if (settled?.settledBy != null) {
      record.paid = settled.paid.toString()
      if (settled.carried > 0n) record.carried = settled.carried.toString()
    }
    this.c.metrics.escrows.inc({ role: 'payee', event: record.settledBy === 'refund' ? 'refund' : 'close' })
  }

  /** whether the escrow leaves the open state within the settle wait */
  private async closedWithin (escrowId: string, signal?: AbortSignal, payer?: string): Promise<boolean> {
    const e = await awaitSettled(this.c.chain, escrowId, { clock: this.c.clock, waitMs: this.init.settleWaitMs ?? DEFAULT_SUPPLIER_SETTLE_WAIT_MS, whileMissing: true, ...(signal != null ? { signal } : {}), ...(payer != null ? { payer } : {}) })
    return e != null && e.status !== 'open'
  }
}
