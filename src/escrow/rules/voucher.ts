import type { EscrowErrorCode } from '../errors.js'
import type { EscrowState, SignedVoucher } from '../types.js'
import { verifyVoucher } from '../voucher/verify.js'

/**
 * Why `v` cannot become the escrow's best voucher, or undefined when it can. Checks run cheapest
 * first; the signature (the only costly step) runs last.
 */
export function checkVoucher (state: EscrowState, v: SignedVoucher): EscrowErrorCode | undefined {
  const { terms, best } = state
  // [REJECT] a voucher for another escrow
  if (v.escrowId !== terms.escrowId) return 'WRONG_ESCROW'
  // [REJECT] a voucher after close or refund
  if (state.status !== 'open') return 'ESCROW_NOT_OPEN'
  if (typeof v.cumulative !== 'bigint' || typeof v.sequence !== 'bigint' || v.cumulative < 0n || v.sequence < 1n) {
    return 'MALFORMED_VOUCHER'
  }
  // [REJECT] more than the escrow locks
  if (v.cumulative > terms.amount) return 'ABOVE_LOCKED'
  if (best != null) {
    // [REJECT] a sequence not above the best voucher's (replays and reordering)
    if (v.sequence <= best.sequence) return 'SEQUENCE_NOT_INCREASING'
    // [REJECT] cumulative amounts never go down
    if (v.cumulative < best.cumulative) return 'CUMULATIVE_DECREASED'
  }
  // [REJECT] not signed by the voucher key named in the terms
  if (!verifyVoucher(v, terms.voucherKey)) return 'BAD_SIGNATURE'
  return undefined
}
