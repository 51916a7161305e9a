import type { VoucherStore } from './vouchers.js'
import type { SignedVoucher } from '../types.js'

/** A voucher store in memory, for renters that keep their signed vouchers only for the session. */
export class MemoryVoucherStore implements VoucherStore {
  private readonly map = new Map<string, SignedVoucher>()
  async put (v: SignedVoucher, opts: { scope?: string } = {}): Promise<void> {
    const key = opts.scope != null ? `${v.escrowId}/${opts.scope}` : v.escrowId
    const prev = this.map.get(key)
    if (prev == null || prev.sequence < v.sequence) this.map.set(key, { ...v })
  }

  async latest (escrowId: string, opts: { scope?: string } = {}): Promise<SignedVoucher | undefined> {
    const v = this.map.get(opts.scope != null ? `${escrowId}/${opts.scope}` : escrowId)
    return v == null ? undefined : { ...v }
  }
}
