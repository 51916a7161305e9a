import { matchBid, type Match, type OfferEntry, type OrderBook } from '../../../market/index.js'
import type { Bid } from '../../../wire/market.js'
import type { Clock } from '../../../util/clock.js'
import { RentError } from './errors.js'
import { formatUnits } from '../../../escrow/amount.js'
import { secondsText } from '../../market-input.js'

/** The book and its offer events (MarketService). */
export interface OfferEvents {
  book: OrderBook
  /** calls `fn` for each offer that enters or changes in the book; returns the remover */
  onOffer: (fn: (entry: OfferEntry) => void) => () => void
}

/**
 * The best match for the bid among offers not of `ownSupplier` (hex hotkey): a node that also
 * supplies must never negotiate with itself. A supplier holds a few offers at most, so excluding
 * them one by one as they come up costs less than collecting them from the whole book first.
 */
export function matchOthers (book: OrderBook, bid: Bid, ownSupplier: string, exclude?: ReadonlySet<string>, requireGpuCc = false): Match | undefined {
  let skip: Set<string> | undefined
  for (;;) {
    const m = matchBid(book, bid, { exclude: skip ?? exclude, requireGpuCc })
    if (m == null || m.entry.supplier !== ownSupplier) return m
    skip ??= new Set(exclude)
    skip.add(m.entry.key)
  }
}

export interface AwaitMatchOptions {
  clock: Clock
  /** the hex hotkey of this node: its own offers never match */
  ownSupplier: string
  /** how long to wait for a compatible offer */
  timeoutMs: number
  /** only offers that state GPU CC evidence: the renter's policy requires it (tee.gpu: required) */
  requireGpuCc?: boolean
  signal?: AbortSignal
}

/**
 * Resolves with a match for the bid as soon as the book holds one: at once, or when an offer that
 * enters the book makes one possible (book events, not polling). Rejects with RentError NO_MATCH
 * when the clock reaches the deadline first, ABORTED on the signal.
 */
export async function awaitMatch (market: OfferEvents, bid: Bid, opts: AwaitMatchOptions): Promise<Match> {
  if (opts.signal?.aborted === true) throw new RentError('ABORTED', 'cancelled before a match')
  const now = matchOthers(market.book, bid, opts.ownSupplier, undefined, opts.requireGpuCc === true)
  if (now != null) return now
  return await new Promise<Match>((resolve, reject) => {
    let done = false
    const finish = (settle: () => void): void => {
      if (done) return
      done = true
      off()
      timer.clear()
      opts.signal?.removeEventListener('abort', onAbort)
      settle()
    }
    const off = market.onOffer(() => {
      const m = matchOthers(market.book, bid, opts.ownSupplier, undefined, opts.requireGpuCc === true)
      if (m != null) finish(() => { resolve(m) })
    })
    const timer = opts.clock.setTimeout(() => { finish(() => { reject(new RentError('NO_MATCH', noMatchMessage(market.book, bid, opts))) }) }, opts.timeoutMs)
    const onAbort = (): void => { finish(() => { reject(new RentError('ABORTED', 'cancelled before a match')) }) }
    opts.signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Why a rental found no offer, where the book tells: the one requirement whose relaxation alone
 * would have matched (the image, the TEE kinds, the price, the regions, the GPU count, the GPU
 * confidential-computing policy, the GPU model), said in the renter's terms, with what the offers
 * state instead. A renter cannot see most of this from its flags: a job with an image meets only
 * suppliers whose containers allow it, and the TEE kinds default to `market.teeKinds`.
 */
function noMatchMessage (book: OrderBook, bid: Bid, opts: AwaitMatchOptions): string {
  const head = 'no compatible offer in the book'
  const req = bid.requirements
  const cc = opts.requireGpuCc === true
  const matchWith = (b: Bid, requireGpuCc = cc): Match | undefined => matchOthers(book, b, opts.ownSupplier, undefined, requireGpuCc)
  const relaxed = (r: Partial<NonNullable<Bid['requirements']>>, rest: Partial<Bid> = {}): Bid => ({ ...bid, ...rest, requirements: { ...req!, ...r } })
  if (book.offerCount === 0) return `${head}: it holds no offers (bazaar peers shows whether this node reaches other nodes)`
  if (req == null) return head
  if (req.image !== undefined && matchWith(relaxed({ image: undefined })) != null) {
    return `${head}: the offers for these GPUs run jobs as processes, none in a container of ${req.image}`
  }
  if (req.teeKinds.length > 0) {
    const m = matchWith(relaxed({ teeKinds: [] }))
    if (m != null) return `${head}: the offers for these GPUs attest as ${m.entry.offer.teeKinds.join(', ')}, not ${req.teeKinds.join(' or ')} (--tee, or the renter's market.teeKinds)`
  }
  const priced = matchWith(relaxed({}, { maxPricePerGpuHour: MAX_PRICE }))
  if (priced != null && priced.entry.offer.pricePerGpuHour > bid.maxPricePerGpuHour) {
    return `${head}: the cheapest offer for these GPUs asks ${formatUnits(priced.entry.offer.pricePerGpuHour)} α per GPU-hour, over the ${formatUnits(bid.maxPricePerGpuHour)} α of --max-price`
  }
  if (req.regions.length > 0) {
    const m = matchWith(relaxed({ regions: [] }))
    if (m != null) return `${head}: the offers for these GPUs are in region ${m.entry.offer.region}, not ${req.regions.join(' or ')}`
  }
  if (req.count > 1 && matchWith(relaxed({ count: 1 })) != null) return `${head}: no offer for these GPUs has ${req.count} of them free`
  const durations = offeredDurations(book, req.gpu, bid.durationS)
  if (durations != null) return `${head}: the offers for these GPUs take rentals of ${durations}, not ${secondsText(bid.durationS)} (--duration)`
  if (cc && matchWith(bid, false) != null) {
    return `${head}: the offers for these GPUs state no GPU confidential-computing evidence, which this node's tee.gpu policy requires`
  }
  if ((req.gpu !== '' || req.minMemoryMib > 0) && matchWith(relaxed({ gpu: '', minMemoryMib: 0 })) != null) {
    return `${head}: it holds no offer of ${req.gpu === '' ? 'GPUs' : `${req.gpu} GPUs`}${req.minMemoryMib > 0 ? ` with ${req.minMemoryMib} MiB` : ''}, only of others (bazaar book lists them)`
  }
  return `${head}: no one requirement alone stands in the way (the duration, the subnet, or several at once; bazaar book lists what is offered)`
}

/**
 * The span of rental durations the book's offers of `gpu` take (`10s to 1h`), where `durationS`
 * lies outside all of it; undefined where it lies inside, or no offer of `gpu` is held. Reads at
 * most MAX_DURATION_SCAN offers: this runs once, on a rental that already failed.
 */
function offeredDurations (book: OrderBook, gpu: string, durationS: number): string | undefined {
  let least = Infinity
  let most = 0
  let unbounded = false
  for (const e of book.offers(gpu === '' ? {} : { gpu }).slice(0, MAX_DURATION_SCAN)) {
    least = Math.min(least, e.offer.minDurationS)
    if (e.offer.maxDurationS === 0) unbounded = true
    else most = Math.max(most, e.offer.maxDurationS)
  }
  if (least === Infinity) return undefined
  if (durationS >= least && (unbounded || durationS <= most)) return undefined
  return unbounded ? `${secondsText(least)} or more` : `${secondsText(least)} to ${secondsText(most)}`
}

const MAX_DURATION_SCAN = 10_000

/** a price no offer is over: 2^63 - 1 rao, the most a price field carries */
const MAX_PRICE = (1n << 63n) - 1n
