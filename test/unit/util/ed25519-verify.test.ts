import { describe, expect, it } from 'vitest'
import {
  ED25519_BACKEND, ed25519Generate, ed25519PrivateKeyObject, ed25519PublicKeyObject, ed25519Sign, ed25519Verify, ed25519VerifyRaw
} from '../../../src/util/ed25519.js'

// the order of the ed25519 group, little-endian: S + L is the same scalar, written non-canonically
const L = 2n ** 252n + 27742317777372353535851937790883648493n

function addL (sig: Uint8Array): Uint8Array {
  let s = 0n
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i])
  s += L
  const out = sig.slice()
  for (let i = 32; i < 64; i++) { out[i] = Number(s & 0xffn); s >>= 8n }
  return out
}

const flip = (b: Uint8Array, at: number): Uint8Array => { const t = b.slice(); t[at] ^= 1; return t }

describe('ed25519VerifyRaw (market messages)', () => {
  const { seed, publicKey } = ed25519Generate()
  const priv = ed25519PrivateKeyObject(seed)
  const key = ed25519PublicKeyObject(publicKey)
  const msg = new TextEncoder().encode('bazaar-offer-v1\u0000an offer body')
  const sig = ed25519Sign(priv, msg)
  const identity = new Uint8Array(32)
  identity[0] = 1
  const identitySig = new Uint8Array(64)
  identitySig[0] = 1

  // [message, public key, signature, expected verdict]
  const cases: Array<[string, Uint8Array, Uint8Array, Uint8Array, boolean]> = [
    ['a valid signature', msg, publicKey, sig, true],
    ['a flipped bit in the message', flip(msg, 3), publicKey, sig, false],
    ['a flipped bit in R', msg, publicKey, flip(sig, 5), false],
    ['a flipped bit in S', msg, publicKey, flip(sig, 40), false],
    ['S + L in place of S (not canonical)', msg, publicKey, addL(sig), false],
    ['a truncated signature', msg, publicKey, sig.subarray(0, 63), false],
    ['the identity as key, R the identity and S zero', msg, identity, identitySig, false]
  ]

  it.each(cases)('%s', (_, m, pk, s, expected) => {
    const ko = pk === publicKey ? key : ed25519PublicKeyObject(pk)
    expect(ed25519VerifyRaw(pk, ko, m, s)).toBe(expected)
    // the same verdict as node:crypto, the verifier of the other signatures and the fallback
    expect(ed25519Verify(ko, m, s)).toBe(expected)
  })

  it('refuses a key of the wrong length without throwing', () => {
    expect(ed25519VerifyRaw(publicKey.subarray(0, 31), key, msg, sig)).toBe(false)
  })

  it('names its implementation', () => {
    // sodium-native ships prebuilt addons for linux, macOS and Windows on x64 and arm64
    expect(['libsodium', 'node:crypto']).toContain(ED25519_BACKEND.name)
    expect(ED25519_BACKEND.sodiumPath != null).toBe(ED25519_BACKEND.name === 'libsodium')
  })
})
