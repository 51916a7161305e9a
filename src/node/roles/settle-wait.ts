import type { ChainPort, EscrowOnChain } from '../../escrow/index.js'
import type { Clock } from '../../util/clock.js'

/** how often the chain is asked whether the close landed (the chain port has no events) */
export const SETTLE_POLL_MS = 250

export interface AwaitSettledOptions {
  clock: Clock
  waitMs: number
  /** ends the wait early (the sleep rejects with the signal's reason) */
  signal?: AbortSignal
  /** also wait while the chain does not know the escrow yet (a rental that just opened it) */
  whileMissing?: boolean
  /** the escrow's payer: the one meant among escrows opened under the same id (ChainPort.get) */
  payer?: string
}

/**
 * The escrow as the chain holds it once it left the open state, or as it stands when `waitMs` has
 * passed on the clock. Polls the chain through the clock's sleep, so a test drives it with a
 * ManualClock.
 */
export async function awaitSettled (chain: Pick<ChainPort, 'get'>, escrowId: string, opts: AwaitSettledOptions): Promise<EscrowOnChain | undefined> {
  const deadline = opts.clock.now() + opts.waitMs
  const get = { signal: opts.signal, ...(opts.payer != null ? { payer: opts.payer } : {}) }
  let e = await chain.get(escrowId, get)
  const waiting = (): boolean => e == null ? opts.whileMissing === true : e.status === 'open'
  while (waiting() && opts.clock.now() < deadline) {
    await opts.clock.sleep(Math.min(SETTLE_POLL_MS, deadline - opts.clock.now()), { signal: opts.signal })
    e = await chain.get(escrowId, get)
  }
  return e
}
