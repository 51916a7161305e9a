import type { ChainPort, EscrowService, VoucherStore } from '../../../escrow/index.js'
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
 * (our approval; it executes once the renter approves the same settlement); when the renter has not
 * approved it within the wait, or the cooperative close failed, close with the arbiter on that
 * voucher. A failure of that is logged: the escrow stays open on chain, and recovery after a
 * restart closes it with the arbiter.
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
      const settled = final != null && final.status !== 'open' ? settledAmounts(final, final.terms.payee, final.terms.payer) : undefined
      record.settledBy = settled?.settledBy ?? 'cooperative'
      if (settled?.settledBy != null) {
        record.paid = settled.paid.toString()
        if (settled.carried > 0n) record.carried = settled.carried.toString()
      }
      metrics.escrows.inc({ role: 'payee', event: 'close' })
      return
    }
    // nothing was ever acknowledged: there is nothing to claim, the renter refunds after expiry
    if (latest == null) { record.settledBy = 'none'; return }
    try {
      await this.c.escrow.close(escrowId, { mode: 'arbiter', signal: opts.signal })
      record.settledBy = 'arbiter'
      metrics.escrows.inc({ role: 'payee', event: 'arbiter-close' })
      logger.info('escrow closed with the arbiter', { escrow: escrowId, paid: record.paid })
    } catch (err) {
      logger.warn('settlement failed', { escrow: escrowId, err })
    }
  }

  /** whether the escrow leaves the open state within the settle wait */
  private async closedWithin (escrowId: string, signal?: AbortSignal, payer?: string): Promise<boolean> {
    const e = await awaitSettled(this.c.chain, escrowId, { clock: this.c.clock, waitMs: this.init.settleWaitMs ?? DEFAULT_SUPPLIER_SETTLE_WAIT_MS, whileMissing: true, ...(signal != null ? { signal } : {}), ...(payer != null ? { payer } : {}) })
    return e != null && e.status !== 'open'
  }
}
