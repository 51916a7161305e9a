import { decodeRecord } from '../../../escrow/chain/records.js'
import type { EscrowOnChain } from '../../../escrow/index.js'

export { awaitSettled, SETTLE_POLL_MS, type AwaitSettledOptions } from '../settle-wait.js'

/**
 * How long the renter waits, after approving the cooperative close, for it to land. On a subtensor
 * chain the payee executes the close once it sees the payer's approval, and it waits up to a minute
 * for that approval before it turns to the arbiter; the renter must wait longer than that, or it
 * reports an escrow as open that the payee is about to close. The wait ends as soon as the close is
 * on chain, so a healthy run pays nothing for the bound.
 */
export const SETTLE_WAIT_MS = 120_000

/** What the close (or refund) record of a settled escrow paid to `payee` and back to `payer`. */
export function settledAmounts (e: EscrowOnChain | undefined, payee: string, payer: string): { paid: bigint, refunded: bigint, carried: bigint, settledBy?: 'cooperative' | 'arbiter' | 'refund' } {
  const rec = e?.records.find((r) => r.kind === 'close' || r.kind === 'refund')
  const doc = rec != null ? decodeRecord(rec.remark) : undefined
  const payouts = doc != null && doc.kind !== 'open' ? doc.payouts : []
  const sum = (to: string): bigint => payouts.filter((p) => p.to === to).reduce((a, p) => a + BigInt(p.amount), 0n)
  // of what was paid, a share too small to move as stake (alpha escrows) went back to the payer
  // with the refund: the close record says how much (`carried`)
  const carried = doc != null && doc.kind !== 'open' && doc.carried != null ? BigInt(doc.carried) : 0n
  // how: the two parties' close, a close on a voucher (with the arbiter), or a refund
  const kind = doc != null && doc.kind !== 'open' ? doc.settlement : undefined
  const settledBy = kind === 'cooperative' ? 'cooperative' : kind === 'voucher' ? 'arbiter' : kind === 'refund' ? 'refund' : undefined
  return { paid: sum(payee), refunded: sum(payer), carried, ...(settledBy != null ? { settledBy } : {}) }
}
