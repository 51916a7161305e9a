import { decodeRecord } from '../../../escrow/chain/records.js'
import type { ChainPort, EscrowOnChain } from '../../../escrow/index.js'
import type { Clock } from '../../../util/clock.js'

/**
 * How long the renter waits, after approving the cooperative close, for it to land. On a subtensor
 * chain the payee executes the close once it sees the payer's approval, and it waits up to a minute
 * for that approval before it turns to the arbiter; the renter must wait longer than that, or it
 * reports an escrow as open that the payee is about to close. The wait ends as soon as the close is
 * on chain, so a healthy run pays nothing for the bound.
 */
export const SETTLE_WAIT_MS = 120_000

/** how often the chain is asked whether the close landed (the chain port has no events) */
export const SETTLE_POLL_MS = 250

export interface AwaitSettledOptions {
  clock: Clock
  waitMs: number
  /** ends the wait early (the sleep rejects with the signal's reason) */
  signal?: AbortSignal
  /** also wait while the chain does not know the escrow yet (a rental that just opened it) */
  whileMissing?: boolean
}

/**
 * The escrow as the chain holds it once it left the open state, or as it stands when `waitMs` has
 * passed on the clock. Polls the chain through the clock's sleep, so a test drives it with a
 * ManualClock.
 */
export async function awaitSettled (chain: Pick<ChainPort, 'get'>, escrowId: string, opts: AwaitSettledOptions): Promise<EscrowOnChain | undefined> {
  const deadline = opts.clock.now() + opts.waitMs
  let e = await chain.get(escrowId, { signal: opts.signal })
  const waiting = (): boolean => e == null ? opts.whileMissing === true : e.status === 'open'
  while (waiting() && opts.clock.now() < deadline) {
    await opts.clock.sleep(Math.min(SETTLE_POLL_MS, deadline - opts.clock.now()), { signal: opts.signal })
    e = await chain.get(escrowId, { signal: opts.signal })
  }
  return e
}

/** What the close (or refund) record of a settled escrow paid to `payee` and back to `payer`. */
export function settledAmounts (e: EscrowOnChain | undefined, payee: string, payer: string): { paid: bigint, refunded: bigint } {
  const rec = e?.records.find((r) => r.kind === 'close' || r.kind === 'refund')
  const doc = rec != null ? decodeRecord(rec.remark) : undefined
  const payouts = doc != null && doc.kind !== 'open' ? doc.payouts : []
  const sum = (to: string): bigint => payouts.filter((p) => p.to === to).reduce((a, p) => a + BigInt(p.amount), 0n)
  return { paid: sum(payee), refunded: sum(payer) }
}
