import { describe, expect, it } from 'vitest'
import { OrderBook } from '../../../src/market/book/order-book.js'
import { RestingOffer, SHARED_CERTS, certField } from '../../../src/market/book/slots.js'
import { matchBid } from '../../../src/market/match.js'
import { MarketError } from '../../../src/market/errors.js'
import { Envelope, Offer, Bid, type SignerCert } from '../../../src/wire/market.js'
import { ManualClock } from '../../../src/util/clock.js'
import { T0, mkBid, mkOffer } from './book-fixtures.js'

/** an envelope around a body, as the wire carries it (the book checks no signature) */
function seal (body: Uint8Array<ArrayBuffer>): Uint8Array {
  return Envelope.encode({ body, signature: new Uint8Array(64).fill(1) })
}
const sealOffer = (o: Offer): Uint8Array => seal(Offer.encode(o))
const sealBid = (b: Bid): Uint8Array => seal(Bid.encode(b))

/** `bytes` as a view into the middle of a larger buffer (a frame, a decode buffer) */
function viewOf (bytes: Uint8Array): Uint8Array {
  const frame = new Uint8Array(bytes.byteLength + 100)
  frame.set(bytes, 50)
  return frame.subarray(50, 50 + bytes.byteLength)
}

function codeOf (fn: () => unknown): string | undefined {
  try { fn(); return undefined } catch (err) { return err instanceof MarketError ? err.code : 'UNTYPED' }
}

describe('OrderBook: compact entries', () => {
  it('holds the envelope, not the offer, and decodes the same offer from it on demand', () => {
    const book = new OrderBook({ clock: new ManualClock(T0) })
    const offer = mkOffer({ teeKinds: ['tdx', 'sev-snp'], gpuCc: true, addrs: [new Uint8Array([4, 127, 0, 0, 1])] })
    const envelope = sealOffer(offer)
    book.upsertOffer(offer, { envelope, peer: 'p', source: 'gossip' })
    const e = book.offers()[0] as RestingOffer
    expect(e.decoded).toBeUndefined()
    expect(Offer.encode(e.offer)).toEqual(Offer.encode(offer))
    expect(e.decoded).toBeDefined()
    expect(e.meta).toEqual({ peer: 'p', source: 'gossip', receivedAt: T0, envelope: new Uint8Array(envelope) })
    // the fields matching reads, without decoding
    expect([e.id, e.sequence, e.gpus, e.teeKinds, e.region, e.gpuCc, e.pricePerGpuHour, e.createdAt, e.netuid])
      .toEqual([offer.id, offer.sequence, offer.gpus, offer.teeKinds, offer.region, true, offer.pricePerGpuHour, offer.createdAt, offer.netuid])
  })

  it('copies envelopes into its own slabs, never keeping the buffer it was given', () => {
    const book = new OrderBook({ clock: new ManualClock(T0) })
    const view = viewOf(sealOffer(mkOffer({ id: 'b' })))
    book.upsertOffer(mkOffer({ id: 'b' }), { envelope: view })
    view.fill(0) // the caller's buffer is reused: the book's copy must not change
    const held = book.offers()[0].meta.envelope
    expect(held).toEqual(sealOffer(mkOffer({ id: 'b' })))
    expect(held?.buffer).not.toBe(view.buffer)
    expect(book.arena.stats()).toMatchObject({ slabs: 1, live: held?.byteLength })
    // bids keep an exact-size copy of a view
    const bidView = viewOf(sealBid(mkBid()))
    book.upsertBid(mkBid(), { envelope: bidView })
    const bid = book.bids()[0].meta.envelope
    expect(bid).toEqual(bidView)
    expect(bid?.buffer).not.toBe(bidView.buffer)
    expect(bid?.byteLength).toBe(bid?.buffer.byteLength)
  })

  it('evacuates slabs that fall under half live: the slabs stay within twice the live bytes, every envelope intact', () => {
    const clock = new ManualClock(T0)
    const book = new OrderBook({ clock, maxOffers: 20_000, maxOffersPerSupplier: 20_000 })
    const sealed = new Map<string, Uint8Array>()
    for (let i = 0; i < 6000; i++) {
      const o = mkOffer({ id: `o${i}`, pricePerGpuHour: BigInt(1000 + i) })
      sealed.set(o.id, sealOffer(o))
      book.upsertOffer(o, { envelope: sealed.get(o.id) })
    }
    const full = book.arena.stats()
    expect(full.slabs).toBeGreaterThan(2)
    // two of every three leave, scattered over every slab
    for (let i = 0; i < 6000; i++) if (i % 3 !== 0) book.remove(`${'01'.repeat(32)}/o${i}`)
    expect(book.offerCount).toBe(2000)
    const after = book.arena.stats()
    let kept = 0
    for (let i = 0; i < 6000; i += 3) kept += sealed.get(`o${i}`)?.byteLength ?? 0
    expect(after.live).toBe(kept)
    expect(after.bytes).toBeLessThanOrEqual(2 * after.live + 256 * 1024)
    for (const e of book.offers()) {
      expect(e.meta.envelope).toEqual(sealed.get(e.id))
      expect(e.offer.id).toBe(e.id)
    }
    // everything leaves: one slab remains (the current one)
    book.expire(T0 + 3_600_000)
    expect(book.arena.stats()).toMatchObject({ slabs: 1, live: 0 })
  })

  it('keeps at most 256 decoded offers, and decodes an evicted one again', () => {
    const book = new OrderBook({ clock: new ManualClock(T0), maxOffersPerSupplier: 1000 })
    const offers = Array.from({ length: 600 }, (_, i) => mkOffer({ id: `o${i}`, pricePerGpuHour: BigInt(1000 + i) }))
    for (const o of offers) book.upsertOffer(o, { envelope: sealOffer(o) })
    const entries = book.offers() as RestingOffer[]
    for (const e of entries) expect(e.offer.id).toBe(e.id)
    expect(entries.filter((e) => e.decoded !== undefined).length).toBe(256)
    expect(entries[0].decoded).toBeUndefined()
    expect(entries[0].offer.pricePerGpuHour).toBe(1000n)
  })

  it('an offer held without an envelope keeps the offer it was given', () => {
    const book = new OrderBook({ clock: new ManualClock(T0) })
    const offer = mkOffer()
    book.upsertOffer(offer)
    const e = book.offers()[0]
    expect(e.offer).toBe(offer)
    expect(e.meta.envelope).toBeUndefined()
    expect(book.offerEnvelopes()).toEqual([])
  })

  it('matches entries held by envelope exactly as entries held by offer', () => {
    const offers = Array.from({ length: 200 }, (_, i) => mkOffer({
      id: `o${i}`,
      supplierN: 1 + (i % 7),
      pricePerGpuHour: BigInt(1_000_000 + ((i * 7919) % 1000)),
      teeKinds: i % 3 === 0 ? ['sev-snp'] : ['tdx'],
      region: i % 2 === 0 ? 'eu' : 'us',
      gpus: [{ model: i % 4 === 0 ? 'a100-80gb' : 'h100-80gb', memoryMib: 81920, count: 1 + (i % 8) }]
    }))
    const byOffer = new OrderBook({ clock: new ManualClock(T0) })
    const byEnvelope = new OrderBook({ clock: new ManualClock(T0) })
    for (const o of offers) {
      byOffer.upsertOffer(o)
      byEnvelope.upsertOffer(o, { envelope: sealOffer(o) })
    }
    const bids = [
      mkBid(), mkBid({ requirements: { gpu: 'a100', minMemoryMib: 0, count: 4, teeKinds: ['sev-snp'], regions: ['us'] } }),
      mkBid({ requirements: { gpu: '', minMemoryMib: 0, count: 8, teeKinds: [], regions: ['eu'] } }),
      mkBid({ maxPricePerGpuHour: 1_000_100n })
    ]
    for (const bid of bids) {
      const a = matchBid(byOffer, bid)
      const b = matchBid(byEnvelope, bid)
      expect(b?.entry.key).toBe(a?.entry.key)
      expect(b?.gpu).toEqual(a?.gpu)
      expect(b?.teeKind).toBe(a?.teeKind)
    }
  })

  it('serves each resting offer envelope once, a multi-model offer included', () => {
    const book = new OrderBook({ clock: new ManualClock(T0) })
    const two = mkOffer({ id: 'two', gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 1 }, { model: 'a100-80gb', memoryMib: 81920, count: 1 }] })
    const one = mkOffer({ id: 'one' })
    for (const o of [two, one]) book.upsertOffer(o, { envelope: sealOffer(o) })
    book.upsertBid(mkBid(), { envelope: sealBid(mkBid()) })
    expect(book.offerEnvelopes().map((e) => Offer.decode(Envelope.decode(e).body).id).sort()).toEqual(['one', 'two'])
    expect(book.bidEnvelopes()).toHaveLength(1)
  })
})

describe('OrderBook: one certificate per supplier', () => {
  /** a certificate as a signer carries it (the book checks none of it: the validator did) */
  const cert = (n: number): SignerCert => ({ hotkey: new Uint8Array(32).fill(7), signingKey: new Uint8Array(32).fill(n), notAfter: BigInt(T0 + 86_400_000), signature: new Uint8Array(64).fill(n) })
  const signed = (o: Offer, c: SignerCert): Uint8Array => Envelope.encode({ body: Offer.encode(o), signer: c, signature: new Uint8Array(64).fill(3) })
  const certBytes = Envelope.encode({ signer: cert(1) }).byteLength

  it('holds each envelope less its certificate, which the supplier\'s entries share, and gives it back byte for byte', () => {
    const book = new OrderBook({ clock: new ManualClock(T0) })
    const sealed = Array.from({ length: 10 }, (_, i) => signed(mkOffer({ id: `o${i}` }), cert(1)))
    for (const [i, env] of sealed.entries()) book.upsertOffer(mkOffer({ id: `o${i}` }), { envelope: viewOf(env) })
    const total = sealed.reduce((n, e) => n + e.byteLength, 0)
    // one certificate field (a tag, a two-byte length, 143 bytes) is out of each envelope in the arena
    expect(certBytes).toBe(146)
    expect(book.arena.stats().live).toBe(total - 10 * certBytes)
    for (const e of book.offers()) {
      expect(e.meta.envelope).toEqual(sealed[Number(e.id.slice(1))])
      expect(Envelope.decode(e.meta.envelope as Uint8Array).signer).toEqual(cert(1))
      expect(e.offer.id).toBe(e.id)
    }
    expect(book.offerEnvelopes().map((e) => Buffer.from(e).toString('hex')).sort()).toEqual(sealed.map((e) => Buffer.from(e).toString('hex')).sort())
  })

  it('gives its offers as sources read when asked, each giving the bytes it held after it left the book', () => {
    const book = new OrderBook({ clock: new ManualClock(T0) })
    const sealed = Array.from({ length: 250 }, (_, i) => signed(mkOffer({ id: `o${i}` }), cert(1)))
    for (const [i, env] of sealed.entries()) book.upsertOffer(mkOffer({ id: `o${i}` }), { envelope: viewOf(env) })
    const sources = book.offerEnvelopeSources()
    const hex = (e: Uint8Array | undefined): string => Buffer.from(e ?? new Uint8Array(0)).toString('hex')
    const before = sources.map((s) => hex(s.envelope)).sort()
    expect(before).toEqual(sealed.map(hex).sort())
    // every offer replaced ten times over: about two slabs' worth of envelopes written
    for (let seq = 2n; seq <= 11n; seq++) {
      for (let i = 0; i < 250; i++) book.upsertOffer(mkOffer({ id: `o${i}`, sequence: seq }), { envelope: viewOf(signed(mkOffer({ id: `o${i}`, sequence: seq }), cert(1))) })
    }
    // the arena now holds one slab: the ones the first versions lay in are gone from it
    expect(book.arena.stats().slabs).toBe(1)
    expect(sources.map((s) => hex(s.envelope)).sort()).toEqual(before)
    expect(book.offerEnvelopeSources().map((s) => hex(s.envelope)).sort()).not.toEqual(before)
  })

  it(`shares at most ${SHARED_CERTS} certificates per supplier; past them an envelope is held whole`, () => {
    const book = new OrderBook({ clock: new ManualClock(T0) })
    const sealed = Array.from({ length: SHARED_CERTS + 2 }, (_, i) => signed(mkOffer({ id: `o${i}` }), cert(i + 1)))
    for (const [i, env] of sealed.entries()) book.upsertOffer(mkOffer({ id: `o${i}` }), { envelope: env })
    const total = sealed.reduce((n, e) => n + e.byteLength, 0)
    expect(book.arena.stats().live).toBe(total - SHARED_CERTS * certBytes)
    for (const e of book.offers()) expect(e.meta.envelope).toEqual(sealed[Number(e.id.slice(1))])
    // another supplier has certificates of its own
    const other = signed(mkOffer({ id: 'x', supplierN: 2 }), cert(1))
    book.upsertOffer(mkOffer({ id: 'x', supplierN: 2 }), { envelope: other })
    expect(book.arena.stats().live).toBe(total + other.byteLength - (SHARED_CERTS + 1) * certBytes)
  })

  it('finds the certificate field only where the envelope starts with its body, and within its bytes', () => {
    const env = signed(mkOffer(), cert(1))
    const r = certField(env)
    expect(r).toBeDefined()
    expect(Envelope.decode(env.subarray(r?.start, r?.end)).signer).toEqual(cert(1))
    // no certificate, another field first, cut short, a length that never ends
    expect(certField(Envelope.encode({ body: Offer.encode(mkOffer()), signature: new Uint8Array(64) }))).toBeUndefined()
    expect(certField(env.subarray(1))).toBeUndefined()
    expect(certField(env.subarray(0, (r?.end ?? 0) - 1))).toBeUndefined()
    expect(certField(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBeUndefined()
    expect(certField(new Uint8Array([]))).toBeUndefined()
  })
})

describe('OrderBook: signed cancels in tombstones', () => {
  it('keeps a cancel envelope until the cancel expires, and the tombstone after that', () => {
    const clock = new ManualClock(T0)
    const book = new OrderBook({ clock })
    book.upsertOffer(mkOffer(), { envelope: sealOffer(mkOffer()) })
    const cancel = mkOffer({ sequence: 2n, cancelled: true, gpus: [], expiresAt: BigInt(T0 + 10_000) })
    const env = viewOf(sealOffer(cancel))
    expect(book.upsertOffer(cancel, { envelope: env })).toBe('cancelled')
    const held = book.offerCancels()
    expect(held).toEqual([env])
    expect(held[0].buffer).not.toBe(env.buffer)
    expect(book.cancelCount).toBe(1)

    clock.set(T0 + 10_000)
    expect(book.offerCancels()).toEqual([])
    book.expire()
    expect(book.cancelCount).toBe(0)
    // the sequence stays: an older copy heard later still cannot come back
    expect(codeOf(() => book.upsertOffer(mkOffer({ expiresAt: BigInt(T0 + 3_600_000) })))).toBe('STALE')
  })

  it('no longer serves a cancel once the slot holds a newer offer or bid (the cancel\'s floor stays)', () => {
    const book = new OrderBook({ clock: new ManualClock(T0) })
    const cancel = mkOffer({ sequence: 6n, cancelled: true, gpus: [], expiresAt: BigInt(T0 + 3_600_000) })
    book.upsertOffer(mkOffer({ sequence: 5n }))
    book.upsertOffer(cancel, { envelope: sealOffer(cancel) })
    expect(book.offerCancels()).toHaveLength(1)
    // published again above the cancel: a node holding only this offer refuses the cancel as stale,
    // so a cancel still served here would keep their digests apart until it expired
    expect(book.upsertOffer(mkOffer({ sequence: 7n }))).toBe('added')
    expect(book.offerCancels()).toEqual([])
    const bidCancel = mkBid({ sequence: 6n, cancelled: true })
    book.upsertBid(mkBid({ sequence: 5n }))
    book.upsertBid(bidCancel, { envelope: sealBid(bidCancel) })
    expect(book.bidCancels()).toHaveLength(1)
    expect(book.upsertBid(mkBid({ sequence: 7n }))).toBe('added')
    expect(book.bidCancels()).toEqual([])
    // the offer replaced again keeps the old cancel's floor as its own
    expect(codeOf(() => book.upsertOffer(mkOffer({ sequence: 6n })))).toBe('STALE')
  })

  it('keeps no envelope of a cancel that has already expired, or of one given without', () => {
    const book = new OrderBook({ clock: new ManualClock(T0) })
    const late = mkOffer({ id: 'a', sequence: 2n, cancelled: true, gpus: [], expiresAt: BigInt(T0) })
    book.upsertOffer(late, { envelope: sealOffer(late) })
    book.upsertOffer(mkOffer({ id: 'b', sequence: 2n, cancelled: true, gpus: [] }))
    expect(book.offerCancels()).toEqual([])
  })

  it('a newer cancel of the same slot replaces the envelope it serves', () => {
    const book = new OrderBook({ clock: new ManualClock(T0) })
    const c2 = mkOffer({ sequence: 2n, cancelled: true, gpus: [] })
    const c3 = mkOffer({ sequence: 3n, cancelled: true, gpus: [] })
    book.upsertOffer(c2, { envelope: sealOffer(c2) })
    book.upsertOffer(c3, { envelope: sealOffer(c3) })
    expect(book.offerCancels()).toEqual([sealOffer(c3)])
  })

  it('cancels held are bounded by maxTombstones, offers and bids alike', () => {
    const book = new OrderBook({ clock: new ManualClock(T0), maxTombstones: 3 })
    for (let i = 0; i < 5; i++) {
      const c = mkOffer({ id: `o${i}`, sequence: 2n, cancelled: true, gpus: [] })
      book.upsertOffer(c, { envelope: sealOffer(c) })
      const b = mkBid({ id: `b${i}`, sequence: 2n, cancelled: true, requirements: undefined })
      book.upsertBid(b, { envelope: sealBid(b) })
    }
    // the oldest went first
    expect(book.offerCancels().map((e) => Offer.decode(Envelope.decode(e).body).id)).toEqual(['o2', 'o3', 'o4'])
    expect(book.bidCancels().map((e) => Bid.decode(Envelope.decode(e).body).id)).toEqual(['b2', 'b3', 'b4'])
    expect(book.cancelCount).toBe(6)
  })
})

describe('OrderBook: an empty envelope is none', () => {
  it('keeps the offer it was given when the envelope is empty, and no cancel envelope', () => {
    const book = new OrderBook({ clock: new ManualClock(T0) })
    const offer = mkOffer({ id: 'a', sequence: 2n })
    book.upsertOffer(offer, { envelope: new Uint8Array(0) })
    expect(book.offers()[0].offer).toBe(offer)
    expect(book.offerEnvelopes()).toEqual([])
    book.upsertOffer(mkOffer({ id: 'a', sequence: 3n, cancelled: true, gpus: [] }), { envelope: new Uint8Array(0) })
    expect(book.offerCancels()).toEqual([])
  })
})
