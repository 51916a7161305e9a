import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { OrderBook } from '../../../src/market/book/order-book.js'
import { compareOffers } from '../../../src/market/book/compare.js'
import { MarketError } from '../../../src/market/errors.js'
import { compatible, matchAll, matchBid } from '../../../src/market/match.js'
import type { Bid, Offer } from '../../../src/wire/market.js'
import { ManualClock } from '../../../src/util/clock.js'
import { T0, mkBid, mkOffer, party } from './book-fixtures.js'

function bookOf (offers: Offer[], bids: Bid[] = []): OrderBook {
  const book = new OrderBook({ clock: new ManualClock(T0) })
  for (const o of offers) {
    try { book.upsertOffer(o) } catch (err) { if (!(err instanceof MarketError)) throw err }
  }
  for (const b of bids) {
    try { book.upsertBid(b) } catch (err) { if (!(err instanceof MarketError)) throw err }
  }
  return book
}

const PYTORCH = 'docker.io/pytorch/pytorch:2.4'
const withImage = (image: string): NonNullable<Bid['requirements']> => ({ gpu: '', minMemoryMib: 0, count: 1, teeKinds: [], regions: [], image })

describe('matching rule, one constraint at a time', () => {
  const base = mkOffer()
  const cases: Array<{ name: string, offer: Partial<Offer>, bid: Partial<Bid>, match: boolean }> = [
    { name: 'baseline matches', offer: {}, bid: {}, match: true },
    { name: 'other netuid', offer: { netuid: 2 }, bid: {}, match: false },
    { name: 'price over the limit', offer: { pricePerGpuHour: 6_000_000_000n }, bid: {}, match: false },
    { name: 'price at the limit', offer: { pricePerGpuHour: 5_000_000_000n }, bid: {}, match: true },
    { name: 'duration under the minimum', offer: { minDurationS: 7200 }, bid: {}, match: false },
    { name: 'duration over the maximum', offer: { maxDurationS: 1800 }, bid: {}, match: false },
    { name: 'maxDuration 0 is unlimited', offer: { maxDurationS: 0 }, bid: { durationS: 1_000_000 }, match: true },
    { name: 'region not accepted', offer: { region: 'us' }, bid: { requirements: { gpu: '', minMemoryMib: 0, count: 1, teeKinds: [], regions: ['eu'] } }, match: false },
    { name: 'TEE kind not accepted', offer: { teeKinds: ['sev-snp'] }, bid: { requirements: { gpu: '', minMemoryMib: 0, count: 1, teeKinds: ['tdx'], regions: [] } }, match: false },
    { name: 'other GPU class', offer: {}, bid: { requirements: { gpu: 'a100', minMemoryMib: 0, count: 1, teeKinds: [], regions: [] } }, match: false },
    { name: 'class prefix is not a string prefix', offer: {}, bid: { requirements: { gpu: 'h10', minMemoryMib: 0, count: 1, teeKinds: [], regions: [] } }, match: false },
    { name: 'exact model', offer: {}, bid: { requirements: { gpu: 'h100-80gb', minMemoryMib: 0, count: 1, teeKinds: [], regions: [] } }, match: true },
    { name: 'too little memory', offer: {}, bid: { requirements: { gpu: '', minMemoryMib: 90_000, count: 1, teeKinds: [], regions: [] } }, match: false },
    { name: 'too few GPUs', offer: {}, bid: { requirements: { gpu: '', minMemoryMib: 0, count: 9, teeKinds: [], regions: [] } }, match: false },
    { name: 'expired offer', offer: { expiresAt: BigInt(T0) }, bid: {}, match: false },
    { name: 'an image job on a process offer', offer: {}, bid: { requirements: withImage(PYTORCH) }, match: false },
    { name: 'a process job on a container offer', offer: { runtime: 'container' }, bid: {}, match: false },
    { name: 'an image job on a container offer of any image', offer: { runtime: 'container' }, bid: { requirements: withImage(PYTORCH) }, match: true },
    { name: 'an image its prefix pattern allows', offer: { runtime: 'container', images: ['ghcr.io/org/x:1', 'docker.io/pytorch/pytorch:*'] }, bid: { requirements: withImage(PYTORCH) }, match: true },
    { name: 'an image its exact pattern allows', offer: { runtime: 'container', images: [PYTORCH] }, bid: { requirements: withImage(PYTORCH) }, match: true },
    { name: 'an image no pattern allows', offer: { runtime: 'container', images: ['ghcr.io/org/x:1', 'docker.io/pytorch/pytorch:2.3*'] }, bid: { requirements: withImage(PYTORCH) }, match: false },
    { name: 'patterns compare the image as written (no short forms)', offer: { runtime: 'container', images: ['docker.io/pytorch/pytorch:*'] }, bid: { requirements: withImage('pytorch/pytorch:2.4') }, match: false }
  ]
  for (const c of cases) {
    it(c.name, () => {
      const offer = { ...base, ...c.offer }
      expect(compatible(offer, mkBid(c.bid), T0) !== undefined).toBe(c.match)
    })
  }

  it('a renter that requires GPU CC evidence skips cheaper offers without gpuCc, and matches none when no offer states it', () => {
    const book = bookOf([
      mkOffer({ id: 'plain', pricePerGpuHour: 5n }),
      mkOffer({ id: 'cc', supplierN: 2, pricePerGpuHour: 9n, gpuCc: true })
    ])
    expect(matchBid(book, mkBid())?.entry.offer.id).toBe('plain')
    expect(matchBid(book, mkBid(), { requireGpuCc: true })?.entry.offer.id).toBe('cc')
    const noCc = bookOf([mkOffer({ id: 'plain', pricePerGpuHour: 5n })])
    expect(matchBid(noCc, mkBid(), { requireGpuCc: true })).toBeUndefined()
    // the requirement does not stick to the next match (the scratch view is reused)
    expect(matchBid(noCc, mkBid())?.entry.offer.id).toBe('plain')
  })

  it('a job with an image skips cheaper process offers for a container offer that runs it; a process job never meets a container offer', () => {
    const book = bookOf([
      mkOffer({ id: 'process', pricePerGpuHour: 5n }),
      mkOffer({ id: 'other-images', supplierN: 2, pricePerGpuHour: 6n, runtime: 'container', images: ['ghcr.io/org/*'] }),
      mkOffer({ id: 'pytorch', supplierN: 3, pricePerGpuHour: 7n, runtime: 'container', images: ['docker.io/pytorch/pytorch:*'] }),
      mkOffer({ id: 'any-image', supplierN: 4, pricePerGpuHour: 8n, runtime: 'container' })
    ])
    const image = mkBid({ requirements: { ...withImage(PYTORCH), gpu: 'h100' } })
    expect(matchBid(book, image)?.entry.offer.id).toBe('pytorch')
    expect(matchBid(book, mkBid({ requirements: { ...withImage('ghcr.io/org/train:1'), gpu: 'h100' } }))?.entry.offer.id).toBe('other-images')
    expect(matchBid(book, mkBid({ requirements: { ...withImage('quay.io/x/y:1'), gpu: 'h100' } }))?.entry.offer.id).toBe('any-image')
    // the view is reused: the image does not stick to the next (process) match
    expect(matchBid(book, mkBid())?.entry.offer.id).toBe('process')
    const processOnly = bookOf([mkOffer({ id: 'process', pricePerGpuHour: 5n })])
    expect(matchBid(processOnly, image)).toBeUndefined()
    const containersOnly = bookOf([mkOffer({ id: 'any-image', pricePerGpuHour: 5n, runtime: 'container' })])
    expect(matchBid(containersOnly, mkBid())).toBeUndefined()
    expect(book.offers().map((e) => e.images)).toEqual([undefined, ['ghcr.io/org/*'], ['docker.io/pytorch/pytorch:*'], []])
  })

  it('price, then createdAt, then supplier decide', () => {
    const book = bookOf([
      mkOffer({ id: 'late', pricePerGpuHour: 10n, createdAt: BigInt(T0 + 5) }),
      mkOffer({ id: 'x', supplierN: 9, pricePerGpuHour: 10n }),
      mkOffer({ id: 'x', supplierN: 3, pricePerGpuHour: 10n }),
      mkOffer({ id: 'dear', pricePerGpuHour: 11n })
    ])
    const order: string[] = []
    const exclude = new Set<string>()
    for (let m = matchBid(book, mkBid()); m != null; m = matchBid(book, mkBid(), { exclude })) {
      order.push(`${m.entry.offer.supplier[0]}:${m.entry.offer.id}`)
      exclude.add(m.entry.key)
    }
    expect(order).toEqual(['3:x', '9:x', '1:late', '1:dear'])
  })

  it('TEE kinds and regions beyond the integer registry still match by name', () => {
    // 40 invented kinds and the real one last: the last ones overflow the 30-bit registry
    const kinds = Array.from({ length: 40 }, (_, i) => `kind-${i}`)
    const offer = mkOffer({ teeKinds: kinds })
    const book = bookOf([offer])
    const wants = (tee: string): boolean => matchBid(book, mkBid({ requirements: { gpu: '', minMemoryMib: 0, count: 1, teeKinds: [tee], regions: [] } })) !== undefined
    expect(wants('kind-39')).toBe(true)
    expect(wants('kind-0')).toBe(true)
    expect(wants('kind-99')).toBe(false)
    expect(wants('tdx')).toBe(false)
  })

  it('picks the renter-preferred TEE kind and the smallest qualifying GPU', () => {
    const offer = mkOffer({ teeKinds: ['tdx', 'sev-snp'], gpus: [{ model: 'h100-94gb', memoryMib: 96256, count: 2 }, { model: 'h100-80gb', memoryMib: 81920, count: 2 }] })
    const m = matchBid(bookOf([offer]), mkBid({ requirements: { gpu: 'h100', minMemoryMib: 0, count: 2, teeKinds: ['sev-snp', 'tdx'], regions: [] } }))
    expect(m?.teeKind).toBe('sev-snp')
    expect(m?.gpu.model).toBe('h100-80gb')
  })
})

const IMAGE_PATTERNS = ['docker.io/pytorch/pytorch:*', 'ghcr.io/org/train:1', 'ghcr.io/*']
const IMAGES = ['docker.io/pytorch/pytorch:2.4', 'ghcr.io/org/train:1', 'ghcr.io/org/train:2', 'quay.io/x/y:1']
const MODELS = [['h100-80gb', 81920], ['h100-94gb', 96256], ['a100-40gb', 40960], ['l4-24gb', 24576]] as const
const TEES = ['tdx', 'sev-snp', 'simulated']

const offerArb = fc.record({
  supplierN: fc.integer({ min: 1, max: 4 }),
  id: fc.constantFrom('a', 'b', 'c'),
  gpus: fc.uniqueArray(fc.record({ m: fc.integer({ min: 0, max: 3 }), count: fc.integer({ min: 1, max: 4 }) }), { minLength: 1, maxLength: 2, selector: (g) => g.m }),
  teeKinds: fc.subarray(TEES, { minLength: 1 }),
  region: fc.constantFrom('eu', 'us'),
  price: fc.integer({ min: 1, max: 5 }),
  netuid: fc.integer({ min: 1, max: 2 }),
  minDurationS: fc.constantFrom(0, 1800, 3600),
  maxDurationS: fc.constantFrom(0, 3600, 7200),
  created: fc.integer({ min: 0, max: 3 }),
  sequence: fc.integer({ min: 1, max: 4 }),
  cancelled: fc.boolean(),
  // undefined: processes; else the container runtime with these patterns (none: any image)
  images: fc.option(fc.subarray(IMAGE_PATTERNS, { maxLength: 2 }), { nil: undefined })
}).map((r): Offer => mkOffer({
  ...(r.images !== undefined ? { runtime: 'container', images: r.images } : {}),
  supplierN: r.supplierN,
  id: r.id,
  gpus: r.gpus.map((g) => ({ model: MODELS[g.m][0], memoryMib: MODELS[g.m][1], count: g.count })),
  teeKinds: r.teeKinds,
  region: r.region,
  pricePerGpuHour: BigInt(r.price),
  netuid: r.netuid,
  minDurationS: r.minDurationS,
  maxDurationS: r.maxDurationS,
  createdAt: BigInt(T0 + r.created * 1000),
  sequence: BigInt(r.sequence),
  cancelled: r.cancelled && r.sequence > 2
}))

const bidArb = fc.record({
  renterN: fc.integer({ min: 100, max: 103 }),
  id: fc.constantFrom('x', 'y'),
  gpu: fc.constantFrom('', 'h100', 'h100-80gb', 'a100', 'l4-24gb', 'b200'),
  minMem: fc.constantFrom(0, 40000, 90000),
  count: fc.integer({ min: 1, max: 5 }),
  teeKinds: fc.subarray(TEES),
  regions: fc.subarray(['eu', 'us', 'ap']),
  maxPrice: fc.integer({ min: 1, max: 6 }),
  netuid: fc.integer({ min: 1, max: 2 }),
  durationS: fc.constantFrom(1800, 3600, 7200, 10000),
  created: fc.integer({ min: 0, max: 3 }),
  image: fc.option(fc.constantFrom(...IMAGES), { nil: undefined })
}).map((r): Bid => mkBid({
  renterN: r.renterN,
  id: r.id,
  requirements: { gpu: r.gpu, minMemoryMib: r.minMem, count: r.count, teeKinds: r.teeKinds, regions: r.regions, ...(r.image !== undefined ? { image: r.image } : {}) },
  maxPricePerGpuHour: BigInt(r.maxPrice),
  netuid: r.netuid,
  durationS: r.durationS,
  createdAt: BigInt(T0 + r.created * 1000)
}))

/** prices moved up by `base` on both sides: above 2^53 distinct bigints share one number, and the bigints must decide */
function priced<T extends Offer | Bid> (m: T, base: bigint): T {
  return 'supplier' in m
    ? { ...m, pricePerGpuHour: m.pricePerGpuHour + base }
    : { ...m, maxPricePerGpuHour: (m as Bid).maxPricePerGpuHour + base }
}

describe('matching properties', () => {
  it.each([0n, 2n ** 53n - 3n, 2n ** 62n])('the match is compatible, and it is the best compatible offer (brute force; prices from %s)', (base) => {
    fc.assert(fc.property(fc.array(offerArb, { maxLength: 40 }), bidArb, (plainOffers, plainBid) => {
      const offers = plainOffers.map((o) => priced(o, base))
      const bid = priced(plainBid, base)
      const book = bookOf(offers)
      const m = matchBid(book, bid)
      const all = book.offers().filter((e) => compatible(e.offer, bid, T0) !== undefined).sort(compareOffers)
      if (m == null) return all.length === 0
      return compatible(m.entry.offer, bid, T0) !== undefined && m.entry.key === all[0].key
    }), { numRuns: 500 })
  })

  it('two books fed the same messages in a different order hold the same offers and produce the same matches', () => {
    fc.assert(fc.property(
      fc.array(offerArb, { maxLength: 40 }).chain((offers) => fc.tuple(fc.constant(offers), fc.shuffledSubarray(offers, { minLength: offers.length, maxLength: offers.length }))),
      fc.array(bidArb, { maxLength: 8 }).chain((bids) => fc.tuple(fc.constant(bids), fc.shuffledSubarray(bids, { minLength: bids.length, maxLength: bids.length }))),
      ([offersA, offersB], [bidsA, bidsB]) => {
        const a = bookOf(offersA, bidsA)
        const b = bookOf(offersB, bidsB)
        expect(b.offers().map((e) => [e.key, e.offer.sequence])).toEqual(a.offers().map((e) => [e.key, e.offer.sequence]))
        expect(matchAll(b)).toEqual(matchAll(a))
        for (const bid of bidsA) expect(matchBid(b, bid)?.entry.key).toBe(matchBid(a, bid)?.entry.key)
      }), { numRuns: 300 })
  })

  it('matchAll never assigns more GPUs of an offer than it advertises, nor an incompatible one', () => {
    fc.assert(fc.property(fc.array(offerArb, { maxLength: 30 }), fc.array(bidArb, { maxLength: 12 }), (offers, bids) => {
      const book = bookOf(offers, bids)
      const used = new Map<string, number>()
      for (const a of matchAll(book)) {
        const offer = book.getOffer(a.offerKey)?.offer
        const bid = book.getBid(a.bidKey)?.bid
        expect(offer).toBeDefined()
        expect(bid).toBeDefined()
        expect(compatible(offer as Offer, bid as Bid, T0)).toBeDefined()
        const k = `${a.offerKey}#${a.model}`
        used.set(k, (used.get(k) ?? 0) + a.count)
        const advertised = (offer as Offer).gpus.filter((g) => g.model === a.model).reduce((n, g) => n + g.count, 0)
        expect(used.get(k)).toBeLessThanOrEqual(advertised)
      }
    }), { numRuns: 300 })
  })
})

it('party() stand-ins are distinct keys', () => {
  expect(party(1)).not.toEqual(party(2))
})
