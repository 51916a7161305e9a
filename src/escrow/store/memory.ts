import type { VoucherStore } from './vouchers.js'
import type { SignedVoucher } from '../types.js'

/** A voucher store in memory, for renters that keep their signed vouchers only for the session. */
export class MemoryVoucherStore implements VoucherStore {
  private readonly map = new Map<string, SignedVoucher>()
  async put (v: SignedVoucher): Promise<void> {
    const prev = this.map.get(v.escrowId)
    if (prev == null || prev.sequence < v.sequence) this.map.set(v.escrowId, { ...v })
  }

  async latest (escrowId: string): Promise<SignedVoucher | undefined> {
    const v = this.map.get(escrowId)
    return v == null ? undefined : { ...v }
  }
}
