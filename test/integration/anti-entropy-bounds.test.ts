import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { pbStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import { createHost, type Host } from '../../src/node/host.js'
import type { BazaarNode } from '../../src/node/bazaar-node.js'
import { defaultConfig } from '../../src/node/config/index.js'
import { BOOK_SYNC_PROTOCOL, BookSyncError } from '../../src/protocols/book-sync/index.js'
import { BookSyncChunk, BookSyncRequest } from '../../src/wire/book-sync.js'
import { sealOffer } from '../../src/protocols/gossip/envelope.js'
import { TOPIC_OFFERS } from '../../src/protocols/gossip/topics.js'
import { MessageSigner } from '../../src/market/signing/index.js'
import { devPair } from '../helpers/keys.js'
import { makeOffer } from '../helpers/market.js'
import { TestNet, metricValue } from '../helpers/nodes.js'
import { waitFor } from '../helpers/wait.js'

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
  /** the envelopes resting in the requester's book */
  const applied = (): Uint8Array[] => requester.market.book.offers().flatMap((e) => e.meta.envelope == null ? [] : [e.meta.envelope])

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
    requester = await net.node('requester', noTimer, { init: { network: { dht: false }, bookSync: { maxEntries: 3, frameTimeoutMs: 1_000 }, links: { auditIntervalMs: 3_600_000 } } })
    server = await net.node('server', noTimer, { init: { network: { dht: false }, bookSync: { requestsPerMinute: 3 } } })
    const alice = MessageSigner.create(await devPair('Alice'), { now: Date.now() })
    good = new Uint8Array(sealOffer(await makeOffer(alice, Date.now(), { id: 'good' }), alice))
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
})
