import { afterEach, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { YamuxStream } from '@chainsafe/libp2p-yamux/stream'
import type { Stream } from '@libp2p/interface'
import { createEnclaveHost, type EnclaveHost } from '../../../src/node/host.js'
import { yamuxWindowRuleInstalled } from '../../../src/node/yamux-window.js'

/**
 * The half-window rule (src/node/yamux-window.ts) on two real hosts over TCP, noise and yamux:
 * small frames are read without a window update each, and a bulk transfer many windows long still
 * completes intact (the updates it needs are sent).
 */
const PROTOCOL = '/bazaar-test/window/1.0.0'

describe('yamux window updates', () => {
  const hosts: EnclaveHost[] = []
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map(async (h) => { await h.stop() }))
  })

  /** a receiver that reads a stream to its end; resolves with every byte it got */
  async function pair (): Promise<{ open: () => Promise<Stream>, received: Promise<Uint8Array> }> {
    const a = await createEnclaveHost({ privateKey: await generateKeyPair('Ed25519') })
    const b = await createEnclaveHost({ privateKey: await generateKeyPair('Ed25519') })
    hosts.push(a, b)
    let done!: (bytes: Uint8Array) => void
    const received = new Promise<Uint8Array>((resolve) => { done = resolve })
    await b.handle(PROTOCOL, async (stream) => {
      const chunks: Uint8Array[] = []
      for await (const c of stream) chunks.push(c.subarray())
      done(Buffer.concat(chunks))
      await stream.close()
    })
    return { open: async () => await a.dialProtocol(b.getMultiaddrs()[0], PROTOCOL), received }
  }

  /** window updates the sending stream receives while `fn` runs */
  async function updatesTo (stream: Stream, fn: () => Promise<void>): Promise<number> {
    const proto = YamuxStream.prototype
    const original = proto.handleWindowUpdate
    let n = 0
    proto.handleWindowUpdate = function (this: YamuxStream, frame) {
      if (this === (stream as unknown)) n++
      original.call(this, frame)
    }
    try { await fn() } finally { proto.handleWindowUpdate = original }
    return n
  }

  async function write (stream: Stream, data: Uint8Array): Promise<void> {
    if (!stream.send(data)) await stream.onDrain()
  }

  it('reads 200 small frames with no window update per frame', async () => {
    const { open, received } = await pair()
    expect(yamuxWindowRuleInstalled()).toBe(true)
    const stream = await open()
    const frame = new Uint8Array(400).fill(7)
    const updates = await updatesTo(stream, async () => {
      for (let i = 0; i < 200; i++) {
        await write(stream, frame)
        // one data frame at a time, each read by the far end before the next (without the rule,
        // each would be answered with a window update)
        await new Promise((resolve) => setImmediate(resolve))
      }
      await stream.close()
      expect((await received).byteLength).toBe(200 * 400)
    })
    // 80,000 bytes are under half the 256 KiB initial window: no update is due (the stream's
    // opening ACK may come as one)
    expect(updates).toBeLessThanOrEqual(1)
  })

  it('a transfer of many windows completes intact', async () => {
    const { open, received } = await pair()
    const stream = await open()
    const total = 4 * 1024 * 1024
    const data = new Uint8Array(total)
    for (let i = 0; i < total; i++) data[i] = (i * 31 + (i >>> 11)) & 0xff
    const updates = await updatesTo(stream, async () => {
      for (let at = 0; at < total; at += 16_384) await write(stream, data.subarray(at, at + 16_384))
      await stream.close()
      expect(Buffer.compare(await received, data)).toBe(0)
    })
    // 4 MiB through a 256 KiB window needs updates, each for half a window or more
    expect(updates).toBeGreaterThan(0)
    expect(updates).toBeLessThanOrEqual(Math.ceil(total / (128 * 1024)))
  })
})
