import type { Logger } from '../logger.js'
import type { Clock, TimerHandle } from '../../util/clock.js'
import { AGREEMENT_PRUNE_INTERVAL_MS, AGREEMENT_RETENTION_MS, MAX_DORMANT_AGREEMENTS, type AgreementStore } from '../../market/index.js'
import { JOB_RETENTION_MS } from '../../jobs/page.js'
import type { JobRecord, JobStore } from '../../jobs/store.js'
import { ARBITER_ESCROW_RETENTION_MS } from '../../escrow/constants.js'
import { escrowIdOfAgreement } from '../../escrow/rules/agreement.js'
import { SCAN_AFTER_EXPIRY_MS } from '../../escrow/service.js'
import type { EscrowDb } from '../../escrow/store/db.js'
import type { NodeService } from './types.js'
import type { Counter } from '../metrics.js'

/** job records whose escrows one read looks up */
const LOOKUP_PAGE = 500

/** how many records one pruning run deleted, by kind */
export interface PruneCounts { agreements: number, jobs: number, escrows: number }

/**
 * Deletes, at start and then every AGREEMENT_PRUNE_INTERVAL_MS of the node's clock, the records a
 * node that trades for months would otherwise keep for good:
 * - agreements that never became active once past their retention, and the oldest beyond
 *   MAX_DORMANT_AGREEMENTS (`AgreementStore.prune`);
 * - job records JOB_RETENTION_MS after their end once their escrow settled, their amounts kept in
 *   the totals (`JobStore.prune`), and with each its agreement and the escrow it paid or was paid
 *   from, with its latest voucher, once that escrow expired over SCAN_AFTER_EXPIRY_MS ago (so no
 *   restart reads the chain from its open block); a job whose escrow has not expired so is kept
 *   with them until it has. The agreements and escrows go first: a crash between leaves job
 *   records that the next run prunes, never an escrow or agreement no record names;
 * - an arbiter's escrows that no party asked it about or that a sweep found nothing left on,
 *   ARBITER_ESCROW_RETENTION_MS past their expiry (`LevelEscrowStore.pruneArbitrated`).
 * One run at a time; a kind whose pruning fails is logged, the others still run, and the next run
 * tries again.
 */
export class RecordPruner implements NodeService {
  readonly name = 'record-pruner'
  private timer?: TimerHandle
  private pruning: Promise<PruneCounts> = Promise.resolve({ agreements: 0, jobs: 0, escrows: 0 })
  private stopped = false

  /** `pruned`: counts the records each run deleted, by kind (`bazaar_records_pruned_total`) */
  constructor (private readonly c: { agreements: AgreementStore, jobs?: JobStore, escrowDb?: EscrowDb, clock: Clock, logger: Logger, pruned?: Counter }) {}

  async start (): Promise<void> {
    this.stopped = false
    void this.prune()
    this.timer = this.c.clock.setInterval(() => { void this.prune() }, AGREEMENT_PRUNE_INTERVAL_MS)
  }

  async stop (): Promise<void> {
    this.stopped = true
    this.timer?.clear()
    this.timer = undefined
    await this.pruning
  }

  /** one pruning run after the ones queued before it; resolves with how many records went */
  async prune (): Promise<PruneCounts> {
    const run = this.pruning.then(async () => {
      const now = this.c.clock.now()
      const { agreements, escrowDb } = this.c
      const pruned: PruneCounts = { agreements: 0, jobs: 0, escrows: 0 }
      pruned.agreements = await this.kind('dormant agreements', async () => await agreements.prune({ now, retentionMs: AGREEMENT_RETENTION_MS, maxDormant: MAX_DORMANT_AGREEMENTS }))
      pruned.jobs = await this.kind('job records', async () => await this.jobs(now, pruned))
      pruned.escrows += await this.kind('escrows this arbiter is done with', async () => await (escrowDb?.escrows.pruneArbitrated(now - ARBITER_ESCROW_RETENTION_MS) ?? 0))
      for (const [kind, n] of Object.entries(pruned)) if (n > 0) this.c.pruned?.inc({ kind }, n)
      return pruned
    })
    this.pruning = run
    return await run
  }

  /**
   * the job records done with, after their agreements and the escrows of those this node paid or
   * was paid from (added to `counts` as they go); returns how many job records went
   */
  private async jobs (now: number, counts: PruneCounts): Promise<number> {
    const { jobs, escrowDb } = this.c
    if (jobs == null) return 0
    const before = now - JOB_RETENTION_MS
    // the records cleared here, and only those: one that became prunable since (its settlement
    // recorded meanwhile) waits for the next run, which looks at its escrow first
    const cleared = new Set<string>()
    const escrows = new Set<string>()
    const agreements = new Set<string>()
    // the escrows of the records read a page at a time, in one read each
    const look = async (page: JobRecord[]): Promise<void> => {
      const ids = page.map((r) => r.agreementId != null ? escrowIdOfAgreement(r.agreementId) : '')
      const locals = escrowDb != null ? await escrowDb.escrows.getMany(ids) : []
      page.forEach((r, i) => {
        const local = locals[i]
        if (local != null && (local.role === 'payer' || local.role === 'payee')) {
          if (local.terms.expiresAt + SCAN_AFTER_EXPIRY_MS >= now) return
          escrows.add(local.terms.escrowId)
        }
        if (r.agreementId != null) agreements.add(r.agreementId)
        cleared.add(`${r.role}/${r.id}`)
      })
    }
    let page: JobRecord[] = []
    for await (const r of jobs.prunable(before)) {
      page.push(r)
      if (page.length >= LOOKUP_PAGE) { await look(page); page = [] }
    }
    await look(page)
    // the agreement first: a supplier's restart takes an active agreement whose escrow it does not
    // hold for one not yet started, and would mark it lapsed. An escrow goes over an hour past its
    // expiry, after the agreement's startBy, so a crash before the escrows go leaves nothing
    // restored; one before the job records go leaves records the next run finds prunable.
    if (agreements.size > 0) {
      const n = await this.c.agreements.delete([...agreements])
      if (n > 0) this.c.logger.info('pruned the agreements of job records done with', { count: n })
      counts.agreements += n
    }
    if (escrows.size > 0 && escrowDb != null) {
      const n = await escrowDb.drop([...escrows])
      this.c.logger.info('pruned settled escrows with their job records', { count: n })
      counts.escrows += n
    }
    return await jobs.prune(before, (r) => !cleared.has(`${r.role}/${r.id}`))
  }

  private async kind (what: string, prune: () => Promise<number>): Promise<number> {
    if (this.stopped) return 0
    try {
      const n = await prune()
      if (n > 0) this.c.logger.info(`pruned ${what}`, { count: n })
      return n
    } catch (err) {
      this.c.logger.warn(`pruning ${what} failed`, { err })
      return 0
    }
  }
}
