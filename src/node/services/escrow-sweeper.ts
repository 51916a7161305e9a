import type { Logger } from '../logger.js'
import type { Clock, TimerHandle } from '../../util/clock.js'
import type { ChainFee, EscrowService } from '../../escrow/index.js'
import type { NodeService } from './types.js'

/**
 * Sweeps the node's settled escrows every `intervalMs` of its clock (`EscrowService.sweep`): on a
 * subtensor chain, an approval of this node's key that never executed (the escrow settled another
 * way) is cancelled and its multisig deposit comes back, and where the key is an escrow's arbiter,
 * what that escrow's own key still holds goes back to it. Without it these waited for the node's
 * next settlement or arbiter request, which a node that stopped trading never makes.
 *
 * The first sweep runs one interval after start, not at start: a restarted renter or supplier is
 * then busy closing what it left open, and each escrow is swept once per process anyway. One sweep
 * at a time: a look that finds the last one still running skips its turn. A failure is logged and
 * the next turn tries again; `stop()` aborts a running sweep and waits for it.
 */
export class EscrowSweeper implements NodeService {
  readonly name = 'escrow-sweeper'
  private timer?: TimerHandle
  private running?: Promise<void>
  private controller = new AbortController()

  constructor (private readonly c: { escrow: Pick<EscrowService, 'sweep'>, clock: Clock, logger: Logger, intervalMs: number }) {}

  async start (): Promise<void> {
    this.controller = new AbortController()
    this.timer = this.c.clock.setInterval(() => { void this.sweep() }, this.c.intervalMs)
  }

  async stop (): Promise<void> {
    this.timer?.clear()
    this.timer = undefined
    this.controller.abort()
    await this.running
  }

  /** one sweep, unless one is running (then that one's end); failures are logged, never thrown */
  async sweep (): Promise<void> {
    if (this.running != null || this.controller.signal.aborted) return await this.running
    const signal = this.controller.signal
    this.running = (async () => {
      try {
        const fees = await this.c.escrow.sweep({ signal })
        if (fees.length > 0) this.c.logger.info('swept settled escrows', { transactions: fees.length, ops: countOps(fees), feesRao: sumFees(fees) })
      } catch (err) {
        if (!signal.aborted) this.c.logger.warn('escrow sweep failed; the next one tries again', { err })
      } finally {
        this.running = undefined
      }
    })()
    await this.running
  }
}

function countOps (fees: ChainFee[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const f of fees) out[f.op] = (out[f.op] ?? 0) + 1
  return out
}

function sumFees (fees: ChainFee[]): string {
  let total = 0n
  for (const f of fees) total += f.fee
  return total.toString()
}
