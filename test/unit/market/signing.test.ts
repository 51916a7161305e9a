import { describe, expect, it } from 'vitest'
import { CertCache, MessageSigner, DOMAIN, ed25519Verify, signedBytes } from '../../../src/market/signing/index.js'
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

  it('stays bounded when flooded with certificates', async () => {
    const alice = await devPair('Alice')
    const cache = new CertCache(3)
    for (let i = 0; i < 6; i++) {
      expect(cache.check(MessageSigner.create(alice, { now: NOW }).cert, NOW).verdict).toBe('ok')
    }
    expect(cache.size).toBe(3)
  })
})
