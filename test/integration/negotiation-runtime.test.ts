import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
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
import { negotiate, type NegotiatedAgreement } from '../../src/protocols/negotiate/dialer.js'
import { registerNegotiationHandler } from '../../src/protocols/negotiate/handler.js'
import type { Bid, Offer } from '../../src/wire/market.js'
import { devPair } from '../helpers/keys.js'

const ARBITER = new Uint8Array(32).fill(7)
const PYTORCH = 'docker.io/pytorch/pytorch:2.4.0-cuda12.1-cudnn9-runtime'

/**
 * The supplier's runtime in matching and negotiation, over TCP: a renter whose job names an image
 * agrees with a supplier whose jobs run in containers of that image, never with a cheaper one that
 * runs processes, and a supplier refuses, before any escrow, terms for a job it would not run
 * (the renter's book was stale), so the renter goes on to the next offer.
 */
describe('a job with an image, among process and container suppliers', () => {
  let dir: string
  let db: Level<string, string>
  const certs = new CertCache()
  const now = Date.now()
  const nodes: Libp2p[] = []
  const suppliers = new Map<string, { offers: Map<string, Offer>, capacity: MemoryCapacity, store: AgreementStore }>()
  let renter: { node: Libp2p, signer: MessageSigner, store: AgreementStore }

  async function host (): Promise<Libp2p> {
    const n = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
    nodes.push(n)
    return n
  }

  /** a supplier answering negotiation with its current offer; `runtime` as its offer states it */
  async function supplier (name: string, price: bigint, runtime: Partial<Offer>): Promise<Offer> {
    const n = await host()
    const signer = MessageSigner.create(await devPair(name), { now })
    const offer: Offer = {
      version: 1,
      id: `${name.toLowerCase()}-1`,
      supplier: signer.hotkey,
      enclavePeer: n.peerId.toMultihash().bytes,
      gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 2 }],
      teeKinds: ['tdx'],
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
      images: [],
      ...runtime
    }
    const capacity = new MemoryCapacity({ 'h100-80gb': 2 })
    const store = new AgreementStore(db.sublevel(`supplier-${name}`))
    const offers = new Map([[offer.id, offer]])
    await registerNegotiationHandler(n, { signer, capacity, offers, store, certs })
    suppliers.set(offer.id, { offers, capacity, store })
    return offer
  }

  function bid (id: string, image?: string): Bid {
    return {
      version: 1,
      id,
      renter: renter.signer.hotkey,
      requirements: { gpu: 'h100', minMemoryMib: 0, count: 1, teeKinds: [], regions: [], ...(image !== undefined ? { image } : {}) },
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

  async function rentFrom (book: OrderBook, b: Bid): ReturnType<typeof rent<NegotiatedAgreement>> {
    return rent(book, b, {
      attempt: async (m) => negotiate(renter.node, m.entry.offer.addrs.map((a) => multiaddr(a)), { bid: b, offer: m.entry.offer, signer: renter.signer, store: renter.store, certs, arbiter: ARBITER })
    })
  }

  const bookOf = (offers: Offer[]): OrderBook => {
    const book = new OrderBook({ maxOffers: 100 })
    for (const o of offers) book.upsertOffer(o, { source: 'local' })
    return book
  }

  let processOffer: Offer
  let pytorchOffer: Offer
  let otherImagesOffer: Offer

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bazaar-negotiation-runtime-'))
    db = new Level(join(dir, 'db'))
    await db.open()
    // the cheapest runs processes; the next runs containers of other images; the dearest runs pytorch's
    processOffer = await supplier('Alice', 1_000_000_000n, {})
    otherImagesOffer = await supplier('Charlie', 1_500_000_000n, { runtime: 'container', images: ['ghcr.io/example/*'] })
    pytorchOffer = await supplier('Dave', 2_000_000_000n, { runtime: 'container', images: ['docker.io/pytorch/pytorch:*'] })
    renter = { node: await host(), signer: MessageSigner.create(await devPair('Bob'), { now }), store: new AgreementStore(db.sublevel('renter')) }
  }, 60_000)

  afterAll(async () => {
    await Promise.all(nodes.map(async (n) => n.stop()))
    await db?.close()
    if (dir != null) rmSync(dir, { recursive: true, force: true })
  })

  it('the image job agrees with the container supplier that runs its image, with no refusal on the way; the process job with the process supplier', async () => {
    const book = bookOf([processOffer, otherImagesOffer, pytorchOffer])
    const withImage = await rentFrom(book, bid('image-job', PYTORCH))
    expect(withImage.match.entry.offer.id).toBe('dave-1')
    expect(withImage.refusals).toEqual([])
    const v = verifyAgreement(withImage.result.agreement, certs, Date.now())
    expect(v.terms.image).toBe(PYTORCH)
    expect(suppliers.get('alice-1')?.capacity.committed('h100-80gb')).toBe(0)
    expect(suppliers.get('dave-1')?.capacity.committed('h100-80gb')).toBe(1)

    const plain = await rentFrom(book, bid('process-job'))
    expect(plain.match.entry.offer.id).toBe('alice-1')
    expect(plain.refusals).toEqual([])
    expect(verifyAgreement(plain.result.agreement, certs, Date.now()).terms.image).toBeUndefined()
  }, 30_000)

  it('a stale book: the supplier that no longer runs the image refuses before any agreement, and the renter goes on to the next', async () => {
    // the renter's book still holds Charlie's offer as it was when it allowed any image
    const stale = bookOf([processOffer, { ...otherImagesOffer, images: [] }, pytorchOffer])
    const r = await rentFrom(stale, bid('stale-image-job', PYTORCH))
    expect(r.match.entry.offer.id).toBe('dave-1')
    expect(r.refusals.map((x) => [x.offerKey.split('/')[1], (x.error as NegotiationError).code, (x.error as NegotiationError).remote])).toEqual([['charlie-1', 'TERMS_MISMATCH', true]])
    // Charlie holds nothing and stored nothing: no agreement, so no escrow for a job it would refuse
    expect(suppliers.get('charlie-1')?.capacity.committed('h100-80gb')).toBe(0)
    expect(await suppliers.get('charlie-1')?.store.list({})).toEqual([])
  }, 30_000)

  it('with only process suppliers in the book, an image job is matched by none', async () => {
    const err = await rentFrom(bookOf([processOffer]), bid('nowhere', PYTORCH)).catch((e: unknown) => e)
    expect((err as NegotiationError).code).toBe('NO_MATCH')
    expect((err as NegotiationError & { refusals: unknown[] }).refusals).toEqual([])
    expect(suppliers.get('alice-1')?.capacity.committed('h100-80gb')).toBe(1)
  }, 30_000)
})
