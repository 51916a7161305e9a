import { describe, expect, it } from 'vitest'
import { OrderBook } from '../../../src/market/book/order-book.js'
import { formatBook } from '../../../src/market/book/format.js'
import { offerKey } from '../../../src/market/book/keys.js'
import { MarketError } from '../../../src/market/errors.js'
import type { Offer } from '../../../src/wire/market.js'
import { ManualClock } from '../../../src/util/clock.js'
import { T0, mkBid, mkOffer } from './book-fixtures.js'

function codeOf (fn: () => unknown): string | undefined {
  try { fn(); return undefined } catch (err) { return err instanceof MarketError ? err.code : 'UNTYPED' }
}

describe('OrderBook upsert rules', () => {
  const cases: Array<{ name: string, before: Offer[], offer: Offer, expect: string }> = [
    { name: 'new slot is added', before: [], offer: mkOffer(), expect: 'added' },
    { name: 'higher sequence replaces', before: [mkOffer()], offer: mkOffer({ sequence: 2n, pricePerGpuHour: 5n }), expect: 'replaced' },
    { name: 'same sequence is stale', before: [mkOffer()], offer: mkOffer({ pricePerGpuHour: 5n }), expect: 'STALE' },
    { name: 'lower sequence is stale', before: [mkOffer({ sequence: 5n })], offer: mkOffer({ sequence: 4n }), expect: 'STALE' },
    { name: 'cancel empties the slot', before: [mkOffer()], offer: mkOffer({ sequence: 2n, cancelled: true }), expect: 'cancelled' },
    { name: 'older copy after a cancel is stale', before: [mkOffer({ sequence: 3n, cancelled: true })], offer: mkOffer({ sequence: 2n }), expect: 'STALE' },
    { name: 'expired offer is refused', before: [], offer: mkOffer({ expiresAt: BigInt(T0) }), expect: 'EXPIRED' },
    { name: 'offer without GPUs is malformed', before: [], offer: mkOffer({ gpus: [] }), expect: 'MALFORMED' },
    { name: 'offer with a price above 2^63 - 1 (decoded negative) is malformed', before: [], offer: mkOffer({ pricePerGpuHour: -1n }), expect: 'MALFORMED' },
    { name: 'offer with a short supplier key is malformed', before: [], offer: mkOffer({ supplier: new Uint8Array(31) }), expect: 'MALFORMED' },
    { name: 'other supplier with same id is a separate slot', before: [mkOffer()], offer: mkOffer({ supplierN: 2 }), expect: 'added' }
  ]
  for (const c of cases) {
    it(c.name, () => {
      const book = new OrderBook({ clock: new ManualClock(T0) })
      for (const o of c.before) book.upsertOffer(o)
      let got: string
      try { got = book.upsertOffer(c.offer) } catch (err) { got = err instanceof MarketError ? err.code : 'UNTYPED' }
      expect(got).toBe(c.expect)
    })
  }

  it('a replaced offer moves in the price index', () => {
    const book = new OrderBook({ clock: new ManualClock(T0) })
    book.upsertOffer(mkOffer({ id: 'a', pricePerGpuHour: 10n }))
    book.upsertOffer(mkOffer({ id: 'b', pricePerGpuHour: 20n }))
    book.upsertOffer(mkOffer({ id: 'a', pricePerGpuHour: 30n, sequence: 2n }))
    expect(book.offers().map((e) => e.offer.id)).toEqual(['b', 'a'])
    expect(book.offerCount).toBe(2)
  })

  it('expire drops what passed its expiry and only that', () => {
    const clock = new ManualClock(T0)
    const book = new OrderBook({ clock })
    book.upsertOffer(mkOffer({ id: 'a', expiresAt: BigInt(T0 + 1000) }))
    book.upsertOffer(mkOffer({ id: 'b', expiresAt: BigInt(T0 + 5000) }))
    book.upsertBid(mkBid({ expiresAt: BigInt(T0 + 1000) }))
    expect(book.expire(T0 + 1000)).toBe(2)
    expect(book.offers().map((e) => e.offer.id)).toEqual(['b'])
    expect(book.bidCount).toBe(0)
  })

  it('when full, evicts the offer expiring soonest, or refuses a newcomer that expires sooner', () => {
    const book = new OrderBook({ clock: new ManualClock(T0), maxOffers: 2 })
    book.upsertOffer(mkOffer({ id: 'a', expiresAt: BigInt(T0 + 2000) }))
    book.upsertOffer(mkOffer({ id: 'b', expiresAt: BigInt(T0 + 9000) }))
    expect(codeOf(() => book.upsertOffer(mkOffer({ id: 'c', expiresAt: BigInt(T0 + 1000) })))).toBe('BOOK_FULL')
    expect(book.upsertOffer(mkOffer({ id: 'd', expiresAt: BigInt(T0 + 5000) }))).toBe('added')
    expect(book.offers().map((e) => e.offer.id).sort()).toEqual(['b', 'd'])
    // replacing an existing slot needs no room
    expect(book.upsertOffer(mkOffer({ id: 'd', sequence: 2n }))).toBe('replaced')
  })

  it('a supplier over its slot limit is refused without touching others', () => {
    const book = new OrderBook({ clock: new ManualClock(T0), maxOffersPerSupplier: 2 })
    book.upsertOffer(mkOffer({ id: 'a' }))
    book.upsertOffer(mkOffer({ id: 'b' }))
    expect(codeOf(() => book.upsertOffer(mkOffer({ id: 'c' })))).toBe('SUPPLIER_LIMIT')
    expect(book.upsertOffer(mkOffer({ id: 'c', supplierN: 9 }))).toBe('added')
    expect(book.offerCount).toBe(3)
  })

  it('tombstones are bounded', () => {
    const book = new OrderBook({ clock: new ManualClock(T0), maxTombstones: 2 })
    for (const id of ['a', 'b', 'c']) book.upsertOffer(mkOffer({ id, sequence: 5n, cancelled: true }))
    // the oldest tombstone ('a') was forgotten: an old copy is accepted again, the others are not
    expect(book.upsertOffer(mkOffer({ id: 'a', sequence: 1n }))).toBe('added')
    expect(codeOf(() => book.upsertOffer(mkOffer({ id: 'c', sequence: 1n })))).toBe('STALE')
  })

  it('tombstones are bounded across suppliers, and each supplier keeps its own count', () => {
    const book = new OrderBook({ clock: new ManualClock(T0), maxTombstones: 2, maxOffersPerSupplier: 2 })
    book.upsertOffer(mkOffer({ id: 'a', sequence: 5n, cancelled: true }))
    book.upsertOffer(mkOffer({ id: 'b', sequence: 5n, cancelled: true, supplierN: 2 }))
    book.upsertOffer(mkOffer({ id: 'c', sequence: 5n, cancelled: true, supplierN: 2 }))
    // supplier 1's only tombstone went (the oldest): its old copy comes back, and its limit still holds
    expect(book.upsertOffer(mkOffer({ id: 'a', sequence: 1n }))).toBe('added')
    expect(book.upsertOffer(mkOffer({ id: 'x' }))).toBe('added')
    expect(codeOf(() => book.upsertOffer(mkOffer({ id: 'y' })))).toBe('SUPPLIER_LIMIT')
    expect(codeOf(() => book.upsertOffer(mkOffer({ id: 'b', sequence: 1n, supplierN: 2 })))).toBe('STALE')
    expect(codeOf(() => book.upsertOffer(mkOffer({ id: 'c', sequence: 1n, supplierN: 2 })))).toBe('STALE')
  })

  it('a supplier keeps at most its offer limit of tombstones: past it, its own oldest goes and no one else\'s', () => {
    const book = new OrderBook({ clock: new ManualClock(T0), maxOffersPerSupplier: 2 })
    book.upsertOffer(mkOffer({ id: 'w', sequence: 5n, cancelled: true, supplierN: 2 }))
    for (const id of ['a', 'b', 'c']) book.upsertOffer(mkOffer({ id, sequence: 5n, cancelled: true }))
    // supplier 1's 'a' went when 'c' came; 'b' and 'c' hold, and supplier 2's is untouched
    expect(book.upsertOffer(mkOffer({ id: 'a', sequence: 1n }))).toBe('added')
    for (const id of ['b', 'c']) expect(codeOf(() => book.upsertOffer(mkOffer({ id, sequence: 1n })))).toBe('STALE')
    expect(codeOf(() => book.upsertOffer(mkOffer({ id: 'w', sequence: 1n, supplierN: 2 })))).toBe('STALE')
    // a cancel of a slot that has a tombstone replaces it (no count, nothing pushed out)
    book.upsertOffer(mkOffer({ id: 'c', sequence: 6n, cancelled: true }))
    expect(codeOf(() => book.upsertOffer(mkOffer({ id: 'b', sequence: 1n })))).toBe('STALE')
    expect(book.offerCancels()).toHaveLength(0) // the fixtures' cancels came without envelopes
  })

  it('a supplier whose only offer is replaced, cancelled, removed or evicted keeps exact slots', () => {
    const book = new OrderBook({ clock: new ManualClock(T0), maxOffers: 1 })
    const o = mkOffer({ id: 'a', expiresAt: BigInt(T0 + 1000) })
    book.upsertOffer(o)
    expect(book.upsertOffer(mkOffer({ id: 'a', sequence: 2n, expiresAt: BigInt(T0 + 1000) }))).toBe('replaced')
    // the newcomer of the same supplier evicts its own only offer (which expires sooner)
    expect(book.upsertOffer(mkOffer({ id: 'b', expiresAt: BigInt(T0 + 5000) }))).toBe('added')
    expect(book.getOffer(offerKey(o))).toBeUndefined()
    expect(book.getOffer(offerKey(mkOffer({ id: 'b' })))?.offer.id).toBe('b')
    expect(book.upsertOffer(mkOffer({ id: 'b', sequence: 2n, cancelled: true }))).toBe('cancelled')
    expect(book.offerCount).toBe(0)
    expect(codeOf(() => book.upsertOffer(mkOffer({ id: 'b', sequence: 2n, expiresAt: BigInt(T0 + 5000) })))).toBe('STALE')
    expect(book.upsertOffer(mkOffer({ id: 'c', expiresAt: BigInt(T0 + 5000) }))).toBe('added')
    expect(book.remove(offerKey(mkOffer({ id: 'c' })))).toBe(true)
    expect(book.upsertOffer(mkOffer({ id: 'c', expiresAt: BigInt(T0 + 5000) }))).toBe('added')
    expect(book.offers().map((e) => `${e.key}`)).toEqual([offerKey(mkOffer({ id: 'c' }))])
    // malformed keys find nothing
    for (const k of ['', 'zz', `${offerKey(o).slice(0, 64)}`, `${offerKey(o).slice(0, 63)}/a`]) expect(book.getOffer(k)).toBeUndefined()
  })

  it('offers that leave count for nothing: the supplier limit, lookups and re-adds see only live ones, across sweeps', () => {
    const book = new OrderBook({ clock: new ManualClock(T0), maxOffersPerSupplier: 3 })
    for (const id of ['a', 'b', 'c']) book.upsertOffer(mkOffer({ id }))
    expect(book.consume(offerKey(mkOffer({ id: 'a' })), 'h100-80gb', 8)).toBe(true)
    expect(book.upsertOffer(mkOffer({ id: 'd' }))).toBe('added')
    expect(codeOf(() => book.upsertOffer(mkOffer({ id: 'e' })))).toBe('SUPPLIER_LIMIT')

    const big = new OrderBook({ clock: new ManualClock(T0), maxOffersPerSupplier: 100 })
    const ids = Array.from({ length: 60 }, (_, i) => `o${i}`)
    for (const id of ids) big.upsertOffer(mkOffer({ id }))
    // fill 50 of them (enough to sweep the supplier's map more than once), cancel one more
    for (const id of ids.slice(0, 50)) expect(big.consume(offerKey(mkOffer({ id })), 'h100-80gb', 8)).toBe(true)
    expect(big.upsertOffer(mkOffer({ id: 'o50', sequence: 2n, cancelled: true }))).toBe('cancelled')
    expect(big.offerCount).toBe(9)
    for (const id of ids) expect(big.getOffer(offerKey(mkOffer({ id })))?.offer.id).toBe(Number(id.slice(1)) > 50 ? id : undefined)
    expect(big.offers().map((e) => e.offer.id).sort()).toEqual(ids.slice(51).sort())
    // a filled slot takes its offer again; the cancelled one keeps its floor
    expect(big.upsertOffer(mkOffer({ id: 'o3' }))).toBe('added')
    expect(codeOf(() => big.upsertOffer(mkOffer({ id: 'o50' })))).toBe('STALE')
    expect(big.upsertOffer(mkOffer({ id: 'o50', sequence: 3n }))).toBe('added')
    expect(big.offerCount).toBe(11)
  })

  it('consume lowers the free GPUs; an offer with none left leaves until republished', () => {
    const book = new OrderBook({ clock: new ManualClock(T0) })
    const o = mkOffer({ gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 3 }] })
    book.upsertOffer(o)
    const key = offerKey(o)
    expect(book.consume(key, 'h100-80gb', 2)).toBe(true)
    expect(book.getOffer(key)?.remaining).toEqual([1])
    expect(book.consume(key, 'h100-80gb', 2)).toBe(false)
    expect(book.consume(key, 'a100-40gb', 1)).toBe(false)
    expect(book.consume(key, 'h100-80gb', 1)).toBe(true)
    expect(book.getOffer(key)).toBeUndefined()
    expect(book.upsertOffer(mkOffer({ gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 3 }], sequence: 2n }))).toBe('added')
    expect(book.getOffer(key)?.remaining).toEqual([3])
    // by the entry a match returned: consumed while it rests, left alone once replaced
    const entry = book.getOffer(key)
    if (entry === undefined) throw new Error('offer missing')
    expect(book.consume(entry, 'h100-80gb', 1)).toBe(true)
    expect(book.getOffer(key)?.remaining).toEqual([2])
    book.upsertOffer(mkOffer({ gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 1 }], sequence: 3n }))
    expect(book.consume(entry, 'h100-80gb', 1)).toBe(false)
    expect(book.getOffer(key)?.remaining).toEqual([1])
    // an entry of another book is not this book's
    const other = new OrderBook({ clock: new ManualClock(T0) })
    other.upsertOffer(mkOffer({ gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 1 }], sequence: 3n }))
    const foreign = other.getOffer(key)
    if (foreign === undefined) throw new Error('offer missing')
    expect(book.consume(foreign, 'h100-80gb', 1)).toBe(false)
    expect(book.getOffer(key)?.remaining).toEqual([1])
  })

  it('expiry follows replacements (stale heap entries never expire a live offer)', () => {
    const book = new OrderBook({ clock: new ManualClock(T0), maxOffersPerSupplier: 10_000 })
    for (let i = 0; i < 3000; i++) book.upsertOffer(mkOffer({ id: `o${i}`, expiresAt: BigInt(T0 + 1000) }))
    for (let i = 0; i < 3000; i += 2) book.upsertOffer(mkOffer({ id: `o${i}`, sequence: 2n, expiresAt: BigInt(T0 + 9000) }))
    for (let i = 1; i < 3000; i += 4) book.remove(offerKey(mkOffer({ id: `o${i}` })))
    expect(book.expire(T0 + 1000)).toBe(750)
    expect(book.offerCount).toBe(1500)
    expect(book.expire(T0 + 9000)).toBe(1500)
    expect(book.offerCount).toBe(0)
  })

  it('remove drops an offer or a bid by key', () => {
    const book = new OrderBook({ clock: new ManualClock(T0) })
    const o = mkOffer()
    book.upsertOffer(o)
    expect(book.remove(offerKey(o))).toBe(true)
    expect(book.remove(offerKey(o))).toBe(false)
    expect(book.offerCount).toBe(0)
    expect(book.classes()).toEqual([])
  })

  it('bids follow the same replace and cancel rules', () => {
    const book = new OrderBook({ clock: new ManualClock(T0) })
    expect(book.upsertBid(mkBid())).toBe('added')
    expect(book.upsertBid(mkBid({ sequence: 2n }))).toBe('replaced')
    expect(codeOf(() => book.upsertBid(mkBid({ sequence: 2n })))).toBe('STALE')
    expect(book.upsertBid(mkBid({ sequence: 3n, cancelled: true }))).toBe('cancelled')
    expect(book.bidCount).toBe(0)
  })
})

describe('OrderBook filters and formatBook', () => {
  const book = new OrderBook({ clock: new ManualClock(T0) })
  book.upsertOffer(mkOffer({ id: 'a', pricePerGpuHour: 3n, region: 'eu', teeKinds: ['tdx'] }))
  book.upsertOffer(mkOffer({ id: 'b', pricePerGpuHour: 1n, region: 'us', teeKinds: ['sev-snp'], gpus: [{ model: 'a100-40gb', memoryMib: 40960, count: 4 }] }))
  book.upsertOffer(mkOffer({ id: 'c', pricePerGpuHour: 2n, region: 'us', teeKinds: ['tdx', 'sev-snp'], gpus: [{ model: 'h100-94gb', memoryMib: 96256, count: 2 }] }))

  const cases: Array<{ name: string, filters: Parameters<OrderBook['offers']>[0], ids: string[] }> = [
    { name: 'all, cheapest first', filters: {}, ids: ['b', 'c', 'a'] },
    { name: 'GPU class prefix', filters: { gpu: 'h100' }, ids: ['c', 'a'] },
    { name: 'exact model', filters: { gpu: 'h100-80gb' }, ids: ['a'] },
    { name: 'TEE kind', filters: { teeKind: 'sev-snp' }, ids: ['b', 'c'] },
    { name: 'region and TEE kind', filters: { region: 'us', teeKind: 'tdx' }, ids: ['c'] },
    { name: 'max price', filters: { maxPrice: 2n }, ids: ['b', 'c'] },
    { name: 'limit', filters: { limit: 1 }, ids: ['b'] },
    { name: 'unknown region', filters: { region: 'ap' }, ids: [] }
  ]
  for (const c of cases) {
    it(`offers(): ${c.name}`, () => {
      expect(book.offers(c.filters).map((e) => e.offer.id)).toEqual(c.ids)
      expect(JSON.parse(formatBook(book.offers(), { ...c.filters, json: true })).map((r: { id: string }) => r.id)).toEqual(c.ids)
    })
  }

  it('formats a readable table with one row per offer', () => {
    const text = formatBook(book.offers(), { now: T0 })
    const lines = text.split('\n')
    expect(lines).toHaveLength(4)
    expect(lines[0]).toMatch(/^PRICE/)
    expect(lines[1]).toContain('4x a100-40gb')
    expect(formatBook([], {})).toBe('no offers')
  })
})
