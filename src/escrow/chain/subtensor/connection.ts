import type { ChainConnectionEvent } from '../port.js'
import { SubtensorError } from './errors.js'

/** the wait before a failed genesis read is tried again on a socket that stayed up (wall time: I/O) */
const CHECK_RETRY_MS = 1_000

/** The part of @polkadot/api the watch uses. */
export interface WatchedApi {
  readonly isConnected: boolean
  readonly genesisHash: { toHex: () => string }
  on: (event: 'connected' | 'disconnected', fn: () => void) => unknown
  rpc: { chain: { getBlockHash: (n: number) => Promise<{ toHex: () => string }> } }
}

/**
 * Watches the connection of an ApiPromise: @polkadot/api reconnects by itself and, on reconnect,
 * assumes the same chain (it keeps the genesis hash and metadata it loaded first). A chain started
 * again at the same endpoint has another genesis, and every extrinsic signed for the old one is
 * dropped by the new one's pool without an answer. So each reconnect reads block 0's hash again
 * and compares it with the genesis the port was opened on.
 */
export class ChainConnection {
  private readonly listeners = new Set<(e: ChainConnectionEvent) => void>()
  private changedTo?: { genesis: string, was: string }
  private wasLost = false

  /** the check of a reconnect, while it runs */
  private checking?: Promise<void>

  constructor (private readonly api: WatchedApi) {
    api.on('disconnected', () => {
      if (this.wasLost) return
      this.wasLost = true
      this.emit({ kind: 'lost' })
    })
    api.on('connected', () => { this.recheck() })
  }

  private recheck (): void {
    const run = this.check()
    this.checking = run
    void run.finally(() => { if (this.checking === run) this.checking = undefined })
  }

  /**
   * The socket is up and the chain is the one the port was opened on: after a drop, only once the
   * reconnect's check found the same genesis
   */
  get usable (): boolean { return this.api.isConnected && !this.wasLost && this.changedTo == null }

  /**
   * For what signs: waits for a reconnect's check to end (an extrinsic signed for the old genesis
   * would be dropped by another chain without an answer), then `assertSameChain`.
   */
  async checked (): Promise<void> {
    await this.checking
    this.assertSameChain()
  }

  /** @throws SubtensorError CHAIN_CHANGED once the endpoint served another chain */
  assertSameChain (): void {
    const c = this.changedTo
    if (c != null) throw new SubtensorError('CHAIN_CHANGED', `the endpoint now serves another chain (genesis ${c.genesis}, this node opened ${c.was}); restart the daemon to use it`)
  }

  onEvent (fn: (e: ChainConnectionEvent) => void): () => void {
    this.listeners.add(fn)
    return () => { this.listeners.delete(fn) }
  }

  /** after a (re)connect: the same chain, or another one */
  async check (): Promise<void> {
    if (this.changedTo != null) return
    let genesis: string
    try {
      genesis = (await this.api.rpc.chain.getBlockHash(0)).toHex()
    } catch {
      // dropped again before it answered: the next connect checks. Still connected (the read
      // failed for another reason): again in a second, or the port would stay unusable
      if (this.api.isConnected) setTimeout(() => { if (this.api.isConnected && this.checking == null) this.recheck() }, CHECK_RETRY_MS).unref()
      return
    }
    const was = this.api.genesisHash.toHex()
    if (genesis !== was) {
      this.changedTo = { genesis, was }
      this.emit({ kind: 'changed', genesis, was })
      return
    }
    if (this.wasLost) {
      this.wasLost = false
      this.emit({ kind: 'restored' })
    }
  }

  private emit (e: ChainConnectionEvent): void {
    for (const fn of this.listeners) {
      try { fn(e) } catch {}
    }
  }
}
