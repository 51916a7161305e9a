import type { Logger } from '../logger.js'
import type { Clock, TimerHandle } from '../../util/clock.js'
import { AGREEMENT_PRUNE_INTERVAL_MS, AGREEMENT_RETENTION_MS, MAX_DORMANT_AGREEMENTS, type AgreementStore } from '../../market/index.js'
import type { NodeService } from './types.js'

/**
 * Deletes, at start and then every AGREEMENT_PRUNE_INTERVAL_MS of the node's clock, agreements
 * that never became active once past the retention, and the oldest beyond MAX_DORMANT_AGREEMENTS
 * (see AgreementStore.prune). One run at a time; a failure is logged and the next run tries again.
 */
export class AgreementPruner implements NodeService {
  readonly name = 'agreement-pruner'
  private timer?: TimerHandle
  private pruning: Promise<number> = Promise.resolve(0)
  private stopped = false

  constructor (private readonly c: { agreements: AgreementStore, clock: Clock, logger: Logger }) {}

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

  /** one pruning run after the ones queued before it; resolves with how many agreements went */
  async prune (): Promise<number> {
    const run = this.pruning.then(async () => {
      if (this.stopped) return 0
      const n = await this.c.agreements.prune({ now: this.c.clock.now(), retentionMs: AGREEMENT_RETENTION_MS, maxDormant: MAX_DORMANT_AGREEMENTS })
      if (n > 0) this.c.logger.info('pruned dormant agreements', { count: n })
      return n
    }).catch((err: unknown) => {
      this.c.logger.warn('agreement pruning failed', { err })
      return 0
    })
    this.pruning = run
    return await run
  }
}
