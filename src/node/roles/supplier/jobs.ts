import type { SupplierJobRecord } from './types.js'

/** finished sessions kept by default (enough for `GET /v1/jobs` of a long-running supplier) */
export const DEFAULT_MAX_FINISHED_JOBS = 1024

/**
 * The sessions this supplier served in this run, keyed by agreement (one session per agreement:
 * the agreement's GPUs are the job's lease). Running sessions are always kept; finished ones are
 * kept up to a bound, the oldest dropped first, so a long-running supplier holds a bounded list and
 * finds a session without a scan. Job records that outlive a restart are in the JobStore.
 */
export class SupplierJobs {
  private readonly byAgreement = new Map<string, { record: SupplierJobRecord, finished: boolean }>()
  private finishedCount = 0

  constructor (private readonly maxFinished = DEFAULT_MAX_FINISHED_JOBS) {}

  /** a new session for an agreement (it replaces a finished one for the same agreement) */
  begin (agreementId: string): SupplierJobRecord {
    const old = this.byAgreement.get(agreementId)
    if (old?.finished === true) this.finishedCount--
    // delete first, so the new session takes its place at the young end of the order
    this.byAgreement.delete(agreementId)
    const record: SupplierJobRecord = { agreementId }
    this.byAgreement.set(agreementId, { record, finished: false })
    return record
  }

  /** the session has ended (settled, refused or failed): it may now be dropped for a newer one */
  finish (record: SupplierJobRecord): void {
    const e = this.byAgreement.get(record.agreementId)
    if (e == null || e.record !== record || e.finished) return
    e.finished = true
    this.finishedCount++
    if (this.finishedCount <= this.maxFinished) return
    // the oldest finished ones go; running sessions stay wherever they are in the order
    for (const [id, x] of this.byAgreement) {
      if (this.finishedCount <= this.maxFinished) break
      if (!x.finished) continue
      this.byAgreement.delete(id)
      this.finishedCount--
    }
  }

  has (agreementId: string): boolean { return this.byAgreement.has(agreementId) }

  get (agreementId: string): SupplierJobRecord | undefined { return this.byAgreement.get(agreementId)?.record }

  get size (): number { return this.byAgreement.size }

  /** the sessions, oldest first */
  list (): SupplierJobRecord[] { return [...this.byAgreement.values()].map((e) => e.record) }
}
