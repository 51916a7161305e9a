import type { Offer } from '../../wire/market.js'
import type { EntryMeta, OfferEntry } from '../types.js'
import type { Keyed } from './party-index.js'

/** dead entries a supplier's map may hold beyond its live ones before it is swept */
export const PURGE_SLACK = 16

/**
 * One supplier's part of the book: its offers by id, and how many of its ids hold a tombstone (so
 * the tombstone map is consulted only for suppliers that have cancelled something). The book keeps
 * the record while it has a live offer or a tombstone.
 *
 * An entry that leaves the book stays in `offers`, marked not live, until the next entry of its id
 * overwrites it or a purge sweeps the map (when dead entries outnumber live ones by `PURGE_SLACK`):
 * a JavaScript Map's `delete` costs a few hundred nanoseconds on a large, cold heap, and a fill
 * that empties an offer would otherwise pay it every time. Readers treat a dead entry as absent.
 */
export class SupplierSlots implements Keyed {
  offers = new Map<string, RestingOffer>()
  /** entries of `offers` that are live, and that are not */
  live = 0
  dead = 0
  tombstones = 0
  /**
   * the hotkey's first 30 bits as a small integer (a Smi, stored unboxed): orders suppliers like
   * `hex` unless those bits tie, when `hex` decides
   */
  readonly prefix: number

  /** `owner` is the book holding the record: an entry tells whether it rests in a given book */
  constructor (readonly bytes: Uint8Array, readonly hex: string, readonly owner: object) {
    this.prefix = (bytes[0] << 22) | (bytes[1] << 14) | (bytes[2] << 6) | (bytes[3] >>> 2)
  }
}

/**
 * A resting offer as the book holds it. `key` (`<supplier hex>/<id>`) is built on first use:
 * the book itself indexes by supplier record and id, so an insert allocates no key string.
 */
export class RestingOffer implements OfferEntry {
  /** false once the entry left the book (filled, cancelled, replaced, expired, evicted) */
  live = true
  private keyText: string | undefined
  /** free GPUs per entry of `offer.gpus`, created by the first `consume` (see `OfferEntry.free`) */
  free: number[] | undefined = undefined
  readonly netuid: number
  readonly minDurationS: number
  readonly maxDurationS: number

  constructor (
    readonly offer: Offer,
    readonly slots: SupplierSlots,
    readonly meta: EntryMeta,
    readonly priceN: number,
    readonly createdN: number,
    readonly expiresN: number,
    readonly receivedAt: number,
    readonly teeMask: number,
    readonly regionId: number
  ) {
    this.netuid = offer.netuid
    this.minDurationS = offer.minDurationS
    this.maxDurationS = offer.maxDurationS
  }

  get supplier (): string { return this.slots.hex }

  /** the entry under `id` if it is live */
  static liveIn (slots: SupplierSlots | undefined, id: string): RestingOffer | undefined {
    const e = slots?.offers.get(id)
    return e !== undefined && e.live ? e : undefined
  }

  get remaining (): readonly number[] { return this.free ?? this.offer.gpus.map((g) => g.count) }

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
  const pa = a.slots
  const pb = b.slots
  if (pa !== pb) {
    if (pa.prefix !== pb.prefix) return pa.prefix < pb.prefix ? -1 : 1
    return pa.hex < pb.hex ? -1 : 1
  }
  const ia = a.offer.id
  const ib = b.offer.id
  return ia < ib ? -1 : ia > ib ? 1 : 0
}
