import type { ChainPort } from '../../escrow/chain/port.js'
import { STANDING, type Standing, type StandingOf } from '../../market/types.js'
import type { Clock, TimerHandle } from '../../util/clock.js'
import type { Logger } from '../logger.js'
import type { NodeService } from './types.js'

/** how often the registered hotkeys are read again (a registration or deregistration shows within it) */
export const REGISTRY_REFRESH_MS = 10 * 60_000

/**
 * The standing of each party in the node's order book (market `Standing`): the node's own hotkey
 * first, then the hotkeys registered on the market's subnet, then everyone else.
 *
 * Why registration: a hotkey costs nothing to make, so a book that is full cannot tell an honest
 * supplier from one of ten thousand fresh keys by anything in their messages. A UID on the subnet
 * costs a registration burn and there are few of them (256 on most subnets of the main network),
 * as on the compute subnets whose miners register to sell. Unregistered suppliers still trade:
 * standing only decides who is evicted from a full book.
 *
 * The set is read from the chain (`ChainPort.registeredHotkeys`) at start and every
 * `intervalMs`; a read that fails keeps the last set and is logged. A set that changed (the first
 * read among them: the book fills from gossip before it) has the book rank its entries and
 * tombstones again (`onChange`). On a chain without subnets (the embedded ledger) only the node's
 * own hotkey stands out.
 */
export class SubnetRegistry implements NodeService {
  readonly name = 'subnet-registry'
  private registered: ReadonlySet<string> = new Set()
  private timer?: TimerHandle
  private running?: Promise<void>
  private readonly controller = new AbortController()
  private chain?: Pick<ChainPort, 'registeredHotkeys'>

  /** built with the node (its book asks `standingOf` from the first message); `watch` names the chain */
  constructor (private readonly c: {
    /** lowercase hex of the node's own hotkey */
    ownHotkey: string
    clock: Clock
    logger: Logger
    netuid: number
    intervalMs?: number
    /** the set read differs from the one before: the book asks its parties' standing again */
    onChange?: () => void
  }) {}

  /** the chain to read, once the node's roles opened it (before `start`) */
  watch (chain: Pick<ChainPort, 'registeredHotkeys'>): void { this.chain = chain }

  /** the book's `standing` (see `OrderBookInit`) */
  readonly standingOf: StandingOf = (_hotkey, hex): Standing =>
    hex === this.c.ownHotkey ? STANDING.own : this.registered.has(hex) ? STANDING.registered : STANDING.none

  /** how many hotkeys the last read found registered */
  get size (): number { return this.registered.size }

  /** the first read runs in the background: the node does not wait on the chain for its book */
  async start (): Promise<void> {
    if (this.chain?.registeredHotkeys == null) return
    void this.refresh()
    this.timer = this.c.clock.setInterval(() => { void this.refresh() }, this.c.intervalMs ?? REGISTRY_REFRESH_MS)
  }

  async stop (): Promise<void> {
    this.timer?.clear()
    this.timer = undefined
    this.controller.abort()
    await this.running
  }

  /** one read, unless one is running (then that one's end); failures are logged, never thrown */
  async refresh (): Promise<void> {
    const read = this.chain?.registeredHotkeys?.bind(this.chain)
    if (read == null || this.controller.signal.aborted) return
    if (this.running != null) return await this.running
    const signal = this.controller.signal
    this.running = (async () => {
      try {
        const found = await read(this.c.netuid, { signal })
        const changed = found.size !== this.registered.size || [...found].some((h) => !this.registered.has(h))
        this.registered = found
        if (changed) {
          this.c.logger.info('hotkeys registered on the subnet', { netuid: this.c.netuid, count: found.size })
          this.c.onChange?.()
        }
      } catch (err) {
        if (!signal.aborted) this.c.logger.warn('reading the subnet\'s registered hotkeys failed; the last set stands until the next read', { netuid: this.c.netuid, err })
      } finally {
        this.running = undefined
      }
    })()
    await this.running
  }
}
