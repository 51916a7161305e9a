import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { pbStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'
import { createHost, type Host } from '../../src/node/host.js'
import type { BazaarNode } from '../../src/node/bazaar-node.js'
import { defaultConfig } from '../../src/node/config/index.js'
import { BOOK_SYNC_PROTOCOL, BookSyncError, bucketDigests, differingBuckets } from '../../src/protocols/book-sync/index.js'
import { BookSyncChunk, BookSyncRequest } from '../../src/wire/book-sync.js'
import { sealOffer } from '../../src/protocols/gossip/envelope.js'
import { TOPIC_OFFERS } from '../../src/protocols/gossip/topics.js'
import { MessageSigner } from '../../src/market/signing/index.js'
import { devPair } from '../helpers/keys.js'
import { makeOffer } from '../helpers/market.js'
import { TestNet, metricValue } from '../helpers/nodes.js'
import { waitFor } from '../helpers/wait.js'

/** writes bytes as they are (a frame of an older schema, built by hand) */
const RAW = { encode: (b: Uint8Array): Uint8Array => b, decode: (b: Uint8Array | Uint8ArrayList): Uint8Array => b.subarray() }

function varint (n: number): number[] {
  const out: number[] = []
  for (; n >= 0x80; n >>>= 7) out.push((n & 0x7f) | 0x80)
  out.push(n)
  return out
}

/**
 * The requester's side of anti-entropy against a hostile responder (a bare libp2p host, not a node):
 * every bound ends the exchange with its typed code, and nothing invalid enters the book. The
 * responder's side: a peer over its request rate is refused. The requester and the responder are
 * nodes built by BazaarNode.init, with their periodic pull off.
 */
describe('anti-entropy bounds', () => {
  const net = new TestNet()
  let hostile: Host, requester: BazaarNode, server: BazaarNode
  let good: Uint8Array<ArrayBuffer>
  /** signed cancels of three other offers of the same supplier */
  let cancels: Array<Uint8Array<ArrayBuffer>>
  /** the envelopes resting in the requester's book */
  const applied = (): Uint8Array[] => requester.market.book.offers().flatMap((e) => e.meta.envelope == null ? [] : [e.meta.envelope])
  /** the signed cancels the requester's tombstones hold */
  const appliedCancels = (): Uint8Array[] => requester.market.book.offerCancels()

  /** replaces the hostile peer's handler for the protocol */
  async function respond (fn: (stream: Stream) => Promise<void>): Promise<void> {
    await hostile.unhandle(BOOK_SYNC_PROTOCOL).catch(() => {})
    await hostile.handle(BOOK_SYNC_PROTOCOL, async (stream) => { await fn(stream).catch(() => { stream.abort(new Error('done')) }) })
  }

  async function code (p: Promise<unknown>): Promise<string> {
    try {
      await p
      return 'resolved'
    } catch (err) {
      return err instanceof BookSyncError ? err.code : `untyped ${String(err)}`
    }
  }

  beforeAll(async () => {
    hostile = await createHost({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], dht: false })
    const base = await defaultConfig()
    const noTimer = { market: { ...base.market, bookSyncS: 0 } }
    requester = await net.node('requester', noTimer, { init: { network: { dht: false }, bookSync: { maxEntries: 3, maxCancels: 2, frameTimeoutMs: 1_000 }, links: { auditIntervalMs: 3_600_000 } } })
    server = await net.node('server', noTimer, { init: { network: { dht: false }, bookSync: { requestsPerMinute: 3 } } })
    const alice = MessageSigner.create(await devPair('Alice'), { now: Date.now() })
    good = new Uint8Array(sealOffer(await makeOffer(alice, Date.now(), { id: 'good' }), alice))
    const cancelOf = (id: string): Uint8Array<ArrayBuffer> => new Uint8Array(sealOffer({
      version: 1, id, supplier: alice.hotkey, enclavePeer: new Uint8Array(0), gpus: [], teeKinds: [], region: '', pricePerGpuHour: 0n, netuid: 0,
      minDurationS: 0, maxDurationS: 0, createdAt: BigInt(Date.now()), expiresAt: BigInt(Date.now() + 600_000), sequence: 2n, cancelled: true, addrs: [], images: []
    }, alice))
    cancels = ['c1', 'c2', 'c3'].map(cancelOf)
    // The hostile peer does not speak the protocol when the connection opens, and its identify (done
    // before any test starts) says so: every exchange with it below is the one the test asks for.
    // (The requester's link keeper audits only when asked: a link repair pulls the peer's book too.)
    await requester.dial(hostile.getMultiaddrs()[0].toString())
    await waitFor(async () => (await requester.host.peerStore.get(hostile.peerId).catch(() => ({ protocols: [] }))).protocols.length > 0, 10_000, 'the hostile peer identified')
  })

  afterAll(async () => {
    await hostile.stop()
    await net.close()
  })

  it('takes valid envelopes, and ends with INVALID_ENTRY at the first one the validator rejects', async () => {
    await respond(async (stream) => {
      const pb = pbStream(stream)
      await pb.read(BookSyncRequest)
      await pb.write({ offers: [good, new Uint8Array([1, 2, 3])], bids: [], last: true }, BookSyncChunk)
      await stream.close()
    })
    expect(await code(requester.bookSync.pull(hostile.peerId))).toBe('INVALID_ENTRY')
    expect(applied()).toHaveLength(1)
    expect(Buffer.compare(applied()[0], good)).toBe(0)
  })

  it('ends with TOO_MANY when a peer sends more envelopes than asked for', async () => {
    const asked: number[] = []
    await respond(async (stream) => {
      const pb = pbStream(stream)
      asked.push((await pb.read(BookSyncRequest)).maxEntries)
      await pb.write({ offers: [good, good, good, good], bids: [], last: true }, BookSyncChunk)
      await stream.close()
    })
    expect(await code(requester.bookSync.pull(hostile.peerId))).toBe('TOO_MANY')
    expect(asked).toEqual([3])
  })

  it('ends with TIMEOUT when a peer never answers', async () => {
    await respond(async (stream) => {
      await pbStream(stream).read(BookSyncRequest)
      // holds the stream open and never writes
      await new Promise((resolve) => { stream.addEventListener('close', resolve, { once: true }) })
    })
    expect(await code(requester.bookSync.pull(hostile.peerId))).toBe('TIMEOUT')
  })

  it('ends with MALFORMED on a frame over the size bound', async () => {
    await respond(async (stream) => {
      await pbStream(stream).read(BookSyncRequest)
      // a length prefix announcing 2 MiB: over the 1 MiB chunk bound, refused before it is read
      stream.send(new Uint8Array([0x80, 0x80, 0x80, 0x01]))
      await new Promise((resolve) => { stream.addEventListener('close', resolve, { once: true }) })
    })
    expect(await code(requester.bookSync.pull(hostile.peerId))).toBe('MALFORMED')
  })

  it('a responder refuses a peer over its request rate', async () => {
    const served = (result: string): number => metricValue(server.metrics, 'bazaar_book_sync_exchanges_total', { role: 'responder', result })
    // the server's book holds one offer (published while it has no peers: only its own book takes it)
    await server.gossip.publish(TOPIC_OFFERS, good)
    // a node pulls a peer's book once when it connects: that is the first of the server's 3 a minute
    await requester.dial(server.host.getMultiaddrs()[0].toString())
    await waitFor(() => served('ok') === 1, 10_000, 'the exchange on connection served')
    expect(await code(requester.bookSync.pull(server.peerId))).toBe('resolved')
    expect(await code(requester.bookSync.pull(server.peerId))).toBe('resolved')
    expect(await code(requester.bookSync.pull(server.peerId))).not.toBe('resolved')
    expect(served('ok')).toBe(3)
    expect(served('RATE_LIMITED')).toBe(1)
  })

  it('asks for cancels, applies valid ones through the validator, and ends with TOO_MANY past what it asked for', async () => {
    const asked: number[] = []
    await respond(async (stream) => {
      const pb = pbStream(stream)
      asked.push((await pb.read(BookSyncRequest)).maxCancels)
      await pb.write({ offers: [], bids: [], offerCancels: cancels.slice(0, 2), bidCancels: [], last: false }, BookSyncChunk)
      await pb.write({ offers: [], bids: [], offerCancels: cancels.slice(2), bidCancels: [], last: true }, BookSyncChunk)
      await stream.close()
    })
    expect(await code(requester.bookSync.pull(hostile.peerId))).toBe('TOO_MANY')
    expect(asked).toEqual([2])
    // the first chunk's two cancels went through the validator into tombstones before the third broke the bound
    const held = appliedCancels()
    expect(held).toHaveLength(2)
    expect(held.every((a) => Buffer.compare(a, cancels[0]) === 0 || Buffer.compare(a, cancels[1]) === 0)).toBe(true)
  })

  it('ends with NOT_A_CANCEL when a cancel list carries a live offer, before the validator sees it', async () => {
    await respond(async (stream) => {
      const pb = pbStream(stream)
      await pb.read(BookSyncRequest)
      await pb.write({ offers: [], bids: [], offerCancels: [good], bidCancels: [], last: true }, BookSyncChunk)
      await stream.close()
    })
    const before = [applied().length, appliedCancels().length]
    expect(await code(requester.bookSync.pull(hostile.peerId))).toBe('NOT_A_CANCEL')
    expect([applied().length, appliedCancels().length]).toEqual(before)
  })

  it('a responder from before cancels (its chunks lack the fields) still serves its entries', async () => {
    await respond(async (stream) => {
      const pb = pbStream(stream)
      await pb.read(BookSyncRequest)
      // a chunk of the schema before cancels, byte by byte: offers (field 1), last (field 3)
      const oldChunk = Uint8Array.from([0x0a, ...varint(good.byteLength), ...good, 0x18, 0x01])
      await pb.write(oldChunk, RAW)
      await stream.close()
    })
    const r = await requester.bookSync.pull(hostile.peerId)
    expect(r.received).toBe(1)
    expect(r.cancels).toBe(0)
    // nor does it know of pages or digests: one page, and nothing more asked for
    expect([r.pages, r.truncated, r.differing]).toEqual([1, false, undefined])
  })

  it('ends with MALFORMED on digests of another size than asked for, or beside envelopes', async () => {
    const asked: number[] = []
    await respond(async (stream) => {
      const pb = pbStream(stream)
      asked.push((await pb.read(BookSyncRequest)).digestBits)
      // one bucket's digest too few
      await pb.write({ offers: [], bids: [], offerCancels: [], bidCancels: [], digests: new Uint8Array(15 * 24), last: true, more: true }, BookSyncChunk)
      await new Promise((resolve) => { stream.addEventListener('close', resolve, { once: true }) })
    })
    expect(await code(requester.bookSync.pull(hostile.peerId))).toBe('MALFORMED')
    // the requester's book is small: 16 buckets
    expect(asked).toEqual([4])
    await respond(async (stream) => {
      const pb = pbStream(stream)
      await pb.read(BookSyncRequest)
      await pb.write({ offers: [good], bids: [], offerCancels: [], bidCancels: [], digests: new Uint8Array(16 * 24), last: true, more: true }, BookSyncChunk)
      await new Promise((resolve) => { stream.addEventListener('close', resolve, { once: true }) })
    })
    expect(await code(requester.bookSync.pull(hostile.peerId))).toBe('MALFORMED')
  })

  it('after digests, asks for the buckets that differ and takes what comes for them', async () => {
    const wanted: Uint8Array[] = []
    await respond(async (stream) => {
      const pb = pbStream(stream)
      await pb.read(BookSyncRequest)
      // an empty book's digests: every bucket the requester holds something in differs
      await pb.write({ offers: [], bids: [], offerCancels: [], bidCancels: [], digests: new Uint8Array(16 * 24), last: true, more: true }, BookSyncChunk)
      wanted.push((await pb.read(BookSyncRequest)).buckets)
      await pb.write({ offers: [good], bids: [], offerCancels: [], bidCancels: [], last: true }, BookSyncChunk)
      await stream.close()
    })
    const r = await requester.bookSync.pull(hostile.peerId)
    const own = [...applied(), ...appliedCancels()]
    const expected = differingBuckets(bucketDigests([applied(), [], appliedCancels()], 4).digests, new Uint8Array(16 * 24), 4)
    expect(own.length).toBeGreaterThan(0)
    expect(r.differing).toBe(expected?.count)
    expect(wanted).toHaveLength(1)
    expect(Buffer.compare(wanted[0], expected?.bitmap ?? new Uint8Array(0))).toBe(0)
    expect([r.pages, r.received, r.duplicate]).toEqual([1, 1, 1])
  })

  it('a peer that says it holds more on every page is asked for 16 pages in all, each bounded as the first', async () => {
    const asked: number[] = []
    await respond(async (stream) => {
      const pb = pbStream(stream)
      // every request, on the one stream, gets a page of one envelope claiming more
      for (;;) {
        asked.push((await pb.read(BookSyncRequest)).maxEntries)
        await pb.write({ offers: [good], bids: [], offerCancels: [], bidCancels: [], last: true, more: true }, BookSyncChunk)
      }
    })
    const r = await requester.bookSync.pull(hostile.peerId)
    expect([r.pages, r.truncated, r.received]).toEqual([16, true, 16])
    expect(asked).toEqual(Array(16).fill(3))
    // a later page over its bound ends the exchange as the first would
    let pages = 0
    await respond(async (stream) => {
      const pb = pbStream(stream)
      for (;;) {
        await pb.read(BookSyncRequest)
        pages++
        await pb.write({ offers: pages < 3 ? [good] : [good, good, good, good], bids: [], offerCancels: [], bidCancels: [], last: true, more: true }, BookSyncChunk)
      }
    })
    expect(await code(requester.bookSync.pull(hostile.peerId))).toBe('TOO_MANY')
    expect(pages).toBe(3)
  })

  it('a responder sends cancels only to a requester that asks for them, and at most as many as asked', async () => {
    // a third node whose book holds the offer and the three cancels (published while it has no peers)
    const base = await defaultConfig()
    const holder = await net.node('holder', { market: { ...base.market, bookSyncS: 0 } }, { init: { network: { dht: false } } })
    for (const env of [good, ...cancels]) await holder.gossip.publish(TOPIC_OFFERS, env)
    expect([holder.market.book.offerCount, holder.market.book.offerCancels().length]).toEqual([1, 3])
    // a requester from before cancels: its request, byte by byte, has no max_cancels (version 1, max_entries 10)
    const stream = await requester.host.dialProtocol(holder.host.getMultiaddrs()[0], BOOK_SYNC_PROTOCOL)
    const pb = pbStream(stream)
    await pb.write(Uint8Array.from([0x08, 0x01, 0x10, 0x0a]), RAW)
    const chunk = await pb.read(BookSyncChunk)
    expect([chunk.offers.length, chunk.offerCancels.length, chunk.last]).toEqual([1, 0, true])
    await stream.close()
    // a requester that asks for two
    const stream2 = await requester.host.dialProtocol(holder.peerId, BOOK_SYNC_PROTOCOL)
    const pb2 = pbStream(stream2)
    await pb2.write({ version: 1, maxEntries: 10, maxCancels: 2 }, BookSyncRequest)
    const chunk2 = await pb2.read(BookSyncChunk)
    expect([chunk2.offers.length, chunk2.offerCancels.length, chunk2.last]).toEqual([1, 2, true])
    await stream2.close()
  })
})
