import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AgreementStore } from '../../../src/market/agreement/store.js'
import { signAgreementHash, verifyAgreement } from '../../../src/market/agreement/sign.js'
import { agreementBudget, agreementHash, buildTerms, decodeTerms, encodeTerms } from '../../../src/market/agreement/terms.js'
import { NegotiationError } from '../../../src/market/errors.js'
import { MAX_START_WINDOW_MS, MIN_SETTLE_WINDOW_MS } from '../../../src/market/constants.js'
import { MemoryCapacity, guardFromLedger } from '../../../src/market/negotiation/capacity.js'
import { CapacityLedger } from '../../../src/jobs/capacity.js'
import { RenterNegotiator, refusedText, rent } from '../../../src/market/negotiation/renter.js'
import { OrderBook } from '../../../src/market/book/order-book.js'
import { SupplierNegotiator } from '../../../src/market/negotiation/supplier.js'
import { CertCache } from '../../../src/market/signing/cert.js'
import { MessageSigner } from '../../../src/market/signing/signer.js'
import type { AgreementTerms, Propose } from '../../../src/wire/agreement.js'
import type { Offer } from '../../../src/wire/market.js'
import { ManualClock } from '../../../src/util/clock.js'
import { devPair } from '../../helpers/keys.js'
import { T0, mkBid, mkOffer } from './book-fixtures.js'

const ARBITER = new Uint8Array(32).fill(7)

async function codeOf (p: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof p === 'function' ? p() : p)
    return undefined
  } catch (err) {
    return err instanceof NegotiationError ? err.code : `UNTYPED ${String(err)}`
  }
}

describe('agreement terms', () => {
  it('budget is ceil(price × GPUs × seconds / 3600) in integers', () => {
    expect(agreementBudget(3600n, 1, 1)).toBe(1n)
    expect(agreementBudget(3601n, 1, 1)).toBe(2n)
    expect(agreementBudget(1_000_000_000n, 8, 3600)).toBe(8_000_000_000n)
    expect(agreementBudget(1n, 1, 1)).toBe(1n)
    expect(agreementBudget(0n, 4, 3600)).toBe(0n)
  })

  it('the hash commits every term: changing any field changes it', () => {
    const t = buildTerms(mkBid(), mkOffer(), { now: T0, arbiter: ARBITER, nonce: new Uint8Array(16) })
    const h = Buffer.from(agreementHash(encodeTerms(t))).toString('hex')
    expect(Buffer.from(agreementHash(encodeTerms(buildTerms(mkBid(), mkOffer(), { now: T0, arbiter: ARBITER, nonce: new Uint8Array(16) })))).toString('hex')).toBe(h)
    const changes: Array<Partial<AgreementTerms>> = [
      { renter: new Uint8Array(32).fill(9) }, { supplier: new Uint8Array(32).fill(9) }, { enclavePeer: new Uint8Array([9]) },
      { offerId: 'z' }, { offerSequence: 9n }, { bidId: 'z' }, { bidSequence: 9n }, { gpuModel: 'a100-40gb' }, { memoryMib: 1 },
      { gpuCount: 9 }, { pricePerGpuHour: 9n }, { netuid: 9 }, { durationS: 9 }, { budget: 9n }, { teeKind: 'sev-snp' },
      { measurement: { measurements: [new Uint8Array(48)], allowDebug: false } }, { measurement: { measurements: [], allowDebug: true } },
      { escrow: { arbiter: new Uint8Array(32), expiresAt: t.escrow?.expiresAt ?? 0n } }, { escrow: { arbiter: ARBITER, expiresAt: 1n } },
      { region: 'us' }, { createdAt: 1n }, { startBy: 1n }, { nonce: new Uint8Array(16).fill(1) }, { image: 'ghcr.io/org/x:1' }
    ]
    const hashes = new Set(changes.map((c) => Buffer.from(agreementHash(encodeTerms({ ...t, ...c }))).toString('hex')))
    expect(hashes.size).toBe(changes.length)
    expect(hashes.has(h)).toBe(false)
  })

  it('decodeTerms refuses what is not canonical, bounded and complete', async () => {
    const good = encodeTerms(buildTerms(mkBid(), mkOffer(), { now: T0, arbiter: ARBITER }))
    const cases: Array<[string, Uint8Array]> = [
      ['empty', new Uint8Array()],
      ['oversized', new Uint8Array(5000)],
      ['garbage', new Uint8Array([0xff, 0xff, 0xff, 0xff])],
      ['trailing unknown field', new Uint8Array([...good, 0xf8, 0x07, 0x01])],
      ['non-minimal varint for version', new Uint8Array([0x08, 0x81, 0x00, ...good.subarray(2)])],
      ['wrong version', encodeTerms({ ...decodeTerms(good), version: 2 })],
      ['price above 2^63 - 1 (decodes negative)', encodeTerms({ ...decodeTerms(good), pricePerGpuHour: -1n })],
      ['short nonce', encodeTerms({ ...decodeTerms(good), nonce: new Uint8Array(4) })],
      ['too many measurements', encodeTerms({ ...decodeTerms(good), measurement: { measurements: Array.from({ length: 17 }, () => new Uint8Array(1)), allowDebug: false } })],
      ['an empty image written out (a second encoding of none)', encodeTerms({ ...decodeTerms(good), image: '' })],
      ['an image that is not an image reference', encodeTerms({ ...decodeTerms(good), image: 'oci:/var/x' })]
    ]
    for (const [name, bytes] of cases) {
      expect(await codeOf(() => decodeTerms(bytes)), name).toBe('MALFORMED')
    }
    expect(decodeTerms(good).offerId).toBe('o1')
  })

  it('64-bit terms round-trip canonically across the whole range (incl. [2^31, 2^32))', () => {
    for (const price of [1n, 2n ** 31n - 1n, 2n ** 31n, 3_000_000_000n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 63n - 1n]) {
      const t = { ...buildTerms(mkBid(), mkOffer(), { now: T0, arbiter: ARBITER }), pricePerGpuHour: price, budget: price }
      expect(decodeTerms(encodeTerms(t)).pricePerGpuHour).toBe(price)
    }
  })

  it('buildTerms refuses an offer that does not satisfy the bid', async () => {
    expect(await codeOf(() => buildTerms(mkBid(), mkOffer({ netuid: 9 }), { now: T0, arbiter: ARBITER }))).toBe('TERMS_MISMATCH')
  })

  it('the job\'s image is a term; terms of a process job keep the bytes they had before the field', async () => {
    const image = 'docker.io/pytorch/pytorch:2.4'
    const imageBid = mkBid({ requirements: { gpu: 'h100', minMemoryMib: 0, count: 1, teeKinds: [], regions: [], image } })
    const t = buildTerms(imageBid, mkOffer({ runtime: 'container' }), { now: T0, arbiter: ARBITER, nonce: new Uint8Array(16) })
    expect(decodeTerms(encodeTerms(t)).image).toBe(image)
    const plain = buildTerms(mkBid(), mkOffer(), { now: T0, arbiter: ARBITER, nonce: new Uint8Array(16) })
    expect(plain.image).toBeUndefined()
    expect(Buffer.from(encodeTerms(plain)).equals(Buffer.from(encodeTerms({ ...t, image: undefined })))).toBe(true)
    // an image job and a process offer (or the reverse) are no agreement
    expect(await codeOf(() => buildTerms(imageBid, mkOffer(), { now: T0, arbiter: ARBITER }))).toBe('TERMS_MISMATCH')
    expect(await codeOf(() => buildTerms(mkBid(), mkOffer({ runtime: 'container' }), { now: T0, arbiter: ARBITER }))).toBe('TERMS_MISMATCH')
  })
})

describe('negotiation state machines', () => {
  let dir: string
  let db: Level<string, string>
  let supplierSigner: MessageSigner
  let renterSigner: MessageSigner
  let otherSigner: MessageSigner
  const certs = new CertCache()

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bazaar-agreement-'))
    db = new Level(join(dir, 'db'))
    await db.open()
    supplierSigner = MessageSigner.create(await devPair('Alice'), { now: T0 })
    renterSigner = MessageSigner.create(await devPair('Bob'), { now: T0 })
    otherSigner = MessageSigner.create(await devPair('Charlie'), { now: T0 })
  })
  afterAll(async () => {
    await db.close()
    rmSync(dir, { recursive: true, force: true })
  })

  function setup (gpus = 2, offerOverrides: Partial<Offer> = {}): { clock: ManualClock, offer: Offer, supplier: SupplierNegotiator, capacity: MemoryCapacity, renter: RenterNegotiator, offers: Map<string, Offer>, store: AgreementStore } {
    const clock = new ManualClock(T0)
    const offer = mkOffer({ supplier: supplierSigner.hotkey, gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: gpus }], ...offerOverrides })
    const offers = new Map([[offer.id, offer]])
    const capacity = new MemoryCapacity({ 'h100-80gb': gpus }, clock)
    const store = new AgreementStore(db.sublevel(`s${Math.random()}`))
    const supplier = new SupplierNegotiator({ signer: supplierSigner, capacity, offers, store, clock, certs, holdMs: 1000 })
    const renter = new RenterNegotiator({ signer: renterSigner, store: new AgreementStore(db.sublevel(`r${Math.random()}`)), clock, certs })
    return { clock, offer, supplier, capacity, renter, offers, store }
  }

  const bid = (count = 1): ReturnType<typeof mkBid> => mkBid({ renter: renterSigner.hotkey, requirements: { gpu: 'h100', minMemoryMib: 0, count, teeKinds: [], regions: [] } })

  it('a proposal becomes an agreement both parties signed, stored on both sides', async () => {
    const { supplier, renter, offer, capacity, store } = setup()
    const p = renter.prepare(bid(), offer, { arbiter: ARBITER })
    const held = await supplier.propose(p.propose, 'peer-r')
    expect(capacity.available('h100-80gb')).toBe(1)
    const { agreement, confirm } = await renter.accepted(p, held.accept, 'peer-s')
    const committed = await supplier.confirm(held.hash, confirm)
    await renter.committed(p, committed)
    const v = verifyAgreement(agreement, certs, T0)
    expect(Buffer.from(v.hash).toString('hex')).toBe(p.id)
    expect(v.terms.budget).toBe(1_000_000_000n)
    expect((await store.get(p.id))?.status).toBe('active')
    expect(capacity.committed('h100-80gb')).toBe(1)
  })

  // hostile or stale proposals, each with the code the renter receives
  const hostile: Array<{ name: string, code: string, mutate: (p: Propose, t: AgreementTerms, env: ReturnType<typeof setup>) => Propose | Promise<Propose> }> = [
    { name: 'signature by another key', code: 'BAD_CERT', mutate: (p) => ({ ...p, renterCert: otherSigner.cert }) },
    { name: 'signature over other bytes', code: 'BAD_SIGNATURE', mutate: (p) => ({ ...p, renterSignature: signAgreementHash(renterSigner, new Uint8Array(32)) }) },
    { name: 'no certificate', code: 'BAD_CERT', mutate: (p) => ({ ...p, renterCert: undefined }) },
    { name: 'changed price after signing', code: 'PRICE_CHANGED', mutate: (p, t) => ({ ...p, terms: encodeTerms({ ...t, pricePerGpuHour: 1n }) }) },
    { name: 'changed budget after signing', code: 'TERMS_MISMATCH', mutate: (p, t) => ({ ...p, terms: encodeTerms({ ...t, budget: 1n }) }) },
    { name: 'changed count after signing (signature no longer matches)', code: 'BAD_SIGNATURE', mutate: (p, t) => ({ ...p, terms: encodeTerms({ ...t, gpuCount: 2, budget: agreementBudget(t.pricePerGpuHour, 2, t.durationS) }) }) },
    { name: 'terms for another supplier', code: 'TERMS_MISMATCH', mutate: (p, t) => ({ ...p, terms: encodeTerms({ ...t, supplier: otherSigner.hotkey }) }) },
    { name: 'other enclave', code: 'TERMS_MISMATCH', mutate: (p, t) => ({ ...p, terms: encodeTerms({ ...t, enclavePeer: new Uint8Array([9]) }) }) },
    { name: 'TEE kind the offer lacks', code: 'TERMS_MISMATCH', mutate: (p, t) => ({ ...p, terms: encodeTerms({ ...t, teeKind: 'simulated' }) }) },
    { name: 'unknown offer', code: 'OFFER_GONE', mutate: (p, t) => ({ ...p, terms: encodeTerms({ ...t, offerId: 'nope' }) }) },
    { name: 'more GPUs than the offer has', code: 'NO_CAPACITY', mutate: (p, t) => ({ ...p, terms: encodeTerms({ ...t, gpuCount: 50 }) }) },
    { name: 'garbage terms', code: 'MALFORMED', mutate: (p) => ({ ...p, terms: new Uint8Array([1, 2, 3]) }) },
    { name: 'stale createdAt', code: 'TERMS_MISMATCH', mutate: (p, t) => ({ ...p, terms: encodeTerms({ ...t, createdAt: BigInt(T0 - 3_600_000) }) }) },
    { name: 'a start window longer than suppliers allow (GPUs held without starting)', code: 'TERMS_MISMATCH', mutate: (p, t) => ({ ...p, terms: encodeTerms({ ...t, startBy: BigInt(T0 + MAX_START_WINDOW_MS + 1) }) }) },
    { name: 'an escrow the renter may refund before a job started at its startBy has run and settled', code: 'TERMS_MISMATCH', mutate: (p, t) => ({ ...p, terms: encodeTerms({ ...t, escrow: { ...t.escrow!, expiresAt: t.startBy + BigInt(t.durationS * 1000 + MIN_SETTLE_WINDOW_MS) - 1n } }) }) },
    { name: 'offer replaced with a new price', code: 'PRICE_CHANGED', mutate: (p, _t, env) => { env.offers.set('o1', { ...env.offer, sequence: 2n, pricePerGpuHour: 2_000_000_000n }); return p } },
    { name: 'offer re-published with fewer GPUs than asked', code: 'NO_CAPACITY', mutate: (p, _t, env) => { env.offers.set('o1', { ...env.offer, sequence: 2n, gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 0 }] }); return p } },
    { name: 'terms citing a future offer sequence', code: 'TERMS_MISMATCH', mutate: (p, t) => ({ ...p, terms: encodeTerms({ ...t, offerSequence: 7n }) }) },
    { name: 'offer cancelled', code: 'OFFER_GONE', mutate: (p, _t, env) => { env.offers.set('o1', { ...env.offer, sequence: 2n, cancelled: true }); return p } },
    { name: 'offer expired', code: 'OFFER_GONE', mutate: (p, _t, env) => { env.clock.advance(3_600_000); return p } },
    { name: 'capacity taken locally', code: 'NO_CAPACITY', mutate: (p, _t, env) => { env.capacity.hold('local-job', 'h100-80gb', 2, 60_000); return p } },
    { name: 'replay of an accepted proposal', code: 'TERMS_MISMATCH', mutate: async (p, _t, env) => { await env.supplier.propose(p, 'peer-r'); return p } },
    { name: 'a job image at a supplier that runs processes', code: 'TERMS_MISMATCH', mutate: (p, t) => ({ ...p, terms: encodeTerms({ ...t, image: 'docker.io/pytorch/pytorch:2.4' }) }) },
    { name: 'a process job, from a stale book, at a supplier that now runs containers', code: 'TERMS_MISMATCH', mutate: (p, _t, env) => { env.offers.set('o1', { ...env.offer, sequence: 2n, runtime: 'container' }); return p } }
  ]
  for (const c of hostile) {
    it(`refuses: ${c.name} (${c.code})`, async () => {
      const env = setup()
      const p = env.renter.prepare(bid(), env.offer, { arbiter: ARBITER })
      const before = env.capacity.available('h100-80gb')
      const mutated = await c.mutate(p.propose, p.terms, env)
      const after = env.capacity.available('h100-80gb')
      expect(await codeOf(env.supplier.propose(mutated, 'peer-r'))).toBe(c.code)
      // a refusal never holds capacity
      expect(env.capacity.available('h100-80gb')).toBe(Math.min(before, after))
    })
  }

  it('a container supplier agrees to a job whose image its offer allows, and refuses one its current offer does not, before holding any GPU', async () => {
    const env = setup(2, { runtime: 'container', images: ['docker.io/pytorch/pytorch:*'] })
    const imageBid = (image: string): ReturnType<typeof mkBid> => mkBid({ renter: renterSigner.hotkey, requirements: { gpu: 'h100', minMemoryMib: 0, count: 1, teeKinds: [], regions: [], image } })
    const ok = env.renter.prepare(imageBid('docker.io/pytorch/pytorch:2.4'), env.offer, { arbiter: ARBITER })
    const held = await env.supplier.propose(ok.propose, 'peer-r')
    expect(held.terms.image).toBe('docker.io/pytorch/pytorch:2.4')
    expect(env.capacity.available('h100-80gb')).toBe(1)
    // the renter's book still has the offer that allowed pytorch; the supplier now allows only its own image
    const stale = env.renter.prepare(imageBid('docker.io/pytorch/pytorch:2.5'), env.offer, { arbiter: ARBITER })
    env.offers.set('o1', { ...env.offer, sequence: 2n, images: ['ghcr.io/org/train:*'] })
    expect(await codeOf(env.supplier.propose(stale.propose, 'peer-r'))).toBe('TERMS_MISMATCH')
    expect(env.capacity.available('h100-80gb')).toBe(1)
  })

  it('a renter holds at most its limit of agreements that have not started; others and a started one free a place', async () => {
    const clock = new ManualClock(T0)
    const offer = mkOffer({ supplier: supplierSigner.hotkey, gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 8 }] })
    const capacity = new MemoryCapacity({ 'h100-80gb': 8 }, clock)
    const waiting = new Map<string, number>()
    const supplier = new SupplierNegotiator({
      signer: supplierSigner, capacity, offers: new Map([[offer.id, offer]]), store: new AgreementStore(db.sublevel(`lim${Math.random()}`)), clock, certs, holdMs: 1000,
      maxWaitingPerRenter: 3, waiting: (renter) => waiting.get(renter) ?? 0
    })
    const renter = new RenterNegotiator({ signer: renterSigner, store: new AgreementStore(db.sublevel(`limr${Math.random()}`)), clock, certs })
    const other = new RenterNegotiator({ signer: otherSigner, store: new AgreementStore(db.sublevel(`limo${Math.random()}`)), clock, certs })
    const renterHex = Buffer.from(renterSigner.hotkey).toString('hex')
    // one committed and waiting for its session, two held for their Confirm: the fourth is refused
    waiting.set(renterHex, 1)
    const held = [await supplier.propose(renter.prepare(bid(), offer, { arbiter: ARBITER }).propose, 'r'), await supplier.propose(renter.prepare(bid(), offer, { arbiter: ARBITER }).propose, 'r')]
    expect(await codeOf(supplier.propose(renter.prepare(bid(), offer, { arbiter: ARBITER }).propose, 'r'))).toBe('RENTER_LIMIT')
    expect(capacity.available('h100-80gb')).toBe(6)
    // another renter is not counted against it
    expect((await supplier.propose(other.prepare(mkBid({ renter: otherSigner.hotkey }), offer, { arbiter: ARBITER }).propose, 'o')).hash).toHaveLength(64)
    // a hold given up, and the waiting one started: places again
    await supplier.abandon(held[0].hash)
    waiting.set(renterHex, 0)
    await supplier.propose(renter.prepare(bid(), offer, { arbiter: ARBITER }).propose, 'r')
    await supplier.propose(renter.prepare(bid(), offer, { arbiter: ARBITER }).propose, 'r')
    expect(await codeOf(supplier.propose(renter.prepare(bid(), offer, { arbiter: ARBITER }).propose, 'r'))).toBe('RENTER_LIMIT')
  })

  it('proposals of one renter whose admission checks end together still get no more than its limit', async () => {
    const clock = new ManualClock(T0)
    const offer = mkOffer({ supplier: supplierSigner.hotkey, gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 16 }] })
    const capacity = new MemoryCapacity({ 'h100-80gb': 16 }, clock)
    let open!: () => void
    const gate = new Promise<void>((resolve) => { open = resolve })
    const supplier = new SupplierNegotiator({
      signer: supplierSigner, capacity, offers: new Map([[offer.id, offer]]), store: new AgreementStore(db.sublevel(`race${Math.random()}`)), clock, certs, holdMs: 1000,
      maxWaitingPerRenter: 4, admit: async () => { await gate }
    })
    const renter = new RenterNegotiator({ signer: renterSigner, store: new AgreementStore(db.sublevel(`racer${Math.random()}`)), clock, certs })
    const all = Array.from({ length: 12 }, async () => await supplier.propose(renter.prepare(bid(), offer, { arbiter: ARBITER }).propose, 'r'))
    open()
    const results = await Promise.allSettled(all)
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4)
    expect(results.filter((r) => r.status === 'rejected').map((r) => ((r as PromiseRejectedResult).reason as NegotiationError).code)).toEqual(Array(8).fill('RENTER_LIMIT'))
    expect(capacity.available('h100-80gb')).toBe(12)
  })

  it('the node\'s own admission check runs on an authenticated renter, before any GPU is held', async () => {
    const clock = new ManualClock(T0)
    const offer = mkOffer({ supplier: supplierSigner.hotkey, gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 2 }] })
    const capacity = new MemoryCapacity({ 'h100-80gb': 2 }, clock)
    const asked: string[] = []
    const supplier = new SupplierNegotiator({
      signer: supplierSigner, capacity, offers: new Map([[offer.id, offer]]), store: new AgreementStore(db.sublevel(`adm${Math.random()}`)), clock, certs,
      admit: async (t) => {
        asked.push(Buffer.from(t.renter).toString('hex'))
        if (t.budget > 500_000_000n) throw new NegotiationError('NO_FUNDS', 'short')
      }
    })
    const renter = new RenterNegotiator({ signer: renterSigner, store: new AgreementStore(db.sublevel(`admr${Math.random()}`)), clock, certs })
    const p = renter.prepare(bid(), offer, { arbiter: ARBITER })
    // a forged signature never reaches the check
    expect(await codeOf(supplier.propose({ ...p.propose, renterSignature: signAgreementHash(renterSigner, new Uint8Array(32)) }, 'r'))).toBe('BAD_SIGNATURE')
    expect(asked).toEqual([])
    expect(await codeOf(supplier.propose(p.propose, 'r'))).toBe('NO_FUNDS')
    expect(asked).toEqual([Buffer.from(renterSigner.hotkey).toString('hex')])
    expect(capacity.available('h100-80gb')).toBe(2)
  })

  it('rent(): a supplier\'s NO_FUNDS moves on to the next offer (a lying supplier cannot end every rental); the renter\'s own stops at once', async () => {
    const book = new OrderBook({ clock: new ManualClock(T0) })
    book.upsertOffer(mkOffer({ id: 'cheap', supplierN: 1, pricePerGpuHour: 1_000_000n }))
    book.upsertOffer(mkOffer({ id: 'honest', supplierN: 2, pricePerGpuHour: 2_000_000n }))
    const tried: string[] = []
    const res = await rent(book, bid(), {
      now: T0,
      attempt: async (m) => {
        tried.push(m.entry.offer.id)
        if (m.entry.offer.id === 'cheap') throw new NegotiationError('NO_FUNDS', 'says the supplier', { remote: true })
        return 'agreed'
      }
    })
    expect([tried, res.result]).toEqual([['cheap', 'honest'], 'agreed'])
    const local: string[] = []
    expect(await codeOf(rent(book, bid(), { now: T0, attempt: async (m) => { local.push(m.entry.offer.id); throw new NegotiationError('NO_FUNDS', 'the renter\'s own account') } }))).toBe('NO_FUNDS')
    expect(local).toEqual(['cheap'])
  })

  it('rent(): when every compatible offer refused, NO_MATCH says how many and their codes, with a hint where all were the same passing state', async () => {
    const book = new OrderBook({ clock: new ManualClock(T0) })
    book.upsertOffer(mkOffer({ id: 'a', supplierN: 1, pricePerGpuHour: 1_000_000n }))
    const refuse = (code: string) => async (): Promise<never> => { throw new NegotiationError(code as never, 'says the supplier', { remote: true }) }
    const one = await rent(book, bid(), { now: T0, attempt: refuse('NO_CAPACITY') }).catch((e: unknown) => e as NegotiationError)
    expect(one).toMatchObject({ code: 'NO_MATCH', message: 'the one compatible offer refused the bid (NO_CAPACITY): its GPUs were taken since it was offered; try again once a rental ends' })
    book.upsertOffer(mkOffer({ id: 'b', supplierN: 2, pricePerGpuHour: 2_000_000n }))
    book.upsertOffer(mkOffer({ id: 'c', supplierN: 3, pricePerGpuHour: 3_000_000n }))
    let n = 0
    const mixed = await rent(book, bid(), { now: T0, attempt: async () => { n++; return await refuse(n === 2 ? 'PRICE_CHANGED' : 'NO_CAPACITY')() } }).catch((e: unknown) => e) as NegotiationError
    expect(mixed.message).toBe('all 3 compatible offers refused the bid (NO_CAPACITY ×2, PRICE_CHANGED)')
    const busy = await rent(book, bid(), { now: T0, attempt: refuse('NO_CAPACITY') }).catch((e: unknown) => e) as NegotiationError
    expect(busy.message).toBe('all 3 compatible offers refused the bid (NO_CAPACITY ×3): their GPUs were taken since they were offered; try again once a rental ends')
    // before any refusal: nothing compatible at all
    expect(refusedText([])).toBe('no compatible offer accepted the bid')
    expect(refusedText([{ error: new Error('socket hang up') }])).toBe('the one compatible offer refused the bid (ERROR)')
  })

  it('a plain re-publication (higher sequence, same terms) does not void a proposal', async () => {
    const env = setup()
    const p = env.renter.prepare(bid(), env.offer, { arbiter: ARBITER })
    env.offers.set('o1', { ...env.offer, sequence: 5n, expiresAt: env.offer.expiresAt + 3_600_000n })
    const held = await env.supplier.propose(p.propose, 'peer-r')
    expect(held.hash).toBe(p.id)
  })

  it('a supplier countersignature from the wrong key is refused by the renter', async () => {
    const { supplier, renter, offer } = setup()
    const p = renter.prepare(bid(), offer, { arbiter: ARBITER })
    const held = await supplier.propose(p.propose, 'peer-r')
    expect(await codeOf(renter.accepted(p, { ...held.accept, supplierCert: otherSigner.cert }, 'x'))).toBe('BAD_CERT')
    expect(await codeOf(renter.accepted(p, { ...held.accept, supplierSignature: new Uint8Array(64) }, 'x'))).toBe('BAD_SIGNATURE')
  })

  it('two renters race for the last GPU: exactly one hold, the other gets NO_CAPACITY', async () => {
    const { supplier, offer, capacity } = setup(1)
    const r1 = new RenterNegotiator({ signer: renterSigner, store: new AgreementStore(db.sublevel('race1')), clock: new ManualClock(T0), certs })
    const r2 = new RenterNegotiator({ signer: otherSigner, store: new AgreementStore(db.sublevel('race2')), clock: new ManualClock(T0), certs })
    const p1 = r1.prepare(bid(), offer, { arbiter: ARBITER })
    const p2 = r2.prepare(mkBid({ renter: otherSigner.hotkey }), offer, { arbiter: ARBITER })
    const results = await Promise.allSettled([supplier.propose(p1.propose, 'a'), supplier.propose(p2.propose, 'b')])
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
    expect((lost.reason as NegotiationError).code).toBe('NO_CAPACITY')
    expect(capacity.available('h100-80gb')).toBe(0)
  })

  it('a hold the renter never confirms lapses and frees the GPUs; a late confirm is refused', async () => {
    const { supplier, renter, offer, capacity, clock, store } = setup(1)
    const p = renter.prepare(bid(), offer, { arbiter: ARBITER })
    const held = await supplier.propose(p.propose, 'peer-r')
    expect(capacity.available('h100-80gb')).toBe(0)
    clock.advance(1001)
    expect(capacity.available('h100-80gb')).toBe(1)
    expect(await codeOf(supplier.confirm(held.hash, { hash: p.hash }))).toBe('TIMEOUT')
    expect((await store.get(held.hash))?.status).toBe('lapsed')
    expect(capacity.committed('h100-80gb')).toBe(0)
  })

  it('abandon releases the hold at once', async () => {
    const { supplier, renter, offer, capacity } = setup(1)
    const held = await supplier.propose(renter.prepare(bid(), offer, { arbiter: ARBITER }).propose, 'peer-r')
    await supplier.abandon(held.hash)
    expect(capacity.available('h100-80gb')).toBe(1)
  })

  it('agreements survive a restart of the database', async () => {
    const path = join(dir, 'restart')
    const first = new Level<string, string>(path)
    const { supplier, renter, offer } = setup()
    const p = renter.prepare(bid(), offer, { arbiter: ARBITER })
    const held = await supplier.propose(p.propose, 'peer-r')
    const { agreement } = await renter.accepted(p, held.accept, 'peer-s')
    await new AgreementStore(first).put(agreement, 'renter', 'active', T0, 'peer-s')
    await first.close()
    const second = new Level<string, string>(path)
    const records = await new AgreementStore(second).list()
    expect(records).toHaveLength(1)
    expect(records[0].hash).toBe(p.id)
    expect(records[0].status).toBe('active')
    expect(verifyAgreement(records[0].agreement, certs, T0).terms.offerId).toBe('o1')
    await second.close()
  })

  it('pruning drops dormant agreements past the retention and beyond the cap, oldest first, never active or recent ones', async () => {
    const store = new AgreementStore(db.sublevel(`p${Math.random()}`))
    const DAY = 24 * 60 * 60_000
    const now = T0 + 30 * DAY
    // terms are hashed as bytes: distinct bytes give distinct records
    const put = async (n: number, status: 'pending' | 'active' | 'lapsed', updatedAt: number): Promise<string> =>
      await store.put({ terms: new Uint8Array([n]), renterCert: undefined, renterSignature: new Uint8Array(), supplierCert: undefined, supplierSignature: new Uint8Array() }, 'supplier', status, updatedAt)
    const oldActive = await put(1, 'active', now - 20 * DAY)
    const oldLapsed = await put(2, 'lapsed', now - 8 * DAY)
    const oldPending = await put(3, 'pending', now - 8 * DAY)
    const lapsed = [await put(4, 'lapsed', now - 3 * DAY), await put(5, 'lapsed', now - 2 * DAY), await put(6, 'lapsed', now - DAY)]
    const inFlight = await put(7, 'pending', now - 60_000)
    const retention = 7 * DAY
    expect(await store.prune({ now, retentionMs: retention, maxDormant: 2 })).toBe(3)
    const left = (await store.list()).map((r) => r.hash).sort()
    // the two over retention went, then the oldest beyond two dormant; active and in-flight stay
    expect(left).toEqual([oldActive, lapsed[1], lapsed[2], inFlight].sort())
    expect(left).not.toContain(oldLapsed)
    expect(left).not.toContain(oldPending)
    expect(await store.prune({ now, retentionMs: retention, maxDormant: 2 })).toBe(0)
  })

  it('the jobs CapacityLedger, adapted, serialises racing proposals the same way', async () => {
    const clock = new ManualClock(T0)
    const offer = mkOffer({ supplier: supplierSigner.hotkey, gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 1 }] })
    const ledger = new CapacityLedger([{ index: 0, model: 'h100-80gb' }], { clock })
    const capacity = guardFromLedger(ledger)
    const supplier = new SupplierNegotiator({ signer: supplierSigner, capacity, offers: new Map([[offer.id, offer]]), store: new AgreementStore(db.sublevel('ledger')), clock, certs })
    const r1 = new RenterNegotiator({ signer: renterSigner, store: new AgreementStore(db.sublevel('ledger-r1')), clock, certs })
    const r2 = new RenterNegotiator({ signer: otherSigner, store: new AgreementStore(db.sublevel('ledger-r2')), clock, certs })
    const results = await Promise.allSettled([
      supplier.propose(r1.prepare(bid(), offer, { arbiter: ARBITER }).propose, 'a'),
      supplier.propose(r2.prepare(mkBid({ renter: otherSigner.hotkey }), offer, { arbiter: ARBITER }).propose, 'b')
    ])
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected'])
    expect(((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as NegotiationError).code).toBe('NO_CAPACITY')
    expect(capacity.available('h100-80gb')).toBe(0)
  })
})
