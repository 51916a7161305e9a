import { afterEach, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Stream } from '@libp2p/interface'
import type { Message } from '@libp2p/gossipsub'
import * as lp from 'it-length-prefixed'
import { Uint8ArrayList } from 'uint8arraylist'
import { FrameReader } from '../../../src/node/gossip-inbound.js'
import { createHost, LOOPBACK_NETWORK, MAX_GOSSIP_RPC_BYTES, type Host } from '../../../src/node/host.js'
import { TOPIC_OFFERS } from '../../../src/protocols/gossip/topics.js'
import { waitFor } from '../../helpers/wait.js'

/**
 * Gossipsub's inbound frames cut from stream events (src/node/gossip-inbound.ts): the same frames
 * and the same errors as it-length-prefixed's decoder, however the bytes arrive; and on two real
 * hosts, the router reads through it and drops a peer whose frame is over its limit.
 */

/** the stream surface the reader uses: events, close and abort */
class FakeStream extends EventTarget {
  closed = 0
  aborted: Error | undefined
  feed (data: Uint8Array | Uint8ArrayList): void { this.dispatchEvent(Object.assign(new Event('message'), { data })) }
  end (error?: Error): void { this.dispatchEvent(Object.assign(new Event('close'), { error })) }
  remoteCloseWrite (): void { this.dispatchEvent(new Event('remoteCloseWrite')) }
  async close (): Promise<void> { this.closed++ }
  abort (err: Error): void { this.aborted = err }
}

function reader (max = 1024): { stream: FakeStream, frames: Uint8Array[], errors: Error[], r: FrameReader } {
  const stream = new FakeStream()
  const frames: Uint8Array[] = []
  const errors: Error[] = []
  const r = new FrameReader(stream as unknown as Stream, max, { frame: (b) => frames.push(Uint8Array.from(b)), error: (e) => errors.push(e) })
  return { stream, frames, errors, r }
}

/** frames of every length class: empty, one byte, a one-byte and two- and three-byte varints */
const PAYLOADS = [0, 1, 127, 128, 300, 16_383, 16_384, 70_000].map((n, i) => Uint8Array.from({ length: n }, (_, k) => (k * 31 + i) & 0xff))
const WIRE = Buffer.concat(PAYLOADS.map((p) => lp.encode.single(p).subarray()))

describe('FrameReader', () => {
  it('yields the frames it-length-prefixed yields, whole or cut at every size of read', async () => {
    const expected = [...lp.decode([WIRE])].map((f) => Uint8Array.from(f.subarray()))
    expect(expected.map((f) => f.byteLength)).toEqual(PAYLOADS.map((p) => p.byteLength))
    for (const step of [WIRE.byteLength, 1, 2, 3, 7, 127, 129, 4096]) {
      const { stream, frames, errors } = reader(100_000)
      for (let at = 0; at < WIRE.byteLength; at += step) stream.feed(WIRE.subarray(at, at + step))
      expect(errors).toEqual([])
      expect(frames).toEqual(expected)
    }
    // chunks that arrive as lists of several arrays (how yamux hands them over)
    const { stream, frames } = reader(100_000)
    stream.feed(new Uint8ArrayList(WIRE.subarray(0, 5), WIRE.subarray(5, 400), WIRE.subarray(400)))
    expect(frames).toEqual(expected)
  })

  it('refuses a length over its limit as soon as the prefix is in, and reads nothing more', () => {
    const { stream, frames, errors } = reader(1000)
    stream.feed(lp.encode.single(new Uint8Array(10)).subarray())
    stream.feed(Uint8Array.from([0xe9, 0x07])) // 1001: the data never needs to arrive
    expect(frames).toHaveLength(1)
    expect(errors.map((e) => e.name)).toEqual(['InvalidDataLengthError'])
    stream.feed(lp.encode.single(new Uint8Array(3)).subarray())
    stream.end(new Error('later'))
    expect(frames).toHaveLength(1)
    expect(errors).toHaveLength(1)
  })

  it('accepts a frame of exactly its limit', () => {
    const { stream, frames, errors } = reader(1000)
    stream.feed(lp.encode.single(new Uint8Array(1000)).subarray())
    expect(errors).toEqual([])
    expect(frames.map((f) => f.byteLength)).toEqual([1000])
  })

  it('refuses a length prefix longer than 8 bytes, whole or a byte at a time', () => {
    const prefix = new Uint8Array(9).fill(0x80)
    for (const step of [9, 1]) {
      const { stream, errors } = reader()
      for (let at = 0; at < prefix.byteLength; at += step) stream.feed(prefix.subarray(at, at + step))
      expect(errors.map((e) => e.name)).toEqual(['InvalidDataLengthLengthError'])
    }
  })

  it('ends cleanly at a frame boundary, and with UnexpectedEOFError inside a frame', () => {
    const clean = reader()
    clean.stream.feed(lp.encode.single(new Uint8Array(5)).subarray())
    clean.stream.remoteCloseWrite()
    clean.stream.end()
    expect(clean.frames).toHaveLength(1)
    expect(clean.errors).toEqual([])

    const cut = reader()
    cut.stream.feed(lp.encode.single(new Uint8Array(50)).subarray(0, 20))
    cut.stream.remoteCloseWrite()
    expect(cut.frames).toEqual([])
    expect(cut.errors.map((e) => e.name)).toEqual(['UnexpectedEOFError'])
  })

  it("passes on the stream's own error once, and close() stops reading and closes the stream", async () => {
    const failed = reader()
    const reset = Object.assign(new Error('reset by peer'), { name: 'StreamResetError' })
    failed.stream.end(reset)
    failed.stream.end(reset)
    expect(failed.errors).toEqual([reset])

    const closed = reader()
    await closed.r.close()
    expect(closed.stream.closed).toBe(1)
    closed.stream.feed(lp.encode.single(new Uint8Array(5)).subarray())
    closed.stream.end(new Error('after close'))
    expect(closed.frames).toEqual([])
    expect(closed.errors).toEqual([])
  })
})

describe('gossipsub reading through FrameReader on real hosts', () => {
  const hosts: Host[] = []
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map(async (h) => { await h.stop() }))
  })

  async function host (): Promise<Host> {
    const h = await createHost({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], allow: [LOOPBACK_NETWORK], dht: false })
    hosts.push(h)
    h.services.pubsub.subscribe(TOPIC_OFFERS)
    return h
  }

  interface Internals { streamsInbound: Map<string, unknown>, handlePeerReadStreamError: (err: unknown, peer: unknown) => void }

  it('delivers messages, and drops a peer whose frame is over the router limit with InvalidDataLengthError', async () => {
    const a = await host()
    const b = await host()
    const internals = b.services.pubsub as unknown as Internals
    const dropped: string[] = []
    const original = internals.handlePeerReadStreamError
    internals.handlePeerReadStreamError = (err, peer) => {
      dropped.push((err as Error).name)
      original.call(internals, err, peer)
    }
    const got: Uint8Array[] = []
    b.services.pubsub.addEventListener('message', (evt: CustomEvent<Message>) => { got.push(evt.detail.data) })
    await a.dial(b.getMultiaddrs()[0])
    const id = a.peerId.toString()
    await waitFor(() => internals.streamsInbound.get(id) instanceof FrameReader, 10_000, "a's inbound stream read by a FrameReader")
    await waitFor(() => b.services.pubsub.getSubscribers(TOPIC_OFFERS).length === 1 && a.services.pubsub.getSubscribers(TOPIC_OFFERS).length === 1, 10_000, 'subscriptions both ways')

    const data = new Uint8Array(300).fill(9)
    await a.services.pubsub.publish(TOPIC_OFFERS, data)
    await waitFor(() => got.length === 1, 10_000, 'the message at b')
    expect(Uint8Array.from(got[0])).toEqual(data)
    expect(dropped).toEqual([])

    // a's second gossipsub stream replaces the first, and announces a frame one byte over the limit
    const protocol = (internals.streamsInbound.get(id) as FrameReader).rawStream.protocol
    const raw = await a.dialProtocol(b.getMultiaddrs()[0], protocol)
    raw.send(Uint8Array.from(encodeVarint(MAX_GOSSIP_RPC_BYTES + 1)))
    await waitFor(() => dropped.length > 0, 10_000, 'the drop of a')
    expect(dropped).toEqual(['InvalidDataLengthError'])
  })
})

function encodeVarint (n: number): number[] {
  const out: number[] = []
  while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128) }
  out.push(n)
  return out
}
