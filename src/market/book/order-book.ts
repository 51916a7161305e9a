import { Bid, Offer, type Gpu } from '../../wire/market.js'
import { systemClock, type Clock } from '../../util/clock.js'
import {
  DEFAULT_MAX_BIDS, DEFAULT_MAX_BIDS_PER_RENTER, DEFAULT_MAX_OFFERS, DEFAULT_MAX_OFFERS_PER_SUPPLIER,
  DEFAULT_MAX_TOMBSTONES
} from '../constants.js'
import { MarketError } from '../errors.js'
import { STANDINGS, type BidEntry, type BookFilters, type EntryMeta, type OfferEntry, type OrderBookInit, type Standing, type StandingOf, type UpsertStatus } from '../types.js'
import { compareBids, compareOffers } from './compare.js'
import { ExpiryHeap } from './expiry-heap.js'
import { teeMaskOf, regionId } from './attributes.js'
import { bidKey, hex, modelMatches } from './keys.js'
import { runtimeListed } from '../match.js'
import { PartyIndex } from './party-index.js'
import { compareOfferExpiry, owned, PURGE_SLACK, RestingOffer, SupplierSlots, type EntryStore } from './slots.js'
import { EnvelopeArena } from './arena.js'
import { SortedList } from './sorted-list.js'
import { Tombstones, type Tombstone } from './tombstones.js'

const MAX_GPUS_PER_OFFER = 16
/** decoded offers the book keeps beside its compact entries (see `RestingOffer.offer`) */
const DECODED_CACHE = 256

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
 *   Eviction rule when full: expired entries go first; then the soonest-expiring entry of a lower
 *   standing than the newcomer's (`Standing`: none, registered on the subnet, the node's own);
 *   then the soonest-expiring entry of its own standing, if it expires before the newcomer;
 *   otherwise the newcomer is refused (BOOK_FULL). A party over its own limit is refused
 *   (SUPPLIER_LIMIT) without touching anyone else's entries. So free hotkeys with long-lived
 *   offers cannot push out a registered supplier's offers, however many they are.
 *
 * Memory: an offer rests as a compact entry (`RestingOffer`: numbers, shared strings, and the
 * signed envelope it arrived in, copied into the book's slabs, see arena.ts); the full `Offer` is
 * decoded from the envelope on demand and the last `DECODED_CACHE` decoded are kept. Tombstones keep the signed cancel until it expires
 * (`offerCancels`, `bidCancels`), bounded by `maxTombstones` per standing and by the party's
 * own entry limit per party (see tombstones.ts).
 *
 * Indexes: by GPU class (one price-time sorted list per model, see `compareOffers`), TEE kinds and
 * region as integer attributes of each entry (a bit mask and an id: the matching scan tests them
 * without touching strings), and a lazy expiry heap per standing (expiry and the eviction rule). Offers are
 * held per supplier record (found by the hotkey's bytes, see `PartyIndex`) and then by id, so the
 * insert path builds no key string and hashes no hex text; that is most of its cost otherwise.
 */
export class OrderBook implements EntryStore {
  private readonly clock: Clock
  private readonly maxOffers: number
  private readonly maxBids: number
  private readonly maxPerSupplier: number
  private readonly maxPerRenter: number
  private readonly standing: StandingOf | undefined

  private readonly suppliers = new PartyIndex<SupplierSlots>()
  private readonly suppliersByHex = new Map<string, SupplierSlots>()
  private offerTotal = 0
  private readonly byClass = new Map<string, SortedList<OfferEntry>>()
  /** the resting offers of each standing by expiry, and how many of each are live */
  private readonly offerExpiry = STANDINGS.map((s) => new ExpiryHeap<RestingOffer>((e) => e.live && e.standing === s, compareOfferExpiry, (e) => e.slots.prefix))
  private readonly offersOf = STANDINGS.map(() => 0)
  /** `<supplier hex>/<id>` → the cancel; counted per supplier in `SupplierSlots.tombstones` */
  private readonly offerTombstones: Tombstones
  /** tombstones holding a cancel envelope, by the cancel's expiry (the envelope goes when it passes) */
  private readonly offerCancelExpiry = new ExpiryHeap<Tombstone>((t) => t.envelope !== undefined && this.offerTombstones.get(t.key) === t)
  /** entries whose `decoded` offer is set, oldest first: a ring whose next slot is `decodedAt` */
  private readonly decodedRing: Array<RestingOffer | undefined> = new Array(DECODED_CACHE).fill(undefined)
  private decodedAt = 0
  /** the envelopes of the resting offers (see arena.ts) */
  readonly arena = new EnvelopeArena()

  private readonly bidMap = new Map<string, BidEntry>()
  private readonly bidOrder = new SortedList<BidEntry>(compareBids, 64, (e) => Number(e.bid.createdAt))
  private readonly bidExpiry = STANDINGS.map((s) => new ExpiryHeap<BidEntry>((e) => this.bidMap.get(e.key) === e && e.standing === s))
  private readonly bidsOf = STANDINGS.map(() => 0)
  private readonly perRenter = new Map<string, number>()
  private readonly bidTombstones: Tombstones
  private readonly bidCancelExpiry = new ExpiryHeap<Tombstone>((t) => t.envelope !== undefined && this.bidTombstones.get(t.key) === t)

  constructor (init: OrderBookInit = {}) {
    this.clock = init.clock ?? systemClock
    this.maxOffers = init.maxOffers ?? DEFAULT_MAX_OFFERS
    this.maxBids = init.maxBids ?? DEFAULT_MAX_BIDS
    this.maxPerSupplier = init.maxOffersPerSupplier ?? DEFAULT_MAX_OFFERS_PER_SUPPLIER
    this.maxPerRenter = init.maxBidsPerRenter ?? DEFAULT_MAX_BIDS_PER_RENTER
    this.standing = init.standing
    const maxTombstones = init.maxTombstones ?? DEFAULT_MAX_TOMBSTONES
    this.offerTombstones = new Tombstones(maxTombstones, this.maxPerSupplier, (key) => {
      const owner = this.suppliersByHex.get(key.slice(0, 64))
      if (owner !== undefined) {
        owner.tombstones--
        this.releaseIfEmpty(owner)
      }
    })
    this.bidTombstones = new Tombstones(maxTombstones, this.maxPerRenter, () => {})
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
      ? current.sequence
      : slots !== undefined && slots.tombstones > 0 ? this.offerTombstones.get(`${slots.hex}/${offer.id}`)?.sequence : undefined
    // [IGNORE] a replacement needs a higher sequence than what the slot has seen
    if (floor !== undefined && offer.sequence <= floor &&
      !(offer.sequence === floor && current != null && winsTie(offer.cancelled, Offer.encode(offer), Offer.encode(current.offer)))) {
      throw new MarketError('STALE', 'offer sequence not higher than the slot')
    }
    if (offer.cancelled) {
      slots ??= this.slotsFor(offer.supplier)
      if (current != null) this.dropOffer(current, false)
      this.tombstoneOffer(slots, offer.id, offer.sequence, Number(offer.expiresAt), meta.envelope)
      return 'cancelled'
    }
    const now = this.clock.now()
    const expiresN = Number(offer.expiresAt)
    if (expiresN <= now) throw new MarketError('EXPIRED', 'offer expired')
    const standing = this.standingOf(offer.supplier, slots?.hex)
    if (current == null) {
      if (slots !== undefined && slots.live >= this.maxPerSupplier) {
        throw new MarketError('SUPPLIER_LIMIT', 'supplier holds too many offers')
      }
      if (this.offerTotal >= this.maxOffers) {
        this.makeRoom(() => this.offerTotal, this.maxOffers, this.offerExpiry, standing, expiresN, now, (e) => { this.dropOffer(e) })
        slots = undefined // an eviction may have released the record
      }
    } else {
      this.dropOffer(current, false)
    }
    slots ??= this.slotsFor(offer.supplier)
    const entry = new RestingOffer(offer, slots, meta, priceN, createdN, expiresN,
      meta.receivedAt ?? now, teeMaskOf(offer.teeKinds), regionId(offer.region))
    entry.standing = standing
    this.addOffer(entry)
    // a cancel the slot's new offer supersedes is no longer served: a node holding only the newer
    // offer refuses it as stale, and their digests would differ until it expired
    if (current == null && slots.tombstones > 0) supersede(this.offerTombstones.get(`${slots.hex}/${offer.id}`))
    return current == null ? 'added' : 'replaced'
  }

  /** Adds, replaces or cancels a bid; same rules and codes as `upsertOffer`. */
  upsertBid (bid: Bid, meta: EntryMeta = NO_META): UpsertStatus {
    if (bid.renter.byteLength !== 32 || bid.id === '') throw new MarketError('MALFORMED', 'bid lacks a renter or an id')
    const key = bidKey(bid)
    const current = this.bidMap.get(key)
    const floor = current?.bid.sequence ?? this.bidTombstones.get(key)?.sequence
    if (floor !== undefined && bid.sequence <= floor &&
      !(bid.sequence === floor && current != null && winsTie(bid.cancelled, Bid.encode(bid), Bid.encode(current.bid)))) {
      throw new MarketError('STALE', 'bid sequence not higher than the slot')
    }
    const renter = key.slice(0, 64)
    const standing = this.standingOf(bid.renter, renter)
    if (bid.cancelled) {
      if (current != null) this.dropBid(current)
      const t: Tombstone = { key, sequence: bid.sequence, expiresN: Number(bid.expiresAt), envelope: cancelEnvelope(meta.envelope, Number(bid.expiresAt), this.clock.now()) }
      this.bidTombstones.set(t, standing, this.clock.now())
      if (t.envelope !== undefined) this.bidCancelExpiry.push(t)
      this.bidCancelExpiry.compact(this.bidTombstones.size)
      return 'cancelled'
    }
    const now = this.clock.now()
    const expiresN = Number(bid.expiresAt)
    if (expiresN <= now) throw new MarketError('EXPIRED', 'bid expired')
    if (current == null) {
      if ((this.perRenter.get(renter) ?? 0) >= this.maxPerRenter) throw new MarketError('SUPPLIER_LIMIT', 'renter holds too many bids')
      if (this.bidMap.size >= this.maxBids) this.makeRoom(() => this.bidMap.size, this.maxBids, this.bidExpiry, standing, expiresN, now, (e) => { this.dropBid(e) })
    } else {
      this.dropBid(current)
    }
    // the envelope it keeps, it owns (never a view into a larger buffer)
    const own = meta.envelope !== undefined ? owned(meta.envelope) : undefined
    const held = own !== meta.envelope ? { ...meta, envelope: own } : meta
    const entry: BidEntry = { key, bid, renter, meta: held, expiresN, receivedAt: meta.receivedAt ?? now, standing }
    this.bidMap.set(key, entry)
    this.bidOrder.insert(entry)
    if (current == null) supersede(this.bidTombstones.get(key))
    this.bidExpiry[standing].push(entry)
    this.bidsOf[standing]++
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
    const gpus = e.gpus
    for (let i = 0; i < gpus.length; i++) {
      if (gpus[i].model !== model || (e.free !== undefined ? e.free[i] : gpus[i].count) < count) continue
      const free = e.free ?? (e.free = counts(gpus))
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
    for (const heap of this.offerExpiry) {
      for (let e = heap.peek(); e != null && e.expiresN <= now; e = heap.peek()) {
        this.dropOffer(e)
        n++
      }
    }
    for (const heap of this.bidExpiry) {
      for (let e = heap.peek(); e != null && e.expiresN <= now; e = heap.peek()) {
        this.dropBid(e)
        n++
      }
    }
    // a cancel past its expiry is refused everywhere: keep its sequence, not its envelope
    for (const heap of [this.offerCancelExpiry, this.bidCancelExpiry]) {
      for (let t = heap.peek(); t != null && t.expiresN <= now; t = heap.peek()) t.envelope = undefined
    }
    return n
  }

  /**
   * The signed envelopes of the resting offers (anti-entropy serves them), in no particular order;
   * entries held without an envelope are left out.
   */
  offerEnvelopes (): Uint8Array[] {
    const out: Uint8Array[] = []
    for (const e of this.offerEnvelopeSources()) {
      const env = e.envelope
      if (env !== undefined) out.push(env)
    }
    return out
  }

  /**
   * The resting offers held with their envelopes, each read for its bytes only when asked
   * (`envelope`): anti-entropy holds this list for a whole exchange and cuts pages from it, and a
   * reference per offer costs far less than a copy of each envelope (most are copies: a resting
   * offer's certificate is put back into a new array). An entry read after it left the book still
   * gives the bytes it held.
   */
  offerEnvelopeSources (): Array<{ readonly envelope: Uint8Array | undefined }> {
    const out: RestingOffer[] = []
    for (const slots of this.suppliersByHex.values()) {
      for (const e of slots.offers.values()) if (e.live && e.slab !== undefined) out.push(e)
    }
    return out
  }

  /** the signed envelopes of the resting bids */
  bidEnvelopes (): Uint8Array[] {
    const out: Uint8Array[] = []
    for (const e of this.bidMap.values()) if (e.meta.envelope !== undefined) out.push(e.meta.envelope)
    return out
  }

  /**
   * The signed cancels of offers that have not expired (anti-entropy serves them, so a cancel made
   * on one side of a partition reaches the other before the offer expires there).
   */
  offerCancels (now: number = this.clock.now()): Uint8Array[] { return liveCancels(this.offerTombstones, now) }

  /** the signed cancels of bids that have not expired */
  bidCancels (now: number = this.clock.now()): Uint8Array[] { return liveCancels(this.bidTombstones, now) }

  /** how many tombstones still hold their signed cancel (offers and bids); counts them all, O(n) */
  get cancelCount (): number {
    let n = 0
    for (const t of this.offerTombstones.values()) if (t.envelope !== undefined) n++
    for (const t of this.bidTombstones.values()) if (t.envelope !== undefined) n++
    return n
  }

  /** `EntryStore`: `e` just decoded its offer; the oldest decoded entry lets its copy go */
  remember (e: RestingOffer): void {
    const old = this.decodedRing[this.decodedAt]
    if (old !== undefined && old !== e && old.slab !== undefined) old.decoded = undefined
    this.decodedRing[this.decodedAt] = e
    this.decodedAt = (this.decodedAt + 1) % DECODED_CACHE
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
        if (tee !== undefined && !e.teeKinds.includes(tee)) continue
        if (filters.gpuCc === true && !e.gpuCc) continue
        if (region !== undefined && e.region !== region) continue
        if (filters.netuid !== undefined && e.netuid !== filters.netuid) continue
        if (filters.maxPrice !== undefined && e.pricePerGpuHour > filters.maxPrice) continue
        if (!runtimeListed(e.images, filters)) continue
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

  /**
   * Asks every party's standing again (the `standing` function's answers changed: the subnet's
   * registrations were read anew) and moves entries and tombstones whose standing changed. One pass
   * over the book (tens of milliseconds at 100,000 entries), for a change that comes every few
   * minutes at most. Returns how many entries and tombstones moved.
   */
  restand (): number {
    if (this.standing === undefined) return 0
    let moved = 0
    for (const slots of this.suppliersByHex.values()) {
      const s = this.standingOf(slots.bytes, slots.hex)
      for (const e of slots.offers.values()) {
        if (!e.live || e.standing === s) continue
        restandEntry(e, s, this.offerExpiry, this.offersOf)
        moved++
      }
    }
    for (const e of this.bidMap.values()) {
      const s = this.standingOf(e.bid.renter, e.renter)
      if (e.standing === s) continue
      restandEntry(e, s, this.bidExpiry, this.bidsOf)
      moved++
    }
    const ofParty = (party: string): Standing => this.standingOf(Buffer.from(party, 'hex'), party)
    return moved + this.offerTombstones.restand(ofParty) + this.bidTombstones.restand(ofParty)
  }

  /** the party's standing (see `Standing`); all alike without a `standing` function */
  private standingOf (party: Uint8Array, partyHex: string | undefined): Standing {
    return this.standing === undefined ? 0 : this.standing(party, partyHex ?? hex(party))
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
    slots.offers.set(entry.id, entry)
    if (slots.offers.size === before) slots.dead-- // it took the place of a dead entry of its id
    slots.live++
    this.offerTotal++
    const gpus = entry.gpus
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
    this.offerExpiry[entry.standing].push(entry)
    this.offersOf[entry.standing]++
  }

  /** takes an entry out of the book; `release` false keeps the supplier record (a replacement or cancel follows) */
  private dropOffer (entry: RestingOffer, release = true): void {
    if (!entry.live) return
    entry.live = false
    this.arena.release(entry)
    const slots = entry.slots
    slots.live--
    slots.dead++
    this.offerTotal--
    const gpus = entry.gpus
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
    this.offerExpiry[entry.standing].compact(--this.offersOf[entry.standing])
  }

  /**
   * Records a cancel for the slot: its sequence, so an older copy heard later cannot revive it, and
   * its signed envelope until it expires. Bounded (see tombstones.ts): a tombstone pushed out
   * takes its supplier's count with it.
   */
  private tombstoneOffer (slots: SupplierSlots, id: string, sequence: bigint, expiresN: number, envelope: Uint8Array | undefined): void {
    const t: Tombstone = { key: `${slots.hex}/${id}`, sequence, expiresN, envelope: cancelEnvelope(envelope, expiresN, this.clock.now()) }
    if (t.envelope !== undefined) this.offerCancelExpiry.push(t)
    this.offerCancelExpiry.compact(this.offerTombstones.size)
    // counted first: pushing out the supplier's own oldest must not release its record
    slots.tombstones++
    if (!this.offerTombstones.set(t, this.standingOf(slots.bytes, slots.hex), this.clock.now())) slots.tombstones--
  }

  private dropBid (entry: BidEntry): void {
    if (this.bidMap.get(entry.key) !== entry) return
    this.bidMap.delete(entry.key)
    this.bidOrder.delete(entry)
    decrement(this.perRenter, entry.renter)
    this.bidExpiry[entry.standing].compact(--this.bidsOf[entry.standing])
  }

  /** applies the eviction rule before an insert of a new slot by a party of `standing` */
  private makeRoom<E extends { expiresN: number, key: string }> (size: () => number, max: number, expiry: ReadonlyArray<ExpiryHeap<E>>, standing: Standing, expiresN: number, now: number, drop: (e: E) => void): void {
    if (size() < max) return
    this.expire(now)
    if (size() < max) return
    // the soonest-expiring entry of the lowest standing below the newcomer's, whatever its expiry
    for (let s = 0; s < standing; s++) {
      const victim = expiry[s].peek()
      if (victim != null) { drop(victim); return }
    }
    const victim = expiry[standing].peek()
    // [IGNORE] full: among its equals the newcomer only displaces an entry that would expire before it
    if (victim == null || victim.expiresN >= expiresN) throw new MarketError('BOOK_FULL', 'book full')
    drop(victim)
  }
}

const NO_META: EntryMeta = Object.freeze({})

/**
 * Moves a live entry to standing `s`: into that standing's heap (the old heap drops it lazily: its
 * liveness test asks the standing) and count.
 */
function restandEntry<E extends { standing: Standing, expiresN: number, key: string }> (e: E, s: Standing, heaps: ReadonlyArray<ExpiryHeap<E>>, counts: number[]): void {
  const was = e.standing
  e.standing = s
  heaps[was].compact(--counts[was])
  counts[s]++
  heaps[s].push(e)
}

function counts (gpus: readonly Gpu[]): number[] {
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
function firstOfModel (gpus: readonly Gpu[], i: number): boolean {
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

/** the envelope a tombstone keeps: an owned copy, while the cancel has not expired */
function cancelEnvelope (envelope: Uint8Array | undefined, expiresN: number, now: number): Uint8Array | undefined {
  return envelope !== undefined && envelope.byteLength > 0 && expiresN > now ? owned(envelope) : undefined
}

/** a tombstone under a live entry of a higher sequence keeps its floor, not its cancel */
function supersede (t: Tombstone | undefined): void {
  if (t !== undefined) t.envelope = undefined
}

function liveCancels (map: Tombstones, now: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (const t of map.values()) if (t.envelope !== undefined && t.expiresN > now) out.push(t.envelope)
  return out
}
