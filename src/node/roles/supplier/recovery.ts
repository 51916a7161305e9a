import type { ChainPort, EscrowDb, EscrowOnChain, EscrowService, LocalEscrow } from '../../../escrow/index.js'
import type { JobSettlement, JobStore } from '../../../jobs/index.js'
import type { Logger } from '../../logger.js'
import type { RoleMetrics } from '../metrics.js'
import type { SupplierJobRecord } from './types.js'
import { settledAmounts } from '../renter/settle.js'
import { closeOnRenterApproval, type SupplierSettlement } from './settlement.js'

export interface SupplierRecoveryComponents {
  escrow: Pick<EscrowService, 'close'>
  chain: Pick<ChainPort, 'get'>
  escrowDb: EscrowDb
  metrics: RoleMetrics
  logger: Logger
  /** true for an escrow whose session runs in this process (it settles on its own) */
  live: (escrowId: string) => boolean
  /** the node's clock (ms): an unexpired escrow not found on chain is worth a warning */
  now: () => number
  /** the job records: one whose escrow this run finds settled, or closes, gets how it settled */
  jobStore?: Pick<JobStore, 'list' | 'settled'>
  /**
   * gives the renter's approval a session's settle wait before the close with the arbiter, and makes
   * a failed close with the arbiter again on the back-off of a session's settlement, while the role
   * runs; absent: the arbiter at once, and a failed close waits for the next restart
   */
  settlement?: Pick<SupplierSettlement, 'retryWithArbiter' | 'closeInterrupted'>
}

/**
 * After a crash or restart: every escrow where we are the payee that is still open on chain and for
 * which we hold a voucher (written before we acknowledged it) is closed: by executing the renter's
 * approval of a cooperative close on that voucher or a later one (signed by the renter, never
 * stored here) where it is on chain already. Else, with `settlement`, the renter's approval is given
 * a session's settle wait to land (its node approves once its session is refused) before the close
 * with the arbiter on our voucher (`SupplierSettlement.closeInterrupted`); without it, the arbiter
 * at once. A close that fails (the arbiter unreachable, the chain timing out) is made again while
 * the role runs, on the back-off of a session's settlement, until it lands, the
 * chain shows the escrow settled by another party (the renter's refund, or its cooperative
 * approval executed meanwhile), or the role stops. A job record that
 * does not yet say how its escrow settled (the process ended before its session's settlement did)
 * gets it from the chain: after this run's close, or as the escrow settled meanwhile (the renter's
 * approval landed, or its refund), so `bazaar jobs` shows what was paid.
 */
export class SupplierRecovery {
  /** escrows of interrupted sessions closed by `run` (on the renter's approval or with the arbiter) */
  readonly recovered: Array<{ escrowId: string, paid: string }> = []
  private running?: Promise<void>

  constructor (private readonly c: SupplierRecoveryComponents) {}

  /** starts the recovery in the background (a slow chain does not hold up the supplier's start) */
  start (signal: AbortSignal): void {
    this.running ??= this.run(signal).catch((err: unknown) => { this.c.logger.warn('recovery of interrupted escrows failed', { err }) })
  }

  /** waits for the background run (its owner aborts the signal first) */
  async stop (): Promise<void> { await this.running }

  async run (signal: AbortSignal): Promise<void> {
    const { logger, metrics } = this.c
    // every escrow of the database (a supplier's history can hold more than any page of it), read
    // before the closes so that no database iterator stays open while they wait on the chain
    const locals: LocalEscrow[] = []
    for await (const local of this.c.escrowDb.escrows.all()) if (local.role === 'payee') locals.push(local)
    // job records without a settlement, by the escrow of their agreement
    const unsettled = new Map<string, string>()
    for (const j of await this.c.jobStore?.list({ role: 'supplier' }).catch(() => []) ?? []) {
      if (j.settlement == null && j.agreementId != null) unsettled.set('0x' + j.agreementId, j.id)
    }
    const retries: Array<Promise<void>> = []
    for (const local of locals) {
      if (local.role !== 'payee' || signal.aborted) continue
      const id = local.terms.escrowId
      if (this.c.live(id)) continue
      try {
        const e = await this.c.chain.get(id, { signal, payer: local.terms.payer })
        if (e != null && e.status !== 'open') { await this.recordSettled(unsettled.get(id), e); continue }
        const latest = await this.c.escrowDb.vouchers.latest(id)
        if (latest == null) continue
        if (e == null) {
          // an escrow that cannot have been refunded yet, with a voucher to claim, is not in the
          // blocks the chain adapter read: opened before its window (chain.scanFromBlock reaches
          // it), or closed before it. An expired one the renter may refund: not worth a word each start.
          if (local.terms.expiresAt > this.c.now()) logger.warn('an unexpired escrow this supplier holds a voucher for is not on chain in the blocks scanned: opened before them (restart with chain.scanFromBlock at or before its open block to claim the voucher) or closed before them', { escrow: id, paid: latest.cumulative.toString(), expiresAt: local.terms.expiresAt })
          continue
        }
        // the renter approved the cooperative close on our voucher or a later one (its job ended
        // before ours did): executing that approval needs no arbiter
        if (await closeOnRenterApproval(this.c.escrow, id, signal)) {
          const final = await this.c.chain.get(id, { signal, payer: local.terms.payer }).catch(() => undefined)
          const settled = final != null && final.status !== 'open' ? final : undefined
          const paid = (settled != null ? settledAmounts(settled, settled.terms.payee, settled.terms.payer).paid : latest.cumulative).toString()
          this.recovered.push({ escrowId: id, paid })
          metrics.escrows.inc({ role: 'payee', event: 'close' })
          logger.info('escrow of an interrupted session closed on the renter\'s pending approval', { escrow: id, paid })
          await this.recordSettled(unsettled.get(id), settled, { paid, settledBy: 'cooperative' })
          continue
        }
        if (this.c.settlement != null) {
          retries.push(this.retry(this.c.settlement, local, unsettled.get(id), signal, 'after-wait'))
          continue
        }
        await this.c.escrow.close(id, { mode: 'arbiter', signal })
        this.recovered.push({ escrowId: id, paid: latest.cumulative.toString() })
        metrics.escrows.inc({ role: 'payee', event: 'arbiter-close' })
        logger.info('escrow of an interrupted session closed with the arbiter', { escrow: id, paid: latest.cumulative.toString() })
        const job = unsettled.get(id)
        if (job != null) {
          const final = await this.c.chain.get(id, { signal, payer: local.terms.payer }).catch(() => undefined)
          await this.recordSettled(job, final != null && final.status !== 'open' ? final : undefined, { paid: latest.cumulative.toString(), settledBy: 'arbiter' })
        }
      } catch (err) {
        const settlement = this.c.settlement
        if (signal.aborted || settlement == null) { logger.warn('closing an interrupted escrow failed', { escrow: id, err }); continue }
        logger.warn('closing an interrupted escrow failed: closing it with the arbiter again later', { escrow: id, err })
        retries.push(this.retry(settlement, local, unsettled.get(id), signal, 'again'))
      }
    }
    await Promise.all(retries)
  }

  /**
   * The close of `local` by `settlement` until it settles or the role stops, then recorded as `run`
   * records it: `after-wait` after the settle wait for the renter's approval, `again` after a close
   * with the arbiter that failed, on the back-off.
   */
  private async retry (settlement: Pick<SupplierSettlement, 'retryWithArbiter' | 'closeInterrupted'>, local: LocalEscrow, job: string | undefined, signal: AbortSignal, how: 'after-wait' | 'again'): Promise<void> {
    const id = local.terms.escrowId
    try {
      const latest = await this.c.escrowDb.vouchers.latest(id)
      const record: SupplierJobRecord = { agreementId: id.slice(2), paid: (latest?.cumulative ?? 0n).toString() }
      const opts = { signal, payer: local.terms.payer }
      await (how === 'after-wait' ? settlement.closeInterrupted(id, record, opts) : settlement.retryWithArbiter(id, record, opts))
      if (record.settledBy == null) return
      if (record.settledBy === 'arbiter' || record.settledBy === 'cooperative') this.recovered.push({ escrowId: id, paid: record.paid ?? '0' })
      const final = await this.c.chain.get(id, { signal, payer: local.terms.payer }).catch(() => undefined)
      await this.recordSettled(job, final != null && final.status !== 'open' ? final : undefined, { paid: record.paid ?? '0', settledBy: record.settledBy })
    } catch (err) {
      this.c.logger.warn('closing an interrupted escrow failed', { escrow: id, err })
    }
  }

  /**
   * Writes on job `jobId` how its escrow settled: by the close record of `e` where it is readable,
   * else `fallback`. A failed write is logged; the escrow is settled either way.
   */
  private async recordSettled (jobId: string | undefined, e: EscrowOnChain | undefined, fallback?: JobSettlement): Promise<void> {
    if (jobId == null || this.c.jobStore == null) return
    const a = e != null ? settledAmounts(e, e.terms.payee, e.terms.payer) : undefined
    const settlement: JobSettlement | undefined = a?.settledBy != null
      ? { paid: a.paid.toString(), settledBy: a.settledBy, ...(a.refunded > 0n ? { refunded: a.refunded.toString() } : {}), ...(a.carried > 0n ? { carried: a.carried.toString() } : {}) }
      : fallback
    if (settlement == null) return
    await this.c.jobStore.settled('supplier', jobId, settlement, this.c.now())
      .catch((err: unknown) => { this.c.logger.warn('job record failed', { job: jobId, err }) })
  }
}
