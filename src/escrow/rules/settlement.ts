/**
 * The only three settlements the escrow knows. Each pays out exactly the locked amount: the payee
 * the voucher's cumulative amount and the payer the rest (zero payouts are left out, since a chain
 * transfer of zero is refused or wasted).
 */
import { MAX_PAYOUTS } from '../constants.js'
import type { EscrowErrorCode } from '../errors.js'
import type { EscrowTerms, Settlement, SignedVoucher } from '../types.js'

function split (terms: EscrowTerms, toPayee: bigint): Settlement['payouts'] {
  const payouts: Settlement['payouts'] = []
  if (toPayee > 0n) payouts.push({ to: terms.payee, amount: toPayee })
  if (terms.amount - toPayee > 0n) payouts.push({ to: terms.payer, amount: terms.amount - toPayee })
  return payouts
}

/**
 * Close paying `voucher` (or nothing, without one) to the payee. `kind` is 'cooperative' when payer
 * and payee sign it, 'voucher' when the payee closes with the arbiter.
 */
export function closeSettlement (terms: EscrowTerms, voucher: SignedVoucher | undefined, kind: 'cooperative' | 'voucher'): Settlement {
  const s: Settlement = { escrowId: terms.escrowId, kind, payouts: split(terms, voucher?.cumulative ?? 0n) }
  if (voucher != null) s.voucher = { cumulative: voucher.cumulative, sequence: voucher.sequence, signature: voucher.signature }
  return s
}

/** Everything back to the payer (after expiry, with the arbiter). */
export function refundSettlement (terms: EscrowTerms): Settlement {
  return { escrowId: terms.escrowId, kind: 'refund', payouts: split(terms, 0n) }
}

/** Structural check any ledger applies: known kind, bounded payouts, positive amounts, exact sum. */
export function checkSettlementShape (s: Settlement, locked: bigint): EscrowErrorCode | undefined {
  if (s.kind !== 'cooperative' && s.kind !== 'voucher' && s.kind !== 'refund') return 'MALFORMED_SETTLEMENT'
  if (!Array.isArray(s.payouts) || s.payouts.length === 0 || s.payouts.length > MAX_PAYOUTS) return 'MALFORMED_SETTLEMENT'
  let sum = 0n
  for (const p of s.payouts) {
    if (typeof p.to !== 'string' || typeof p.amount !== 'bigint' || p.amount <= 0n) return 'MALFORMED_SETTLEMENT'
    sum += p.amount
  }
  // [REJECT] payouts sum to the locked amount, no more, no less
  if (sum !== locked) return 'PAYOUTS_MISMATCH'
  if (s.kind === 'voucher' && s.voucher == null) return 'NO_VOUCHER'
  if (s.kind === 'refund' && s.voucher != null) return 'MALFORMED_SETTLEMENT'
  return undefined
}

/** true when two settlements are identical field for field (payout order included). */
export function settlementsEqual (a: Settlement, b: Settlement): boolean {
  if (a.escrowId !== b.escrowId || a.kind !== b.kind || a.payouts.length !== b.payouts.length) return false
  for (let i = 0; i < a.payouts.length; i++) {
    if (a.payouts[i].to !== b.payouts[i].to || a.payouts[i].amount !== b.payouts[i].amount) return false
  }
  if ((a.voucher == null) !== (b.voucher == null)) return false
  if (a.voucher != null && b.voucher != null) {
    return a.voucher.cumulative === b.voucher.cumulative && a.voucher.sequence === b.voucher.sequence &&
      a.voucher.signature === b.voucher.signature
  }
  return true
}
