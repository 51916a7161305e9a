import type { ChainConnectionEvent } from '../port.js'
import { systemClock, type Clock, type TimerHandle } from '../../../util/clock.js'
import { SubtensorError } from './errors.js'
import { answered } from './submit.js'

/** the wait before a failed check is tried again on a socket that stayed up */
const CHECK_RETRY_MS = 1_000
/**
 * How long a node reached at another endpoint than the one a block was seen on may lack that block
 * before its chain counts as another: one that follows the same chain a few blocks behind (it
 * imports and finalizes what the first node did moments later) has it well within this, five blocks
 * of finney. A node still syncing from far behind is no use to the adapter either; one serving a
 * restarted dev chain from the same spec never gets there.
 */
export const LAG_WAIT_MS = 60_000
/** the wait between checks of a node behind the block this port saw */
export const LAG_RETRY_MS = 2_000

interface Hex { toHex: () => string }

/** The part of @polkadot/api the watch uses. */
export interface WatchedApi {
  readonly isConnected: boolean
  readonly genesisHash: Hex
  on: (event: 'connected' | 'disconnected', fn: () => void) => unknown
  rpc: {
    chain: {
      /** the hash of block `n`; a chain shorter than `n` answers an empty hash */
      getBlockHash: (n: number) => Promise<Hex>
    }
  }
}

/**
 * Watches the connection of an ApiPromise. @polkadot/api reconnects by itself and, on reconnect,
 * assumes the same chain: it keeps the genesis, the metadata and (in this adapter) the signer's
 * next nonce from before. A chain started again at the same endpoint is another chain whatever its
 * genesis: a dev chain from the same spec has the same genesis and a history of its own, where the
 * nonces and the blocks a mortal extrinsic names do not exist. Its pool keeps or drops what this
 * port signs without an answer.
 *
 * So the watch keeps the last block the adapter's scan read (number and hash; the scan reads
 * finalized blocks, which never change on a chain), and each reconnect reads block 0's hash and
 * that block's hash again. Either one
 * differing is another chain (`changed`), for good: the port's state is the old chain's.
 *
 * Where the adapter has several endpoints (nodes of one chain), a reconnect may reach another node
 * than the one the block was read from, and that node may not have it yet (it finalizes a block or
 * two later). A block missing there is asked for again every LAG_RETRY_MS, the port unusable
 * meanwhile, and counts as another chain only once LAG_WAIT_MS have passed. A block missing at the
 * node it was read from, or a block there with another hash, is another chain at once.
 */
export class ChainConnection {
  private readonly listeners = new Set<(e: ChainConnectionEvent) => void>()
  private changedTo?: Extract<ChainConnectionEvent, { kind: 'changed' }>
  private wasLost = false
  /** the last block of this chain the adapter's scan read, and the endpoint it was read from */
  private known?: { number: number, hash: string, endpoint?: string }
  /** the endpoint of the last socket found serving this chain (what a drop left) */
  private usedEndpoint?: string
  /** the waits of a check for a node behind this port's block: `stop` ends them */
  private readonly pauses = new Set<() => void>()
  /** the check of a reconnect, while it runs */
  private checking?: Promise<void>
  private retry?: TimerHandle
  /** the next drop is the adapter's own, of a socket whose node stopped answering */
  private dropping = false
  private stopped = false

  /**
   * `clock`: the check's read deadlines and its retry run on it. `endpoint`: the endpoint the
   * socket is on now, where the adapter has several (provider.ts)
   */
  constructor (private readonly api: WatchedApi, private readonly clock: Clock = systemClock, private readonly endpoint?: () => string) {
    this.usedEndpoint = endpoint?.()
    api.on('disconnected', () => {
      const unresponsive = this.dropping
      this.dropping = false
      if (this.wasLost) return
      this.wasLost = true
      const at = this.usedEndpoint
      this.emit({ kind: 'lost', ...(unresponsive ? { unresponsive } : {}), ...(at != null ? { endpoint: at } : {}) })
    })
    api.on('connected', () => { if (!this.stopped) this.recheck() })
  }

  /**
   * The adapter drops the socket because its node stopped answering (health.ts): `drop` does it,
   * and the drop it causes says so (`lost` with `unresponsive`). Returns what `drop` returned
   * (false: nothing dropped).
   */
  dropUnresponsive (drop: () => boolean): boolean {
    this.dropping = true
    const dropped = drop()
    if (!dropped) this.dropping = false
    return dropped
  }

  /** no more checks: a retry waiting is cleared (the adapter's close) */
  stop (): void {
    this.stopped = true
    this.retry?.clear()
    this.retry = undefined
    for (const end of [...this.pauses]) end()
  }

  /**
   * A block the adapter read while connected (its scan's), as the block a reconnect checks. Not
   * read here: @polkadot/api shares a call between concurrent callers and replays a rejection to
   * them, so a read of its own beside the adapter's could hand the adapter a stale failure.
   */
  saw (number: number, hash: string): void {
    if (this.changedTo == null && !this.wasLost && (this.known == null || number >= this.known.number)) {
      const endpoint = this.endpoint?.()
      this.known = endpoint != null ? { number, hash, endpoint } : { number, hash }
    }
  }

  /**
   * The socket is up and the chain is the one the port was opened on: after a drop, only once the
   * reconnect's check found the same chain
   */
  get usable (): boolean { return this.api.isConnected && !this.wasLost && this.changedTo == null }

  /**
   * For what signs: waits for a reconnect's check to end (an extrinsic signed for the old chain
   * would be kept or dropped by another one without an answer), then `assertSameChain`.
   */
  async checked (): Promise<void> {
    await this.checking
    this.assertSameChain()
  }

  /** @throws SubtensorError CHAIN_CHANGED once the endpoint served another chain */
  assertSameChain (): void {
    const c = this.changedTo
    if (c != null) throw new SubtensorError('CHAIN_CHANGED', `the endpoint now serves another chain (${describeChange(c)}); restart the daemon to use it`)
  }

  onEvent (fn: (e: ChainConnectionEvent) => void): () => void {
    this.listeners.add(fn)
    return () => { this.listeners.delete(fn) }
  }

  /** after a (re)connect: the same chain, or another one */
  async check (): Promise<void> {
    if (this.changedTo != null) return
    const was = this.api.genesisHash.toHex()
    const endpoint = this.endpoint?.()
    const known = this.known
    const since = this.clock.now()
    // bounded: on a node that answers nothing the check would never end, and what signs waits for it
    const hashOf = async (n: number): Promise<string> => (await answered(this.api.rpc.chain.getBlockHash(n), 'chain_getBlockHash', { clock: this.clock })).toHex()
    let genesis: string
    let atKnown: string | undefined
    try {
      genesis = await hashOf(0)
      atKnown = known != null ? await hashOf(known.number) : undefined
      // another node of the chain, behind the one the block was read from: asked again until it
      // has the block, LAG_WAIT_MS at most; a drop meanwhile leaves it to the next connect's check
      while (known?.endpoint != null && endpoint !== known.endpoint && genesis === was && isEmptyHash(atKnown) && this.clock.now() - since < LAG_WAIT_MS) {
        if (!await this.pause(LAG_RETRY_MS) || !this.api.isConnected || this.endpoint?.() !== endpoint) return
        atKnown = await hashOf(known.number)
      }
    } catch {
      // dropped again before it answered: the next connect checks. Still connected (a read failed
      // for another reason, or was not answered): again in a second, or the port would stay unusable
      this.checkAgain(CHECK_RETRY_MS)
      return
    }
    if (genesis !== was || (known != null && atKnown !== known.hash)) {
      this.changedTo = { kind: 'changed', genesis, was, ...(known != null && genesis === was ? { block: known.number, blockHash: atKnown ?? '', blockWas: known.hash } : {}), ...(endpoint != null ? { endpoint } : {}) }
      this.emit(this.changedTo)
      return
    }
    this.usedEndpoint = endpoint
    if (this.wasLost) {
      this.wasLost = false
      this.emit(endpoint != null ? { kind: 'restored', endpoint } : { kind: 'restored' })
    }
  }

  /** resolves true after `ms` of the clock, false at once on `stop` */
  private async pause (ms: number): Promise<boolean> {
    if (this.stopped) return false
    return await new Promise<boolean>((resolve) => {
      const end = (): void => { this.pauses.delete(end); timer.clear(); resolve(false) }
      const timer = this.clock.setTimeout(() => { this.pauses.delete(end); resolve(true) }, ms)
      this.pauses.add(end)
    })
  }

  /** the check again after `ms`, while the socket stays up (a reconnect checks by itself) */
  private checkAgain (ms: number): void {
    if (!this.api.isConnected || this.stopped) return
    this.retry?.clear()
    this.retry = this.clock.setTimeout(() => {
      this.retry = undefined
      if (this.api.isConnected && this.checking == null && !this.stopped) this.recheck()
    }, ms)
  }

  private recheck (): void {
    const run = this.check()
    this.checking = run
    void run.finally(() => { if (this.checking === run) this.checking = undefined })
  }

  private emit (e: ChainConnectionEvent): void {
    for (const fn of this.listeners) {
      try { fn(e) } catch {}
    }
  }
}

/** a block past the chain's head: null from the node, the empty (all-zero) hash read through polkadot-js */
export function isEmptyHash (h: unknown): boolean {
  return h == null || (typeof h === 'string' && /^(0x)?0*$/.test(h))
}

/** what differs, for a log line or an error */
export function describeChange (c: Extract<ChainConnectionEvent, { kind: 'changed' }>): string {
  if (c.genesis !== c.was) return `genesis ${c.genesis}, this node opened ${c.was}`
  const missing = isEmptyHash(c.blockHash)
  return `the same genesis, but block #${c.block ?? '?'} is ${missing ? 'not there' : c.blockHash} where this node saw ${c.blockWas ?? '?'}: a chain started again from the same spec`
}
