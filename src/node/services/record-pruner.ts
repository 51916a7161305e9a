import type { Logger } from '../logger.js'
import type { Clock, TimerHandle } from '../../util/clock.js'
import { AGREEMENT_PRUNE_INTERVAL_MS, AGREEMENT_RETENTION_MS, MAX_DORMANT_AGREEMENTS, type AgreementStore } from '../../market/index.js'
import { JOB_RETENTION_MS } from '../../jobs/page.js'
import type { JobStore } from '../../jobs/store.js'
import { ARBITER_UNASKED_RETENTION_MS } from '../../escrow/constants.js'
import type { LevelEscrowStore } from '../../escrow/store/escrows.js'
import type { NodeService } from './types.js'

/** how many records one pruning run deleted, by kind */
export interface PruneCounts { agreements: number, jobs: number, escrows: number }

/**
 * Deletes, at start and then every AGREEMENT_PRUNE_INTERVAL_MS of the node's clock, the records a
 * node that trades for months would otherwise keep for good:
 * - agreements that never became active once past their retention, and the oldest beyond
 *   MAX_DORMANT_AGREEMENTS (`AgreementStore.prune`);
 * - job records JOB_RETENTION_MS after their end once their escrow settled, their amounts kept in
 *   the totals (`JobStore.prune`);
 * - an arbiter's escrows that no party asked it about, ARBITER_UNASKED_RETENTION_MS past their
 *   expiry (`LevelEscrowStore.pruneUnasked`).
 * One run at a time; a kind whose pruning fails is logged, the others still run, and the next run
 * tries again.
 */
export class RecordPruner implements NodeService {
  readonly name = 'record-pruner'
  private timer?: TimerHandle
  private pruning: Promise<PruneCounts> = Promise.resolve({ agreements: 0, jobs: 0, escrows: 0 })
  private stopped = false

  constructor (private readonly c: { agreements: AgreementStore, jobs?: JobStore, escrows?: LevelEscrowStore, clock: Clock, logger: Logger }) {}

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
      const { agreements, jobs, escrows } = this.c
      return {
        agreements: await this.kind('dormant agreements', async () => await agreements.prune({ now, retentionMs: AGREEMENT_RETENTION_MS, maxDormant: MAX_DORMANT_AGREEMENTS })),
        jobs: await this.kind('job records', async () => await (jobs?.prune(now - JOB_RETENTION_MS) ?? 0)),
        escrows: await this.kind('escrows no party asked this arbiter about', async () => await (escrows?.pruneUnasked(now - ARBITER_UNASKED_RETENTION_MS) ?? 0))
      }
    })
    this.pruning = run
    return await run
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
