import { Envelope, Offer, type Gpu } from '../../wire/market.js'
import type { EntryMeta, OfferEntry, Standing } from '../types.js'
import { internGpus, internImages, internTeeKinds, regionName } from './attributes.js'
import type { EnvelopeArena, Held, Slab } from './arena.js'
import type { Keyed } from './party-index.js'
import { bytesEqual, readShortVarint } from '../../util/bytes.js'

/** dead entries a supplier's map may hold beyond its live ones before it is swept */
export const PURGE_SLACK = 16

/**
 * Distinct signer certificates a supplier's entries share (`SupplierSlots.sharedCert`): a supplier
 * signs with one key at a time, and a few cover a key rotation while older offers still rest.
 */
export const SHARED_CERTS = 4

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
  /** the origin its last entry came with (its entries share it while it does not change) */
  private origin: Origin = NO_ORIGIN
  /** the certificate fields its entries' envelopes carry, once each (see `RestingOffer`) */
  private readonly certs: Uint8Array[] = []
  /**
   * the hotkey's first 30 bits as a small integer (a Smi, stored unboxed): orders suppliers like
   * `hex` unless those bits tie, when `hex` decides
   */
  readonly prefix: number

  /** `owner` is the book holding the record: an entry tells whether it rests in a given book */
  constructor (readonly bytes: Uint8Array, readonly hex: string, readonly owner: EntryStore) {
    this.prefix = (bytes[0] << 22) | (bytes[1] << 14) | (bytes[2] << 6) | (bytes[3] >>> 2)
  }

  /**
   * One copy of `field` (an envelope's encoded certificate field) shared by every entry of this
   * supplier that carries the same bytes; undefined once `SHARED_CERTS` others are held (the entry
   * then keeps its envelope whole).
   */
  sharedCert (field: Uint8Array): Uint8Array | undefined {
    for (const c of this.certs) if (bytesEqual(c, field)) return c
    if (this.certs.length >= SHARED_CERTS) return undefined
    const c = field.slice()
    this.certs.push(c)
    return c
  }

  /** an origin equal to (peer, source): the last one when it is the same */
  originOf (peer: string | undefined, source: EntryMeta['source']): Origin {
    const o = this.origin
    if (o.peer === peer && o.source === source) return o
    return (this.origin = { peer, source })
  }
}

/** where an entry came from (`EntryMeta`'s peer and source) */
interface Origin { readonly peer: string | undefined, readonly source: EntryMeta['source'] }
const NO_ORIGIN: Origin = Object.freeze({ peer: undefined, source: undefined })

/** what an entry asks of the book that holds it: room for its envelope, a place in its cache of decoded offers */
export interface EntryStore {
  readonly arena: EnvelopeArena
  remember: (e: RestingOffer) => void
}

/**
 * A resting offer as the book holds it: the fields matching, the indexes and listings read (numbers,
 * shared strings and GPU lists, see attributes.ts), and the signed envelope it arrived in, copied
 * into the book's envelope arena (arena.ts). The full `Offer` is decoded from the envelope on first
 * use and kept while the entry is in the book's small cache of decoded offers (`EntryStore`); an
 * entry given without an envelope (a test, a bench) keeps the offer it was given instead.
 *
 * `key` (`<supplier hex>/<id>`) is built on first use: the book itself indexes by supplier record
 * and id, so an insert allocates no key string.
 */
export class RestingOffer implements OfferEntry, Held {
  /** false once the entry left the book (filled, cancelled, replaced, expired, evicted) */
  live = true
  /** the supplier's standing when the entry came, or at `OrderBook.restand` (the book's eviction order, see `Standing`) */
  standing: Standing = 0
  private keyText: string | undefined = undefined
  /** free GPUs per entry of `gpus`, created by the first `consume` (see `OfferEntry.free`) */
  free: number[] | undefined = undefined
  /** the decoded offer while cached (always, for an entry held without an envelope) */
  decoded: Offer | undefined
  readonly id: string
  readonly sequence: bigint
  readonly gpus: readonly Gpu[]
  readonly teeKinds: readonly string[]
  readonly gpuCc: boolean
  readonly images: readonly string[] | undefined
  readonly netuid: number
  readonly minDurationS: number
  readonly maxDurationS: number
  /** the exact bigints where the numbers are not (above 2^53), else undefined */
  private readonly exact: { readonly price: bigint, readonly created: bigint } | undefined
  /** where the envelope lies in the arena (`Held`); no slab: held without an envelope */
  slab: Slab | undefined = undefined
  at = 0
  len = 0
  slot = 0
  /**
   * The envelope's certificate field, shared with the supplier's other entries and cut out of the
   * bytes in the arena, right after the body; undefined: the arena holds the envelope whole.
   */
  private cert: Uint8Array | undefined = undefined
  /** where it came from: one object shared by the supplier's entries of the same peer and source */
  private readonly origin: Origin

  constructor (
    offer: Offer,
    readonly slots: SupplierSlots,
    meta: EntryMeta,
    readonly priceN: number,
    readonly createdN: number,
    readonly expiresN: number,
    readonly receivedAt: number,
    readonly teeMask: number,
    readonly regionId: number
  ) {
    this.id = offer.id
    this.sequence = offer.sequence
    this.gpus = internGpus(offer.gpus)
    this.teeKinds = internTeeKinds(offer.teeKinds)
    this.gpuCc = offer.gpuCc === true
    this.images = internImages(offer.runtime, offer.images)
    this.netuid = offer.netuid
    this.minDurationS = offer.minDurationS
    this.maxDurationS = offer.maxDurationS
    this.exact = priceN > Number.MAX_SAFE_INTEGER || createdN > Number.MAX_SAFE_INTEGER ? { price: offer.pricePerGpuHour, created: offer.createdAt } : undefined
    // the envelope must be this offer's own signed message (EntryMeta.envelope); an empty one is none
    if (meta.envelope !== undefined && meta.envelope.byteLength > 0) this.hold(meta.envelope, slots)
    this.decoded = this.slab === undefined ? offer : undefined
    this.origin = slots.originOf(meta.peer, meta.source)
  }

  /**
   * Copies the envelope into the arena, less its certificate field when the supplier's record can
   * share it: the certificate (146 of the 400 to 500 bytes of an offer's envelope) is the same in
   * every offer a supplier signs with one key.
   */
  private hold (env: Uint8Array, slots: SupplierSlots): void {
    const arena = slots.owner.arena
    const r = certField(env)
    const cert = r === undefined ? undefined : slots.sharedCert(env.subarray(r.start, r.end))
    if (r === undefined || cert === undefined) {
      arena.put(this, env)
      return
    }
    arena.put(this, env.subarray(0, r.start), env.subarray(r.end))
    this.cert = cert
  }

  get supplier (): string { return this.slots.hex }


  get pricePerGpuHour (): bigint { return this.exact?.price ?? BigInt(this.priceN) }
  get createdAt (): bigint { return this.exact?.created ?? BigInt(this.createdN) }
  /** the region's shared name (a name past the registry's bound is read from the offer) */
  get region (): string { return regionName(this.regionId) ?? this.offer.region }

  /** the full offer, decoded from the envelope when it is not cached */
  get offer (): Offer {
    let o = this.decoded
    if (o === undefined) {
      // the envelope is the validated wire message of this offer (EntryMeta.envelope)
      o = Offer.decode(Envelope.decode(this.envelope as Uint8Array).body)
      this.decoded = o
      this.slots.owner.remember(this)
    }
    return o
  }

  /**
   * The signed envelope, byte for byte as it arrived: a view into the arena (valid for as long as it
   * is held) where it is held whole, else a new array with its certificate field put back.
   */
  get envelope (): Uint8Array | undefined {
    const stored = this.slab?.bytes.subarray(this.at, this.at + this.len)
    const cert = this.cert
    if (stored === undefined || cert === undefined) return stored
    // the body field (tag, length, bytes) comes first; the certificate field went right after it
    const [len, next] = readShortVarint(stored, 1) as [number, number]
    const at = next + len
    const out = new Uint8Array(stored.byteLength + cert.byteLength)
    out.set(stored.subarray(0, at))
    out.set(cert, at)
    out.set(stored.subarray(at), at + cert.byteLength)
    return out
  }

  get meta (): EntryMeta {
    // the envelope only when read: readers of the origin alone put no certificate back
    const entry = this
    return { peer: this.origin.peer, source: this.origin.source, receivedAt: this.receivedAt, get envelope () { return entry.envelope } }
  }

  /** the entry under `id` if it is live */
  static liveIn (slots: SupplierSlots | undefined, id: string): RestingOffer | undefined {
    const e = slots?.offers.get(id)
    return e !== undefined && e.live ? e : undefined
  }

  get remaining (): readonly number[] { return this.free ?? this.gpus.map((g) => g.count) }

  get key (): string {
    if (this.keyText === undefined) this.keyText = `${this.slots.hex}/${this.id}`
    return this.keyText
  }
}

/**
 * Where an envelope's certificate field (field 2, tag, length and value) lies: right after the body
 * (field 1) in the canonical encoding every validated envelope has (docs/protocol.md §2.3).
 * undefined when the bytes do not start that way (the arena then keeps the envelope whole).
 */
export function certField (env: Uint8Array): { start: number, end: number } | undefined {
  // field 1 (body), length-delimited: tag 0x0a
  if (env[0] !== 0x0a) return undefined
  const body = readShortVarint(env, 1)
  if (body === undefined) return undefined
  const start = body[1] + body[0]
  // field 2 (signer), length-delimited: tag 0x12
  if (env[start] !== 0x12) return undefined
  const cert = readShortVarint(env, start + 1)
  if (cert === undefined || cert[1] + cert[0] > env.byteLength) return undefined
  return { start, end: cert[1] + cert[0] }
}

/**
 * `bytes` itself when it is the whole of its buffer, else an exact-size copy: a view into a larger
 * buffer (a frame, a decode buffer, Node's 8 KiB Buffer pool) would keep all of it alive.
 */
export function owned (bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && !(bytes.buffer instanceof SharedArrayBuffer)) return bytes
  return bytes.slice()
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
  const ia = a.id
  const ib = b.id
  return ia < ib ? -1 : ia > ib ? 1 : 0
}
