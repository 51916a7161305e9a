import { toHex } from '../../util/hex.js'
import type { Bid, Offer } from '../../wire/market.js'

/** lowercase hex of a hotkey; the canonical text form used in keys and tie-breaks */
export const hex = toHex

/** `<supplier hex>/<offer id>`: one slot per supplier and offer id */
export function offerKey (offer: Pick<Offer, 'supplier' | 'id'>): string {
  return `${hex(offer.supplier)}/${offer.id}`
}

/** `<renter hex>/<bid id>` */
export function bidKey (bid: Bid): string {
  return `${hex(bid.renter)}/${bid.id}`
}

/** true when `model` belongs to the requested model or class ("" matches all; "h100" matches "h100-80gb") */
export function modelMatches (wanted: string, model: string): boolean {
  if (wanted === '' || wanted === model) return true
  return model.length > wanted.length && model.startsWith(wanted) && model.charCodeAt(wanted.length) === 45 /* '-' */
}
