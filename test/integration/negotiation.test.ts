import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { pbStream } from '@libp2p/utils'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { Level } from 'level'
import { createLibp2p } from 'libp2p'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AgreementStore } from '../../src/market/agreement/store.js'
import { verifyAgreement } from '../../src/market/agreement/sign.js'
import { OrderBook } from '../../src/market/book/order-book.js'
import { NegotiationError } from '../../src/market/errors.js'
import { MemoryCapacity } from '../../src/market/negotiation/capacity.js'
import { rent } from '../../src/market/negotiation/renter.js'
import { CertCache } from '../../src/market/signing/cert.js'
import { MessageSigner } from '../../src/market/signing/signer.js'
import type { OfferEntry } from '../../src/market/types.js'
import { fetchOffers, registerOffersFetchHandler } from '../../src/protocols/negotiate/offers-fetch.js'
import { negotiate, type NegotiatedAgreement } from '../../src/protocols/negotiate/dialer.js'
import { registerNegotiationHandler, type NegotiationService } from '../../src/protocols/negotiate/handler.js'
import { NEGOTIATE_PROTOCOL } from '../../src/protocols/negotiate/constants.js'
import { Propose, SupplierReply } from '../../src/wire/agreement.js'
import { Envelope, Offer, type Bid } from '../../src/wire/market.js'
import { devPair } from '../helpers/keys.js'

const ARBITER = new Uint8Array(32).fill(7)

async function node (): Promise<Libp2p> {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })
}

interface Supplier {
  name: string
  node: Libp2p
  signer: MessageSigner
  capacity: MemoryCapacity
  offer: Offer
  store: AgreementStore
  service: NegotiationService
}

interface Renter { node: Libp2p, signer: MessageSigner, book: OrderBook, store: AgreementStore }

describe('negotiation between three suppliers and two renters over TCP', () => {
  let dir: string
  let db: Level<string, string>
  const certs = new CertCache()
  const suppliers: Supplier[] = []
  const renters: Renter[] = []
  const now = Date.now()

  async function supplier (name: string, model: string, memoryMib: number, count: number, price: bigint, opts: { proposalsPerWindow?: number, messageTimeoutMs?: number } = {}): Promise<Supplier> {
    const n = await node()
    const signer = MessageSigner.create(await devPair(name), { now })
    const offer: Offer = {
      version: 1,
      id: `${name.toLowerCase()}-1`,
      supplier: signer.hotkey,
      enclavePeer: n.peerId.toMultihash().bytes,
      gpus: [{ model, memoryMib, count }],
      teeKinds: ['tdx', 'sev-snp'],
      region: 'eu',
      pricePerGpuHour: price,
      netuid: 3,
      minDurationS: 60,
      maxDurationS: 0,
      createdAt: BigInt(now),
      expiresAt: BigInt(now + 3_600_000),
      sequence: 1n,
      cancelled: false,
      addrs: n.getMultiaddrs().map((a) => a.bytes),
      images: []
    }
    const capacity = new MemoryCapacity({ [model]: count })
    const store = new AgreementStore(db.sublevel(`supplier-${name}`))
    const offers = new Map([[offer.id, offer]])
    const service = await registerNegotiationHandler(n, { signer, capacity, offers, store, certs, ...opts })
    await registerOffersFetchHandler(n, { offers: () => [{ body: Offer.encode(offer), signer: signer.cert, signature: signer.sign('bazaar-offer-v1', Offer.encode(offer)) }] })
    return { name, node: n, signer, capacity, offer, store, service }
  }

  async function renter (name: string): Promise<Renter> {
    const n = await node()
    const signer = MessageSigner.create(await devPair(name), { now })
    const book = new OrderBook({ maxOffers: 1000 })
    for (const s of suppliers) book.upsertOffer(s.offer, { peer: s.node.peerId.toString(), source: 'local' })
    return { node: n, signer, book, store: new AgreementStore(db.sublevel(`renter-${name}`)) }
  }

  function target (e: OfferEntry): Multiaddr[] {
    return e.offer.addrs.map((b) => multiaddr(b))
  }

  function bidOf (r: Renter, id: string, gpu: string, count: number): Bid {
    return {
      version: 1,
      id,
      renter: r.signer.hotkey,
      requirements: { gpu, minMemoryMib: 0, count, teeKinds: ['sev-snp'], regions: ['eu'] },
      maxPricePerGpuHour: 10_000_000_000n,
      netuid: 3,
      durationS: 3600,
      createdAt: BigInt(now),
      expiresAt: BigInt(now + 600_000),
      sequence: 1n,
      cancelled: false,
      addrs: []
    }
  }

  async function rentVia (r: Renter, bid: Bid): ReturnType<typeof rent<NegotiatedAgreement>> {
    return rent(r.book, bid, {
      attempt: async (m) => negotiate(r.node, target(m.entry), { bid, offer: m.entry.offer, signer: r.signer, store: r.store, certs, arbiter: ARBITER })
    })
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bazaar-negotiation-'))
    db = new Level(join(dir, 'db'))
    await db.open()
    // Alice has the cheapest H100 but only one; Charlie has two dearer ones; Dave has A100s
    suppliers.push(await supplier('Alice', 'h100-80gb', 81920, 1, 1_000_000_000n))
    suppliers.push(await supplier('Charlie', 'h100-80gb', 81920, 2, 2_000_000_000n))
    suppliers.push(await supplier('Dave', 'a100-40gb', 40960, 4, 500_000_000n, { proposalsPerWindow: 5, messageTimeoutMs: 300 }))
    renters.push(await renter('Bob'))
    renters.push(await renter('Eve'))
  }, 60_000)

  afterAll(async () => {
    await Promise.all([...suppliers, ...renters].map(async (x) => x.node.stop()))
    await db.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('two renters race for the last cheap GPU: one agreement each, the loser re-matches to the next offer', async () => {
    const [bob, eve] = renters
    const [alice, charlie] = suppliers
    const results = await Promise.all([rentVia(bob, bidOf(bob, 'race', 'h100', 1)), rentVia(eve, bidOf(eve, 'race', 'h100', 1))])
    const winners = results.map((r) => r.match.entry.offer.id).sort()
    expect(winners).toEqual(['alice-1', 'charlie-1'])
    const loser = results.find((r) => r.match.entry.offer.id === 'charlie-1')
    expect(loser?.refusals).toHaveLength(1)
    const refusal = loser?.refusals[0].error as NegotiationError
    expect(refusal).toBeInstanceOf(NegotiationError)
    expect(refusal.code).toBe('NO_CAPACITY')
    expect(refusal.remote).toBe(true)
    for (const r of results) {
      const v = verifyAgreement(r.result.agreement, certs, Date.now())
      expect(v.terms.supplier).toEqual(r.match.entry.offer.supplier)
      expect(v.terms.teeKind).toBe('sev-snp')
      expect(v.terms.gpuCount).toBe(1)
    }
    // a supplier never commits more GPUs than it has
    expect(alice.capacity.committed('h100-80gb')).toBe(1)
    expect(charlie.capacity.committed('h100-80gb')).toBe(1)
    // both sides stored the agreement as active
    for (const r of results) {
      const s = suppliers.find((x) => x.offer.id === r.match.entry.offer.id) as Supplier
      expect((await s.store.get(r.result.id))?.status).toBe('active')
    }
    expect((await bob.store.list({ status: 'active' })).length + (await eve.store.list({ status: 'active' })).length).toBe(2)
  }, 30_000)

  it('every bid ends in one agreement with the right supplier, and none once capacity is gone', async () => {
    const [bob, eve] = renters
    const [, charlie, dave] = suppliers
    const a100 = await rentVia(bob, bidOf(bob, 'a100', 'a100', 3))
    expect(a100.match.entry.offer.id).toBe('dave-1')
    expect(a100.result.terms.budget).toBe(1_500_000_000n)
    const last = await rentVia(eve, bidOf(eve, 'h100-again', 'h100-80gb', 1))
    expect(last.match.entry.offer.id).toBe('charlie-1')
    expect(charlie.capacity.committed('h100-80gb')).toBe(2)
    // all H100s are committed now: every offer refuses, no agreement
    const err = await rentVia(bob, bidOf(bob, 'h100-none', 'h100', 1)).catch((e: unknown) => e)
    expect((err as NegotiationError).code).toBe('NO_MATCH')
    expect(dave.capacity.committed('a100-40gb')).toBe(3)
  }, 30_000)

  it('hostile traffic gets typed refusals, timeouts and a per-peer limit, and the supplier keeps serving', async () => {
    const dave = suppliers[2]
    const eve = renters[1]
    const addrs = dave.node.getMultiaddrs()
    // garbage terms → MALFORMED refusal
    {
      const stream = await eve.node.dialProtocol(addrs, NEGOTIATE_PROTOCOL)
      const pb = pbStream(stream)
      await pb.write({ terms: new Uint8Array([1, 2, 3]), renterSignature: new Uint8Array() }, Propose)
      const reply = await pb.read(SupplierReply)
      expect(reply.refusal?.code).toBe('MALFORMED')
    }
    // a frame over the size limit → MALFORMED, not a crash
    {
      const stream = await eve.node.dialProtocol(addrs, NEGOTIATE_PROTOCOL)
      const pb = pbStream(stream)
      await pb.write({ terms: new Uint8Array(64 * 1024), renterSignature: new Uint8Array() }, Propose)
      const reply = await pb.read(SupplierReply).catch(() => undefined)
      expect(reply === undefined || reply.refusal?.code === 'MALFORMED').toBe(true)
    }
    // a stalled stream is ended by the supplier's per-message timeout (300 ms here; a stream
    // deadline on wall time): the test waits for the close itself, bounded by the test's timeout
    {
      const stream = await eve.node.dialProtocol(addrs, NEGOTIATE_PROTOCOL)
      await new Promise<void>((resolve) => { stream.addEventListener('close', () => { resolve() }, { once: true }) })
      // ended without a reply: nothing is left to read
      expect(await pbStream(stream).read(SupplierReply).catch(() => undefined)).toBeUndefined()
    }
    // a flood from one peer: beyond 5 proposals per window, RATE_LIMITED before any work
    const codes: Array<string | undefined> = []
    for (let i = 0; i < 4; i++) {
      const stream = await eve.node.dialProtocol(addrs, NEGOTIATE_PROTOCOL)
      const pb = pbStream(stream)
      await pb.write({ terms: new Uint8Array([1]), renterSignature: new Uint8Array() }, Propose)
      codes.push((await pb.read(SupplierReply).catch(() => undefined))?.refusal?.code)
    }
    // three streams above and two here fill the budget of five; the rest are refused unread
    expect(codes).toEqual(['MALFORMED', 'MALFORMED', 'RATE_LIMITED', 'RATE_LIMITED'])
    // another peer is unaffected and still gets an agreement
    const bob = renters[0]
    const ok = await rentVia(bob, bidOf(bob, 'a100-after-flood', 'a100', 1))
    expect(ok.match.entry.offer.id).toBe('dave-1')
  }, 30_000)

  it('offers-fetch serves a supplier\'s current signed offers', async () => {
    const [alice] = suppliers
    const envs = await fetchOffers(renters[0].node, alice.node.getMultiaddrs())
    expect(envs).toHaveLength(1)
    const env: Envelope = envs[0]
    expect(Offer.decode(env.body).id).toBe('alice-1')
    expect(Buffer.from(env.signer?.hotkey ?? []).toString('hex')).toBe(Buffer.from(alice.signer.hotkey).toString('hex'))
  }, 30_000)
})

describe('a renter facing hostile suppliers', () => {
  let dir: string
  let db: Level<string, string>
  const certs = new CertCache()
  const nodes: Libp2p[] = []
  const now = Date.now()

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bazaar-negotiation-hostile-'))
    db = new Level(join(dir, 'db'))
    await db.open()
  })
  afterAll(async () => {
    await Promise.all(nodes.map(async (n) => n.stop()))
    await db.close()
    rmSync(dir, { recursive: true, force: true })
  })

  function offerOf (signer: MessageSigner, n: Libp2p, id: string, price: bigint): Offer {
    return {
      version: 1, id, supplier: signer.hotkey, enclavePeer: n.peerId.toMultihash().bytes,
      gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 4 }], teeKinds: ['tdx'], region: 'eu',
      pricePerGpuHour: price, netuid: 3, minDurationS: 60, maxDurationS: 0, createdAt: BigInt(now),
      expiresAt: BigInt(now + 3_600_000), sequence: 1n, cancelled: false, addrs: n.getMultiaddrs().map((a) => a.bytes), images: []
    }
  }

  it('a stalled supplier times out, a forged countersignature is refused, and the bid lands with an honest one', async () => {
    const mk = async (): Promise<Libp2p> => { const n = await node(); nodes.push(n); return n }
    // Ferdie stalls after reading the proposal; Mallory countersigns with a key that is not hers
    const stall = await mk()
    const stallSigner = MessageSigner.create(await devPair('Ferdie'), { now })
    await stall.handle(NEGOTIATE_PROTOCOL, async (stream) => { await pbStream(stream).read(Propose) })
    const forge = await mk()
    const forgeSigner = MessageSigner.create(await devPair('Mallory'), { now })
    const impostor = MessageSigner.create(await devPair('Trent'), { now })
    await forge.handle(NEGOTIATE_PROTOCOL, async (stream) => {
      const pb = pbStream(stream)
      const p = await pb.read(Propose)
      const { agreementHash } = await import('../../src/market/agreement/terms.js')
      await pb.write({ accept: { supplierCert: impostor.cert, supplierSignature: impostor.sign('bazaar-agreement-v1', agreementHash(p.terms)), holdUntil: 0n } }, SupplierReply)
    })
    const honest = await mk()
    const honestSigner = MessageSigner.create(await devPair('Alice'), { now })
    const honestOffer = offerOf(honestSigner, honest, 'honest', 3n * 1_000_000_000n)
    await registerNegotiationHandler(honest, {
      signer: honestSigner, capacity: new MemoryCapacity({ 'h100-80gb': 4 }), offers: new Map([['honest', honestOffer]]),
      store: new AgreementStore(db.sublevel('honest')), certs
    })
    const renterNode = await mk()
    // connected first: the 400 ms per message is about the exchange, not three TCP and noise
    // handshakes on a loaded machine (the renter's dial shares that bound)
    for (const n of [stall, forge, honest]) await renterNode.dial(n.getMultiaddrs())
    const renterSigner = MessageSigner.create(await devPair('Bob'), { now })
    const book = new OrderBook()
    book.upsertOffer(offerOf(stallSigner, stall, 'stall', 1_000_000_000n))
    book.upsertOffer(offerOf(forgeSigner, forge, 'forge', 2_000_000_000n))
    book.upsertOffer(honestOffer)
    const bid: Bid = {
      version: 1, id: 'b', renter: renterSigner.hotkey, requirements: { gpu: 'h100', minMemoryMib: 0, count: 2, teeKinds: [], regions: [] },
      maxPricePerGpuHour: 5_000_000_000n, netuid: 3, durationS: 600, createdAt: BigInt(now), expiresAt: BigInt(now + 60_000), sequence: 1n, cancelled: false, addrs: []
    }
    const store = new AgreementStore(db.sublevel('renter'))
    const res = await rent(book, bid, {
      attempt: async (m) => negotiate(renterNode, m.entry.offer.addrs.map((b) => multiaddr(b)), {
        bid, offer: m.entry.offer, signer: renterSigner, store, certs, arbiter: ARBITER, messageTimeoutMs: 400
      })
    })
    expect(res.refusals.map((r) => (r.error as NegotiationError).code)).toEqual(['TIMEOUT', 'BAD_CERT'])
    expect(res.match.entry.offer.id).toBe('honest')
    expect(verifyAgreement(res.result.agreement, certs, Date.now()).terms.gpuCount).toBe(2)
    // nothing from the hostile suppliers was kept as an agreement
    expect((await store.list()).map((r) => r.status)).toEqual(['active'])
  }, 30_000)
  it('a renter that resets its stream right after its Confirm still leaves the supplier\'s agreement committed and scheduled (its startBy timer gets the GPUs back)', async () => {
    const supplierNode = await (async (): Promise<Libp2p> => { const n = await node(); nodes.push(n); return n })()
    const supplierSigner = MessageSigner.create(await devPair('Grace'), { now })
    const offer = offerOf(supplierSigner, supplierNode, 'grace', 1_000_000_000n)
    const renterNode = await node()
    nodes.push(renterNode)
    // the renter's stream, reset as the supplier commits the GPUs (before it can answer Committed)
    let renterStream: { abort: (err: Error) => void } | undefined
    const dial = renterNode.dialProtocol.bind(renterNode)
    renterNode.dialProtocol = (async (...a: Parameters<typeof dial>) => { const st = await dial(...a); renterStream = st; return st }) as typeof dial
    const inner = new MemoryCapacity({ 'h100-80gb': 4 })
    const capacity = Object.assign(Object.create(inner) as MemoryCapacity, {
      commit: (id: string): boolean => { renterStream?.abort(new Error('renter gone')); return inner.commit(id) }
    })
    // the supplier's outcome comes on its own side of the stream, maybe after the renter's error
    let outcome: (o: { agreement?: string, code?: string }) => void = () => {}
    const first = new Promise<{ agreement?: string, code?: string }>((resolve) => { outcome = resolve })
    await registerNegotiationHandler(supplierNode, {
      signer: supplierSigner, capacity, offers: new Map([['grace', offer]]), store: new AgreementStore(db.sublevel('grace')), certs,
      onOutcome: (o) => { outcome(o.agreement != null ? { agreement: o.agreement } : { code: o.code }) }
    })
    const renterSigner = MessageSigner.create(await devPair('Eve'), { now })
    const bid: Bid = {
      version: 1, id: 'reset', renter: renterSigner.hotkey, requirements: { gpu: 'h100', minMemoryMib: 0, count: 4, teeKinds: [], regions: [] },
      maxPricePerGpuHour: 5_000_000_000n, netuid: 3, durationS: 600, createdAt: BigInt(now), expiresAt: BigInt(now + 60_000), sequence: 1n, cancelled: false, addrs: []
    }
    const err = await negotiate(renterNode, offer.addrs.map((b) => multiaddr(b)), { bid, offer, signer: renterSigner, store: new AgreementStore(db.sublevel('eve')), certs, arbiter: ARBITER })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Error)
    // the GPUs are committed: the agreement was handed on as committed, whatever became of the write
    expect(inner.available('h100-80gb')).toBe(0)
    expect((await first).agreement).toMatch(/^[0-9a-f]{64}$/)
  }, 30_000)
})
