import type { MeterRenter, SignedVoucher, VoucherStore } from '../../../escrow/index.js'
import { renterMeteringHook } from '../../../protocols/metering/index.js'
import type { Logger } from '../../logger.js'
import type { RoleMetrics } from '../metrics.js'

export interface RenterMeteringComponents {
  meter: MeterRenter
  /** where acknowledged vouchers are kept: the renter's side of the cooperative close */
  vouchers: Pick<VoucherStore, 'put'>
  metrics: RoleMetrics
  logger: Logger
}

/**
 * The renter's metering for one session, on the one hook (`renterMeteringHook`) that the tests of
 * the metering protocol use too: each valid usage report is answered with the next voucher; each
 * ack of this escrow stores the voucher it acknowledges, so only what the supplier stored counts for
 * the cooperative close. An ack for another escrow, or for a voucher never signed, counts nothing.
 */
export class RenterMetering {
  /** vouchers the supplier acknowledged (and we stored) */
  acked = 0
  /** the cumulative amount of the latest acknowledged voucher */
  spent = 0n
  /** the job channel's `onMetering` hook */
  readonly onMetering: (bytes: Uint8Array, ctl: { send: (bytes: Uint8Array) => Promise<void> }) => Promise<void>
  /** signed and not yet acknowledged, by sequence (an ack removes it and every older one) */
  private readonly signed = new Map<bigint, SignedVoucher>()

  constructor (c: RenterMeteringComponents) {
    const escrow = c.meter.terms.escrowId
    this.onMetering = renterMeteringHook(c.meter, {
      onVoucher: (v) => {
        this.signed.set(v.sequence, v)
        c.metrics.vouchers.inc({ role: 'renter', result: 'signed' })
      },
      onAck: async (ack) => {
        const v = this.signed.get(ack.sequence)
        // [IGNORE] an ack for a voucher we never signed (or one acknowledged already)
        if (v == null) return
        await c.vouchers.put(v)
        for (const seq of this.signed.keys()) if (seq <= ack.sequence) this.signed.delete(seq)
        c.metrics.vouchers.inc({ role: 'renter', result: 'acknowledged' })
        this.acked++
        this.spent = v.cumulative
      },
      onError: (err) => { c.logger.warn('metering frame refused: no voucher for it', { escrow, code: err.code }) }
    })
  }
}
