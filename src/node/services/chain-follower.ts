import type { Logger } from '../logger.js'
import type { Gauge } from '../metrics.js'
import type { Clock, TimerHandle } from '../../util/clock.js'
import type { ChainCatchUp, ChainPort } from '../../escrow/index.js'
import type { NodeService } from './types.js'

/**
 * How often the follower reads the chain's new blocks: finney's block time, so an escrow operation
 * finds about one block left to read. Between looks a look costs two requests when no block came.
 */
export const CHAIN_FOLLOW_MS = 12_000
/** escrows found opened held for the next look while their hand-over fails */
const UNHANDED_MAX = 10_000

/**
 * Keeps the chain port's escrow index up to the chain's head (`ChainPort.catchUp`), where the port
 * reads blocks (subtensor).
 *
 * The subtensor adapter finds escrows by reading blocks, and every escrow operation first reads
 * the blocks it has not read yet. Without this, the first read happened at the first rental: the
 * supplier's escrow check then waited for a restarted daemon's whole first scan (1,200 blocks by
 * default, more where it reaches back to an escrow it holds), and after a quiet spell of hours for
 * every block of it, and refused the rental where that took longer than its window. The follower
 * reads them at start, in the background (the node answers meanwhile, and an escrow operation that
 * comes waits for the same scan rather than starting its own), then every `intervalMs`.
 *
 * Polled rather than subscribed to new heads: a subscription must be made again after every
 * reconnect and on every fallback node, and a look that fails or is skipped costs nothing but the
 * next look's extra blocks. One look at a time; while the connection is down the looks are
 * skipped (the connection's own lines say so). `stop()` aborts a running look and waits for it.
 */
export class ChainFollower implements NodeService {
  readonly name = 'chain-follower'
  private timer?: TimerHandle
  private running?: Promise<void>
  private controller = new AbortController()
  private looks = 0
  private failing = false
  private lastRead?: { block: number, at: number }

  constructor (private readonly c: {
    chain: Pick<ChainPort, 'connected'> & Required<Pick<ChainPort, 'catchUp'>>
    clock: Clock
    logger: Logger
    /** the last block whose escrow records were read */
    readBlock?: Gauge
    /**
     * the escrows naming this node that a look found opened (`ChainCatchUp.opened`); where it
     * fails they are handed again at the next look, with what that one found
     */
    onOpened?: (opened: NonNullable<ChainCatchUp['opened']>) => Promise<void>
    intervalMs?: number
  }) {}

  async start (): Promise<void> {
    this.controller = new AbortController()
    this.timer = this.c.clock.setInterval(() => { void this.look() }, this.c.intervalMs ?? CHAIN_FOLLOW_MS)
    void this.look()
  }

  async stop (): Promise<void> {
    this.timer?.clear()
    this.timer = undefined
    this.controller.abort()
    await this.running
  }

  /** the head the last look that worked read up to, and when (the node's clock) */
  get last (): { block: number, at: number } | undefined { return this.lastRead }

  /** one look, unless one is running (then that one's end); failures are logged, never thrown */
  async look (): Promise<void> {
    if (this.running != null || this.controller.signal.aborted) return await this.running
    if (this.c.chain.connected?.() === false) return
    const signal = this.controller.signal
    this.running = (async () => {
      const started = this.c.clock.now()
      try {
        const r = await this.c.chain.catchUp({ signal })
        this.report(r, this.c.clock.now() - started)
        await this.handOpened(r.opened ?? [])
      } catch (err) {
        if (signal.aborted) return
        // once per run of failures: a chain that stays away would otherwise log every look
        if (!this.failing) this.c.logger.warn('chain: reading new blocks failed; the next look tries again (escrow operations read them themselves meanwhile)', { err })
        this.failing = true
      } finally {
        this.running = undefined
      }
    })()
    await this.running
  }

  /** escrows found opened whose hand-over to `onOpened` failed, kept for the next look */
  private unhanded: NonNullable<ChainCatchUp['opened']> = []

  private async handOpened (found: NonNullable<ChainCatchUp['opened']>): Promise<void> {
    if (this.c.onOpened == null) return
    const opened = [...this.unhanded, ...found]
    this.unhanded = []
    if (opened.length === 0) return
    try {
      await this.c.onOpened(opened)
    } catch (err) {
      // bounded: the latest kept where the hand-over keeps failing
      this.unhanded = opened.slice(-UNHANDED_MAX)
      this.c.logger.warn('chain: keeping the escrows found opened failed; the next look tries again', { escrows: opened.length, err })
    }
  }

  private report (r: ChainCatchUp, ms: number): void {
    const first = this.looks++ === 0
    if (r.head >= 1) {
      this.c.readBlock?.set(r.head)
      this.lastRead = { block: r.head, at: this.c.clock.now() }
    }
    const fields = { from: r.from, head: r.head, blocks: r.blocks, ms }
    for (const gap of r.skipped ?? []) {
      this.c.logger.warn('chain: the node no longer keeps the state of these blocks (it prunes state, as a lite node does), so their escrow records were passed over and an escrow opened there is not found; an archive node (--pruning archive) as chain.endpoint has them', { from: gap.from, to: gap.to })
    }
    if (first) this.c.logger.info('chain: escrow records read up to the head', fields)
    else if (this.failing) this.c.logger.info('chain: new blocks read again', fields)
    else this.c.logger.debug('chain: new blocks read', fields)
    this.failing = false
  }
}
