import type { BidEntry, OfferEntry } from '../types.js'

/**
 * Price-time priority of offers: cheaper first, then earlier createdAt, then supplier hotkey (hex),
 * then offer id. A total order over distinct offer slots, so two books holding the same offers
 * order them identically whatever the order they heard them in.
 */
export function compareOffers (a: OfferEntry, b: OfferEntry): number {
  if (a.priceN !== b.priceN) return a.priceN < b.priceN ? -1 : 1
  // equal numbers up to 2^53 are equal bigints (the conversion is exact there): skip the bigint compare
  if (a.priceN > Number.MAX_SAFE_INTEGER) {
    const pa = a.pricePerGpuHour
    const pb = b.pricePerGpuHour
    if (pa !== pb) return pa < pb ? -1 : 1
  }
  if (a.createdN !== b.createdN) return a.createdN < b.createdN ? -1 : 1
  if (a.createdN > Number.MAX_SAFE_INTEGER) {
    const ca = a.createdAt
    const cb = b.createdAt
    if (ca !== cb) return ca < cb ? -1 : 1
  }
  if (a.supplier !== b.supplier) return a.supplier < b.supplier ? -1 : 1
  const ia = a.id
  const ib = b.id
  return ia < ib ? -1 : ia > ib ? 1 : 0
}

/** Expiry order (soonest first, then key): the eviction and expiry queue. */
export function compareExpiry (a: { expiresN: number, key: string }, b: { expiresN: number, key: string }): number {
  if (a.expiresN !== b.expiresN) return a.expiresN < b.expiresN ? -1 : 1
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0
}

/**
 * Bid priority for `matchAll`: earlier createdAt first, then renter hotkey, then bid id (a bid that
 * was there first is served first; price does not buy precedence among renters).
 */
export function compareBids (a: BidEntry, b: BidEntry): number {
  const ca = a.bid.createdAt
  const cb = b.bid.createdAt
  if (ca !== cb) return ca < cb ? -1 : 1
  if (a.renter !== b.renter) return a.renter < b.renter ? -1 : 1
  return a.bid.id < b.bid.id ? -1 : a.bid.id > b.bid.id ? 1 : 0
}
