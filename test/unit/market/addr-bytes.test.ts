import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromMultihash, peerIdFromPrivateKey } from '@libp2p/peer-id'
import { generateKeyPair } from '@libp2p/crypto/keys'
import * as Digest from 'multiformats/hashes/digest'
import { ED25519_PEER_ID_BYTES, isEd25519PeerIdBytes, isMultiaddrBytes } from '../../../src/market/validation/addr-bytes.js'

/** runs per property; BAZAAR_FUZZ_RUNS raises it for a longer campaign */
const RUNS = Number(process.env.BAZAAR_FUZZ_RUNS ?? 400)

/** what libp2p's own parser says of the bytes */
function libp2pParses (bytes: Uint8Array): boolean {
  try {
    multiaddr(bytes)
    return true
  } catch {
    return false
  }
}

function libp2pEd25519 (bytes: Uint8Array): boolean {
  try {
    return peerIdFromMultihash(Digest.decode(bytes)).type === 'Ed25519'
  } catch {
    return false
  }
}

const HONEST = [
  '/ip4/127.0.0.1/tcp/4001',
  '/ip4/10.0.0.7/tcp/0',
  '/ip6/::1/tcp/4001',
  '/ip6/2001:db8::1/udp/4001/quic-v1',
  '/ip4/1.2.3.4/udp/9090/webrtc-direct/certhash/uEiDDq4_xNyDorZBH3TlGazyJdOWSwvo4PUo5YHFMrvDE8g',
  '/dns4/supplier.example.com/tcp/443/wss',
  '/dns/example.org/tcp/80/http',
  '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo',
  '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo/p2p-circuit',
  '/ip6zone/eth0/ip6/fe80::1/tcp/1',
  '/unix/%2Ftmp%2Fbazaar.sock',
  '/memory/abc'
]

describe('isMultiaddrBytes', () => {
  it.each(HONEST)('accepts %s as libp2p writes it', (s) => {
    const bytes = multiaddr(s).bytes
    expect(isMultiaddrBytes(bytes)).toBe(true)
  })

  it.each([
    ['empty', []],
    ['unknown code', [0x7f]],
    ['ip4 cut short', [0x04, 127, 0, 0]],
    ['ip4 then tcp cut short', [0x04, 127, 0, 0, 1, 0x06, 0x0f]],
    ['a length-prefixed value of length 0', [0x35, 0x00]],
    ['a length running past the end', [0x35, 0x05, 0x61, 0x62]],
    ['a code varint that never ends', [0x80, 0x80, 0x80, 0x80]],
    ['a code varint not minimal', [0x84, 0x00, 127, 0, 0, 1]],
    ['trailing byte', [0x04, 127, 0, 0, 1, 0x06]]
  ])('refuses %s', (_name, bytes) => {
    expect(isMultiaddrBytes(Uint8Array.from(bytes))).toBe(false)
  })

  it('accepts nothing libp2p cannot parse (random and mutated bytes)', () => {
    const honest = HONEST.map((s) => multiaddr(s).bytes)
    const mutated = fc.tuple(fc.constantFrom(...honest), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat({ max: 8 }))
      .map(([b, flips, cut]) => {
        const out = Uint8Array.from(b)
        for (const [at, v] of flips) out[at % out.length] = v
        return out.subarray(0, Math.max(0, out.length - cut))
      })
    const arb = fc.oneof(fc.uint8Array({ maxLength: 64 }), mutated)
    let accepted = 0
    fc.assert(fc.property(arb, (bytes) => {
      if (isMultiaddrBytes(bytes)) {
        accepted++
        return libp2pParses(bytes)
      }
      return true
    }), { numRuns: RUNS })
    // the property saw accepted inputs, not only refusals
    expect(accepted).toBeGreaterThan(0)
  })
})

describe('isEd25519PeerIdBytes', () => {
  it('accepts the bytes of a real Ed25519 peer id, as libp2p does', async () => {
    for (let i = 0; i < 4; i++) {
      const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
      const bytes = id.toMultihash().bytes
      expect(bytes.byteLength).toBe(ED25519_PEER_ID_BYTES)
      expect(isEd25519PeerIdBytes(bytes)).toBe(true)
      expect(libp2pEd25519(bytes)).toBe(true)
    }
  })

  it('refuses a secp256k1 peer id, a truncated one and junk', async () => {
    const secp = peerIdFromPrivateKey(await generateKeyPair('secp256k1')).toMultihash().bytes
    expect(isEd25519PeerIdBytes(secp)).toBe(false)
    const ed = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toMultihash().bytes
    expect(isEd25519PeerIdBytes(ed.subarray(0, ed.length - 1))).toBe(false)
    expect(isEd25519PeerIdBytes(Uint8Array.from([...ed, 0]))).toBe(false)
    expect(isEd25519PeerIdBytes(new Uint8Array(38))).toBe(false)
  })

  it('accepts nothing libp2p refuses as an Ed25519 peer id (mutated ids)', async () => {
    const ed = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toMultihash().bytes
    const arb = fc.tuple(fc.array(fc.tuple(fc.nat({ max: 37 }), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }), fc.integer({ min: -2, max: 2 }))
      .map(([flips, resize]) => {
        const out = new Uint8Array(Math.max(0, ed.length + resize))
        out.set(ed.subarray(0, out.length))
        for (const [at, v] of flips) if (at < out.length) out[at] = v
        return out
      })
    fc.assert(fc.property(arb, (bytes) => !isEd25519PeerIdBytes(bytes) || libp2pEd25519(bytes)), { numRuns: RUNS })
  })
})
