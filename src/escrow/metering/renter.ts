/**
 * The renter's side of metering: checks each usage report against its own clock and the agreed
 * terms, then signs the next cumulative voucher. It never pays for time not reported (the voucher is
 * the amount of the report it answers), for more time than has passed on its own clock (plus a
 * tolerance), or beyond the escrow's locked amount.
 */
import { systemClock, type Clock } from '../../util/clock.js'
import { DEFAULT_USAGE_TOLERANCE_MS, MAX_SEQUENCE, REPORT_BURST, REPORT_REFILL_MS } from '../constants.js'
import { EscrowError, throwIfAborted } from '../errors.js'
import type { VoucherStore } from '../store/vouchers.js'
import type { EscrowTerms, SignedVoucher } from '../types.js'
import type { VoucherSigner } from '../voucher/keys.js'
import { amountFor } from './price.js'
import type { UsageReport } from './types.js'
import { SerialQueue } from '../../util/serial.js'

export interface MeterRenterInit {
  terms: EscrowTerms
  pricePerGpuHour: bigint
  gpus: number
  /** the voucher key named in the terms */
  signer: VoucherSigner
  clock?: Clock
  /** how far the reported usage may run ahead of the renter's own elapsed time */
  toleranceMs?: number
  /** where the renter keeps what it signed (for a cooperative close); optional */
  store?: VoucherStore
}

export class MeterRenter {
  readonly terms: EscrowTerms
  private readonly price: bigint
  private readonly gpus: number
  private readonly signer: VoucherSigner
  private readonly clock: Clock
  private readonly toleranceMs: number
  private readonly store?: VoucherStore
  private startedAt?: number
  /** when the job ended here (`end`): no usage past it is paid */
  private endedAt?: number
  private lastSeq = 0n
  private lastUsedMs = 0
  private last?: SignedVoucher
  /** what the store held of this escrow when the first report came (a renter taking a job up again) */
  private stored?: Promise<SignedVoucher | undefined>
  private readonly serial = new SerialQueue()
  /** reports that may be answered now (REPORT_BURST), refilled one per REPORT_REFILL_MS */
  private allowance = REPORT_BURST
  private refilledAt?: number

  constructor (init: MeterRenterInit) {
    if (init.signer.publicKeyHex !== init.terms.voucherKey) throw new EscrowError('INVALID_TERMS', 'signer is not the voucher key of the terms')
    this.terms = init.terms
    this.price = init.pricePerGpuHour
    this.gpus = init.gpus
    this.signer = init.signer
    this.clock = init.clock ?? systemClock
    this.toleranceMs = init.toleranceMs ?? DEFAULT_USAGE_TOLERANCE_MS
    if (init.store != null) this.store = init.store
  }

  /**
   * Starts the renter's own session clock (when the job starts on the renter's side). A renter that
   * takes a job up again after a restart passes when the job started on its clock then (`at`), so
   * the usage reported since that start is checked against the time that has really passed.
   */
  start (at?: number): void {
    this.startedAt ??= at ?? this.clock.now()
  }

  /**
   * The job ended (its `exit` arrived, on this clock): usage reported from now on is checked against
   * the time that had passed until then, so a supplier that keeps reporting after the exit is paid
   * nothing more (its last report, for the time up to the exit, still passes).
   */
  end (at?: number): void {
    this.endedAt ??= at ?? this.clock.now()
  }

  private takeAllowance (): boolean {
    const now = this.clock.now()
    if (this.refilledAt == null) this.refilledAt = now
    const refill = Math.floor((now - this.refilledAt) / REPORT_REFILL_MS)
    if (refill > 0) {
      this.allowance = Math.min(REPORT_BURST, this.allowance + refill)
      this.refilledAt += refill * REPORT_REFILL_MS
    }
    if (this.allowance === 0) return false
    this.allowance--
    return true
  }

  /** the latest voucher signed */
  latest (): SignedVoucher | undefined { return this.last }

  /** Checks a report and signs the voucher that answers it; throws an EscrowError otherwise. */
  async onReport (r: UsageReport, opts: { signal?: AbortSignal } = {}): Promise<SignedVoucher> {
    return await this.serial.run(async () => await this.answer(r, opts))
  }

  private async answer (r: UsageReport, opts: { signal?: AbortSignal }): Promise<SignedVoucher> {
    throwIfAborted(opts.signal)
    // [REJECT] usage before the job started here: setup (attestation, inputs) is not billed; a container's image pull, which its engine does as the job starts, is
    if (this.startedAt == null) throw new EscrowError('REPORT_INVALID', 'session not started')
    // [REJECT] a report for another escrow
    if (r.escrowId !== this.terms.escrowId) throw new EscrowError('WRONG_ESCROW', 'report for another escrow')
    // [REJECT] reports faster than any tick: each answer is a signature and a synced write
    if (!this.takeAllowance()) throw new EscrowError('RATE_LIMITED', 'usage reports faster than the metering period')
    // [REJECT] the agreed number of GPUs only
    if (r.gpus !== this.gpus) throw new EscrowError('REPORT_INVALID', 'gpus differ from the agreement')
    if (typeof r.seq !== 'bigint' || r.seq > MAX_SEQUENCE) throw new EscrowError('REPORT_INVALID', 'bad sequence')
    // a renter that restarted goes on from the vouchers it signed before: one not above them would
    // not be stored (the store keeps the highest), and every voucher is stored before it is sent
    this.stored ??= this.store?.latest(this.terms.escrowId, opts) ?? Promise.resolve(undefined)
    const before = await this.stored.catch((err: unknown) => { this.stored = undefined; throw err })
    // [REJECT] replayed or reordered reports
    if (r.seq <= this.lastSeq || (before != null && r.seq <= before.sequence)) throw new EscrowError('SEQUENCE_NOT_INCREASING', 'report sequence not increasing')
    if (!Number.isSafeInteger(r.usedMs) || r.usedMs < this.lastUsedMs) throw new EscrowError('REPORT_INVALID', 'used time must be a non-decreasing integer')
    // [REJECT] more time than has passed here
    const elapsed = Math.min(this.clock.now(), this.endedAt ?? Infinity) - this.startedAt
    if (r.usedMs > elapsed + this.toleranceMs) throw new EscrowError('REPORT_AHEAD_OF_CLOCK', 'reported usage exceeds elapsed time', { elapsed })
    // [REJECT] exactly price × gpus × reported time, capped at the locked amount
    const amount = amountFor(this.price, this.gpus, r.usedMs, this.terms.amount)
    if (r.amount !== amount) throw new EscrowError('AMOUNT_MISMATCH', 'claimed amount differs from price × time', { expected: amount.toString() })
    // [REJECT] below what a voucher signed before the restart already pays
    if (before != null && amount < before.cumulative) throw new EscrowError('CUMULATIVE_DECREASED', 'usage below what was already paid')
    const v = this.signer.sign({ escrowId: this.terms.escrowId, cumulative: amount, sequence: r.seq })
    if (this.store != null) await this.store.put(v, opts)
    this.lastSeq = r.seq
    this.lastUsedMs = r.usedMs
    this.last = v
    return v
  }
}
