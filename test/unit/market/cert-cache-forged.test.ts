import { describe, expect, it, vi } from 'vitest'

/** every sr25519 verification the certificate cache runs, counted (the real check runs) */
const calls = vi.hoisted(() => ({ n: 0 }))
vi.mock('../../../src/util/sr25519.js', async (original) => {
  const m = await original<typeof import('../../../src/util/sr25519.js')>()
  return { ...m, sr25519Verify: (...a: Parameters<typeof m.sr25519Verify>) => { calls.n++; return m.sr25519Verify(...a) } }
})

const { CertCache, MessageSigner } = await import('../../../src/market/signing/index.js')
const { devPair } = await import('../../helpers/keys.js')

const NOW = Date.UTC(2026, 0, 1)

describe('certificate cache and forged certificates', () => {
  it('runs sr25519 once for a forged certificate however many messages carry it, and still accepts the good one its signature came from', async () => {
    const alice = await devPair('Alice')
    const good = MessageSigner.create(alice, { now: NOW }).cert
    // the good certificate's signature over a longer life than the hotkey signed
    const forged = { ...good, notAfter: good.notAfter + 1n }
    const cache = new CertCache()
    calls.n = 0
    for (let i = 0; i < 400; i++) expect(cache.check(forged, NOW).verdict).toBe('bad-signature')
    expect(calls.n).toBe(1)
    expect(cache.check(good, NOW).verdict).toBe('ok')
    expect(calls.n).toBe(2)
  })
})
