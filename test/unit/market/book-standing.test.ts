import { describe, expect, it } from 'vitest'
import { OrderBook } from '../../../src/market/book/order-book.js'
import { bidKey, offerKey } from '../../../src/market/book/keys.js'
import { MarketError } from '../../../src/market/errors.js'
import { STANDING, type Standing } from '../../../src/market/types.js'
import { ManualClock } from '../../../src/util/clock.js'
import { T0, mkBid, mkOffer } from './book-fixtures.js'

function codeOf (fn: () => unknown): string | undefined {
  try { fn(); return undefined } catch (err) { return err instanceof MarketError ? err.code : 'UNTYPED' }
}

const DAY = 86_400_000
/** registered hotkeys are the fixtures' parties 1 and 2 (and renter 101); party 3 is the node's own */
const REGISTERED = new Set([1, 2, 101])
const standing = (hotkey: Uint8Array, hex: string): Standing => {
  expect(hex).toBe(Buffer.from(hotkey).toString('hex'))
  return hotkey[0] === 3 ? STANDING.own : REGISTERED.has(hotkey[0]) ? STANDING.registered : STANDING.none
}

/**
 * Free hotkeys against a full book: anyone can make hotkeys, each holding up to its supplier limit
 * of offers that live a day. Registered suppliers' offers, which live an hour and are re-published,
 * expire sooner, so the plain eviction rule (the soonest-expiring entry goes) hands their places to
 * the fresh hotkeys. With standings, a newcomer evicts only entries of a lower standing, or of its
 * own that expire before it.
 */
describe('OrderBook standing', () => {
  const fill = (book: OrderBook): void => {
    // two registered offers expiring in an hour, two of free hotkeys expiring in a day
    book.upsertOffer(mkOffer({ id: 'r1', supplierN: 1 }))
    book.upsertOffer(mkOffer({ id: 'r2', supplierN: 2 }))
    book.upsertOffer(mkOffer({ id: 's', supplierN: 40, expiresAt: BigInt(T0 + DAY) }))
    book.upsertOffer(mkOffer({ id: 's', supplierN: 41, expiresAt: BigInt(T0 + DAY) }))
  }
  const registeredHeld = (book: OrderBook): string[] => ['r1', 'r2'].filter((id) => book.getOffer(offerKey(mkOffer({ id, supplierN: id === 'r1' ? 1 : 2 }))) != null)

  it('without standings, fresh hotkeys with day-long offers push registered offers out (the attack)', () => {
    const book = new OrderBook({ clock: new ManualClock(T0), maxOffers: 4 })
    fill(book)
    for (let n = 50; n < 52; n++) expect(book.upsertOffer(mkOffer({ id: 's', supplierN: n, expiresAt: BigInt(T0 + DAY) }))).toBe('added')
    expect(registeredHeld(book)).toEqual([])
  })

  it('fresh hotkeys evict only each other; registered suppliers evict them whatever the expiries', () => {
    const book = new OrderBook({ clock: new ManualClock(T0), maxOffers: 4, standing })
    fill(book)
    // a free hotkey's offer expiring no later than the free ones held is refused; the registered are not touched
    expect(codeOf(() => book.upsertOffer(mkOffer({ id: 's', supplierN: 50, expiresAt: BigInt(T0 + DAY) })))).toBe('BOOK_FULL')
    expect(codeOf(() => book.upsertOffer(mkOffer({ id: 's', supplierN: 50, expiresAt: BigInt(T0 + 1000) })))).toBe('BOOK_FULL')
    // one expiring later displaces the free offer that expires first (a tie goes by supplier key: 40)
    expect(book.upsertOffer(mkOffer({ id: 's', supplierN: 51, expiresAt: BigInt(T0 + DAY + 1) }))).toBe('added')
    expect(book.getOffer(offerKey(mkOffer({ id: 's', supplierN: 40 })))).toBeUndefined()
    expect(registeredHeld(book)).toEqual(['r1', 'r2'])
    // a registered newcomer expiring before everything evicts a free offer all the same
    expect(book.upsertOffer(mkOffer({ id: 'r3', supplierN: 1, expiresAt: BigInt(T0 + 500) }))).toBe('added')
    expect(book.getOffer(offerKey(mkOffer({ id: 's', supplierN: 41 })))).toBeUndefined()
    expect(book.upsertOffer(mkOffer({ id: 'r4', supplierN: 2, expiresAt: BigInt(T0 + 600) }))).toBe('added')
    // now all registered: free hotkeys are refused, and among the registered the expiry rule holds
    expect(book.offerCount).toBe(4)
    expect(codeOf(() => book.upsertOffer(mkOffer({ id: 's', supplierN: 52, expiresAt: BigInt(T0 + 10 * DAY) })))).toBe('BOOK_FULL')
    expect(codeOf(() => book.upsertOffer(mkOffer({ id: 'r5', supplierN: 2, expiresAt: BigInt(T0 + 400) })))).toBe('BOOK_FULL')
    expect(book.upsertOffer(mkOffer({ id: 'r5', supplierN: 2, expiresAt: BigInt(T0 + 700) }))).toBe('added')
    expect(book.getOffer(offerKey(mkOffer({ id: 'r3', supplierN: 1 })))).toBeUndefined()
    // the node's own offer stands above every other: it evicts the registered one expiring first
    expect(book.upsertOffer(mkOffer({ id: 'mine', supplierN: 3, expiresAt: BigInt(T0 + 100) }))).toBe('added')
    expect(book.getOffer(offerKey(mkOffer({ id: 'r4', supplierN: 2 })))).toBeUndefined()
    expect(book.offerCount).toBe(4)
  })

  it('expired entries of any standing go before anyone is evicted, and each standing\'s heap drops its own', () => {
    const clock = new ManualClock(T0)
    const book = new OrderBook({ clock, maxOffers: 4, standing })
    fill(book)
    clock.advance(3_600_000) // the registered offers expired
    expect(book.upsertOffer(mkOffer({ id: 's', supplierN: 50, expiresAt: BigInt(T0 + DAY) }))).toBe('added')
    expect(book.upsertOffer(mkOffer({ id: 's', supplierN: 51, expiresAt: BigInt(T0 + DAY) }))).toBe('added')
    expect(book.offerCount).toBe(4)
    expect(registeredHeld(book)).toEqual([])
    clock.advance(DAY)
    expect(book.expire()).toBe(4)
    expect(book.offerCount).toBe(0)
  })

  it('cancels of fresh hotkeys cannot push out a registered supplier\'s tombstone, so its withdrawn offer stays out', () => {
    const withdrawnCopy = mkOffer({ id: 'w', supplierN: 1, sequence: 1n })
    const attack = (book: OrderBook): string | undefined => {
      book.upsertOffer(withdrawnCopy)
      book.upsertOffer(mkOffer({ id: 'w', supplierN: 1, sequence: 2n, cancelled: true }))
      // cancels of ids never offered, from 20 fresh hotkeys, past the book's tombstone bound
      for (let n = 60; n < 80; n++) book.upsertOffer(mkOffer({ id: 'never', supplierN: n, sequence: 1n, cancelled: true }))
      try { return book.upsertOffer(withdrawnCopy) } catch (err) { return (err as MarketError).code }
    }
    // without standings the captured copy comes back
    expect(attack(new OrderBook({ clock: new ManualClock(T0), maxTombstones: 8 }))).toBe('added')
    expect(attack(new OrderBook({ clock: new ManualClock(T0), maxTombstones: 8, standing }))).toBe('STALE')
  })

  it('standings asked again (the registry read after entries came): entries and tombstones move, and the protection holds', () => {
    let registered = new Set<number>()
    const of = (hotkey: Uint8Array): Standing => registered.has(hotkey[0]) ? STANDING.registered : STANDING.none
    const clock = new ManualClock(T0)
    const book = new OrderBook({ clock, maxOffers: 3, maxTombstones: 8, standing: of })
    const withdrawn = mkOffer({ id: 'w', supplierN: 1, sequence: 1n })
    book.upsertOffer(withdrawn)
    book.upsertOffer(mkOffer({ id: 'w', supplierN: 1, sequence: 2n, cancelled: true }))
    book.upsertOffer(mkOffer({ id: 'r', supplierN: 1 }))
    book.upsertBid(mkBid({ id: 'b', renterN: 1 }))
    // the registry's first read: supplier 1 is registered
    registered = new Set([1])
    expect(book.restand()).toBe(3) // the offer, the bid and the tombstone
    expect(book.restand()).toBe(0)
    // free hotkeys fill the book; the registered offer stays, and their cancels leave its tombstone
    for (let n = 40; n < 45; n++) book.upsertOffer(mkOffer({ id: 's', supplierN: n, expiresAt: BigInt(T0 + DAY + n) }))
    expect(book.getOffer(offerKey(mkOffer({ id: 'r', supplierN: 1 })))).toBeDefined()
    for (let n = 60; n < 80; n++) book.upsertOffer(mkOffer({ id: 'never', supplierN: n, cancelled: true }))
    expect(codeOf(() => book.upsertOffer(withdrawn))).toBe('STALE')
    // a deregistration moves them back down: a free hotkey's longer-lived offer then evicts it
    registered = new Set()
    expect(book.restand()).toBeGreaterThanOrEqual(2)
    book.upsertOffer(mkOffer({ id: 's2', supplierN: 50, expiresAt: BigInt(T0 + 2 * DAY) }))
    book.upsertOffer(mkOffer({ id: 's2', supplierN: 51, expiresAt: BigInt(T0 + 2 * DAY) }))
    expect(book.getOffer(offerKey(mkOffer({ id: 'r', supplierN: 1 })))).toBeUndefined()
  })

  it('standings that swap between two full tombstone maps keep every tombstone', () => {
    let registered = new Set([1, 2, 3])
    const of = (hotkey: Uint8Array): Standing => registered.has(hotkey[0]) ? STANDING.registered : STANDING.none
    const book = new OrderBook({ clock: new ManualClock(T0), maxTombstones: 3, standing: of })
    const parties = [1, 2, 3, 4, 5, 6]
    for (const n of parties) book.upsertOffer(mkOffer({ id: 'w', supplierN: n, sequence: 2n, cancelled: true }))
    registered = new Set([4, 5, 6])
    expect(book.restand()).toBe(6)
    for (const n of parties) expect(codeOf(() => book.upsertOffer(mkOffer({ id: 'w', supplierN: n, sequence: 1n })))).toBe('STALE')
  })

  it('a supplier at its tombstone limit loses one whose cancel expired before its oldest', () => {
    const clock = new ManualClock(T0)
    const book = new OrderBook({ clock, maxOffersPerSupplier: 2 })
    book.upsertOffer(mkOffer({ id: 'old', sequence: 5n, cancelled: true, expiresAt: BigInt(T0 + DAY) }))
    book.upsertOffer(mkOffer({ id: 'short', sequence: 5n, cancelled: true, expiresAt: BigInt(T0 + 1000) }))
    clock.advance(2000) // the short cancel expired
    book.upsertOffer(mkOffer({ id: 'new', sequence: 5n, cancelled: true, expiresAt: BigInt(T0 + DAY) }))
    // 'short' went, not the older 'old'
    expect(codeOf(() => book.upsertOffer(mkOffer({ id: 'old', sequence: 1n, expiresAt: BigInt(T0 + DAY) })))).toBe('STALE')
    expect(book.upsertOffer(mkOffer({ id: 'short', sequence: 1n, expiresAt: BigInt(T0 + DAY) }))).toBe('added')
  })

  it('bids: a renter of no standing evicts neither registered nor own bids', () => {
    const book = new OrderBook({ clock: new ManualClock(T0), maxBids: 3, standing })
    book.upsertBid(mkBid({ id: 'reg', renterN: 101 }))
    book.upsertBid(mkBid({ id: 'mine', renterN: 3, expiresAt: BigInt(T0 + 1000) }))
    book.upsertBid(mkBid({ id: 'free', renterN: 70, expiresAt: BigInt(T0 + DAY) }))
    expect(book.upsertBid(mkBid({ id: 'free', renterN: 71, expiresAt: BigInt(T0 + DAY + 1) }))).toBe('added')
    expect(book.getBid(bidKey(mkBid({ id: 'free', renterN: 70 })))).toBeUndefined()
    expect(codeOf(() => book.upsertBid(mkBid({ id: 'free', renterN: 72, expiresAt: BigInt(T0 + DAY) })))).toBe('BOOK_FULL')
    // a registered renter evicts the free bid, not the own one expiring sooner
    expect(book.upsertBid(mkBid({ id: 'reg2', renterN: 101, expiresAt: BigInt(T0 + 2000) }))).toBe('added')
    expect(book.bids().map((b) => b.bid.id).sort()).toEqual(['mine', 'reg', 'reg2'])
    expect(codeOf(() => book.upsertBid(mkBid({ id: 'free', renterN: 73, expiresAt: BigInt(T0 + 10 * DAY) })))).toBe('BOOK_FULL')
    // bid tombstones: a free renter's cancels leave the registered renter's in place
    const small = new OrderBook({ clock: new ManualClock(T0), maxTombstones: 4, standing })
    small.upsertBid(mkBid({ id: 'w', renterN: 101, sequence: 2n, cancelled: true }))
    for (let n = 60; n < 70; n++) small.upsertBid(mkBid({ id: 'never', renterN: n, cancelled: true }))
    expect(codeOf(() => small.upsertBid(mkBid({ id: 'w', renterN: 101, sequence: 1n })))).toBe('STALE')
  })
})
