import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { pbStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
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
})
