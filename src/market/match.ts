import type { Bid, Gpu, Offer } from '../wire/market.js'
import type { OrderBook } from './book/order-book.js'
import { compareOffers } from './book/compare.js'
import { modelMatches } from './book/keys.js'
import { REGION_OVERFLOW, TEE_OVERFLOW, regionId, teeMaskOf } from './book/attributes.js'
import { imageAllowed } from '../util/image-ref.js'
import { CONTAINER_RUNTIME } from './validation/constants.js'
import type { BookRuntime, Match, OfferEntry } from './types.js'

/**
 * # Matching rule (bazaar market, version 1)
 *
 * For a bid, the match is the cheapest compatible offer. An offer is compatible with a bid when
 * every one of these holds:
 *
 * 1. same `netuid`;
 * 2. `offer.pricePerGpuHour <= bid.maxPricePerGpuHour`;
 * 3. duration: `offer.minDurationS <= bid.durationS`, and `bid.durationS <= offer.maxDurationS`
 *    unless `maxDurationS` is 0 (no limit);
 * 4. region: the bid lists no regions, or lists `offer.region`;
 * 5. TEE kind: the bid lists none, or at least one it lists is in `offer.teeKinds`; the kind used is
 *    the first of the bid's list the offer supports (the renter's preference), or else the offer's
 *    first;
 * 6. GPUs: one of the offer's GPU entries has a model equal to `requirements.gpu` or in that class
 *    (`"h100"` covers `"h100-80gb"`; empty covers all), `memoryMib >= minMemoryMib` and
 *    `count >= requirements.count` (count 0 is read as 1). When several entries qualify the one with
 *    the least memory is used, then the smaller model name;
 * 7. runtime: a bid with an image (`requirements.image`) only offers of `runtime` "container" whose
 *    `images` allow it (none listed allows every image; an exact pattern equal to it, or a prefix
 *    pattern `p*` where the image starts with `p`, compared as written); a bid without an image only
 *    offers without a runtime (jobs run as processes);
 * 8. the offer is neither expired (`expiresAt > now`) nor excluded by the caller (offers that
 *    refused this renter in negotiation, and, for a renter whose policy requires GPU
 *    confidential-computing evidence, offers that do not state `gpuCc`: the requirement is the
 *    renter's local policy, not a field of the bid, so it narrows only that renter's own match).
 *
 * Among compatible offers the order is price-time priority: lower `pricePerGpuHour`, then earlier
 * `createdAt`, then the lower supplier hotkey (bytes as lowercase hex), then the lower offer id.
 * The rule reads only the messages' own fields (never arrival time), so two nodes that saw the
 * same messages produce the same match.
 */

export interface MatchOptions {
  /** time for the expiry check; default the book's clock */
  now?: number
  /** offer keys to skip (refused this bid already) */
  exclude?: ReadonlySet<string>
  /** GPUs free per entry of `offer.gpus` (default: `entry.remaining`); used by matchAll */
  remaining?: (entry: OfferEntry) => readonly number[]
  /**
   * only offers whose GPUs provide confidential-computing evidence (`offer.gpuCc`): a renter with
   * `tee.gpu: required` would refuse any other supplier in the session, after the escrow is open
   */
  requireGpuCc?: boolean
}

/**
 * The GPU entry of `offer` that serves `bid`, or undefined (rule 6). `free[i]` is how many GPUs
 * of `offer.gpus[i]` are still free (default: the advertised counts).
 */
export function selectGpu (offer: { readonly gpus: readonly Gpu[] }, bid: Bid, free?: readonly number[]): Gpu | undefined {
  const req = bid.requirements
  const wanted = req?.gpu ?? ''
  const minMem = req?.minMemoryMib ?? 0
  const count = Math.max(1, req?.count ?? 0)
  let best: Gpu | undefined
  const gpus: readonly Gpu[] = offer.gpus
  for (let i = 0; i < gpus.length; i++) {
    const g = gpus[i]
    if (!modelMatches(wanted, g.model) || g.memoryMib < minMem) continue
    if ((free !== undefined ? free[i] : g.count) < count) continue
    if (best == null || g.memoryMib < best.memoryMib || (g.memoryMib === best.memoryMib && g.model < best.model)) best = g
  }
  return best
}

/** The TEE kind an agreement between them uses, or undefined (rule 5). */
export function selectTee (offer: { readonly teeKinds: readonly string[] }, bid: Bid): string | undefined {
  const wanted = bid.requirements?.teeKinds ?? []
  if (wanted.length === 0) return offer.teeKinds[0]
  for (const t of wanted) if (offer.teeKinds.includes(t)) return t
  return undefined
}

/**
 * Rule 7: whether an offer of these image patterns runs the bid's `image` (undefined patterns: the
 * offer runs processes; undefined image: the job is a process).
 */
export function runtimeServes (images: readonly string[] | undefined, image: string | undefined): boolean {
  if (image === undefined) return images === undefined
  return images !== undefined && imageAllowed(image, images)
}

/**
 * The book's runtime filters (`bazaar book --runtime --image`), by rule 7: `runtime` keeps the
 * offers whose jobs run as processes (undefined patterns) or those that run containers, and
 * `image` keeps the offers a bid with that image could match (`runtimeServes`, so a listing never
 * shows an offer that matching would refuse the image, nor hides one it would take).
 */
export function runtimeListed (images: readonly string[] | undefined, filters: { runtime?: BookRuntime, image?: string }): boolean {
  if (filters.runtime === 'process' && images !== undefined) return false
  if (filters.runtime === 'container' && images === undefined) return false
  return filters.image === undefined || runtimeServes(images, filters.image)
}

/** An offer's rule-7 view: its image patterns with runtime "container", else undefined (processes). */
export function offerImages (offer: Offer): readonly string[] | undefined {
  return offer.runtime === CONTAINER_RUNTIME ? offer.images : undefined
}

/** Rules 1 to 5, 7 and 8's expiry: everything but the GPU entry. */
export function termsCompatible (offer: Offer, bid: Bid, now: number): boolean {
  if (offer.netuid !== bid.netuid) return false
  if (offer.pricePerGpuHour > bid.maxPricePerGpuHour) return false
  if (offer.minDurationS > bid.durationS) return false
  if (offer.maxDurationS !== 0 && bid.durationS > offer.maxDurationS) return false
  const regions = bid.requirements?.regions ?? []
  if (regions.length > 0 && !regions.includes(offer.region)) return false
  if (selectTee(offer, bid) === undefined) return false
  if (!runtimeServes(offerImages(offer), bid.requirements?.image)) return false
  return Number(offer.expiresAt) > now
}

/** The GPU entry `offer` would serve `bid` with under the rule, or undefined. */
export function compatible (offer: Offer, bid: Bid, now: number, free?: readonly number[]): Gpu | undefined {
  if (!termsCompatible(offer, bid, now)) return undefined
  return selectGpu(offer, bid, free)
}

/** What a scan needs of a bid, computed once per matchBid. */
interface BidView {
  bid: Bid
  now: number
  maxPrice: bigint
  maxPriceN: number
  netuid: number
  durationS: number
  /** 0 = any kind; else the mask of accepted kinds (TEE_OVERFLOW set: compare the strings) */
  teeMask: number
  /** undefined = any region */
  regionIds: number[] | undefined
  regionOverflow: boolean
  /** the bid's image; undefined: a process job */
  image: string | undefined
  exclude: ReadonlySet<string> | undefined
  remaining: ((e: OfferEntry) => readonly number[]) | undefined
  requireGpuCc: boolean
}

/**
 * One reusable view: matchBid is synchronous and never re-entered (the `remaining` callback does
 * not match), so the hot path allocates nothing but its result.
 */
const scratch: BidView = {
  bid: undefined as unknown as Bid,
  now: 0,
  maxPrice: 0n,
  maxPriceN: 0,
  netuid: 0,
  durationS: 0,
  teeMask: 0,
  regionIds: undefined,
  regionOverflow: false,
  image: undefined,
  exclude: undefined,
  remaining: undefined,
  requireGpuCc: false
}
const scratchBest: Best = { entry: undefined, gpu: undefined }
const NO_OPTIONS: MatchOptions = {}

function view (book: OrderBook, bid: Bid, opts: MatchOptions): BidView {
  const req = bid.requirements
  const tees = req?.teeKinds
  const regions = req?.regions
  const v = scratch
  v.bid = bid
  v.now = opts.now ?? book.now()
  v.maxPrice = bid.maxPricePerGpuHour
  v.maxPriceN = Number(bid.maxPricePerGpuHour)
  v.netuid = bid.netuid
  v.durationS = bid.durationS
  v.teeMask = tees !== undefined && tees.length > 0 ? teeMaskOf(tees) : 0
  if (regions !== undefined && regions.length > 0) {
    v.regionIds = regions.map(regionId)
    v.regionOverflow = v.regionIds.includes(REGION_OVERFLOW)
  } else {
    v.regionIds = undefined
    v.regionOverflow = false
  }
  v.image = req?.image
  v.exclude = opts.exclude
  v.remaining = opts.remaining
  v.requireGpuCc = opts.requireGpuCc === true
  return v
}

/**
 * The rule over a book entry, with integer attribute tests where the registry allows; equivalent
 * to `compatible(e.offer, bid, now, free)` (the property tests hold it to that). It reads only the
 * entry's own fields, never the decoded offer.
 */
function entryGpu (e: OfferEntry, v: BidView): Gpu | undefined {
  if (e.netuid !== v.netuid) return undefined
  if (e.minDurationS > v.durationS || (e.maxDurationS !== 0 && v.durationS > e.maxDurationS)) return undefined
  if (e.expiresN <= v.now) return undefined
  if (v.regionIds !== undefined) {
    if (v.regionOverflow || e.regionId === REGION_OVERFLOW) {
      if (!(v.bid.requirements?.regions ?? []).includes(e.region)) return undefined
    } else if (!v.regionIds.includes(e.regionId)) return undefined
  }
  if (v.teeMask !== 0) {
    if (((v.teeMask | e.teeMask) & TEE_OVERFLOW) !== 0) {
      if (selectTee(e, v.bid) === undefined) return undefined
    } else if ((v.teeMask & e.teeMask) === 0) return undefined
  } else if (e.teeMask === 0) return undefined // no TEE kind at all (every kind sets a bit)
  // rule 7: a process job only on a process offer (one comparison); an image on a container offer that allows it
  if (v.image === undefined ? e.images !== undefined : !runtimeServes(e.images, v.image)) return undefined
  if (v.exclude?.has(e.key) === true) return undefined
  if (v.requireGpuCc && !e.gpuCc) return undefined
  return selectGpu(e, v.bid, v.remaining !== undefined ? v.remaining(e) : e.free)
}

/**
 * Matches one bid against the book by the rule above. Scans each candidate class in price-time
 * order and stops at the first compatible offer, at the bid's price limit, or where the best
 * candidate found in another class already ranks higher; then takes the best over the classes.
 */
export function matchBid (book: OrderBook, bid: Bid, opts: MatchOptions = NO_OPTIONS): Match | undefined {
  const v = view(book, bid, opts)
  const wanted = bid.requirements?.gpu ?? ''
  const best = scratchBest
  best.entry = undefined
  best.gpu = undefined
  if (wanted !== '') {
    const exact = book.classOffers(wanted)
    if (exact !== undefined) scanClass(exact.chunkArrays(), v, best)
  }
  if (book.hasRelatedClasses(wanted)) {
    for (const [model, list] of book.classEntries()) {
      if (model === wanted || !modelMatches(wanted, model)) continue
      scanClass(list.chunkArrays(), v, best)
    }
  }
  const entry = best.entry as OfferEntry | undefined
  const gpu = best.gpu as Gpu | undefined
  best.entry = undefined
  best.gpu = undefined
  v.bid = undefined as unknown as Bid
  v.image = undefined
  v.exclude = undefined
  v.remaining = undefined
  if (entry === undefined || gpu === undefined) return undefined
  return { entry, gpu, teeKind: selectTee(entry, bid) as string }
}

interface Best { entry: OfferEntry | undefined, gpu: Gpu | undefined }

/** one class in price-time order, until a match, the price limit, or the best so far ranks higher */
function scanClass (chunks: readonly OfferEntry[][], v: BidView, best: Best): void {
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i]
    for (let j = 0; j < c.length; j++) {
      const e = c[j]
      // sorted by price: nothing further can be within the limit (the numbers are monotone
      // conversions of the bigints, so only equal numbers need the bigints to decide)
      if (e.priceN >= v.maxPriceN && (e.priceN > v.maxPriceN || e.pricePerGpuHour > v.maxPrice)) return
      // a candidate from another class already beats everything from here on
      if (best.entry !== undefined && compareOffers(e, best.entry) >= 0) return
      const g = entryGpu(e, v)
      if (g !== undefined) {
        best.entry = e
        best.gpu = g
        return
      }
    }
  }
}

/** One line of `matchAll`'s result. */
export interface Assignment {
  bidKey: string
  offerKey: string
  model: string
  count: number
  teeKind: string
}

/**
 * Matches every resting bid, earliest first (see `compareBids`), each taking GPUs from its offer
 * so that no offer is assigned more GPUs than it has free. Deterministic: the result depends only
 * on the book's contents. The book itself is not changed.
 */
export function matchAll (book: OrderBook, opts: { now?: number } = {}): Assignment[] {
  const free = new Map<string, number[]>()
  const remaining = (e: OfferEntry): readonly number[] => free.get(e.key) ?? e.remaining
  const out: Assignment[] = []
  for (const b of book.bids()) {
    const m = matchBid(book, b.bid, { now: opts.now, remaining })
    if (m == null) continue
    const count = Math.max(1, b.bid.requirements?.count ?? 0)
    const left = [...remaining(m.entry)]
    const i = m.entry.gpus.indexOf(m.gpu)
    left[i] -= count
    free.set(m.entry.key, left)
    out.push({ bidKey: b.key, offerKey: m.entry.key, model: m.gpu.model, count, teeKind: m.teeKind })
  }
  return out
}
