import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { pbStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'
import { createHost, type Host } from '../../src/node/host.js'
import { BOOK_SYNC_PROTOCOL, BookSync, BookSyncError, syncVerdictOf, type SyncVerdict } from '../../src/protocols/book-sync/index.js'
import { BookSyncChunk, BookSyncRequest } from '../../src/wire/book-sync.js'
import { MarketMessageValidator } from '../../src/protocols/gossip/validate.js'
import { sealOffer } from '../../src/protocols/gossip/envelope.js'
import { MessageSigner } from '../../src/market/signing/index.js'
import { Registry } from '../../src/node/metrics.js'
import { systemClock } from '../../src/util/clock.js'
import { createBookSyncMetrics } from '../../src/protocols/book-sync/index.js'
import { devPair } from '../helpers/keys.js'
import { makeOffer } from '../helpers/market.js'

/** writes bytes as they are (a frame of an older schema, built by hand) */
const RAW = { encode: (b: Uint8Array): Uint8Array => b, decode: (b: Uint8Array | Uint8ArrayList): Uint8Array => b.subarray() }

function varint (n: number): number[] {
  const out: number[] = []
  for (; n >= 0x80; n >>>= 7) out.push((n & 0x7f) | 0x80)
  out.push(n)
  return out
}

/**
 * The requester's side of anti-entropy against a hostile responder: every bound ends the exchange
 * with its typed code, and nothing invalid enters the book. The responder's side: a peer over its
 * request rate is refused.
 */
describe('anti-entropy bounds', () => {
  let hostile: Host, requester: Host, server: Host
  let sync: BookSync
  const applied: Uint8Array[] = []
  let good: Uint8Array<ArrayBuffer>
  /** signed cancels of three other offers of the same supplier */
  let cancels: Array<Uint8Array<ArrayBuffer>>
  /** a requester that asks for at most 2 cancels */
  let cancelSync: BookSync

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
    requester = await createHost({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], dht: false })
    server = await createHost({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], dht: false })
    const validator = new MarketMessageValidator({ clock: systemClock })
    sync = new BookSync({ libp2p: requester, clock: systemClock }, {
      entries: () => ({ offers: [], bids: [] }),
      accept: (topic, data): SyncVerdict => {
        try {
          validator.validate(topic, data)
          applied.push(data)
          return 'applied'
        } catch (err) {
          return syncVerdictOf(err)
        }
      },
      maxEntries: 3,
      frameTimeoutMs: 1_000,
      intervalMs: 0
    })
    const alice = MessageSigner.create(await devPair('Alice'), { now: Date.now() })
    good = new Uint8Array(sealOffer(await makeOffer(alice, Date.now(), { id: 'good' }), alice))
    const cancelOf = (id: string): Uint8Array<ArrayBuffer> => new Uint8Array(sealOffer({
      version: 1, id, supplier: alice.hotkey, enclavePeer: new Uint8Array(0), gpus: [], teeKinds: [], region: '', pricePerGpuHour: 0n, netuid: 0,
      minDurationS: 0, maxDurationS: 0, createdAt: BigInt(Date.now()), expiresAt: BigInt(Date.now() + 600_000), sequence: 2n, cancelled: true, addrs: []
    }, alice))
    cancels = ['c1', 'c2', 'c3'].map(cancelOf)
    cancelSync = new BookSync({ libp2p: requester, clock: systemClock }, {
      entries: () => ({ offers: [], bids: [] }),
      accept: (topic, data): SyncVerdict => {
        try {
          validator.validate(topic, data)
          applied.push(data)
          return 'applied'
        } catch (err) {
          return syncVerdictOf(err)
        }
      },
      maxEntries: 3,
      maxCancels: 2,
      frameTimeoutMs: 1_000,
      intervalMs: 0
    })
    await requester.dial(hostile.getMultiaddrs()[0])
    await requester.dial(server.getMultiaddrs()[0])
  })

  afterAll(async () => {
    await Promise.all([hostile.stop(), requester.stop(), server.stop()])
  })

  it('takes valid envelopes, and ends with INVALID_ENTRY at the first one the validator rejects', async () => {
    await respond(async (stream) => {
      const pb = pbStream(stream)
      await pb.read(BookSyncRequest)
      await pb.write({ offers: [good, new Uint8Array([1, 2, 3])], bids: [], last: true }, BookSyncChunk)
      await stream.close()
    })
    expect(await code(sync.pull(hostile.peerId))).toBe('INVALID_ENTRY')
    expect(applied).toHaveLength(1)
    expect(Buffer.compare(applied[0], good)).toBe(0)
  })

  it('ends with TOO_MANY when a peer sends more envelopes than asked for', async () => {
    const asked: number[] = []
    await respond(async (stream) => {
      const pb = pbStream(stream)
      asked.push((await pb.read(BookSyncRequest)).maxEntries)
      await pb.write({ offers: [good, good, good, good], bids: [], last: true }, BookSyncChunk)
      await stream.close()
    })
    expect(await code(sync.pull(hostile.peerId))).toBe('TOO_MANY')
    expect(asked).toEqual([3])
  })

  it('ends with TIMEOUT when a peer never answers', async () => {
    await respond(async (stream) => {
      await pbStream(stream).read(BookSyncRequest)
      // holds the stream open and never writes
      await new Promise((resolve) => { stream.addEventListener('close', resolve, { once: true }) })
    })
    expect(await code(sync.pull(hostile.peerId))).toBe('TIMEOUT')
  })

  it('ends with MALFORMED on a frame over the size bound', async () => {
    await respond(async (stream) => {
      await pbStream(stream).read(BookSyncRequest)
      // a length prefix announcing 2 MiB: over the 1 MiB chunk bound, refused before it is read
      stream.send(new Uint8Array([0x80, 0x80, 0x80, 0x01]))
      await new Promise((resolve) => { stream.addEventListener('close', resolve, { once: true }) })
    })
    expect(await code(sync.pull(hostile.peerId))).toBe('MALFORMED')
  })

  it('a responder refuses a peer over its request rate', async () => {
    const registry = new Registry()
    const metrics = createBookSyncMetrics(registry)
    const served = new BookSync({ libp2p: server, clock: systemClock, metrics }, {
      entries: () => ({ offers: [good], bids: [] }),
      accept: () => 'ignored',
      requestsPerMinute: 2,
      intervalMs: 0
    })
    await served.start()
    try {
      expect(await code(sync.pull(server.peerId))).toBe('resolved')
      expect(await code(sync.pull(server.peerId))).toBe('resolved')
      expect(await code(sync.pull(server.peerId))).not.toBe('resolved')
      expect(metrics.exchanges.get({ role: 'responder', result: 'ok' })).toBe(2)
      expect(metrics.exchanges.get({ role: 'responder', result: 'RATE_LIMITED' })).toBe(1)
    } finally {
      await served.stop()
    }
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
    applied.length = 0
    expect(await code(cancelSync.pull(hostile.peerId))).toBe('TOO_MANY')
    expect(asked).toEqual([2])
    // the first chunk's two cancels went through the validator before the third broke the bound
    expect(applied.map((a) => Buffer.compare(a, cancels[0]) === 0 || Buffer.compare(a, cancels[1]) === 0)).toEqual([true, true])
  })

  it('ends with NOT_A_CANCEL when a cancel list carries a live offer, before the validator sees it', async () => {
    await respond(async (stream) => {
      const pb = pbStream(stream)
      await pb.read(BookSyncRequest)
      await pb.write({ offers: [], bids: [], offerCancels: [good], bidCancels: [], last: true }, BookSyncChunk)
      await stream.close()
    })
    applied.length = 0
    expect(await code(cancelSync.pull(hostile.peerId))).toBe('NOT_A_CANCEL')
    expect(applied).toHaveLength(0)
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
    const r = await cancelSync.pull(hostile.peerId)
    expect(r.received).toBe(1)
    expect(r.cancels).toBe(0)
  })

  it('a responder sends cancels only to a requester that asks for them, and at most as many as asked', async () => {
    const served = new BookSync({ libp2p: server, clock: systemClock }, {
      entries: () => ({ offers: [good], bids: [], offerCancels: cancels, bidCancels: [] }),
      accept: () => 'ignored',
      intervalMs: 0
    })
    await served.start()
    try {
      // a requester from before cancels: its request, byte by byte, has no max_cancels (version 1, max_entries 10)
      const stream = await requester.dialProtocol(server.peerId, BOOK_SYNC_PROTOCOL)
      const pb = pbStream(stream)
      await pb.write(Uint8Array.from([0x08, 0x01, 0x10, 0x0a]), RAW)
      const chunk = await pb.read(BookSyncChunk)
      expect([chunk.offers.length, chunk.offerCancels.length, chunk.last]).toEqual([1, 0, true])
      await stream.close()
      // a requester that asks for two
      const stream2 = await requester.dialProtocol(server.peerId, BOOK_SYNC_PROTOCOL)
      const pb2 = pbStream(stream2)
      await pb2.write({ version: 1, maxEntries: 10, maxCancels: 2 }, BookSyncRequest)
      const chunk2 = await pb2.read(BookSyncChunk)
      expect([chunk2.offers.length, chunk2.offerCancels.length, chunk2.last]).toEqual([1, 2, true])
      await stream2.close()
    } finally {
      await served.stop()
    }
  })
})
