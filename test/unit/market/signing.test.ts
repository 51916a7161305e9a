import { describe, expect, it } from 'vitest'
import { sr25519Verify } from '@polkadot/util-crypto'
import { isReady, sr25519Verify as sr25519VerifyWasm } from '@polkadot/wasm-crypto'
import { CertCache, MessageSigner, DOMAIN, ed25519Verify, signedBytes } from '../../../src/market/signing/index.js'
import { certPayload } from '../../../src/market/signing/cert.js'
import { devPair } from '../../helpers/keys.js'

const NOW = Date.UTC(2026, 0, 1)

describe('market signing', () => {
  it('certifies a signing key and verifies messages through the cache', async () => {
    const alice = await devPair('Alice')
    const signer = MessageSigner.create(alice, { now: NOW, ttlMs: 60_000 })
    const cache = new CertCache()
    const r = cache.check(signer.cert, NOW)
    expect(r.verdict).toBe('ok')
    const body = new Uint8Array([1, 2, 3])
    const sig = signer.sign(DOMAIN.offer, body)
    expect(ed25519Verify(r.key!, signedBytes(DOMAIN.offer, body), sig)).toBe(true)
    // a signature for one domain never verifies for another
    expect(ed25519Verify(r.key!, signedBytes(DOMAIN.bid, body), sig)).toBe(false)
    expect(signer.address).toBe(alice.address)
  })

  it('refuses expired, forged and malformed certificates', async () => {
    const alice = await devPair('Alice')
    const bob = await devPair('Bob')
    const signer = MessageSigner.create(alice, { now: NOW, ttlMs: 60_000 })
    const cache = new CertCache()
    expect(cache.check(signer.cert, NOW + 60_001).verdict).toBe('expired')
    // Bob's hotkey claimed for Alice's certificate
    expect(cache.check({ ...signer.cert, hotkey: new Uint8Array(bob.publicKey) }, NOW).verdict).toBe('bad-signature')
    // a longer life than the hotkey signed
    expect(cache.check({ ...signer.cert, notAfter: signer.cert.notAfter + 1n }, NOW).verdict).toBe('bad-signature')
    expect(cache.check({ ...signer.cert, signature: new Uint8Array(10) }, NOW).verdict).toBe('malformed')
  })

  it('checks certificates with the wasm sr25519 verifier, which agrees with the pure-JS one', async () => {
    const alice = await devPair('Alice')
    // devPair awaited cryptoWaitReady, as the node's keystore does: CertCache takes the wasm path
    expect(isReady()).toBe(true)
    const c = MessageSigner.create(alice, { now: NOW }).cert
    const payload = certPayload(c.hotkey, c.signingKey, c.notAfter)
    const flipped = (b: Uint8Array, at: number): Uint8Array => { const t = b.slice(); t[at] ^= 1; return t }
    const js = (sig: Uint8Array, msg: Uint8Array): boolean => { try { return sr25519Verify(msg, sig, c.hotkey) } catch { return false } }
    // [signature, payload, verdict]: valid, R and s altered (s past the group order), another payload
    const cases: Array<[Uint8Array, Uint8Array, boolean]> = [
      [c.signature, payload, true],
      [flipped(c.signature, 2), payload, false],
      [flipped(c.signature, 40), payload, false],
      [c.signature, flipped(payload, 20), false]
    ]
    for (const [sig, msg, ok] of cases) {
      expect(sr25519VerifyWasm(sig, msg, c.hotkey)).toBe(ok)
      expect(js(sig, msg)).toBe(ok)
    }
  })

  it('stays bounded when flooded with certificates', async () => {
    const alice = await devPair('Alice')
    const cache = new CertCache(3)
    for (let i = 0; i < 6; i++) {
      expect(cache.check(MessageSigner.create(alice, { now: NOW }).cert, NOW).verdict).toBe('ok')
    }
    expect(cache.size).toBe(3)
  })
})
