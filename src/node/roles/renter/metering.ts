import { MeterRenter, type EscrowTerms, type SignedVoucher, type VoucherSigner, type VoucherStore } from '../../../escrow/index.js'
import type { Clock } from '../../../util/clock.js'
import { renterMeteringHook } from '../../../protocols/metering/index.js'
import type { Logger } from '../../logger.js'
import type { RoleMetrics } from '../metrics.js'

/** signed vouchers kept waiting for their acknowledgement */
const MAX_UNACKED = 64

export interface RenterMeteringComponents {
  /** signs the vouchers; with a store, it keeps each one before it is sent (the cooperative close approves the last) */
  meter: MeterRenter
  metrics: RoleMetrics
  logger: Logger
}

/**
 * The renter's metering for one session, on the one hook (`renterMeteringHook`) that the tests of
 * the metering protocol use too: each valid usage report is answered with the next voucher (the
 * meter stores it first); each ack of this escrow counts the voucher it acknowledges (`acked`,
 * `spent`: what the rental shows as paid while it runs). An ack for another escrow, or for a
 * voucher never signed, counts nothing.
 */
export class RenterMetering {
  /** vouchers the supplier acknowledged */
  acked = 0
  /** the cumulative amount of the latest acknowledged voucher */
  spent = 0n
  /** the job channel's `onMetering` hook */
  readonly onMetering: (bytes: Uint8Array, ctl: { send: (bytes: Uint8Array) => Promise<void> }) => Promise<void>
  /** signed and not yet acknowledged, by sequence (an ack removes it and every older one) */
  private readonly signed = new Map<bigint, SignedVoucher>()

  /**
   * The metering of one rental: a meter over the escrow's terms, signing with its voucher key and
   * storing every voucher in `vouchers` before it is sent. The cooperative close approves the last
   * voucher signed (saga `settleRent`), so it must be durable and survive this process.
   */
  static forRental (i: { terms: EscrowTerms, pricePerGpuHour: bigint, gpus: number, signer: VoucherSigner, clock: Clock, vouchers: VoucherStore, metrics: RoleMetrics, logger: Logger }): RenterMetering {
    const meter = new MeterRenter({ terms: i.terms, pricePerGpuHour: i.pricePerGpuHour, gpus: i.gpus, signer: i.signer, clock: i.clock, store: i.vouchers })
    return new RenterMetering({ meter, metrics: i.metrics, logger: i.logger })
  }

  /** the meter that signs this session's vouchers */
  readonly meter: MeterRenter

  /**
   * The job client's `started` hook: usage is paid from the job's start on this clock, never for the
   * setup before it (attestation, inputs; a container's image pull comes after it); a report before it gets no voucher. `at`: a start
   * known from before (a job taken up again).
   */
  readonly onStarted = (at?: number): void => { this.meter.start(at) }

  /**
   * The job client's `exit` hook: usage is paid up to the time the exit arrived; a supplier that
   * keeps reporting after it gets nothing more.
   */
  readonly onExit = (): void => { this.meter.end() }

  constructor (c: RenterMeteringComponents) {
    this.meter = c.meter
    const escrow = c.meter.terms.escrowId
    this.onMetering = renterMeteringHook(c.meter, {
      onVoucher: (v) => {
        this.signed.set(v.sequence, v)
        // [bound] a supplier that never acknowledges: only the newest wait for their ack (an ack
        // settles every older one anyway)
        if (this.signed.size > MAX_UNACKED) this.signed.delete(this.signed.keys().next().value as bigint)
        c.metrics.vouchers.inc({ role: 'renter', result: 'signed' })
      },
      onAck: (ack) => {
        const v = this.signed.get(ack.sequence)
        // [IGNORE] an ack for a voucher we never signed (or one acknowledged already)
        if (v == null) return
        for (const seq of this.signed.keys()) if (seq <= ack.sequence) this.signed.delete(seq)
        c.metrics.vouchers.inc({ role: 'renter', result: 'acknowledged' })
        this.acked++
        this.spent = v.cumulative
      },
      onError: (err) => { c.logger.warn('metering frame refused: no voucher for it', { escrow, code: err.code }) }
    })
  }
}
