/**
 * Glue between the metering classes (src/escrow/metering) and the job channel's hooks
 * (src/protocols/job: `onUsageTick` / `onMetering` on the supplier, `onMetering` on the renter).
 * The job layer carries metering frames as opaque bytes; these adapters encode and decode them with
 * the metering codec. Typed as structural interfaces so that they do not depend on the job layer.
 *
 * Supplier: every job tick → `MeterSupplier.tick()` → a UsageReport frame; a Voucher frame →
 * `acceptVoucher` (durable) → a VoucherAck frame. The meter's 'stop' (vouchers lag past both
 * windows, or the budget is spent) stops the job with "budget"; 'pause' goes to `onPause` (the job
 * layer decides how to pause its process). A bad frame or voucher is reported to `onError` and
 * never acknowledged, so the lag windows deal with a renter that keeps sending them.
 */
import { EscrowError } from '../../escrow/errors.js'
import type { MeterRenter } from '../../escrow/metering/renter.js'
import type { MeterSupplier } from '../../escrow/metering/supplier.js'
import type { VoucherAck } from '../../escrow/metering/types.js'
import type { SignedVoucher } from '../../escrow/types.js'
import { decodeMetering, encodeMetering, MeteringCodecError } from './codec.js'

/** What the supplier's job channel lets metering do (JobControl of src/protocols/job/server.ts). */
export interface SupplierMeteringControl {
  sendMetering: (bytes: Uint8Array) => Promise<void>
  stop: (reason: 'budget' | 'failed', detail?: string) => void
  /** suspends and resumes the job's processes (the job layer's JobControl has both) */
  pause?: () => Promise<void>
  resume?: () => Promise<void>
}

export interface SupplierMeteringOptions {
  onPause?: (lagMs: number) => void
  onResume?: () => void
  /** a refused frame or voucher (EscrowError or MeteringCodecError) */
  onError?: (err: EscrowError | MeteringCodecError) => void
}

export interface SupplierMeteringHooks {
  onUsageTick: (tick: unknown, ctl: SupplierMeteringControl) => Promise<void>
  onMetering: (bytes: Uint8Array, ctl: SupplierMeteringControl) => Promise<void>
  /**
   * The job exited at `exitedAt` (the job layer's clock) with its renter attached: a last report
   * for the time since the last tick, and a wait of at most one tick for its voucher
   */
  onJobEnd: (exitedAt: number, ctl: SupplierMeteringControl) => Promise<void>
}

export function supplierMeteringHooks (meter: MeterSupplier, opts: SupplierMeteringOptions = {}): SupplierMeteringHooks {
  let control: SupplierMeteringControl | undefined
  meter.on('stop', ({ reason }) => { control?.stop('budget', reason === 'unpaid' ? 'VOUCHERS_LAG' : reason === 'budget' ? 'BUDGET_SPENT' : 'ENDED') })
  // vouchers lagging past the grace window pause the job itself (SIGSTOP / docker pause), not only a log line
  meter.on('pause', ({ lagMs }) => { void control?.pause?.().catch(() => {}); opts.onPause?.(lagMs) })
  meter.on('resume', () => { void control?.resume?.().catch(() => {}); opts.onResume?.() })
  return {
    onUsageTick: async (_tick, ctl) => {
      control = ctl
      meter.start()
      const report = meter.tick()
      if (report != null) await ctl.sendMetering(encodeMetering({ kind: 'report', report }))
    },
    onJobEnd: async (exitedAt, ctl) => {
      const report = meter.finalTick(exitedAt)
      if (report == null) return
      await ctl.sendMetering(encodeMetering({ kind: 'report', report }))
      await meter.paid(report.seq, meter.tickMs)
    },
    onMetering: async (bytes, ctl) => {
      control = ctl
      let ack: VoucherAck
      try {
        const m = decodeMetering(bytes)
        // [REJECT] the renter only ever sends vouchers
        if (m.kind !== 'voucher') throw new EscrowError('MALFORMED_VOUCHER', 'expected a voucher')
        ack = await meter.acceptVoucher(m.voucher)
      } catch (err) {
        if (err instanceof EscrowError || err instanceof MeteringCodecError) { opts.onError?.(err); return }
        throw err
      }
      await ctl.sendMetering(encodeMetering({ kind: 'ack', ack }))
    }
  }
}

export interface RenterMeteringOptions {
  /** a voucher was signed for a report; called before it is sent */
  onVoucher?: (voucher: SignedVoucher) => void
  /**
   * the supplier acknowledged (stored) a voucher of this escrow; awaited before the next frame is
   * handled, so the renter's record of what was acknowledged is written in order
   */
  onAck?: (ack: VoucherAck) => unknown
  /** a refused report (EscrowError) or frame (MeteringCodecError): no voucher is signed for it */
  onError?: (err: EscrowError | MeteringCodecError) => void
}

/**
 * The renter's `onMetering` hook: answers each valid UsageReport with the next voucher, and passes
 * on the acks of this escrow (an ack that names another escrow is refused with WRONG_ESCROW: it
 * acknowledges nothing of ours). The same hook serves `bazaar rent` and the tests.
 */
export function renterMeteringHook (renter: MeterRenter, opts: RenterMeteringOptions = {}): (bytes: Uint8Array, ctl: { send: (bytes: Uint8Array) => Promise<void> }) => Promise<void> {
  return async (bytes, ctl) => {
    let answer: Uint8Array | undefined
    try {
      const m = decodeMetering(bytes)
      if (m.kind === 'ack') {
        // [IGNORE] an ack for another escrow acknowledges nothing of ours
        if (m.ack.escrowId !== renter.terms.escrowId) throw new EscrowError('WRONG_ESCROW', 'ack for another escrow')
        await opts.onAck?.(m.ack)
        return
      }
      // [REJECT] the supplier sends reports and acks only
      if (m.kind !== 'report') throw new EscrowError('REPORT_INVALID', 'expected a usage report')
      const voucher = await renter.onReport(m.report)
      opts.onVoucher?.(voucher)
      answer = encodeMetering({ kind: 'voucher', voucher })
    } catch (err) {
      if (err instanceof EscrowError || err instanceof MeteringCodecError) { opts.onError?.(err); return }
      throw err
    }
    await ctl.send(answer)
  }
}
