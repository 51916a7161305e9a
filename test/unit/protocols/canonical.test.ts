import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BID_SCHEMA, Canonical, ENVELOPE_SCHEMA, OFFER_SCHEMA, scan, type Schema } from '../../../src/protocols/gossip/canonical.js'
import { Bid, Envelope, Offer } from '../../../src/wire/market.js'
import { sealBid, sealOffer } from '../../../src/protocols/gossip/envelope.js'
import { MarketMessageValidator } from '../../../src/protocols/gossip/validate.js'
import { DEFAULT_VERIFY_WORKERS, VerifyPool } from '../../../src/protocols/gossip/verify-pool.js'
import { generateKeyPairSync, randomBytes, sign as cryptoSign } from 'node:crypto'
import { TOPIC_BIDS, TOPIC_OFFERS } from '../../../src/protocols/gossip/topics.js'
import { MessageError, MessageErrorCode } from '../../../src/market/validation/errors.js'
import { GossipAction } from '../../../src/util/errors.js'
import { MessageSigner } from '../../../src/market/signing/index.js'
import { ManualClock } from '../../../src/util/clock.js'
import { devPair } from '../../helpers/keys.js'
import { makeBid, makeOffer } from '../../helpers/market.js'

const NOW = Date.UTC(2026, 5, 1)
const RUNS = Number(process.env.BAZAAR_FUZZ_RUNS ?? 400)

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0

/**
 * The one-pass check against its definition: decode, re-encode, compare. On bytes the decoder
 * reads, YES must mean the re-encoding is identical and NO that it differs (UNSURE leaves it to
 * the re-encoding).
 */
function agrees (bytes: Uint8Array, s: Schema, decode: (b: Uint8Array) => Uint8Array): void {
  let reencoded: Uint8Array
  try { reencoded = decode(bytes) } catch { return }
  const oracle = same(reencoded, bytes)
  const r = scan(bytes, s)
  if (r === Canonical.YES && !oracle) throw new Error(`scan says canonical, re-encoding differs: ${Buffer.from(bytes).toString('hex')}`)
  if (r === Canonical.NO && oracle) throw new Error(`scan says not canonical, re-encoding is identical: ${Buffer.from(bytes).toString('hex')}`)
}

/** byte-level mutations: flips, an inserted byte, a deleted byte, a duplicated slice */
const mutation = (len: number): fc.Arbitrary<(b: Uint8Array) => Uint8Array> => fc.oneof(
  fc.array(fc.record({ at: fc.nat({ max: len - 1 }), xor: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 3 })
    .map((flips) => (b: Uint8Array) => { const t = b.slice(); for (const f of flips) t[f.at] ^= f.xor; return t }),
  fc.record({ at: fc.nat({ max: len }), v: fc.integer({ min: 0, max: 255 }) })
    .map(({ at, v }) => (b: Uint8Array) => Uint8Array.from([...b.subarray(0, at), v, ...b.subarray(at)])),
  fc.nat({ max: len - 1 }).map((at) => (b: Uint8Array) => Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + 1)])),
  fc.record({ from: fc.nat({ max: len - 1 }), n: fc.integer({ min: 1, max: 12 }), at: fc.nat({ max: len }) })
    .map(({ from, n, at }) => (b: Uint8Array) => Uint8Array.from([...b.subarray(0, at), ...b.subarray(from, from + n), ...b.subarray(at)]))
)

describe('one-pass canonical check', () => {
  let alice: MessageSigner
  let offers: Uint8Array[]
  let bids: Uint8Array[]
  beforeAll(async () => {
    alice = MessageSigner.create(await devPair('Alice'), { now: NOW - 1000, ttlMs: 3600_000 })
    offers = [
      sealOffer(await makeOffer(alice, NOW), alice),
      sealOffer(await makeOffer(alice, NOW, { gpus: [{ model: 'a100', memoryMib: 1, count: 1 }, { model: 'h100-80gb', memoryMib: 81920, count: 8 }], teeKinds: ['tdx', 'sev-snp'], addrs: [new Uint8Array([4, 127, 0, 0, 1, 6, 15, 161])], cancelled: true }), alice),
      sealOffer(await makeOffer(alice, NOW, { teeKinds: ['', 'tdx'], region: 'ü', addrs: [new Uint8Array(0)] }), alice),
      // field 17, written only when true
      sealOffer(await makeOffer(alice, NOW, { gpuCc: true }), alice),
      // fields 18 and 19: the runtime (written only as "container") and the image patterns
      sealOffer(await makeOffer(alice, NOW, { runtime: 'container', images: ['docker.io/pytorch/pytorch:*', 'ghcr.io/x:1'] }), alice)
    ]
    bids = [
      sealBid(makeBid(alice, NOW), alice),
      sealBid(makeBid(alice, NOW, { requirements: { gpu: '', minMemoryMib: 0, count: 0, teeKinds: [], regions: [] } }), alice),
      sealBid(makeBid(alice, NOW, { requirements: undefined, cancelled: true }), alice),
      // Requirements field 6: the image, written only when there is one
      sealBid(makeBid(alice, NOW, { requirements: { gpu: 'h100', minMemoryMib: 0, count: 1, teeKinds: [], regions: [], image: 'docker.io/pytorch/pytorch:2.4' } }), alice)
    ]
  })

  it('accepts what the encoder writes', () => {
    for (const o of offers) {
      expect(scan(o, ENVELOPE_SCHEMA)).toBe(Canonical.YES)
      const body = Envelope.decode(o).body
      // the third offer carries a non-ASCII region: left to the re-encoding
      expect([Canonical.YES, Canonical.UNSURE]).toContain(scan(body, OFFER_SCHEMA))
    }
    expect(scan(Envelope.decode(offers[0]).body, OFFER_SCHEMA)).toBe(Canonical.YES)
    expect(scan(Envelope.decode(offers[2]).body, OFFER_SCHEMA)).toBe(Canonical.UNSURE)
    expect(scan(Envelope.decode(offers[3]).body, OFFER_SCHEMA)).toBe(Canonical.YES)
    // the same offer with its last byte (gpuCc's value) 0: an explicit false, not canonical, though
    // protons writes it back as it came
    const falseCc = Envelope.decode(offers[3]).body.slice()
    expect(falseCc.subarray(-3)).toEqual(Uint8Array.from([0x88, 0x01, 0x01]))
    falseCc[falseCc.length - 1] = 0
    expect(scan(falseCc, OFFER_SCHEMA)).toBe(Canonical.NO)
    expect(scan(Envelope.decode(offers[4]).body, OFFER_SCHEMA)).toBe(Canonical.YES)
    // an empty runtime or image written out: not canonical, though protons writes it back as it came
    expect(scan(Offer.encode({ ...Offer.decode(Envelope.decode(offers[0]).body), runtime: '' }), OFFER_SCHEMA)).toBe(Canonical.NO)
    const bid = Bid.decode(Envelope.decode(bids[0]).body)
    expect(scan(Bid.encode({ ...bid, requirements: { ...bid.requirements!, image: '' } }), BID_SCHEMA)).toBe(Canonical.NO)
    for (const b of bids) expect(scan(Envelope.decode(b).body, BID_SCHEMA)).toBe(Canonical.YES)
  })

  it('agrees with decode + re-encode on mutated envelopes and bodies', () => {
    const env = (b: Uint8Array): Uint8Array => Envelope.encode(Envelope.decode(b))
    // field 17 (gpuCc, `optional bool`) is canonical only when true (docs/protocol.md §2.3): protons
    // re-encodes an explicit false as it came, so the oracle drops it as a canonical writer does;
    // likewise an empty optional string (the offer's runtime, the requirements' image)
    const offer = (b: Uint8Array): Uint8Array => { const o = Offer.decode(b); return Offer.encode({ ...o, gpuCc: o.gpuCc === true ? true : undefined, runtime: o.runtime === '' ? undefined : o.runtime }) }
    const bid = (b: Uint8Array): Uint8Array => {
      const d = Bid.decode(b)
      const r = d.requirements
      return Bid.encode(r?.image === '' ? { ...d, requirements: { ...r, image: undefined } } : d)
    }
    for (const o of offers) {
      fc.assert(fc.property(mutation(o.byteLength), (m) => { agrees(m(o), ENVELOPE_SCHEMA, env) }), { numRuns: RUNS })
      const body = Envelope.decode(o).body.slice()
      fc.assert(fc.property(mutation(body.byteLength), (m) => { agrees(m(body), OFFER_SCHEMA, offer) }), { numRuns: RUNS })
    }
    for (const b of bids) {
      const body = Envelope.decode(b).body.slice()
      fc.assert(fc.property(mutation(body.byteLength), (m) => { agrees(m(body), BID_SCHEMA, bid) }), { numRuns: RUNS })
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (b) => { agrees(b, OFFER_SCHEMA, offer) }), { numRuns: RUNS })
  })
})

describe('signatures verified off the event loop', () => {
  let alice: MessageSigner
  let pool: VerifyPool
  beforeAll(async () => {
    alice = MessageSigner.create(await devPair('Alice'), { now: NOW - 1000, ttlMs: 3600_000 })
    pool = new VerifyPool({ workers: 2, maxBatch: 4 })
  })
  afterAll(async () => { await pool.close() })

  const codeOf = async (p: Promise<unknown>): Promise<string> => await p.then(() => 'ACCEPTED', (err) => err instanceof MessageError ? `${err.action}:${err.code}` : 'UNTYPED')

  it('accepts valid messages in batches and refuses a forged signature', async () => {
    const v = new MarketMessageValidator({ clock: new ManualClock(NOW) })
    const msgs = await Promise.all(Array.from({ length: 10 }, async (_, i) => sealOffer(await makeOffer(alice, NOW, { id: `slot-${i}` }), alice)))
    const forged = Envelope.decode(sealOffer(await makeOffer(alice, NOW, { id: 'forged' }), alice))
    forged.signature[5] ^= 1
    const results = await Promise.all([...msgs, Envelope.encode(forged)].map(async (m) => await codeOf(v.validateAsync(TOPIC_OFFERS, m, pool))))
    expect(results).toEqual([...msgs.map(() => 'ACCEPTED'), `${GossipAction.REJECT}:${MessageErrorCode.BAD_SIGNATURE}`])
    // an offer's signature does not verify on the bids topic's domain
    const bid = sealBid(makeBid(alice, NOW), alice)
    expect(await codeOf(v.validateAsync(TOPIC_BIDS, bid, pool))).toBe('ACCEPTED')
    expect(pool.depth).toBe(0)
  })

  it('verifies jobs of any size and both domains in one batch (the worker reuses one buffer for the signed bytes)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519')
    const raw = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12))
    const tags = ['bazaar-offer-v1', 'bazaar-bid-v1']
    const sign = (domain: 0 | 1, body: Uint8Array): Uint8Array => new Uint8Array(cryptoSign(null, Buffer.concat([Buffer.from(tags[domain]), Buffer.from([0]), body]), privateKey))
    const one = new VerifyPool({ workers: 1, maxBatch: 16 })
    try {
      // long, short, longer than the worker's first buffer, empty: a stale tail must never count
      const bodies = [randomBytes(8000), randomBytes(3), randomBytes(20_000), new Uint8Array(0), randomBytes(500)].map((b) => new Uint8Array(b))
      const jobs = bodies.flatMap((body, i) => {
        const domain = (i % 2) as 0 | 1
        const sig = sign(domain, body)
        // the same signature on the other domain, and on the body less its last byte, must fail
        return [
          { domain, body, sig, want: 'valid' },
          { domain: (1 - domain) as 0 | 1, body, sig, want: 'invalid' },
          ...(body.length > 0 ? [{ domain, body: body.subarray(0, body.length - 1), sig, want: 'invalid' }] : [])
        ]
      })
      const got = await Promise.all(jobs.map(async (j) => await one.verify(raw, j.sig, j.domain, j.body)))
      expect(got).toEqual(jobs.map((j) => j.want))
    } finally {
      await one.close()
    }
  })

  it('starts its worker threads with its first job, not before, and at most two by default', async () => {
    expect(DEFAULT_VERIFY_WORKERS).toBeGreaterThanOrEqual(1)
    expect(DEFAULT_VERIFY_WORKERS).toBeLessThanOrEqual(2)
    const started: number[] = []
    const p = new VerifyPool({ workers: 2, onStart: (n) => { started.push(n) } })
    try {
      // light traffic is checked on the event loop: a pool nobody handed a job holds no thread
      expect(p.takeInline(1_000_000)).toBe(true)
      expect(p.size).toBe(0)
      // a malformed job is answered at once and starts nothing
      expect(await p.verify(new Uint8Array(31), new Uint8Array(64), 0, new Uint8Array(1))).toBe('invalid')
      expect(p.size).toBe(0)
      const { privateKey, publicKey } = generateKeyPairSync('ed25519')
      const raw = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12))
      const body = new Uint8Array([1, 2, 3])
      const sig = new Uint8Array(cryptoSign(null, Buffer.concat([Buffer.from('bazaar-offer-v1'), Buffer.from([0]), body]), privateKey))
      // the first job starts both workers and waits for them
      expect(await p.verify(raw, sig, 0, body)).toBe('valid')
      expect(p.size).toBe(2)
      // told once (the node logs it), not again for later jobs
      expect(await p.verify(raw, sig, 0, body)).toBe('valid')
      expect(started).toEqual([2])
    } finally {
      await p.close()
    }
  })

  it('lends the event loop a budget of inline checks, none while jobs wait for the workers', async () => {
    const { publicKey } = generateKeyPairSync('ed25519')
    const raw = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12))
    const p = new VerifyPool({ workers: 1 })
    try {
      const t = 1_000_000
      // a burst of 50, then nothing until time passes: 500 a second
      const burst = Array.from({ length: 60 }, () => p.takeInline(t)).filter(Boolean).length
      expect(burst).toBe(50)
      expect(p.takeInline(t + 10)).toBe(true)
      expect(p.takeInline(t + 10)).toBe(true)
      expect(p.takeInline(t + 10)).toBe(true)
      expect(p.takeInline(t + 10)).toBe(true)
      expect(p.takeInline(t + 10)).toBe(true)
      expect(p.takeInline(t + 10)).toBe(false)
      // with a job queued, the pool takes every check, whatever the budget
      const job = p.verify(raw, new Uint8Array(64), 0, new Uint8Array(10))
      expect(p.takeInline(t + 60_000)).toBe(false)
      expect(await job).toBe('invalid')
      expect(p.takeInline(t + 60_000)).toBe(true)
    } finally {
      await p.close()
    }
  })

  it('keeps the order: cheap checks refuse before the pool is asked', async () => {
    const v = new MarketMessageValidator({ clock: new ManualClock(NOW) })
    const closed = new VerifyPool({ workers: 1 })
    await closed.close()
    // a closed pool would answer OVERLOADED: these are refused earlier
    const expired = sealOffer(await makeOffer(alice, NOW - 700_000), alice)
    expect(await codeOf(v.validateAsync(TOPIC_OFFERS, expired, closed))).toBe(`${GossipAction.IGNORE}:${MessageErrorCode.EXPIRED}`)
    expect(await codeOf(v.validateAsync(TOPIC_OFFERS, new Uint8Array(9000), closed))).toBe(`${GossipAction.REJECT}:${MessageErrorCode.TOO_LARGE}`)
    const ok = sealOffer(await makeOffer(alice, NOW), alice)
    expect(await codeOf(v.validateAsync(TOPIC_OFFERS, ok, closed))).toBe(`${GossipAction.IGNORE}:${MessageErrorCode.OVERLOADED}`)
    // nothing was remembered for it: the same message passes once verifiers answer
    expect(await codeOf(v.validateAsync(TOPIC_OFFERS, ok, pool))).toBe('ACCEPTED')
  })

  it('re-checks the seen-cache and the sequence when the verdict arrives', async () => {
    const v = new MarketMessageValidator({ clock: new ManualClock(NOW) })
    const m = sealOffer(await makeOffer(alice, NOW, { id: 'twice' }), alice)
    // two copies in flight at once: one is accepted, the other is a duplicate
    const both = await Promise.all([codeOf(v.validateAsync(TOPIC_OFFERS, m, pool)), codeOf(v.validateAsync(TOPIC_OFFERS, m.slice(), pool))])
    expect(both.sort()).toEqual(['ACCEPTED', `${GossipAction.IGNORE}:${MessageErrorCode.DUPLICATE}`].sort())
    // sequences 2 and 3 of one slot in flight: whichever commits second must not go backwards
    const s2 = sealOffer(await makeOffer(alice, NOW, { id: 'seq', sequence: 2n }), alice)
    const s3 = sealOffer(await makeOffer(alice, NOW, { id: 'seq', sequence: 3n }), alice)
    const r = await Promise.all([codeOf(v.validateAsync(TOPIC_OFFERS, s3, pool)), codeOf(v.validateAsync(TOPIC_OFFERS, s2, pool))])
    expect(r[0]).toBe('ACCEPTED')
    expect(r[1]).toBe(`${GossipAction.IGNORE}:${MessageErrorCode.STALE_SEQUENCE}`)
  })

  it('verifies certificates not seen before one per turn of the event loop', async () => {
    const v = new MarketMessageValidator({ clock: new ManualClock(NOW) })
    const signers = await Promise.all(['Bob', 'Charlie', 'Dave', 'Eve'].map(async (n) => MessageSigner.create(await devPair(n), { now: NOW - 1000, ttlMs: 3600_000 })))
    const msgs = await Promise.all(signers.map(async (s) => sealOffer(await makeOffer(s, NOW), s)))
    const all = msgs.map(async (m) => await v.validateAsync(TOPIC_OFFERS, m, pool))
    // nothing slow ran before the caller got its promises back
    expect(v.certCache.size).toBe(0)
    await new Promise((resolve) => setImmediate(resolve))
    expect(v.certCache.size).toBeLessThanOrEqual(1)
    expect((await Promise.all(all)).map((x) => x.signer)).toEqual(signers.map((s) => s.address))
    expect(v.certCache.size).toBe(4)
  })

  it('owns what it accepted: no view into the buffer the message arrived in', async () => {
    const v = new MarketMessageValidator({ clock: new ManualClock(NOW) })
    const m = sealOffer(await makeOffer(alice, NOW, { id: 'framed' }), alice)
    const frame = new Uint8Array(16 * 1024)
    frame.set(m, 100)
    const got = await v.validateAsync(TOPIC_OFFERS, frame.subarray(100, 100 + m.byteLength), pool)
    expect(got.data.buffer).not.toBe(frame.buffer)
    expect(got.data.buffer.byteLength).toBe(m.byteLength)
    if (got.kind !== 'offer') throw new Error('not an offer')
    for (const b of [got.offer.supplier, got.offer.enclavePeer]) expect(b.buffer).toBe(got.data.buffer)
  })
})
