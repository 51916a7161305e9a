import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import { OrderBook, MarketError } from '../market/index.js'
import type { Offer } from '../protocols/schema/market.js'
import { Envelope } from '../protocols/schema/market.js'
import { fetchOffers, registerOffersFetchHandler } from '../protocols/negotiate/index.js'
import { classesToProvide, gpuClassCid, gpuFamily } from '../protocols/discovery/gpu-records.js'
import { TOPIC_OFFERS } from '../protocols/gossip/topics.js'
import type { MarketMessageValidator, ValidatedMessage } from '../protocols/gossip/validate.js'
import type { Host } from './host.js'
import type { Logger } from './logger.js'
import type { Clock } from '../util/clock.js'
import type { Counter, Registry } from './metrics.js'

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
  private readonly provided = new Set<string>()
  private readonly bookEvents: Counter

  constructor (private readonly c: MarketServiceComponents) {
    this.book = new OrderBook({ clock: c.clock, maxOffers: 100_000, maxBids: 100_000 })
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
    await this.stopFetch?.()
  }

  /** applies a validated message to the book (ours or a peer's) */
  apply (m: ValidatedMessage, source: 'gossip' | 'fetch' | 'local' = 'gossip', own = false): void {
    try {
      if (m.kind === 'offer') {
        const { peer } = peerOfAddrs(m.offer.addrs)
        // a cancel goes through the book too: it leaves a tombstone, so an older copy heard later stays out
        this.book.upsertOffer(m.offer, { peer: peer?.toString(), source, envelope: m.data })
        if (own) {
          if (m.offer.cancelled) this.ownOffers.delete(m.offer.id)
          else this.ownOffers.set(m.offer.id, { offer: m.offer, envelope: m.data })
        }
      } else {
        this.book.upsertBid(m.bid, { source, envelope: m.data })
      }
      this.bookEvents.inc({ kind: m.kind, result: 'applied' })
    } catch (err) {
      this.bookEvents.inc({ kind: m.kind, result: err instanceof MarketError ? err.code : 'ERROR' })
      if (!(err instanceof MarketError)) this.c.logger.warn('order book update failed', { err })
    }
  }

  /** our current offers, by id (negotiation re-checks proposals against them) */
  ownOffer (id: string): Offer | undefined { return this.ownOffers.get(id)?.offer }

  /**
   * Provides DHT records for the GPU classes of our offers (model and family), once each per
   * process; kad-dht re-provides them on its own schedule.
   */
  async provideClasses (models: string[], opts: { signal?: AbortSignal } = {}): Promise<void> {
    for (const cls of classesToProvide(models)) {
      if (this.provided.has(cls)) continue
      try {
        await this.c.host.contentRouting.provide(await gpuClassCid(cls), { signal: opts.signal ?? AbortSignal.timeout(30_000) })
        this.provided.add(cls)
        this.c.logger.debug('provided GPU class record', { class: cls })
      } catch (err) {
        this.c.logger.debug('providing a GPU class record failed (will retry at the next publication)', { class: cls, err })
      }
    }
  }

  /**
   * Finds suppliers of a GPU class through the DHT and pulls their current offers into the book,
   * each validated exactly like gossip. Returns how many offers entered the book.
   */
  async discover (cls: string, opts: { signal?: AbortSignal, maxProviders?: number } = {}): Promise<number> {
    const signal = opts.signal ?? AbortSignal.timeout(20_000)
    let added = 0
    let seen = 0
    try {
      for await (const prov of this.c.host.contentRouting.findProviders(await gpuClassCid(cls), { signal })) {
        if (prov.id.equals(this.c.host.peerId)) continue
        if (++seen > (opts.maxProviders ?? 20)) break
        try {
          const envs = await fetchOffers(this.c.host, prov.multiaddrs.length > 0 ? prov.multiaddrs : prov.id, { gpu: cls, signal })
          for (const env of envs) {
            try {
              const v = this.c.validator.validate(TOPIC_OFFERS, Envelope.encode(env))
              this.apply(v, 'fetch')
              added++
            } catch {
              // already held (DUPLICATE / STALE_SEQUENCE) or invalid: the validator decided
            }
          }
        } catch (err) {
          this.c.logger.debug('offers fetch failed', { peer: prov.id.toString(), err })
        }
      }
    } catch (err) {
      this.c.logger.debug('DHT provider lookup ended', { class: cls, err })
    }
    return added
  }
}
