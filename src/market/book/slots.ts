import type { Offer } from '../../protocols/schema/market.js'
import type { EntryMeta, OfferEntry } from '../types.js'
import type { Keyed } from './party-index.js'

/**
 * One supplier's part of the book: its resting offers by id, and how many of its ids hold a
 * tombstone (so the tombstone map is consulted only for suppliers that have cancelled something).
 * The book keeps the record while either is non-zero.
 */
export class SupplierSlots implements Keyed {
  readonly offers = new Map<string, RestingOffer>()
  tombstones = 0

  constructor (readonly bytes: Uint8Array, readonly hex: string) {}
}

/**
 * A resting offer as the book holds it. `key` (`<supplier hex>/<id>`) is built on first use:
 * the book itself indexes by supplier record and id, so an insert allocates no key string.
 */
export class RestingOffer implements OfferEntry {
  /** false once the entry left the book (filled, cancelled, replaced, expired, evicted) */
  live = true
  private keyText: string | undefined

  constructor (
    readonly offer: Offer,
    readonly slots: SupplierSlots,
    readonly meta: EntryMeta,
    readonly priceN: number,
    readonly createdN: number,
    readonly expiresN: number,
    readonly receivedAt: number,
    readonly remaining: number[],
    readonly teeMask: number,
    readonly regionId: number
  ) {}

  get supplier (): string { return this.slots.hex }

  get key (): string {
    if (this.keyText === undefined) this.keyText = `${this.slots.hex}/${this.offer.id}`
    return this.keyText
  }
}

/**
 * Expiry order of offers: soonest first, then supplier hex, then id. Hex keys have one length, so
 * this is the order of `compareExpiry` on the keys, without building them.
 */
export function compareOfferExpiry (a: RestingOffer, b: RestingOffer): number {
  if (a.expiresN !== b.expiresN) return a.expiresN < b.expiresN ? -1 : 1
  const sa = a.slots.hex
  const sb = b.slots.hex
  if (sa !== sb) return sa < sb ? -1 : 1
  const ia = a.offer.id
  const ib = b.offer.id
  return ia < ib ? -1 : ia > ib ? 1 : 0
}
