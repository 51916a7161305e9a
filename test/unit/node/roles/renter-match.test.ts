import { describe, expect, it } from 'vitest'
import { OrderBook, type OfferEntry } from '../../../../src/market/index.js'
import { awaitMatch, matchOthers, type OfferEvents } from '../../../../src/node/roles/renter/match.js'
import { RentError } from '../../../../src/node/roles/renter/errors.js'
import { ManualClock } from '../../../../src/util/clock.js'
import type { Offer } from '../../../../src/wire/market.js'
import { T0, mkBid, mkOffer, party } from '../../market/book-fixtures.js'

const OWN = Buffer.from(party(9)).toString('hex')

/** a book with the offer events MarketService gives it */
function market (clock: ManualClock): OfferEvents & { add: (o: Offer) => void, listeners: () => number } {
  const book = new OrderBook({ clock })
  const fns = new Set<(e: OfferEntry) => void>()
  return {
    book,
    onOffer: (fn) => { fns.add(fn); return () => { fns.delete(fn) } },
    add: (o) => {
      book.upsertOffer(o)
      const e = book.getOffer(`${Buffer.from(o.supplier).toString('hex')}/${o.id}`)!
      for (const fn of fns) fn(e)
    },
    listeners: () => fns.size
  }
}

const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => await p.then(() => undefined, (e: unknown) => e instanceof RentError ? e.code : `UNTYPED ${String(e)}`)

describe('waiting for a match', () => {
  it('resolves at once when the book already holds a compatible offer', async () => {
    const clock = new ManualClock(T0)
    const m = market(clock)
    m.add(mkOffer())
    const match = await awaitMatch(m, mkBid(), { clock, ownSupplier: OWN, timeoutMs: 1_000 })
    expect(match.entry.offer.id).toBe('o1')
    expect(clock.pending).toBe(0)
  })

  it('resolves when a compatible offer arrives, not on an incompatible one, and leaves no timer or listener', async () => {
    const clock = new ManualClock(T0)
    const m = market(clock)
    const waiting = awaitMatch(m, mkBid(), { clock, ownSupplier: OWN, timeoutMs: 30_000 })
    let settled = false
    void waiting.finally(() => { settled = true })
    m.add(mkOffer({ id: 'a100', gpus: [{ model: 'a100-80gb', memoryMib: 81920, count: 8 }] }))
    await clock.advanceAsync(1_000)
    expect(settled).toBe(false)
    m.add(mkOffer({ id: 'h100' }))
    expect((await waiting).entry.offer.id).toBe('h100')
    expect(clock.pending).toBe(0)
    expect(m.listeners()).toBe(0)
  })

  it('an image job that finds only process offers is told so at the deadline; one that finds nothing at all is not', async () => {
    const clock = new ManualClock(T0)
    const m = market(clock)
    const image = 'docker.io/pytorch/pytorch:2.4'
    const imageBid = mkBid({ requirements: { ...mkBid().requirements!, image } })
    const nothing = awaitMatch(m, imageBid, { clock, ownSupplier: OWN, timeoutMs: 30_000 }).catch((e: unknown) => e as RentError)
    await clock.advanceAsync(30_000)
    expect(await nothing).toMatchObject({ code: 'NO_MATCH', message: 'no compatible offer in the book: it holds no offers (bazaar peers shows whether this node reaches other nodes)' })
    m.add(mkOffer({ id: 'processes' }))
    const processes = awaitMatch(m, imageBid, { clock, ownSupplier: OWN, timeoutMs: 30_000 }).catch((e: unknown) => e as RentError)
    await clock.advanceAsync(30_000)
    expect(await processes).toMatchObject({ code: 'NO_MATCH', message: `no compatible offer in the book: the offers for these GPUs run jobs as processes, none in a container of ${image}` })
  })

  it.each([
    { what: 'its TEE kinds', bid: { teeKinds: ['sev-snp'] }, reason: 'the offers for these GPUs attest as tdx, not sev-snp (--tee, or the renter\'s market.teeKinds)' },
    { what: 'its price', bid: {}, price: 1_000_000_000n, reason: 'the cheapest offer for these GPUs asks 3 α per GPU-hour, over the 1 α of --max-price' },
    { what: 'its regions', bid: { regions: ['us'] }, reason: 'the offers for these GPUs are in region eu, not us' },
    { what: 'its GPU count', bid: { count: 9 }, reason: 'no offer for these GPUs has 9 of them free' },
    { what: 'its GPU model', bid: { gpu: 'b200' }, reason: 'it holds no offer of b200 GPUs, only of others (bazaar book lists them)' },
    { what: 'its GPU memory', bid: { minMemoryMib: 200_000 }, reason: 'it holds no offer of h100 GPUs with 200000 MiB, only of others (bazaar book lists them)' },
    { what: 'its duration', bid: {}, durationS: 2 * 86400, reason: 'the offers for these GPUs take rentals of 1m to 1d, not 2d (--duration)' },
    { what: 'two requirements at once', bid: { teeKinds: ['sev-snp'], regions: ['us'] }, reason: 'no one requirement alone stands in the way (the duration, the subnet, or several at once; bazaar book lists what is offered)' }
  ])('a rental refused only by $what is told which, with what the offers state', async ({ bid, price, durationS, reason }) => {
    const clock = new ManualClock(T0)
    const m = market(clock)
    m.add(mkOffer({ id: 'h100', teeKinds: ['tdx'], region: 'eu', pricePerGpuHour: 3_000_000_000n, gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 8 }] }))
    const b = mkBid({ requirements: { ...mkBid().requirements!, ...bid }, ...(price != null ? { maxPricePerGpuHour: price } : {}), ...(durationS != null ? { durationS } : {}) })
    const refused = awaitMatch(m, b, { clock, ownSupplier: OWN, timeoutMs: 5_000 }).catch((e: unknown) => e as RentError)
    await clock.advanceAsync(5_000)
    expect(await refused).toMatchObject({ code: 'NO_MATCH', message: `no compatible offer in the book: ${reason}` })
  })

  it('a rental shorter than any offer of no upper bound takes is told the least', async () => {
    const clock = new ManualClock(T0)
    const m = market(clock)
    m.add(mkOffer({ id: 'open-ended', maxDurationS: 0 }))
    const refused = awaitMatch(m, mkBid({ durationS: 10 }), { clock, ownSupplier: OWN, timeoutMs: 5_000 }).catch((e: unknown) => e as RentError)
    await clock.advanceAsync(5_000)
    expect(await refused).toMatchObject({ code: 'NO_MATCH', message: 'no compatible offer in the book: the offers for these GPUs take rentals of 1m or more, not 10s (--duration)' })
  })

  it('a renter whose policy requires GPU CC evidence is told the offers state none', async () => {
    const clock = new ManualClock(T0)
    const m = market(clock)
    m.add(mkOffer({ id: 'plain' }))
    const refused = awaitMatch(m, mkBid(), { clock, ownSupplier: OWN, timeoutMs: 5_000, requireGpuCc: true }).catch((e: unknown) => e as RentError)
    await clock.advanceAsync(5_000)
    expect(await refused).toMatchObject({ code: 'NO_MATCH', message: 'no compatible offer in the book: the offers for these GPUs state no GPU confidential-computing evidence, which this node\'s tee.gpu policy requires' })
  })

  it('a renter that requires GPU CC evidence waits past offers without gpuCc for one that states it', async () => {
    const clock = new ManualClock(T0)
    const m = market(clock)
    m.add(mkOffer({ id: 'plain', pricePerGpuHour: 1n }))
    const waiting = awaitMatch(m, mkBid(), { clock, ownSupplier: OWN, timeoutMs: 30_000, requireGpuCc: true })
    let settled = false
    void waiting.finally(() => { settled = true })
    await clock.advanceAsync(1_000)
    expect(settled).toBe(false)
    m.add(mkOffer({ id: 'cc', supplier: party(3), pricePerGpuHour: 5n, gpuCc: true }))
    expect((await waiting).entry.offer.id).toBe('cc')
    expect(matchOthers(m.book, mkBid(), OWN)?.entry.offer.id).toBe('plain')
  })

  it('never matches this node\'s own offers', async () => {
    const clock = new ManualClock(T0)
    const m = market(clock)
    m.add(mkOffer({ id: 'own', supplier: party(9), pricePerGpuHour: 1n }))
    expect(matchOthers(m.book, mkBid(), OWN)).toBeUndefined()
    const waiting = awaitMatch(m, mkBid(), { clock, ownSupplier: OWN, timeoutMs: 30_000 })
    m.add(mkOffer({ id: 'own2', supplier: party(9), pricePerGpuHour: 2n }))
    m.add(mkOffer({ id: 'theirs', pricePerGpuHour: 3n }))
    expect((await waiting).entry.offer.id).toBe('theirs')
  })

  it('fails with NO_MATCH when the clock reaches the deadline first', async () => {
    const clock = new ManualClock(T0)
    const m = market(clock)
    const waiting = codeOf(awaitMatch(m, mkBid(), { clock, ownSupplier: OWN, timeoutMs: 30_000 }))
    await clock.advanceAsync(30_000)
    expect(await waiting).toBe('NO_MATCH')
    expect(m.listeners()).toBe(0)
  })

  it('fails with ABORTED on the signal, before or while waiting', async () => {
    const clock = new ManualClock(T0)
    const m = market(clock)
    expect(await codeOf(awaitMatch(m, mkBid(), { clock, ownSupplier: OWN, timeoutMs: 30_000, signal: AbortSignal.abort() }))).toBe('ABORTED')
    const controller = new AbortController()
    const waiting = codeOf(awaitMatch(m, mkBid(), { clock, ownSupplier: OWN, timeoutMs: 30_000, signal: controller.signal }))
    controller.abort()
    expect(await waiting).toBe('ABORTED')
    expect(clock.pending).toBe(0)
    expect(m.listeners()).toBe(0)
  })
})
