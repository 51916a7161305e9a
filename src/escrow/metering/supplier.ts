/**
 * The supplier's side of metering. Every tick it reports the GPU time used so far, and once more
 * at the job's exit (`finalTick`, then `paid` waits for that voucher); the renter
 * answers each report with a cumulative voucher. A voucher is checked (escrow, signature, sequence,
 * monotone amount, locked amount, exactly the amount of the report it answers) and written to the
 * voucher store BEFORE the acknowledgement is returned: an acknowledged voucher survives a crash.
 *
 * Unpaid usage is bounded: when the oldest unanswered report is older than `graceMs` the meter
 * pauses (usage stops accruing, so the renter pays nothing for paused time) and emits 'pause'; a
 * voucher that catches up resumes it; `stopAfterMs` later still unpaid, it emits 'stop'.
 */
import { EventEmitter } from 'node:events'
import { systemClock, type Clock, type TimerHandle } from '../../util/clock.js'
import { DEFAULT_GRACE_MS, DEFAULT_STOP_AFTER_MS, DEFAULT_TICK_MS, MAX_OUTSTANDING_REPORTS } from '../constants.js'
import { EscrowError, throwIfAborted } from '../errors.js'
import { checkVoucher } from '../rules/voucher.js'
import type { VoucherStore } from '../store/vouchers.js'
import type { EscrowTerms, SignedVoucher } from '../types.js'
import { amountFor } from './price.js'
import type { MeterState, StopReason, UsageReport, VoucherAck } from './types.js'
import { SerialQueue } from '../../util/serial.js'
import { BoundedMap } from '../../util/bounded-map.js'

export interface MeterSupplierInit {
  terms: EscrowTerms
  /** agreed price in base units per GPU-hour */
  pricePerGpuHour: bigint
  gpus: number
  store: VoucherStore
  clock?: Clock
  tickMs?: number
  graceMs?: number
  stopAfterMs?: number
}

export interface MeterSupplierEvents {
  report: [UsageReport]
  pause: [{ lagMs: number }]
  resume: []
  stop: [{ reason: StopReason }]
}

interface Outstanding { usedMs: number, amount: bigint, at: number }

export class MeterSupplier extends EventEmitter<MeterSupplierEvents> {
  readonly terms: EscrowTerms
  readonly tickMs: number
  readonly graceMs: number
  readonly stopAfterMs: number
  private readonly price: bigint
  private readonly gpus: number
  private readonly store: VoucherStore
  private readonly clock: Clock
  private latestVoucher?: SignedVoucher
  private nextSeq: bigint
  private used = 0
  private lastAccrue?: number
  private status: MeterState = 'running'
  /** the renter's session dropped and it may come back (see `away`) */
  private renterAway = false
  /** bounded: the oldest report can no longer be answered; later reports carry its usage anyway */
  private readonly outstanding = new BoundedMap<bigint, Outstanding>(MAX_OUTSTANDING_REPORTS)
  private unpaidSince?: number
  /**
   * the stop deadline a return from away (`back`) granted, and the unpaid stretch (its oldest
   * report's time) it was granted for: once per stretch, so re-attaching again and again without
   * paying extends nothing
   */
  private payBy?: number
  private extendedFor?: number
  private timer?: TimerHandle
  private readonly serial = new SerialQueue()
  /** `paid` waits: each resolves once a voucher of its sequence or a later one is stored */
  private readonly payWaits = new Set<{ seq: bigint, resolve: (paid: boolean) => void }>()

  private constructor (init: MeterSupplierInit, latest: SignedVoucher | undefined) {
    super()
    if (!Number.isSafeInteger(init.gpus) || init.gpus <= 0) throw new EscrowError('REPORT_INVALID', 'gpus must be a positive integer')
    if (init.pricePerGpuHour < 0n) throw new EscrowError('REPORT_INVALID', 'price must not be negative')
    this.terms = init.terms
    this.price = init.pricePerGpuHour
    this.gpus = init.gpus
    this.store = init.store
    this.clock = init.clock ?? systemClock
    this.tickMs = init.tickMs ?? DEFAULT_TICK_MS
    this.graceMs = init.graceMs ?? DEFAULT_GRACE_MS
    this.stopAfterMs = init.stopAfterMs ?? DEFAULT_STOP_AFTER_MS
    if (latest != null) this.latestVoucher = latest
    // sequences continue after a stored voucher, so a restarted supplier never reuses one
    this.nextSeq = (latest?.sequence ?? 0n) + 1n
  }

  /** Builds a meter, reading the escrow's latest stored voucher first. */
  static async open (init: MeterSupplierInit, opts: { signal?: AbortSignal } = {}): Promise<MeterSupplier> {
    const latest = await init.store.latest(init.terms.escrowId, opts)
    return new MeterSupplier(init, latest)
  }

  get state (): MeterState { return this.status }
  /** GPU time reported so far in this session (ms) */
  get usedMs (): number { return this.used }
  /** the latest acknowledged voucher */
  latest (): SignedVoucher | undefined { return this.latestVoucher }

  /**
   * Starts the session clock. With `autoTick`, a timer of the clock calls `tick()` every `tickMs`
   * (reports are delivered through the 'report' event); under a ManualClock it fires as the test
   * advances time, and a test may also leave it off and call `tick()` itself.
   */
  start (opts: { autoTick?: boolean } = {}): void {
    if (this.lastAccrue != null) return
    this.lastAccrue = this.clock.now()
    if (opts.autoTick === true) this.timer = this.clock.setInterval(() => { this.tick() }, this.tickMs)
  }

  /** Accrues usage, applies the lag windows and returns the next report (none once stopped). */
  tick (): UsageReport | undefined {
    return this.report(this.clock.now())
  }

  /**
   * The job ended at `at` (its exit, on this meter's clock): a last report for the time it ran since
   * the last one, so that the end of its last tick is paid too; none when nothing accrued since (a
   * paused or stopped meter, or a tick at or after `at`). `paid` then waits for its voucher.
   */
  finalTick (at: number = this.clock.now()): UsageReport | undefined {
    if (this.status !== 'running' || this.lastAccrue == null || at <= this.lastAccrue) return undefined
    return this.report(at)
  }

  /**
   * Resolves true once the voucher answering report `seq` (or a later one) is stored, false after
   * `ms` on the clock or when the meter stops first.
   */
  async paid (seq: bigint, ms: number): Promise<boolean> {
    if ((this.latestVoucher?.sequence ?? 0n) >= seq) return true
    if (this.status === 'stopped') return false
    return await new Promise<boolean>((resolve) => {
      const timer = this.clock.setTimeout(() => { done(false) }, ms)
      const wait = { seq, resolve: (v: boolean) => { done(v) } }
      const done = (v: boolean): void => { timer.clear(); this.payWaits.delete(wait); resolve(v) }
      this.payWaits.add(wait)
    })
  }

  private report (now: number): UsageReport | undefined {
    if (this.status === 'stopped' || this.lastAccrue == null) return undefined
    if (this.status === 'running') {
      this.used += Math.max(0, now - this.lastAccrue)
      this.lastAccrue = now
    }
    const lag = this.unpaidSince == null ? 0 : now - this.unpaidSince
    if (this.status === 'running' && lag > this.graceMs) {
      this.status = 'paused'
      this.emit('pause', { lagMs: lag })
    }
    // [bound] a renter that is away is waited for by the caller, with its own bound: the job stays
    // paused; one back from away has until `payBy` to answer
    if (this.status === 'paused' && !this.renterAway && lag > this.graceMs + this.stopAfterMs && (this.payBy == null || now > this.payBy)) {
      this.stop('unpaid')
      return undefined
    }
    const report: UsageReport = {
      escrowId: this.terms.escrowId,
      seq: this.nextSeq++,
      usedMs: this.used,
      gpus: this.gpus,
      amount: amountFor(this.price, this.gpus, this.used, this.terms.amount)
    }
    this.outstanding.set(report.seq, { usedMs: report.usedMs, amount: report.amount, at: now })
    this.unpaidSince ??= now
    this.emit('report', report)
    return report
  }

  /**
   * Checks a voucher answering one of our reports, persists it, then acknowledges it. Throws an
   * EscrowError (nothing stored) for anything but exactly the amount the report claimed. A
   * retransmission of the latest voucher is acknowledged again without a write.
   */
  async acceptVoucher (v: SignedVoucher, opts: { signal?: AbortSignal } = {}): Promise<VoucherAck> {
    return await this.serial.run(async () => await this.accept(v, opts))
  }

  private async accept (v: SignedVoucher, opts: { signal?: AbortSignal }): Promise<VoucherAck> {
    throwIfAborted(opts.signal)
    const prev = this.latestVoucher
    if (prev != null && v.escrowId === prev.escrowId && v.sequence === prev.sequence &&
      v.cumulative === prev.cumulative && v.signature === prev.signature) {
      return { escrowId: v.escrowId, sequence: v.sequence, cumulative: v.cumulative }
    }
    // cheap checks first; the signature (in checkVoucher) only for a voucher that could be accepted
    // [REJECT] a voucher for another escrow
    if (v.escrowId !== this.terms.escrowId) throw new EscrowError('WRONG_ESCROW', 'voucher for another escrow')
    // [REJECT] replayed or reordered vouchers
    if (prev != null && v.sequence <= prev.sequence) throw new EscrowError('SEQUENCE_NOT_INCREASING', 'voucher sequence not increasing')
    const report = this.outstanding.get(v.sequence)
    // [REJECT] a voucher must answer a report we sent
    if (report == null) throw new EscrowError('UNKNOWN_REPORT', 'no outstanding report with this sequence')
    // [REJECT] price × gpus × reported time, exactly (reports never claim above the locked amount)
    if (v.cumulative !== report.amount) throw new EscrowError('AMOUNT_MISMATCH', 'voucher amount differs from the report', { expected: report.amount.toString() })
    const code = checkVoucher({ terms: this.terms, status: 'open', best: prev }, v)
    if (code != null) throw new EscrowError(code, 'voucher refused')
    // durable before acknowledged
    await this.store.put(v, opts)
    this.latestVoucher = v
    for (const seq of [...this.outstanding.keys()]) if (seq <= v.sequence) this.outstanding.delete(seq)
    const oldest = this.outstanding.values().next().value as Outstanding | undefined
    if (oldest == null) delete this.unpaidSince
    else this.unpaidSince = oldest.at
    // a paid stretch takes its extension with it
    if (this.unpaidSince !== this.extendedFor) delete this.payBy
    const now = this.clock.now()
    if (this.status === 'paused' && (this.unpaidSince == null || now - this.unpaidSince <= this.graceMs)) {
      this.status = 'running'
      this.lastAccrue = now
      this.emit('resume')
    }
    for (const w of [...this.payWaits]) if (w.seq <= v.sequence) w.resolve(true)
    if (v.cumulative === this.terms.amount && this.status !== 'stopped') this.stop('budget')
    return { escrowId: v.escrowId, sequence: v.sequence, cumulative: v.cumulative }
  }

  /**
   * The renter's session dropped, and the renter may take the job up again (a restart): unpaid
   * reports still pause the job after the grace window (no usage accrues while paused), but the
   * stop window does not apply until `back`; the caller bounds how long it waits.
   */
  away (): void { this.renterAway = true }

  /**
   * The renter is back on a new session after `away`. The reports it could not answer while away
   * keep their age: a job paused for them stays paused, and accrues nothing, until a voucher catches
   * up (the next report carries all usage, so one voucher does). Only the stop is moved: the renter
   * has the grace and stop windows from now to pay, once per unpaid stretch. A renter re-attaching
   * again and again without paying so gets neither unpaid running time nor an endless hold on the
   * GPUs, and a `back` without an `away` changes nothing.
   */
  back (): void {
    const wasAway = this.renterAway
    this.renterAway = false
    if (!wasAway || this.unpaidSince == null || this.extendedFor === this.unpaidSince) return
    this.extendedFor = this.unpaidSince
    this.payBy = this.clock.now() + this.graceMs + this.stopAfterMs
  }

  /** Ends the session: no more usage accrues and no more reports are made (vouchers for sent reports are still accepted). */
  stop (reason: StopReason = 'ended'): void {
    this.timer?.clear()
    delete this.timer
    if (this.status === 'stopped') return
    // time since the last report is not reported after this, so it is not paid: a job's end goes
    // through `finalTick` first
    this.status = 'stopped'
    for (const w of [...this.payWaits]) w.resolve(false)
    this.emit('stop', { reason })
  }
}
