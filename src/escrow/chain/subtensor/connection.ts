import type { ChainConnectionEvent } from '../port.js'
import { systemClock, type Clock, type TimerHandle } from '../../../util/clock.js'
import { SubtensorError } from './errors.js'
import { answered } from './submit.js'

/** the wait before a failed check is tried again on a socket that stayed up */
const CHECK_RETRY_MS = 1_000

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
 */
export class ChainConnection {
  private readonly listeners = new Set<(e: ChainConnectionEvent) => void>()
  private changedTo?: Extract<ChainConnectionEvent, { kind: 'changed' }>
  private wasLost = false
  /** the last block of this chain the adapter's scan read */
  private known?: { number: number, hash: string }
  /** the check of a reconnect, while it runs */
  private checking?: Promise<void>
  private retry?: TimerHandle
  /** the next drop is the adapter's own, of a socket whose node stopped answering */
  private dropping = false
  private stopped = false

  /** `clock`: the check's read deadlines and its retry run on it */
  constructor (private readonly api: WatchedApi, private readonly clock: Clock = systemClock) {
    api.on('disconnected', () => {
      const unresponsive = this.dropping
      this.dropping = false
      if (this.wasLost) return
      this.wasLost = true
      this.emit(unresponsive ? { kind: 'lost', unresponsive } : { kind: 'lost' })
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
  }

  /**
   * A block the adapter read while connected (its scan's), as the block a reconnect checks. Not
   * read here: @polkadot/api shares a call between concurrent callers and replays a rejection to
   * them, so a read of its own beside the adapter's could hand the adapter a stale failure.
   */
  saw (number: number, hash: string): void {
    if (this.changedTo == null && !this.wasLost && (this.known == null || number >= this.known.number)) this.known = { number, hash }
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
    let genesis: string
    let atKnown: string | undefined
    try {
      // bounded: on a node that answers nothing the check would never end, and what signs waits for it
      genesis = (await answered(this.api.rpc.chain.getBlockHash(0), 'chain_getBlockHash', { clock: this.clock })).toHex()
      const known = this.known
      atKnown = known != null ? (await answered(this.api.rpc.chain.getBlockHash(known.number), 'chain_getBlockHash', { clock: this.clock })).toHex() : undefined
    } catch {
      // dropped again before it answered: the next connect checks. Still connected (a read failed
      // for another reason, or was not answered): again in a second, or the port would stay unusable
      if (this.api.isConnected && !this.stopped) {
        this.retry?.clear()
        this.retry = this.clock.setTimeout(() => {
          this.retry = undefined
          if (this.api.isConnected && this.checking == null && !this.stopped) this.recheck()
        }, CHECK_RETRY_MS)
      }
      return
    }
    const known = this.known
    if (genesis !== was || (known != null && atKnown !== known.hash)) {
      this.changedTo = { kind: 'changed', genesis, was, ...(known != null && genesis === was ? { block: known.number, blockHash: atKnown ?? '', blockWas: known.hash } : {}) }
      this.emit(this.changedTo)
      return
    }
    if (this.wasLost) {
      this.wasLost = false
      this.emit({ kind: 'restored' })
    }
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

/** what differs, for a log line or an error */
export function describeChange (c: Extract<ChainConnectionEvent, { kind: 'changed' }>): string {
  if (c.genesis !== c.was) return `genesis ${c.genesis}, this node opened ${c.was}`
  // a block past the chain's head reads as the empty (all-zero) hash
  const missing = c.blockHash == null || /^(0x)?0*$/.test(c.blockHash)
  return `the same genesis, but block #${c.block ?? '?'} is ${missing ? 'not there' : c.blockHash} where this node saw ${c.blockWas ?? '?'}: a chain started again from the same spec`
}
