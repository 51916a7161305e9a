import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pbStream } from '@libp2p/utils'
import type { Uint8ArrayList } from 'uint8arraylist'
import type { BazaarNode } from '../../src/node/bazaar-node.js'
import { defaultConfig } from '../../src/node/config/index.js'
import { BOOK_SYNC_PROTOCOL } from '../../src/protocols/book-sync/index.js'
import { BookSyncChunk } from '../../src/wire/book-sync.js'
import { sealBid, sealOffer } from '../../src/protocols/gossip/envelope.js'
import { TOPIC_BIDS, TOPIC_OFFERS } from '../../src/protocols/gossip/topics.js'
import { MessageSigner } from '../../src/market/signing/index.js'
import { devPair } from '../helpers/keys.js'
import { makeBid, makeOffer } from '../helpers/market.js'
import { TestNet, metricValue } from '../helpers/nodes.js'
import { waitFor } from '../helpers/wait.js'
import { ManualClock } from '../../src/util/clock.js'

/** writes bytes as they are (a frame of an older schema, built by hand) */
const RAW = { encode: (b: Uint8Array): Uint8Array => b, decode: (b: Uint8Array | Uint8ArrayList): Uint8Array => b.subarray() }

/** what a book holds, comparable across nodes: offers and bids with their sequences, and the signed cancels */
function bookOf (n: BazaarNode): string[] {
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
  return [
    ...n.market.book.offers().map((e) => `offer ${e.key} #${e.offer.sequence}`),
    ...n.market.book.bids().map((e) => `bid ${e.key} #${e.bid.sequence}`),
    ...n.market.book.offerCancels().map((c) => `offer cancel ${hex(c)}`),
    ...n.market.book.bidCancels().map((c) => `bid cancel ${hex(c)}`)
  ].sort()
}

/**
 * A book larger than one page of anti-entropy: nine offers, three bids and three cancels, against
 * requesters that take four envelopes and two cancels a page (and ask for no digests, whose test
 * is below). The whole book arrives over one
 * stream in pages (before pages, the first four offers came on every pull and the bids never), a
 * requester stops at its page bound, a requester from before pages still gets its one page, and an
 * exchange held open between pages keeps its place among those a node serves at once.
 */
describe('anti-entropy in pages', () => {
  const net = new TestNet()
  let holder: BazaarNode, requester: BazaarNode
  const served = (result: string): number => metricValue(holder.metrics, 'bazaar_book_sync_exchanges_total', { role: 'responder', result })

  beforeAll(async () => {
    const base = await defaultConfig()
    const noTimer = { market: { ...base.market, bookSyncS: 0 } }
    // serving one exchange at a time: the last test holds one open
    holder = await net.node('holder', noTimer, { init: { network: { dht: false }, bookSync: { maxServing: 1 } } })
    requester = await net.node('requester', noTimer, { init: { network: { dht: false }, bookSync: { maxEntries: 4, maxCancels: 2, digests: false } } })
    // the holder's book, published while it has no peers (only its own book takes them)
    const now = Date.now()
    const alice = MessageSigner.create(await devPair('Alice'), { now })
    const bob = MessageSigner.create(await devPair('Bob'), { now })
    for (let i = 0; i < 9; i++) await holder.gossip.publish(TOPIC_OFFERS, sealOffer(await makeOffer(alice, now, { id: `gpu-${i}` }), alice))
    for (const id of ['gone-0', 'gone-1', 'gone-2']) await holder.gossip.publish(TOPIC_OFFERS, sealOffer(await makeOffer(alice, now, { id, sequence: 2n, cancelled: true }), alice))
    for (let i = 0; i < 3; i++) await holder.gossip.publish(TOPIC_BIDS, sealBid(makeBid(bob, now, { id: `job-${i}` }), bob))
    expect([holder.market.book.offerCount, holder.market.book.bids().length, holder.market.book.offerCancels().length]).toEqual([9, 3, 3])
  })

  afterAll(async () => { await net.close() }, 30_000)

  it('the exchange on connection brings the whole book, and a pull takes it in three pages over one stream', async () => {
    await requester.dial(holder.host.getMultiaddrs()[0].toString())
    await waitFor(() => served('ok') === 1, 10_000, 'the exchange on connection served')
    await waitFor(() => bookOf(requester).length === bookOf(holder).length, 10_000, 'the whole book applied')
    expect(bookOf(requester)).toEqual(bookOf(holder))
    // twelve offers and bids at four a page, three cancels at two a page: three pages
    const r = await requester.bookSync.pull(holder.peerId)
    expect(r).toMatchObject({ pages: 3, truncated: false, received: 15, cancels: 3, duplicate: 15 })
    expect(served('ok')).toBe(2)
  })

  it('a requester stops at its page bound and says the peer held more', async () => {
    const base = await defaultConfig()
    const short = await net.node('short', { market: { ...base.market, bookSyncS: 0 } }, { init: { network: { dht: false }, bookSync: { maxEntries: 4, maxCancels: 2, maxPages: 2, digests: false } } })
    await short.dial(holder.host.getMultiaddrs()[0].toString())
    await waitFor(() => served('ok') === 3, 10_000, 'the exchange on connection served')
    const r = await short.bookSync.pull(holder.peerId)
    // page 1: four offers and two cancels; page 2: four offers and the third cancel
    expect(r).toMatchObject({ pages: 2, truncated: true, received: 11, cancels: 3 })
    // what the two pages carried, no more: the ninth offer and the bids only came in a third
    expect(short.market.book.offerCount).toBe(8)
    expect(short.market.book.bids()).toHaveLength(0)
  })

  it('a requester from before pages gets the first page with `more` set, closes, and the responder counts it served', async () => {
    const before = served('ok')
    const stream = await requester.host.dialProtocol(holder.peerId, BOOK_SYNC_PROTOCOL)
    const pb = pbStream(stream)
    // version 1, max_entries 4, no max_cancels, byte by byte
    await pb.write(Uint8Array.from([0x08, 0x01, 0x10, 0x04]), RAW)
    const chunk = await pb.read(BookSyncChunk)
    expect([chunk.offers.length, chunk.bids.length, chunk.offerCancels.length, chunk.last, chunk.more]).toEqual([4, 0, 0, true, true])
    await stream.close()
    await waitFor(() => served('ok') === before + 1, 10_000, 'the exchange counted as served')
    expect(served('MALFORMED') + served('TIMEOUT')).toBe(0)
  })

  it('a node serves at most maxServing exchanges at once: one more is refused with BUSY until one ends', async () => {
    const before = served('ok')
    // an exchange between its pages: the first page read, the next not asked for yet
    const stream = await requester.host.dialProtocol(holder.peerId, BOOK_SYNC_PROTOCOL)
    const pb = pbStream(stream)
    await pb.write(Uint8Array.from([0x08, 0x01, 0x10, 0x04]), RAW)
    expect((await pb.read(BookSyncChunk)).more).toBe(true)
    await expect(requester.bookSync.pull(holder.peerId)).rejects.toThrow()
    expect(served('BUSY')).toBe(1)
    await stream.close()
    await waitFor(() => served('ok') === before + 1, 10_000, 'the open exchange ended')
    expect((await requester.bookSync.pull(holder.peerId)).pages).toBe(3)
  })
})

/**
 * Digests first: two nodes whose books agree exchange bucket digests and no envelope; a book that
 * differs in one offer brings only that offer's bucket; a responder refuses digests bucketed out of
 * range and a bitmap of the wrong size.
 */
describe('anti-entropy with digests', () => {
  const net = new TestNet()
  let holder: BazaarNode, requester: BazaarNode
  let alice: MessageSigner
  const served = (result: string): number => metricValue(holder.metrics, 'bazaar_book_sync_exchanges_total', { role: 'responder', result })

  beforeAll(async () => {
    const base = await defaultConfig()
    const noTimer = { market: { ...base.market, bookSyncS: 0 } }
    holder = await net.node('holder', noTimer, { init: { network: { dht: false } } })
    requester = await net.node('requester', noTimer, { init: { network: { dht: false } } })
    const now = Date.now()
    alice = MessageSigner.create(await devPair('Alice'), { now })
    const bob = MessageSigner.create(await devPair('Bob'), { now })
    for (let i = 0; i < 40; i++) await holder.gossip.publish(TOPIC_OFFERS, sealOffer(await makeOffer(alice, now, { id: `gpu-${i}` }), alice))
    for (const id of ['gone-0', 'gone-1']) await holder.gossip.publish(TOPIC_OFFERS, sealOffer(await makeOffer(alice, now, { id, sequence: 2n, cancelled: true }), alice))
    for (let i = 0; i < 5; i++) await holder.gossip.publish(TOPIC_BIDS, sealBid(makeBid(bob, now, { id: `job-${i}` }), bob))
    await requester.dial(holder.host.getMultiaddrs()[0].toString())
    await waitFor(() => served('ok') === 1, 10_000, 'the exchange on connection served')
    await waitFor(() => bookOf(requester).length === bookOf(holder).length, 10_000, 'the whole book applied')
  })

  afterAll(async () => { await net.close() }, 30_000)

  it('books that agree: digests only, no envelope', async () => {
    expect(bookOf(requester)).toEqual(bookOf(holder))
    const r = await requester.bookSync.pull(holder.peerId)
    expect(r).toMatchObject({ differing: 0, pages: 0, received: 0 })
  })

  it('a book one offer ahead: only the buckets that differ come, and the books agree after', async () => {
    // the holder takes an offer the requester never heard (applied to its book alone, not gossiped)
    const env = sealOffer(await makeOffer(alice, Date.now(), { id: 'late' }), alice)
    holder.market.apply(holder.gossip.validator.validate(TOPIC_OFFERS, env), 'gossip')
    const r = await requester.bookSync.pull(holder.peerId)
    expect(r.differing).toBe(1)
    expect(r.applied).toBe(1)
    // 48 envelopes in 16 buckets (the requester's 47 at about 16 a bucket): a few of them, not all
    expect(r.received).toBeGreaterThanOrEqual(1)
    expect(r.received).toBeLessThan(20)
    expect(r.duplicate).toBe(r.received - 1)
    expect(bookOf(requester)).toEqual(bookOf(holder))
  })

  it('a node that starts with an empty book re-gossips nothing an exchange brings; with a book, what was new to it', async () => {
    // on a clock of its own that never moves, its re-gossip queue is never drained: it shows what was queued
    const base = await defaultConfig()
    const fresh = await net.node('fresh', { market: { ...base.market, bookSyncS: 0 } }, { init: { clock: new ManualClock(Date.now()), network: { dht: false } } })
    await fresh.dial(holder.host.getMultiaddrs()[0].toString())
    await waitFor(() => bookOf(fresh).length === bookOf(holder).length, 10_000, 'the whole book applied')
    expect(fresh.bookSync.forwardBacklog).toBe(0)
    const env = sealOffer(await makeOffer(alice, Date.now(), { id: 'later' }), alice)
    holder.market.apply(holder.gossip.validator.validate(TOPIC_OFFERS, env), 'gossip')
    expect((await fresh.bookSync.pull(holder.peerId)).applied).toBe(1)
    expect(fresh.bookSync.forwardBacklog).toBe(1)
  })

  it('a responder refuses digest bits out of range, and a bitmap of another size than its buckets', async () => {
    const bad = served('MALFORMED')
    // version 1, max_entries 10, digest_bits 13: over the 12 a requester may ask for
    const s1 = await requester.host.dialProtocol(holder.peerId, BOOK_SYNC_PROTOCOL)
    await pbStream(s1).write(Uint8Array.from([0x08, 0x01, 0x10, 0x0a, 0x20, 0x0d]), RAW)
    await waitFor(() => served('MALFORMED') === bad + 1, 10_000, 'the out-of-range request refused')
    // digest_bits 4 (16 buckets), then a bitmap of 3 bytes where 16 buckets take 2
    const s2 = await requester.host.dialProtocol(holder.peerId, BOOK_SYNC_PROTOCOL)
    const pb = pbStream(s2)
    await pb.write(Uint8Array.from([0x08, 0x01, 0x10, 0x0a, 0x20, 0x04]), RAW)
    const digests = await pb.read(BookSyncChunk)
    expect([digests.digests.byteLength, digests.last, digests.more]).toEqual([16 * 24, true, true])
    await pb.write(Uint8Array.from([0x08, 0x01, 0x10, 0x0a, 0x2a, 0x03, 0xff, 0xff, 0xff]), RAW)
    await waitFor(() => served('MALFORMED') === bad + 2, 10_000, 'the wrong bitmap refused')
  })
})
