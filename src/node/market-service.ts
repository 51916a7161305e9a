import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import { OrderBook, MarketError, offerKey, type MarketErrorCode, type OfferEntry, type StandingOf } from '../market/index.js'
import type { Offer } from '../wire/market.js'
import { Envelope } from '../wire/market.js'
import { fetchOffers, registerOffersFetchHandler } from '../protocols/negotiate/index.js'
import { classesToProvide, gpuClassCid, gpuFamily } from '../protocols/discovery/gpu-records.js'
import { TOPIC_OFFERS } from '../protocols/gossip/topics.js'
import type { MarketMessageValidator, ValidatedMessage } from '../protocols/gossip/validate.js'
import type { Host } from './host.js'
import type { Logger } from './logger.js'
import type { Clock, TimerHandle } from '../util/clock.js'
import type { Counter, Registry } from './metrics.js'

/** how long one DHT provide may run */
const PROVIDE_TIMEOUT_MS = 30_000
/** a class whose provide failed is tried again after this long */
const PROVIDE_RETRY_MS = 60_000

/** the supplier node's peer id, from the /p2p/ component of the addresses it signed into its offer */
export function peerOfAddrs (addrs: Uint8Array[]): { peer?: PeerId, addrs: Multiaddr[] } {
  const mas: Multiaddr[] = []
  let peer: PeerId | undefined
  for (const a of addrs) {
    try {
      const ma = multiaddr(a)
      mas.push(ma)
      const id = ma.getComponents().find((c) => c.name === 'p2p')?.value
      if (id != null && peer == null) peer = peerIdFromString(id)
    } catch {}
  }
  return { peer, addrs: mas }
}

export interface MarketServiceComponents {
  host: Host
  clock: Clock
  logger: Logger
  validator: MarketMessageValidator
  metrics: Registry
  /** each party's standing when the book is full (see `Standing`); default: all alike */
  standing?: StandingOf
}

/**
 * The node's view of the market: the order book fed by validated gossip and by offers fetched
 * from suppliers found through DHT provider records; and, for a supplier, the records it provides
 * and the offers-fetch protocol it serves.
 */
export class MarketService {
  readonly book: OrderBook
  private readonly ownOffers = new Map<string, { offer: Offer, envelope: Uint8Array }>()
  private stopFetch?: () => Promise<void>
  /** GPU classes provided, and those queued or being provided */
  private readonly provided = new Set<string>()
  private readonly providing = new Set<string>()
  private readonly provideQueue: string[] = []
  private provideRun?: Promise<void>
  private readonly retryTimers = new Set<TimerHandle>()
  private readonly stopping = new AbortController()
  private readonly peerOfAddrs = new Map<string, string | undefined>()
  private readonly bookEvents: Counter
  private readonly offerListeners = new Set<(entry: OfferEntry) => void>()

  constructor (private readonly c: MarketServiceComponents) {
    this.book = new OrderBook({ clock: c.clock, maxOffers: 100_000, maxBids: 100_000, standing: c.standing })
    this.bookEvents = c.metrics.counter('bazaar_book_updates_total', 'order book updates by kind and result')
    c.metrics.gauge('bazaar_book_offers', 'offers resting in the order book').collect(() => this.book.offerCount)
    c.metrics.gauge('bazaar_book_bids', 'bids resting in the order book').collect(() => this.book.bidCount)
  }

  async start (): Promise<void> {
    const svc = await registerOffersFetchHandler(this.c.host, {
      clock: this.c.clock,
      offers: (gpu) => [...this.ownOffers.values()]
        .filter(({ offer }) => gpu === '' || offer.gpus.some((g) => g.model === gpu || gpuFamily(g.model) === gpu))
        .map(({ envelope }) => Envelope.decode(envelope))
    })
    this.stopFetch = svc.stop
  }

  async stop (): Promise<void> {
    this.stopping.abort()
    for (const t of this.retryTimers) t.clear()
    this.retryTimers.clear()
    await this.stopFetch?.()
  }

  /**
   * Applies a validated message to the book (ours or a peer's). Returns 'applied', or the code of
   * the book's refusal (STALE: it holds a newer version or a tombstone; BOOK_FULL, SUPPLIER_LIMIT:
   * no room), or 'ERROR' for a failure of the book itself (logged).
   */
  apply (m: ValidatedMessage, source: 'gossip' | 'fetch' | 'local' = 'gossip', own = false): 'applied' | MarketErrorCode | 'ERROR' {
    try {
      if (m.kind === 'offer') {
        const peer = this.peerOf(m.offer.addrs)
        // a cancel goes through the book too: it leaves a tombstone, so an older copy heard later stays out
        const status = this.book.upsertOffer(m.offer, { peer, source, envelope: m.data })
        if (own) {
          if (m.offer.cancelled) this.ownOffers.delete(m.offer.id)
          else this.ownOffers.set(m.offer.id, { offer: m.offer, envelope: m.data })
        }
        if (status === 'added' || status === 'replaced') this.offerResting(m.offer)
      } else {
        this.book.upsertBid(m.bid, { source, envelope: m.data })
      }
      this.bookEvents.inc({ kind: m.kind, result: 'applied' })
      return 'applied'
    } catch (err) {
      const result = err instanceof MarketError ? err.code : 'ERROR'
      this.bookEvents.inc({ kind: m.kind, result })
      if (!(err instanceof MarketError)) this.c.logger.warn('order book update failed', { err })
      return result
    }
  }

  /**
   * Calls `fn` with every offer that enters the book or changes there (from gossip, a fetch or our
   * own publication; not a cancel, which makes no match possible). A renter waiting for a match
   * re-runs its match on each, instead of polling the book. Returns the function that removes it.
   */
  onOffer (fn: (entry: OfferEntry) => void): () => void {
    this.offerListeners.add(fn)
    return () => { this.offerListeners.delete(fn) }
  }

  private offerResting (offer: Offer): void {
    if (this.offerListeners.size === 0) return
    const entry = this.book.getOffer(offerKey(offer))
    if (entry == null) return
    for (const fn of [...this.offerListeners]) {
      try { fn(entry) } catch (err) { this.c.logger.warn('offer listener failed', { err }) }
    }
  }

  /**
   * The supplier node's peer id (text) from its offer's addresses, remembered by the address bytes:
   * a supplier re-publishes the same addresses, and parsing them costs more than the book update.
   */
  private peerOf (addrs: Uint8Array[]): string | undefined {
    // length-prefixed, so two different address lists never share a key
    const key = addrs.map((a) => `${a.byteLength}:${Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('latin1')}`).join('')
    if (this.peerOfAddrs.has(key)) return this.peerOfAddrs.get(key)
    const peer = peerOfAddrs(addrs).peer?.toString()
    if (this.peerOfAddrs.size >= 16_384) this.peerOfAddrs.clear()
    this.peerOfAddrs.set(key, peer)
    return peer
  }

  /** our current offers, by id (negotiation re-checks proposals against them) */
  ownOffer (id: string): Offer | undefined { return this.ownOffers.get(id)?.offer }

  /**
   * Asks for DHT records of the GPU classes of our offers (model and family). It returns at once:
   * the provides run one at a time in the background, each class once per process (kad-dht's
   * reprovider refreshes the records every hour on its own), so a supplier that publishes often
   * never starts a provide per publication or two of one class at once. A class whose provide failed
   * is tried again after `PROVIDE_RETRY_MS`, not at the next publication. The returned promise ends
   * when the queue is empty (tests wait on it; the node does not).
   */
  provideClasses (models: string[]): Promise<void> {
    // a host built without kad-dht has nowhere to provide
    if (this.stopping.signal.aborted || this.c.host.services.dht == null) return Promise.resolve()
    for (const cls of classesToProvide(models)) {
      if (this.provided.has(cls) || this.providing.has(cls)) continue
      this.providing.add(cls)
      this.provideQueue.push(cls)
    }
    this.provideRun ??= this.drainProvides().finally(() => { this.provideRun = undefined })
    return this.provideRun
  }

  /** GPU classes whose DHT record this node provided */
  get providedClasses (): string[] { return [...this.provided] }

  private async drainProvides (): Promise<void> {
    const routing = this.c.host.contentRouting
    for (let cls = this.provideQueue.shift(); cls !== undefined; cls = this.provideQueue.shift()) {
      // wall time: it bounds DHT queries on the wire; the retry below is protocol time, on the clock
      const signal = AbortSignal.any([this.stopping.signal, AbortSignal.timeout(PROVIDE_TIMEOUT_MS)])
      try {
        await routing.provide(await gpuClassCid(cls), { signal })
        this.provided.add(cls)
        this.providing.delete(cls)
        this.c.logger.debug('provided GPU class record', { class: cls })
      } catch (err) {
        if (this.stopping.signal.aborted) return
        this.c.logger.debug('providing a GPU class record failed (tried again later)', { class: cls, err })
        const retry = this.c.clock.setTimeout(() => {
          this.retryTimers.delete(retry)
          this.providing.delete(cls)
          void this.provideClasses([cls])
        }, PROVIDE_RETRY_MS)
        this.retryTimers.add(retry)
      }
    }
  }

  /**
   * Finds suppliers of a GPU class through the DHT and pulls their current offers into the book,
   * each validated exactly like gossip. Returns how many offers entered the book.
   */
  async discover (cls: string, opts: { signal?: AbortSignal, maxProviders?: number } = {}): Promise<number> {
    // wall time: a bound on DHT and stream I/O with remote peers
    const signal = opts.signal ?? AbortSignal.timeout(20_000)
    let added = 0
    let seen = 0
    try {
      for await (const prov of this.c.host.contentRouting.findProviders(await gpuClassCid(cls), { signal })) {
        if (prov.id.equals(this.c.host.peerId)) continue
        if (++seen > (opts.maxProviders ?? 20)) break
        try {
          added += await this.pullOffers(prov.multiaddrs.length > 0 ? prov.multiaddrs : prov.id, { gpu: cls, signal })
        } catch (err) {
          this.c.logger.debug('offers fetch failed', { peer: prov.id.toString(), err })
        }
      }
    } catch (err) {
      this.c.logger.debug('DHT provider lookup ended', { class: cls, err })
    }
    return added
  }

  /**
   * Pulls one supplier node's current offers (offers-fetch) into the book, each validated exactly
   * like gossip: what it re-published while this node missed the gossip. Returns how many entered
   * the book (one already held, or refused, enters nothing).
   * @throws the fetch's stream or dial error
   */
  async pullOffers (peer: Parameters<typeof fetchOffers>[1], opts: { gpu?: string, signal?: AbortSignal } = {}): Promise<number> {
    let added = 0
    for (const env of await fetchOffers(this.c.host, peer, opts)) {
      try {
        const v = this.c.validator.validate(TOPIC_OFFERS, Envelope.encode(env))
        this.apply(v, 'fetch')
        added++
      } catch {
        // already held (DUPLICATE / STALE_SEQUENCE) or invalid: the validator decided
      }
    }
    return added
  }
}
