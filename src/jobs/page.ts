/**
 * What `GET /v1/jobs` (`bazaar jobs`) lists per role, and the totals `GET /v1/jobs/totals` sums over
 * every job. A module of its own so that the CLI reads it without loading the job store.
 */

/** job records listed per role: those created last, the latest first */
export const JOBS_PAGE = 1000

/**
 * a role's jobs summed: how many, and what their escrows paid, refunded and carried back (base
 * units); `pruned`, how many of them are counted from the sums their records left when they were
 * pruned (`JobStore.prune`)
 */
export interface JobTotals { jobs: number, paid: string, refunded: string, carried: string, pruned?: number }

/** how long the record of a job done with (ended, its escrow settled) is kept after its end: 30 days */
export const JOB_RETENTION_MS = 30 * 24 * 60 * 60_000

/** sums jobs' amounts as they come (an absent amount counts 0) */
export class JobSum {
  private n = 0
  private pruned = 0
  private readonly sums = { paid: 0n, refunded: 0n, carried: 0n }

  add (j: { paid?: string, refunded?: string, carried?: string }): void {
    this.n++
    this.addAmounts(j)
  }

  /** adds the sums pruned records left (`JobStore.prunedTotals`) */
  addPruned (t: JobTotals): void {
    this.n += t.jobs
    this.pruned += t.jobs
    this.addAmounts(t)
  }

  private addAmounts (j: { paid?: string, refunded?: string, carried?: string }): void {
    for (const k of ['paid', 'refunded', 'carried'] as const) {
      const v = j[k]
      if (v != null && /^[0-9]{1,40}$/.test(v)) this.sums[k] += BigInt(v)
    }
  }

  get jobs (): number { return this.n }

  get totals (): JobTotals {
    const t: JobTotals = { jobs: this.n, paid: this.sums.paid.toString(), refunded: this.sums.refunded.toString(), carried: this.sums.carried.toString() }
    if (this.pruned > 0) t.pruned = this.pruned
    return t
  }
}
