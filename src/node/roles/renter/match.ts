import { matchBid, type Match, type OfferEntry, type OrderBook } from '../../../market/index.js'
import type { Bid } from '../../../wire/market.js'
import type { Clock } from '../../../util/clock.js'
import { RentError } from './errors.js'

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
 * Why a rental found no offer, where the book tells: a job with an image meets only suppliers
 * whose containers allow it, which a renter cannot see from its GPU, price and TEE flags; where
 * offers would match the same job without its image, they run jobs as processes, and it says so.
 */
function noMatchMessage (book: OrderBook, bid: Bid, opts: AwaitMatchOptions): string {
  const req = bid.requirements
  if (req?.image !== undefined) {
    const withoutImage = { ...bid, requirements: { ...req, image: undefined } }
    if (matchOthers(book, withoutImage, opts.ownSupplier, undefined, opts.requireGpuCc === true) != null) {
      return `no compatible offer in the book: the offers for these GPUs run jobs as processes, none in a container of ${req.image}`
    }
  }
  return 'no compatible offer in the book'
}
