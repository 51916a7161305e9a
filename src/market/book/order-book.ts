import { Bid, Offer } from '../../wire/market.js'
import { systemClock, type Clock } from '../../util/clock.js'
import {
  DEFAULT_MAX_BIDS, DEFAULT_MAX_BIDS_PER_RENTER, DEFAULT_MAX_OFFERS, DEFAULT_MAX_OFFERS_PER_SUPPLIER,
  DEFAULT_MAX_TOMBSTONES
} from '../constants.js'
import { MarketError } from '../errors.js'
import type { BidEntry, BookFilters, EntryMeta, OfferEntry, OrderBookInit, UpsertStatus } from '../types.js'
import { compareBids, compareOffers } from './compare.js'
import { ExpiryHeap } from './expiry-heap.js'
import { teeMaskOf, regionId } from './attributes.js'
import { bidKey, hex, modelMatches } from './keys.js'
import { PartyIndex } from './party-index.js'
import { compareOfferExpiry, PURGE_SLACK, RestingOffer, SupplierSlots } from './slots.js'
import { SortedList } from './sorted-list.js'
import { BoundedMap } from '../../util/bounded-map.js'

const MAX_GPUS_PER_OFFER = 16

/**
 * A node's local order book: the offers and bids it has heard (gossip, DHT fetches, its own), with
 * price-time priority per GPU class.
 *
 * Rules (the same on every node, so books fed the same messages in any order end equal):
 * - one slot per (party hotkey, id); a message replaces the slot only with a higher `sequence`;
 * - a cancel (`cancelled` with a higher sequence) empties the slot and leaves a tombstone, so an
 *   older copy heard later cannot bring it back;
 * - two different messages with the same sequence (an equivocating signer) resolve the same way
 *   in any order: a cancel wins, otherwise the bytewise smaller canonical encoding;
 * - an entry whose `expiresAt` is not after now is refused, and `expire()` drops those that pass it;
 * - bounded: at most `maxOffers` offers and `maxOffersPerSupplier` per supplier (likewise bids).
 *   Eviction rule when full: expired entries go first; then the resting entry that expires soonest
 *   is evicted if it expires before the newcomer, otherwise the newcomer is refused (BOOK_FULL).
 *   A party over its own limit is refused (SUPPLIER_LIMIT) without touching anyone else's entries.
 *
 * Indexes: by GPU class (one price-time sorted list per model, see `compareOffers`), TEE kinds and
 * region as integer attributes of each entry (a bit mask and an id: the matching scan tests them
 * without touching strings), and a lazy expiry heap (expiry and the eviction rule). Offers are
 * held per supplier record (found by the hotkey's bytes, see `PartyIndex`) and then by id, so the
 * insert path builds no key string and hashes no hex text; that is most of its cost otherwise.
 */
export class OrderBook {
  private readonly clock: Clock
  private readonly maxOffers: number
  private readonly maxBids: number
  private readonly maxPerSupplier: number
  private readonly maxPerRenter: number
  private readonly maxTombstones: number

  private readonly suppliers = new PartyIndex<SupplierSlots>()
  private readonly suppliersByHex = new Map<string, SupplierSlots>()
  private offerTotal = 0
  private readonly byClass = new Map<string, SortedList<OfferEntry>>()
  private readonly offerExpiry = new ExpiryHeap<RestingOffer>((e) => e.live, compareOfferExpiry, (e) => e.slots.prefix)
  /** `<supplier hex>/<id>` → sequence of the cancel; counted per supplier in `SupplierSlots.tombstones` */
  private readonly offerTombstones: BoundedMap<string, bigint>

  private readonly bidMap = new Map<string, BidEntry>()
  private readonly bidOrder = new SortedList<BidEntry>(compareBids, 64, (e) => Number(e.bid.createdAt))
  private readonly bidExpiry = new ExpiryHeap<BidEntry>((e) => this.bidMap.get(e.key) === e)
  private readonly perRenter = new Map<string, number>()
  private readonly bidTombstones: BoundedMap<string, bigint>

  constructor (init: OrderBookInit = {}) {
    this.clock = init.clock ?? systemClock
    this.maxOffers = init.maxOffers ?? DEFAULT_MAX_OFFERS
    this.maxBids = init.maxBids ?? DEFAULT_MAX_BIDS
    this.maxPerSupplier = init.maxOffersPerSupplier ?? DEFAULT_MAX_OFFERS_PER_SUPPLIER
    this.maxPerRenter = init.maxBidsPerRenter ?? DEFAULT_MAX_BIDS_PER_RENTER
    this.maxTombstones = init.maxTombstones ?? DEFAULT_MAX_TOMBSTONES
    this.offerTombstones = new BoundedMap(this.maxTombstones)
    this.bidTombstones = new BoundedMap(this.maxTombstones)
  }

  /** the book's clock reading (matching uses it for expiry) */
  now (): number { return this.clock.now() }

  get offerCount (): number { return this.offerTotal }
  get bidCount (): number { return this.bidMap.size }

  /** GPU classes with at least one resting offer, sorted */
  classes (): string[] { return [...this.byClass.keys()].sort() }

  /** the price-time ordered offers of one GPU model (used by matching) */
  classOffers (model: string): SortedList<OfferEntry> | undefined { return this.byClass.get(model) }

  /**
   * Whether a bid asking for `wanted` may match classes other than `wanted` itself: any class for
   * "", or a class named `wanted-…` (used by matching to skip the scan over all classes).
   */
  hasRelatedClasses (wanted: string): boolean {
    if (wanted === '') return true
    if (this.byClass.size === 0 || (this.byClass.size === 1 && this.byClass.has(wanted))) return false
    const prefix = `${wanted}-`
    for (const model of this.byClass.keys()) if (model.startsWith(prefix)) return true
    return false
  }

  /** iterates the per-class lists (used by matching) */
  classEntries (): IterableIterator<[string, SortedList<OfferEntry>]> { return this.byClass.entries() }

  getOffer (key: string): OfferEntry | undefined { return this.offerByKey(key) }
  getBid (key: string): BidEntry | undefined { return this.bidMap.get(key) }

  /**
   * Adds, replaces or cancels an offer. Throws `MarketError` with code STALE (not a higher
   * sequence than the slot or its tombstone), EXPIRED, MALFORMED, BOOK_FULL or SUPPLIER_LIMIT.
   */
  upsertOffer (offer: Offer, meta: EntryMeta = NO_META): UpsertStatus {
    // [MALFORMED] the book's own invariants; full validation happens before (market/validation);
    // a cancel carries only its slot (id, sequence) and no GPUs
    // (fixed64 fields decode as signed: a negative price would otherwise rank first everywhere)
    const priceN = Number(offer.pricePerGpuHour)
    const createdN = Number(offer.createdAt)
    if (offer.supplier.byteLength !== 32 || offer.id === '' || (!offer.cancelled && offer.gpus.length === 0) || offer.gpus.length > MAX_GPUS_PER_OFFER ||
      priceN < 0 || createdN < 0 || offer.sequence < 0n) {
      throw new MarketError('MALFORMED', 'offer lacks a supplier, an id or GPUs, or has a negative field')
    }
    let slots = this.suppliers.get(offer.supplier)
    const current = RestingOffer.liveIn(slots, offer.id)
    const floor = current !== undefined
      ? current.offer.sequence
      : slots !== undefined && slots.tombstones > 0 ? this.offerTombstones.get(`${slots.hex}/${offer.id}`) : undefined
    // [IGNORE] a replacement needs a higher sequence than what the slot has seen
    if (floor !== undefined && offer.sequence <= floor &&
      !(offer.sequence === floor && current != null && winsTie(offer.cancelled, Offer.encode(offer), Offer.encode(current.offer)))) {
      throw new MarketError('STALE', 'offer sequence not higher than the slot')
    }
    if (offer.cancelled) {
      slots ??= this.slotsFor(offer.supplier)
      if (current != null) this.dropOffer(current, false)
      this.tombstoneOffer(slots, offer.id, offer.sequence)
      return 'cancelled'
    }
    const now = this.clock.now()
    const expiresN = Number(offer.expiresAt)
    if (expiresN <= now) throw new MarketError('EXPIRED', 'offer expired')
    if (current == null) {
      if (slots !== undefined && slots.live >= this.maxPerSupplier) {
        throw new MarketError('SUPPLIER_LIMIT', 'supplier holds too many offers')
      }
      if (this.offerTotal >= this.maxOffers) {
        this.makeRoom(() => this.offerTotal, this.maxOffers, this.offerExpiry, expiresN, now, (e) => { this.dropOffer(e) })
        slots = undefined // an eviction may have released the record
      }
    } else {
      this.dropOffer(current, false)
    }
    slots ??= this.slotsFor(offer.supplier)
    const entry = new RestingOffer(offer, slots, meta, priceN, createdN, expiresN,
      meta.receivedAt ?? now, teeMaskOf(offer.teeKinds), regionId(offer.region))
    this.addOffer(entry)
    return current == null ? 'added' : 'replaced'
  }

  /** Adds, replaces or cancels a bid; same rules and codes as `upsertOffer`. */
  upsertBid (bid: Bid, meta: EntryMeta = NO_META): UpsertStatus {
    if (bid.renter.byteLength !== 32 || bid.id === '') throw new MarketError('MALFORMED', 'bid lacks a renter or an id')
    const key = bidKey(bid)
    const current = this.bidMap.get(key)
    const floor = current?.bid.sequence ?? this.bidTombstones.get(key)
    if (floor !== undefined && bid.sequence <= floor &&
      !(bid.sequence === floor && current != null && winsTie(bid.cancelled, Bid.encode(bid), Bid.encode(current.bid)))) {
      throw new MarketError('STALE', 'bid sequence not higher than the slot')
    }
    if (bid.cancelled) {
      if (current != null) this.dropBid(current)
      this.tombstone(this.bidTombstones, key, bid.sequence)
      return 'cancelled'
    }
    const now = this.clock.now()
    const expiresN = Number(bid.expiresAt)
    if (expiresN <= now) throw new MarketError('EXPIRED', 'bid expired')
    const renter = key.slice(0, 64)
    if (current == null) {
      if ((this.perRenter.get(renter) ?? 0) >= this.maxPerRenter) throw new MarketError('SUPPLIER_LIMIT', 'renter holds too many bids')
      if (this.bidMap.size >= this.maxBids) this.makeRoom(() => this.bidMap.size, this.maxBids, this.bidExpiry, expiresN, now, (e) => { this.dropBid(e) })
    } else {
      this.dropBid(current)
    }
    const entry: BidEntry = { key, bid, renter, meta, expiresN, receivedAt: meta.receivedAt ?? now }
    this.bidMap.set(key, entry)
    this.bidOrder.insert(entry)
    this.bidExpiry.push(entry)
    this.perRenter.set(renter, (this.perRenter.get(renter) ?? 0) + 1)
    return current == null ? 'added' : 'replaced'
  }

  /** Removes an offer or a bid by key (no tombstone: a later higher sequence may fill the slot). */
  remove (key: string): boolean {
    const o = this.offerByKey(key)
    if (o != null) { this.dropOffer(o); return true }
    const b = this.bidMap.get(key)
    if (b != null) { this.dropBid(b); return true }
    return false
  }

  /**
   * Marks `count` GPUs of `model` under an offer as taken (this node made or learnt of an agreement
   * on them), so matching stops offering them; an offer with nothing left leaves the book until
   * the supplier republishes it with a higher sequence. The offer is named by its key or by the
   * entry a match returned; an entry replaced since (the supplier republished, which already counts
   * the GPUs it gave away) is left alone. Returns false when the offer or the GPUs are not there.
   */
  consume (offer: string | OfferEntry, model: string, count: number): boolean {
    const e = typeof offer === 'string' ? this.offerByKey(offer) : this.restingEntry(offer)
    if (e == null || count <= 0) return false
    const gpus = e.offer.gpus
    for (let i = 0; i < gpus.length; i++) {
      if (gpus[i].model !== model || (e.free !== undefined ? e.free[i] : gpus[i].count) < count) continue
      const free = e.free ?? (e.free = counts(e.offer))
      free[i] -= count
      let left = 0
      for (const r of free) left += r
      if (left === 0) this.dropOffer(e)
      return true
    }
    return false
  }

  /** Drops every offer and bid whose expiry is not after `now`; returns how many went. */
  expire (now: number = this.clock.now()): number {
    let n = 0
    for (let e = this.offerExpiry.peek(); e != null && e.expiresN <= now; e = this.offerExpiry.peek()) {
      this.dropOffer(e)
      n++
    }
    for (let e = this.bidExpiry.peek(); e != null && e.expiresN <= now; e = this.bidExpiry.peek()) {
      this.dropBid(e)
      n++
    }
    return n
  }

  /** Resting offers in price-time order, filtered (the `bazaar book` listing). */
  offers (filters: BookFilters = {}): OfferEntry[] {
    const tee = filters.teeKind
    const region = filters.region
    const supplier = filters.supplier?.toLowerCase()
    const out: OfferEntry[] = []
    const seen = new Set<OfferEntry>()
    for (const [model, list] of this.byClass) {
      if (filters.gpu !== undefined && !modelMatches(filters.gpu, model)) continue
      for (const e of list) {
        if (seen.has(e)) continue
        if (tee !== undefined && !e.offer.teeKinds.includes(tee)) continue
        if (filters.gpuCc === true && e.offer.gpuCc !== true) continue
        if (region !== undefined && e.offer.region !== region) continue
        if (filters.netuid !== undefined && e.offer.netuid !== filters.netuid) continue
        if (filters.maxPrice !== undefined && e.offer.pricePerGpuHour > filters.maxPrice) continue
        if (supplier !== undefined && e.supplier !== supplier) continue
        seen.add(e)
        out.push(e)
      }
    }
    out.sort(compareOffers)
    return filters.limit !== undefined ? out.slice(0, filters.limit) : out
  }

  /** Resting bids in priority order (earliest first). */
  bids (): BidEntry[] { return [...this.bidOrder] }

  /** the resting offer under `<supplier hex>/<id>`, if any */
  private offerByKey (key: string): RestingOffer | undefined {
    if (key.length < 66 || key.charCodeAt(64) !== 47 /* '/' */) return undefined
    return RestingOffer.liveIn(this.suppliersByHex.get(key.slice(0, 64)), key.slice(65))
  }

  /** `e` itself when it is an entry resting in this book (an entry from a match), else undefined */
  private restingEntry (e: OfferEntry): RestingOffer | undefined {
    // a live entry is in its supplier record, and a record with live entries is in its book
    return e instanceof RestingOffer && e.live && e.slots.owner === this ? e : undefined
  }

  /** the supplier's record, created if it has none */
  private slotsFor (supplier: Uint8Array): SupplierSlots {
    let slots = this.suppliers.get(supplier)
    if (slots === undefined) {
      slots = new SupplierSlots(supplier.slice(), hex(supplier), this)
      this.suppliers.add(slots)
      this.suppliersByHex.set(slots.hex, slots)
    }
    return slots
  }

  private releaseIfEmpty (slots: SupplierSlots): void {
    if (slots.live > 0 || slots.tombstones > 0) return
    this.suppliers.delete(slots)
    this.suppliersByHex.delete(slots.hex)
  }

  private addOffer (entry: RestingOffer): void {
    const slots = entry.slots
    const before = slots.offers.size
    slots.offers.set(entry.offer.id, entry)
    if (slots.offers.size === before) slots.dead-- // it took the place of a dead entry of its id
    slots.live++
    this.offerTotal++
    const gpus = entry.offer.gpus
    for (let i = 0; i < gpus.length; i++) {
      if (!firstOfModel(gpus, i)) continue
      const model = gpus[i].model
      let list = this.byClass.get(model)
      if (list == null) {
        list = new SortedList<OfferEntry>(compareOffers, 64, offerRank, offerRank2)
        this.byClass.set(model, list)
      }
      list.insert(entry)
    }
    this.offerExpiry.push(entry)
  }

  /** takes an entry out of the book; `release` false keeps the supplier record (a replacement or cancel follows) */
  private dropOffer (entry: RestingOffer, release = true): void {
    if (!entry.live) return
    entry.live = false
    const slots = entry.slots
    slots.live--
    slots.dead++
    this.offerTotal--
    const gpus = entry.offer.gpus
    for (let i = 0; i < gpus.length; i++) {
      if (!firstOfModel(gpus, i)) continue
      const model = gpus[i].model
      const list = this.byClass.get(model)
      if (list == null) continue
      list.delete(entry)
      if (list.size === 0) this.byClass.delete(model)
    }
    if (release) this.releaseIfEmpty(slots)
    if (slots.dead > slots.live + PURGE_SLACK) sweep(slots)
    this.offerExpiry.compact(this.offerTotal)
  }

  /**
   * Records a cancel's sequence for the slot, so an older copy heard later cannot revive it. The
   * map is bounded: past `maxTombstones` the oldest tombstone goes (its supplier's count with it).
   */
  private tombstoneOffer (slots: SupplierSlots, id: string, sequence: bigint): void {
    const key = `${slots.hex}/${id}`
    if (!this.offerTombstones.delete(key)) slots.tombstones++
    const evicted = this.offerTombstones.set(key, sequence)
    if (evicted !== undefined) {
      const owner = this.suppliersByHex.get(evicted[0].slice(0, 64))
      if (owner !== undefined) {
        owner.tombstones--
        this.releaseIfEmpty(owner)
      }
    }
  }

  private dropBid (entry: BidEntry): void {
    if (this.bidMap.get(entry.key) !== entry) return
    this.bidMap.delete(entry.key)
    this.bidOrder.delete(entry)
    decrement(this.perRenter, entry.renter)
    this.bidExpiry.compact(this.bidMap.size)
  }

  /** applies the eviction rule before an insert of a new slot */
  private makeRoom<E extends { expiresN: number, key: string }> (size: () => number, max: number, expiry: ExpiryHeap<E>, expiresN: number, now: number, drop: (e: E) => void): void {
    if (size() < max) return
    this.expire(now)
    if (size() < max) return
    const victim = expiry.peek()
    // [IGNORE] full: the newcomer only displaces an entry that would expire before it
    if (victim == null || victim.expiresN >= expiresN) throw new MarketError('BOOK_FULL', 'book full')
    drop(victim)
  }

  private tombstone (map: BoundedMap<string, bigint>, key: string, sequence: bigint): void {
    map.set(key, sequence)
  }
}

const NO_META: EntryMeta = Object.freeze({})

function counts (offer: Offer): number[] {
  const gpus = offer.gpus
  const out = new Array<number>(gpus.length)
  for (let i = 0; i < gpus.length; i++) out[i] = gpus[i].count
  return out
}

/** rebuilds a supplier's map with its live entries only (see `SupplierSlots`) */
function sweep (slots: SupplierSlots): void {
  const kept = new Map<string, RestingOffer>()
  for (const [id, e] of slots.offers) if (e.live) kept.set(id, e)
  slots.offers = kept
  slots.dead = 0
}

/** the price: the first key of `compareOffers` (a monotone conversion of the bigint) */
function offerRank (e: OfferEntry): number { return e.priceN }

/**
 * The creation time, the second key of `compareOffers`, where the price number is exact (equal
 * numbers are then equal prices); above 2^53 equal numbers may hide different prices, so those
 * entries share one value and the comparator decides.
 */
function offerRank2 (e: OfferEntry): number { return e.priceN <= Number.MAX_SAFE_INTEGER ? e.createdN : 0 }

/** whether `gpus[i]` is the first entry of its model (an offer sits once in each model's list) */
function firstOfModel (gpus: Offer['gpus'], i: number): boolean {
  const model = gpus[i].model
  for (let j = 0; j < i; j++) if (gpus[j].model === model) return false
  return true
}

function decrement (m: Map<string, number>, k: string): void {
  const n = (m.get(k) ?? 0) - 1
  if (n <= 0) m.delete(k)
  else m.set(k, n)
}

/** equal sequences (equivocation): a cancel beats a live entry, else the smaller encoding wins */
function winsTie (cancel: boolean, incoming: Uint8Array, resting: Uint8Array): boolean {
  if (cancel) return true
  const n = Math.min(incoming.length, resting.length)
  for (let i = 0; i < n; i++) if (incoming[i] !== resting[i]) return incoming[i] < resting[i]
  return incoming.length < resting.length
}
