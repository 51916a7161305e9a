import type { Bid, Gpu, Offer } from '../wire/market.js'
import type { Clock } from '../util/clock.js'

/** Where an offer or bid entered the book, for display and for dialling the party. */
export interface EntryMeta {
  /** libp2p peer id (text) of the party's node, when known (gossip source, DHT provider) */
  peer?: string
  /** how it arrived */
  source?: 'gossip' | 'dht' | 'fetch' | 'local'
  /** when this node received it (ms); default the book's clock */
  receivedAt?: number
  /**
   * the signed envelope it came in, so it can be served to others (offers-fetch, anti-entropy):
   * the offer's or bid's own wire message, from which the book decodes the offer again on demand
   * (an empty one counts as none)
   */
  envelope?: Uint8Array
}

/**
 * A resting offer. `key` is `<supplier hotkey hex>/<offer id>`.
 *
 * The book holds an offer compactly: what matching and the indexes read (numbers, interned short
 * strings, the GPU entries) and the signed envelope it arrived in. `offer`, the full decoded
 * message, is decoded from that envelope on demand (the book keeps a few hundred of the last ones
 * decoded), so read the entry's own fields on a hot path and `offer` where the whole message is
 * needed (negotiation, listings).
 */
export interface OfferEntry {
  readonly key: string
  /** the full offer (decoded from the held envelope on demand) */
  readonly offer: Offer
  /** supplier hotkey, lowercase hex: the last tie-breaker of the matching rule */
  readonly supplier: string
  readonly meta: EntryMeta
  /** the offer's own fields that matching and listing read without decoding */
  readonly id: string
  readonly sequence: bigint
  readonly gpus: readonly Gpu[]
  readonly teeKinds: readonly string[]
  readonly region: string
  readonly gpuCc: boolean
  /**
   * the offer's runtime: undefined where jobs run as processes (no `runtime`), else (`runtime`
   * "container") its image patterns, empty when it allows any image
   */
  readonly images: readonly string[] | undefined
  readonly pricePerGpuHour: bigint
  readonly createdAt: bigint
  /** Number(offer.pricePerGpuHour) and Number(offer.createdAt): fast comparisons; the bigints decide ties */
  readonly priceN: number
  readonly createdN: number
  readonly expiresN: number
  /** when this node received it (ms) */
  readonly receivedAt: number
  /**
   * GPUs still free per entry of `gpus` (same index), as this node knows: the advertised
   * counts, lowered by `book.consume` when GPUs are taken (an agreement was made). A replacement
   * of the offer (higher sequence) resets them: the supplier's republication is authoritative.
   */
  readonly remaining: readonly number[]
  /** the same once something was consumed, undefined before (the advertised counts): the scan's allocation-free read */
  readonly free: readonly number[] | undefined
  /** bit per TEE kind of the offer (see book/attributes.ts), so a scan tests kinds in one AND */
  readonly teeMask: number
  /** small integer id of the offer's region (book/attributes.ts) */
  readonly regionId: number
  /**
   * Copies of the offer's netuid and duration bounds: the matching scan tests them on the entry,
   * so an entry it passes over costs one object read rather than a chain of them.
   */
  readonly netuid: number
  readonly minDurationS: number
  readonly maxDurationS: number
}

/** A resting bid. `key` is `<renter hotkey hex>/<bid id>`. */
export interface BidEntry {
  readonly key: string
  readonly bid: Bid
  readonly renter: string
  readonly meta: EntryMeta
  readonly expiresN: number
  readonly receivedAt: number
  /** the renter's standing when the bid entered the book (or when `OrderBook.restand` last asked) */
  standing: Standing
}

export type UpsertStatus = 'added' | 'replaced' | 'cancelled'

/**
 * A party's standing in a book that is full, lowest first: entries of a lower standing are
 * evicted before any of a higher one, and a newcomer never evicts an entry of a higher standing
 * than its own. Anyone can make a hotkey for free, so the entries of parties of no standing can
 * crowd out only each other; a hotkey registered on the market's subnet (holding a UID, which costs
 * a registration burn) stands above them, and the node's own offers and bids above all.
 */
export type Standing = 0 | 1 | 2
export const STANDING = { none: 0, registered: 1, own: 2 } as const
export const STANDINGS: readonly Standing[] = [0, 1, 2]

/** The standing of a party, by its hotkey's 32 bytes and their lowercase hex. */
export type StandingOf = (hotkey: Uint8Array, hex: string) => Standing

export interface OrderBookInit {
  clock?: Clock
  maxOffers?: number
  maxBids?: number
  maxOffersPerSupplier?: number
  maxBidsPerRenter?: number
  /** tombstones kept per standing (see book/tombstones.ts); a party keeps at most its own per-party limit */
  maxTombstones?: number
  /** each party's standing, asked at each of its inserts and cancels; default: all parties alike */
  standing?: StandingOf
}

/** How an offer's supplier runs jobs, as the book lists it and filters on it. */
export type BookRuntime = 'process' | 'container'

/** Filters of `book.offers()` / `formatBook` (the `bazaar book` flags). */
export interface BookFilters {
  /** GPU model or class prefix ("h100" matches "h100-80gb") */
  gpu?: string
  teeKind?: string
  /** only offers whose GPUs provide confidential-computing evidence */
  gpuCc?: boolean
  region?: string
  netuid?: number
  /** only offers at or below this price per GPU hour */
  maxPrice?: bigint
  /** only offers whose jobs run as processes (no `runtime`) or in containers (matching rule 7) */
  runtime?: BookRuntime
  /** only offers a bid with this image could match (rule 7: container offers whose patterns allow it) */
  image?: string
  /** supplier hotkey, hex (formatBook also takes ss58) */
  supplier?: string
  /** at most this many rows */
  limit?: number
}

/** The result of matching a bid: the offer, the GPU entry chosen and the TEE kind to use. */
export interface Match {
  readonly entry: OfferEntry
  readonly gpu: Gpu
  readonly teeKind: string
}

/**
 * The supplier's capacity, as negotiation needs it. `hold` is synchronous and atomic: of two
 * proposals racing for the last GPU, exactly one hold succeeds. An implementation over the jobs
 * ledger replaces `MemoryCapacity`.
 */
export interface CapacityGuard {
  /** reserves `count` GPUs of `model` for `ttlMs`; false when not available */
  hold (agreementId: string, model: string, count: number, ttlMs: number): boolean
  /** turns a hold into a commitment (kept until released); false if the hold lapsed or is unknown */
  commit (agreementId: string): boolean
  /** drops a hold or a commitment */
  release (agreementId: string): void
  /** GPUs of `model` neither held nor committed */
  available (model: string): number
}

/** The supplier's own current offers, looked up by offer id (its publisher keeps them). */
export interface OfferSource {
  get (offerId: string): Offer | undefined
}
