import type { ChainPort } from '../../escrow/chain/port.js'
import { STANDING, type Standing, type StandingOf } from '../../market/types.js'
import { abortable } from '../../util/abortable.js'
import type { Clock, TimerHandle } from '../../util/clock.js'
import type { Logger } from '../logger.js'
import type { NodeService } from './types.js'

/** how often the registered hotkeys are read again (a registration or deregistration shows within it) */
export const REGISTRY_REFRESH_MS = 10 * 60_000
/** the wait before reading again after a failed read, doubled after each failure up to the interval */
export const REGISTRY_RETRY_MS = 15_000
/**
 * How old a stored set may be and still stand in at a start, until the first read answers. A
 * subnet's UIDs change hands slowly (a new registration is immune from pruning for hours), and
 * the first read corrects whatever changed.
 */
export const REGISTRY_STORED_MAX_AGE_MS = 7 * 86_400_000
/** the kept set is written again at least this often, so that its age says when it was last read */
const KEEP_EVERY_MS = 3_600_000
/** the most hotkeys a read returns (the adapter's bound), and so the most a stored set holds */
const REGISTRY_MAX_HOTKEYS = 65_536
/** how long a start waits for the chain's genesis hash before going on without the stored set */
const GENESIS_WAIT_MS = 2_000

/** where the last set read is kept in the node's database: one key per subnet */
export const REGISTRY_DB_PREFIX = 'v1-subnet-registry'

/** The node database's part the registry uses (a LevelDB `get` answers undefined for a missing key). */
export interface RegistryStore {
  get: (key: string) => Promise<string | undefined>
  put: (key: string, value: string) => Promise<void>
}

/** the chain as the registry reads it */
export type RegistryChain = Pick<ChainPort, 'registeredHotkeys'> & { info?: () => Promise<{ genesis?: string }> }

/** A set as stored: the chain (its genesis hash) and subnet it was read from, and when. */
interface StoredSet {
  v: 1
  genesis: string
  netuid: number
  readAt: number
  hotkeys: string[]
}

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
 * `intervalMs`; a read that fails keeps the last set, is logged, and is tried again sooner
 * (`REGISTRY_RETRY_MS`, doubling up to the interval). A set that changed (the first read among
 * them: the book fills from gossip before it) has the book rank its entries and tombstones again
 * (`onChange`). On a chain without subnets (the embedded ledger) only the node's own hotkey stands
 * out.
 *
 * Each set read is kept in the node's database with the chain's genesis hash and the time of the
 * read. A start uses the kept set of the same chain and subnet (at most
 * `REGISTRY_STORED_MAX_AGE_MS` old) until its own first read answers: the book fills from its
 * peers within seconds of a start, and without it every party would count as unregistered then,
 * or for as long as the chain does not answer the read.
 */
export class SubnetRegistry implements NodeService {
  readonly name = 'subnet-registry'
  private registered: ReadonlySet<string> = new Set()
  private timer?: TimerHandle
  private running?: Promise<void>
  private readonly controller = new AbortController()
  private chain?: RegistryChain
  /** the chain's genesis hash, once asked (undefined: unknown, the set is not kept) */
  private genesis?: string
  /** whether a read has answered since the start (a kept set then no longer stands in) */
  private read = false
  /** failed reads in a row, for the retry's wait */
  private failures = 0
  /** when the kept set was read */
  private storedAt = 0

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
    /** where the last set read is kept across restarts (the node's database) */
    store?: RegistryStore
  }) {}

  /** the chain to read, once the node's roles opened it (before `start`) */
  watch (chain: RegistryChain): void { this.chain = chain }

  /** the book's `standing` (see `OrderBookInit`) */
  readonly standingOf: StandingOf = (_hotkey, hex): Standing =>
    hex === this.c.ownHotkey ? STANDING.own : this.registered.has(hex) ? STANDING.registered : STANDING.none

  /** how many hotkeys the last read found registered */
  get size (): number { return this.registered.size }

  /**
   * The kept set of this chain and subnet stands in at once; the first read runs in the background:
   * the node does not wait on the chain for its book.
   */
  async start (): Promise<void> {
    if (this.chain?.registeredHotkeys == null) return
    await this.restore()
    this.cycle()
  }

  async stop (): Promise<void> {
    this.timer?.clear()
    this.timer = undefined
    this.controller.abort()
    await this.running
  }

  /** a read now, and the next one after it: the interval after a success, sooner after a failure */
  private cycle (): void {
    void this.refresh().then(() => {
      if (this.controller.signal.aborted) return
      const interval = this.c.intervalMs ?? REGISTRY_REFRESH_MS
      const wait = this.failures === 0 ? interval : Math.min(interval, REGISTRY_RETRY_MS * 2 ** Math.min(this.failures - 1, 20))
      this.timer = this.c.clock.setTimeout(() => { this.cycle() }, wait)
    })
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
        this.failures = 0
        this.read = true
        const changed = this.adopt(found)
        if (changed) this.c.logger.info('hotkeys registered on the subnet', { netuid: this.c.netuid, count: found.size })
        await this.keep(found, changed)
      } catch (err) {
        this.failures++
        if (!signal.aborted) this.c.logger.warn('reading the subnet\'s registered hotkeys failed; the last set stands until the next read', { netuid: this.c.netuid, failures: this.failures, err })
      } finally {
        this.running = undefined
      }
    })()
    await this.running
  }

  /** takes `found` as the set; true (and the book told) when it differs from the one before */
  private adopt (found: ReadonlySet<string>): boolean {
    const changed = found.size !== this.registered.size || [...found].some((h) => !this.registered.has(h))
    this.registered = found
    if (changed) this.c.onChange?.()
    return changed
  }

  private get storeKey (): string { return `${REGISTRY_DB_PREFIX}:${this.c.netuid}` }

  /** the set kept by an earlier run on this chain and subnet, where there is a recent one */
  private async restore (): Promise<void> {
    const store = this.c.store
    if (store == null) return
    try {
      this.genesis = await this.chainGenesis()
      if (this.genesis == null) return
      const raw = await store.get(this.storeKey)
      const kept = raw != null ? parseStoredSet(raw) : undefined
      if (kept == null || kept.genesis !== this.genesis || kept.netuid !== this.c.netuid) return
      const age = this.c.clock.now() - kept.readAt
      if (age < 0 || age > REGISTRY_STORED_MAX_AGE_MS || this.read) return
      this.storedAt = kept.readAt
      this.adopt(new Set(kept.hotkeys))
      this.c.logger.info('hotkeys registered on the subnet, as last read, until the chain answers', { netuid: this.c.netuid, count: kept.hotkeys.length, readAt: new Date(kept.readAt).toISOString() })
    } catch (err) {
      this.c.logger.warn('the kept set of registered hotkeys could not be read; every party but this node counts as unregistered until the chain answers', { netuid: this.c.netuid, err })
    }
  }

  /** keeps a set read, when it changed or the kept one is an hour old; a failure is logged only */
  private async keep (found: ReadonlySet<string>, changed: boolean): Promise<void> {
    const store = this.c.store
    if (store == null) return
    // not known at start (the chain slow or away then): asked again here, or nothing is ever kept
    this.genesis ??= await this.chainGenesis().catch(() => undefined)
    if (this.genesis == null) return
    const now = this.c.clock.now()
    if (!changed && now - this.storedAt < KEEP_EVERY_MS) return
    const kept: StoredSet = { v: 1, genesis: this.genesis, netuid: this.c.netuid, readAt: now, hotkeys: [...found] }
    try {
      await store.put(this.storeKey, JSON.stringify(kept))
      this.storedAt = now
    } catch (err) {
      this.c.logger.warn('keeping the set of registered hotkeys failed', { netuid: this.c.netuid, err })
    }
  }

  /** the chain's genesis hash, asked within GENESIS_WAIT_MS; undefined where the chain does not say */
  private async chainGenesis (): Promise<string | undefined> {
    const info = this.chain?.info?.bind(this.chain)
    if (info == null) return undefined
    const signal = AbortSignal.any([AbortSignal.timeout(GENESIS_WAIT_MS), this.controller.signal])
    return (await abortable(info(), signal)).genesis
  }
}

/** a stored set, or undefined where the text is not one (bounded: at most the adapter's bound of hotkeys) */
function parseStoredSet (raw: string): StoredSet | undefined {
  if (raw.length > (REGISTRY_MAX_HOTKEYS + 1) * 72) return undefined
  let v: unknown
  try { v = JSON.parse(raw) } catch { return undefined }
  if (typeof v !== 'object' || v === null) return undefined
  const o = v as Partial<StoredSet>
  if (o.v !== 1 || typeof o.genesis !== 'string' || !Number.isSafeInteger(o.netuid) || !Number.isSafeInteger(o.readAt) || !Array.isArray(o.hotkeys)) return undefined
  if (o.hotkeys.length > REGISTRY_MAX_HOTKEYS || !o.hotkeys.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h))) return undefined
  return o as StoredSet
}
