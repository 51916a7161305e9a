import { afterEach, describe, expect, it } from 'vitest'
import { noise, type ICryptoInterface } from '@chainsafe/libp2p-noise'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { tcp } from '@libp2p/tcp'
import type { Libp2p, Stream } from '@libp2p/interface'
import { createLibp2p } from 'libp2p'
import { Uint8ArrayList } from 'uint8arraylist'
import { createEnclaveHost } from '../../../src/node/host.js'
import { noiseCrypto, SODIUM_AEAD_MAX_BYTES } from '../../../src/node/noise-crypto.js'
import { SODIUM, type Sodium } from '../../../src/util/sodium.js'

/**
 * Noise's AEAD through libsodium (src/node/noise-crypto.ts): RFC 8439's own test vector, the same
 * bytes as noise's default implementation in both directions at every size class, opening in place,
 * refusing a changed byte; and over TCP between a node's host and a host on noise's defaults.
 */

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'))

// RFC 8439 §2.8.2
const KEY = Uint8Array.from({ length: 32 }, (_, i) => 0x80 + i)
const NONCE = hex('07000000 40414243 44454647')
const AD = hex('50515253 c0c1c2c3 c4c5c6c7')
const PLAINTEXT = new TextEncoder().encode("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.")
const SEALED = hex(`
  d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b
  1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc
  3ff4def08e4b7a9de576d26586cec64b6116
  1ae10b594f09e26a7e902ecbd0600691`)

const bytes = (x: Uint8Array | { subarray: () => Uint8Array }): Uint8Array => Uint8Array.from(x instanceof Uint8Array ? x : x.subarray())
/** a list of chunks as noise hands it over (noise resolves its own copy of uint8arraylist) */
type NoiseBytes = Parameters<ICryptoInterface['chaCha20Poly1305Encrypt']>[0]
const list = (...parts: Uint8Array[]): NoiseBytes => new Uint8ArrayList(...parts) as unknown as NoiseBytes
const SIZES = [0, 1, 15, 16, 17, 500, 1199, 1200, 8191, SODIUM_AEAD_MAX_BYTES - 1, SODIUM_AEAD_MAX_BYTES, 65_519]

describe.runIf(SODIUM !== undefined)('noise AEAD through libsodium', () => {
  const crypto = noiseCrypto()

  it('uses libsodium under the switch, node:crypto from it, and noise\'s default with no addon', () => {
    const real = SODIUM as Sodium
    let calls = 0
    const counted: Sodium = {
      ...real,
      crypto_aead_chacha20poly1305_ietf_encrypt: (...a) => { calls++; return real.crypto_aead_chacha20poly1305_ietf_encrypt(...a) },
      crypto_aead_chacha20poly1305_ietf_decrypt: (...a) => { calls++; return real.crypto_aead_chacha20poly1305_ietf_decrypt(...a) }
    }
    const key = new Uint8Array(32).fill(9)
    const nonce = new Uint8Array(12)
    const withCount = noiseCrypto(counted)
    const small = withCount.chaCha20Poly1305Encrypt(new Uint8Array(500), nonce, new Uint8Array(0), key)
    withCount.chaCha20Poly1305Decrypt(small, nonce, new Uint8Array(0), key)
    expect(calls).toBe(2)
    const large = withCount.chaCha20Poly1305Encrypt(new Uint8Array(SODIUM_AEAD_MAX_BYTES), nonce, new Uint8Array(0), key)
    withCount.chaCha20Poly1305Decrypt(large, nonce, new Uint8Array(0), key)
    expect(calls).toBe(2)
    const without = noiseCrypto(undefined)
    expect(bytes(without.chaCha20Poly1305Encrypt(PLAINTEXT, NONCE, AD, KEY))).toEqual(SEALED)
  })

  it('seals and opens RFC 8439\'s test vector', () => {
    expect(bytes(crypto.chaCha20Poly1305Encrypt(PLAINTEXT, NONCE, AD, KEY))).toEqual(SEALED)
    expect(bytes(crypto.chaCha20Poly1305Decrypt(SEALED, NONCE, AD, KEY))).toEqual(PLAINTEXT)
  })

  it('gives the same bytes as noise\'s default at every size, either way, lists included', () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i * 7)
    for (const size of SIZES) {
      const nonce = new Uint8Array(12)
      nonce[4] = size & 0xff
      const m = Uint8Array.from({ length: size }, (_, i) => (i * 31 + size) & 0xff)
      const ours = bytes(crypto.chaCha20Poly1305Encrypt(m, nonce, new Uint8Array(0), key))
      const theirs = bytes(defaultCrypto.chaCha20Poly1305Encrypt(m, nonce, new Uint8Array(0), key))
      expect(ours, `sealed ${size} bytes`).toEqual(theirs)
      expect(bytes(crypto.chaCha20Poly1305Decrypt(theirs, nonce, new Uint8Array(0), key)), `opened ${size} bytes`).toEqual(m)
      expect(bytes(defaultCrypto.chaCha20Poly1305Decrypt(ours, nonce, new Uint8Array(0), key))).toEqual(m)
      // noise hands over lists when a frame arrived in several chunks
      const cut = Math.floor(size / 3)
      expect(bytes(crypto.chaCha20Poly1305Encrypt(list(m.subarray(0, cut), m.subarray(cut)), nonce, new Uint8Array(0), key))).toEqual(theirs)
      const split = Math.floor(theirs.byteLength / 2)
      expect(bytes(crypto.chaCha20Poly1305Decrypt(list(theirs.subarray(0, split), theirs.subarray(split)), nonce, new Uint8Array(0), key))).toEqual(m)
    }
  })

  it('opens in place into the dst noise hands over, and never into one that overlaps elsewhere', () => {
    const frame = Uint8Array.from(SEALED)
    const dst = frame.subarray(0, frame.byteLength - 16)
    const opened = crypto.chaCha20Poly1305Decrypt(frame, NONCE, AD, KEY, dst)
    expect(opened).toBe(dst)
    expect(bytes(dst)).toEqual(PLAINTEXT)
    // a dst starting one byte in would be overwritten ahead of the bytes still to be read
    const again = new Uint8Array(SEALED.byteLength + 1)
    again.set(SEALED)
    const shifted = again.subarray(1, 1 + PLAINTEXT.byteLength)
    const out = crypto.chaCha20Poly1305Decrypt(again.subarray(0, SEALED.byteLength), NONCE, AD, KEY, shifted)
    expect(out).not.toBe(shifted)
    expect(bytes(out)).toEqual(PLAINTEXT)
  })

  it('refuses a changed byte, a changed nonce or data and a frame shorter than its tag', () => {
    for (const at of [0, 57, SEALED.byteLength - 1]) {
      const bad = Uint8Array.from(SEALED)
      bad[at] ^= 1
      expect(() => crypto.chaCha20Poly1305Decrypt(bad, NONCE, AD, KEY)).toThrow(/Invalid chacha20poly1305 decryption/)
    }
    expect(() => crypto.chaCha20Poly1305Decrypt(SEALED, hex('070000004041424344454648'), AD, KEY)).toThrow(/Invalid/)
    expect(() => crypto.chaCha20Poly1305Decrypt(SEALED, NONCE, new Uint8Array(0), KEY)).toThrow(/Invalid/)
    expect(() => crypto.chaCha20Poly1305Decrypt(new Uint8Array(15), NONCE, AD, KEY)).toThrow(/Invalid/)
  })
})

describe('noise between a node\'s host and one on noise\'s defaults', () => {
  const PROTOCOL = '/bazaar-test/echo/1.0.0'
  const stops: Array<() => Promise<void>> = []
  afterEach(async () => { await Promise.all(stops.splice(0).map(async (stop) => { await stop() })) })

  async function echoThrough (stream: Stream, data: Uint8Array): Promise<Uint8Array> {
    const back: Uint8Array[] = []
    const reading = (async () => { for await (const c of stream) back.push(c.subarray()) })()
    // writes of 37 bytes to about 90 KB: frames on both sides of the switch to node:crypto
    for (let at = 0, i = 0; at < data.byteLength; i++) {
      const end = at + [37, 700, 5000, 20_000, 90_000][i % 5]
      if (!stream.send(data.subarray(at, end))) await stream.onDrain()
      at = end
    }
    await stream.close()
    await reading
    return Uint8Array.from(Buffer.concat(back))
  }

  it('carries small and large frames both ways', async () => {
    const node = await createEnclaveHost({ privateKey: await generateKeyPair('Ed25519') })
    const plainHost = async (): Promise<Libp2p> => await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()]
    })
    const dialler = await plainHost()
    const listener = await plainHost()
    stops.push(async () => { await node.stop() }, async () => { await dialler.stop() }, async () => { await listener.stop() })
    const echo = async (stream: Stream): Promise<void> => {
      for await (const c of stream) if (!stream.send(c)) await stream.onDrain()
      await stream.close()
    }
    await node.handle(PROTOCOL, echo)
    await listener.handle(PROTOCOL, echo)
    const data = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 131 + (i >>> 9)) & 0xff)
    // the node answers noise's handshake, then the node starts it
    expect(await echoThrough(await dialler.dialProtocol(node.getMultiaddrs()[0], PROTOCOL), data)).toEqual(data)
    expect(await echoThrough(await node.dialProtocol(listener.getMultiaddrs()[0], PROTOCOL), data)).toEqual(data)
  })
})
