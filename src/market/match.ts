import type { Bid, Gpu, Offer } from '../protocols/schema/market.js'
import type { OrderBook } from './book/order-book.js'
import { compareOffers } from './book/compare.js'
import { modelMatches } from './book/keys.js'
import type { Match, OfferEntry } from './types.js'

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
 * 7. the offer is neither expired (`expiresAt > now`) nor excluded by the caller (offers that
 *    refused this renter in negotiation).
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
  /** GPUs of a model still free under an offer (default: the advertised count); used by matchAll */
  remaining?: (entry: OfferEntry, model: string) => number
}

/** The GPU entry of `offer` that serves `bid`, or undefined (rule 6). */
export function selectGpu (offer: Offer, bid: Bid, remaining?: (model: string) => number): Gpu | undefined {
  const req = bid.requirements
  const wanted = req?.gpu ?? ''
  const minMem = req?.minMemoryMib ?? 0
  const count = Math.max(1, req?.count ?? 0)
  let best: Gpu | undefined
  for (const g of offer.gpus) {
    if (!modelMatches(wanted, g.model) || g.memoryMib < minMem) continue
    const free = remaining != null ? remaining(g.model) : g.count
    if (free < count) continue
    if (best == null || g.memoryMib < best.memoryMib || (g.memoryMib === best.memoryMib && g.model < best.model)) best = g
  }
  return best
}

/** The TEE kind an agreement between them uses, or undefined (rule 5). */
export function selectTee (offer: Offer, bid: Bid): string | undefined {
  const wanted = bid.requirements?.teeKinds ?? []
  if (wanted.length === 0) return offer.teeKinds[0]
  for (const t of wanted) if (offer.teeKinds.includes(t)) return t
  return undefined
}

/** Rules 1 to 5 and 7's expiry: everything but the GPU entry. */
export function termsCompatible (offer: Offer, bid: Bid, now: number): boolean {
  if (offer.netuid !== bid.netuid) return false
  if (offer.pricePerGpuHour > bid.maxPricePerGpuHour) return false
  if (offer.minDurationS > bid.durationS) return false
  if (offer.maxDurationS !== 0 && bid.durationS > offer.maxDurationS) return false
  const regions = bid.requirements?.regions ?? []
  if (regions.length > 0 && !regions.includes(offer.region)) return false
  if (selectTee(offer, bid) === undefined) return false
  return Number(offer.expiresAt) > now
}

/** The match of `offer` for `bid` under the rule, or undefined. */
export function compatible (offer: Offer, bid: Bid, now: number, remaining?: (model: string) => number): Match['gpu'] | undefined {
  if (!termsCompatible(offer, bid, now)) return undefined
  return selectGpu(offer, bid, remaining)
}

/**
 * Matches one bid against the book by the rule above. Scans each candidate class in price-time
 * order and stops at the first compatible offer or at the bid's price limit, then takes the best
 * over the classes.
 */
export function matchBid (book: OrderBook, bid: Bid, opts: MatchOptions = {}): Match | undefined {
  const now = opts.now ?? book.now()
  const wanted = bid.requirements?.gpu ?? ''
  const maxPrice = bid.maxPricePerGpuHour
  const maxPriceN = Number(maxPrice)
  const exclude = opts.exclude
  const remaining = opts.remaining
  let best: OfferEntry | undefined
  let bestGpu: Gpu | undefined

  const scanClass = (list: { scan: (v: (e: OfferEntry) => boolean) => OfferEntry | undefined }): void => {
    list.scan((e) => {
      // sorted by price: nothing further can be within the limit
      if (e.priceN > maxPriceN || e.offer.pricePerGpuHour > maxPrice) return true
      // a better candidate from another class already beats everything from here on
      if (best != null && compareOffers(e, best) >= 0) return true
      if (exclude?.has(e.key) === true) return false
      if (!termsCompatible(e.offer, bid, now)) return false
      const g = selectGpu(e.offer, bid, remaining != null ? (m) => remaining(e, m) : undefined)
      if (g === undefined) return false
      best = e
      bestGpu = g
      return true
    })
  }

  if (wanted !== '') {
    const exact = book.classOffers(wanted)
    if (exact != null) scanClass(exact)
  }
  for (const [model, list] of book.classEntries()) {
    if (model === wanted || !modelMatches(wanted, model)) continue
    scanClass(list)
  }
  if (best == null || bestGpu == null) return undefined
  return { entry: best, gpu: bestGpu, teeKind: selectTee(best.offer, bid) as string }
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
 * so that no offer is assigned more GPUs of a model than it advertises. Deterministic: the result
 * depends only on the book's contents.
 */
export function matchAll (book: OrderBook, opts: { now?: number } = {}): Assignment[] {
  const used = new Map<string, number>()
  const remaining = (e: OfferEntry, model: string): number => {
    let adv = 0
    for (const g of e.offer.gpus) if (g.model === model) adv += g.count
    return adv - (used.get(`${e.key}#${model}`) ?? 0)
  }
  const out: Assignment[] = []
  for (const b of book.bids()) {
    const m = matchBid(book, b.bid, { now: opts.now, remaining })
    if (m == null) continue
    const count = Math.max(1, b.bid.requirements?.count ?? 0)
    const k = `${m.entry.key}#${m.gpu.model}`
    used.set(k, (used.get(k) ?? 0) + count)
    out.push({ bidKey: b.key, offerKey: m.entry.key, model: m.gpu.model, count, teeKind: m.teeKind })
  }
  return out
}
