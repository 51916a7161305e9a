import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SessionEvidence, SessionHello, type SessionGpuEvidence } from '../../../src/wire/session.js'
import { validateEvidence, validateHello } from '../../../src/protocols/session/validate.js'
import { MAX_EVIDENCE_MESSAGE_SIZE, MAX_GPU_OCSP } from '../../../src/protocols/session/constants.js'
import { fixture, haveTeeFixtures } from '../../helpers/tee-fixtures.js'
import { SessionError, SessionErrorCode } from '../../../src/protocols/session/errors.js'
import { AttestationError, AttestationErrorCode } from '../../../src/tee/errors.js'
import { MAX_SESSION_GPUS, sessionGpuNonce } from '../../../src/tee/binding.js'
import { nvidiaGpuProvider, type NvmlRunner } from '../../../src/tee/providers/nvidia-gpu.js'
import { simulatedGpuProvider } from '../../../src/tee/providers/simulated-gpu.js'

const sessionCode = (fn: () => unknown): string | undefined => {
  try { fn() } catch (err) { return err instanceof SessionError ? err.code : `untyped ${String(err)}` }
  return undefined
}
const asyncCode = async (p: Promise<unknown>): Promise<string | undefined> =>
  await p.then(() => undefined, (err: unknown) => err instanceof AttestationError ? err.code : `untyped ${String(err)}`)

const key = new Uint8Array(randomBytes(32))
const nonce = new Uint8Array(randomBytes(32))
const agreementHash = new Uint8Array(randomBytes(32))
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

describe('GPU nonces per index', () => {
  it('GPU 0 keeps the single-GPU nonce; every index gets its own; out-of-range indices are refused', () => {
    const all = Array.from({ length: MAX_SESSION_GPUS }, (_, i) => hex(sessionGpuNonce(key, nonce, agreementHash, i)))
    expect(all[0]).toBe(hex(sessionGpuNonce(key, nonce, agreementHash)))
    expect(new Set(all).size).toBe(MAX_SESSION_GPUS)
    for (const bad of [-1, MAX_SESSION_GPUS, 1.5]) {
      expect(() => sessionGpuNonce(key, nonce, agreementHash, bad)).toThrow(AttestationError)
    }
  })
})

describe('multi-GPU session messages', () => {
  const hello = { version: 1, nonce, agreementHash, wantGpu: true }

  it('a one-GPU hello keeps its bytes (gpuCount 0 is not written); gpuCount is bounded', () => {
    const one = SessionHello.encode({ ...hello, gpuCount: 0 })
    // fields 1..4 only: version, nonce, agreement hash, wantGpu
    expect(hex(one)).toBe(hex(Uint8Array.of(0x08, 1, 0x12, 32, ...nonce, 0x1a, 32, ...agreementHash, 0x20, 1)))
    expect(validateHello(SessionHello.encode({ ...hello, gpuCount: MAX_SESSION_GPUS })).gpuCount).toBe(MAX_SESSION_GPUS)
    expect(sessionCode(() => validateHello(SessionHello.encode({ ...hello, gpuCount: MAX_SESSION_GPUS + 1 })))).toBe(SessionErrorCode.MALFORMED_MESSAGE)
  })

  const base = {
    version: 1, kind: 'simulated', evidence: Uint8Array.of(1), certs: [], enclaveKey: key, nonce, agreementHash, error: '',
    gpuKind: 'simulated-gpu', gpuReport: Uint8Array.of(1), gpuCerts: [], gpuRims: [], gpuOcsp: []
  }
  const more = (index: number, over: Partial<SessionGpuEvidence> = {}): SessionGpuEvidence =>
    ({ index, kind: 'simulated-gpu', report: Uint8Array.of(2), certs: [], rims: [], ocsp: [], ...over })

  it('accepts further GPUs at distinct indices 1..15', () => {
    const m = validateEvidence(SessionEvidence.encode({ ...base, moreGpus: [more(2), more(1), more(15)] }))
    expect(m.moreGpus.map((g) => g.index)).toEqual([2, 1, 15])
  })

  it.each([
    ['further GPUs without GPU 0', { gpuKind: '', gpuReport: new Uint8Array(0), moreGpus: [more(1)] }],
    ['index 0 among the further GPUs', { moreGpus: [more(0)] }],
    ['an index past the bound', { moreGpus: [more(MAX_SESSION_GPUS)] }],
    ['a repeated index', { moreGpus: [more(1), more(1)] }],
    ['an unknown kind', { moreGpus: [more(1, { kind: 'amd-gpu' })] }],
    ['an empty report', { moreGpus: [more(1, { report: new Uint8Array(0) })] }],
    ['more entries than the bound', { moreGpus: Array.from({ length: MAX_SESSION_GPUS }, (_, i) => more(i + 1)) }],
    ['more OCSP answers than the bound', { gpuOcsp: Array.from({ length: MAX_GPU_OCSP + 1 }, () => Uint8Array.of(0x30, 0)) }],
    ['more OCSP answers than the bound for a further GPU', { moreGpus: [more(1, { ocsp: Array.from({ length: MAX_GPU_OCSP + 1 }, () => Uint8Array.of(0x30, 0)) })] }]
  ])('refuses %s with MALFORMED_MESSAGE', (_n, over) => {
    expect(sessionCode(() => validateEvidence(SessionEvidence.encode({ ...base, ...over })))).toBe(SessionErrorCode.MALFORMED_MESSAGE)
  })

  it('mutated and truncated multi-GPU evidence gets a SessionError or validates, nothing else', () => {
    const valid = SessionEvidence.encode({ ...base, moreGpus: [more(1), more(2), more(3)] })
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(valid.byteLength - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat(valid.byteLength), (edits, cut) => {
      const b = valid.slice(0, Math.max(1, cut))
      for (const [i, v] of edits) if (i < b.byteLength) b[i] = v
      try {
        const m = validateEvidence(b)
        // whatever passes keeps the bounds the renter relies on
        expect(m.moreGpus.length).toBeLessThan(MAX_SESSION_GPUS)
        expect(new Set(m.moreGpus.map((g) => g.index)).size).toBe(m.moreGpus.length)
      } catch (err) {
        expect(err).toBeInstanceOf(SessionError)
      }
    }), { numRuns: Number(process.env.BAZAAR_FUZZ_RUNS ?? 300) })
  })
})

describe('GPU providers per index', () => {
  it('NVML is asked for the index of the request, else the configured one; a bad index is typed', async () => {
    const seen: string[] = []
    const run: NvmlRunner = async (_py, args) => { seen.push(args.at(-1) ?? ''); return { stdout: 'not json' } }
    const p = nvidiaGpuProvider({ run, gpuIndex: 2 })
    await p.attest(nonce).catch(() => {})
    await p.attest(nonce, { index: 5 }).catch(() => {})
    expect(seen).toEqual(['2', '5'])
    expect(await asyncCode(p.attest(nonce, { index: 64 }))).toBe(AttestationErrorCode.MALFORMED)
  })

  it('the simulated node gives each index its own device, and none past its count', async () => {
    const p = simulatedGpuProvider({ count: 2 })
    expect(hex(p.deviceIdOf(0))).toBe(hex(p.deviceId))
    expect(hex(p.deviceIdOf(1))).not.toBe(hex(p.deviceId))
    expect((await p.attest(nonce, { index: 1 })).report.byteLength).toBeGreaterThan(0)
    expect(await asyncCode(p.attest(nonce, { index: 2 }))).toBe(AttestationErrorCode.UNAVAILABLE)
  })
})

describe.skipIf(!haveTeeFixtures)('the evidence of 16 GPUs with their RIMs and stapled OCSP answers', () => {
  it('fits under the evidence cap, with room to spare', () => {
    const report = new Uint8Array(Buffer.from(Buffer.from(fixture('nvtrust/hopperAttestationReport.txt')).toString('latin1').trim(), 'hex'))
    const chain = new Uint8Array(fixture('nvtrust/hopperCertChain.txt'))
    const rims = ['NV_GPU_DRIVER_GH100_550.90.07.xml', 'NV_GPU_VBIOS_1010_0200_882_96009F0001.xml'].map((f) => new Uint8Array(fixture(`nvtrust/${f}`)))
    // answers the size of OpenSSL's (a P-384 responder certificate included)
    const answer = new Uint8Array(readFileSync(path.resolve(__dirname, '../../fixtures/ocsp/brom-revoked.der')))
    const bytes = SessionEvidence.encode({
      version: 1, kind: 'tdx', evidence: new Uint8Array(5 * 1024), certs: [new Uint8Array(1024)], enclaveKey: key, nonce, agreementHash, error: '',
      gpuKind: 'nvidia-gpu', gpuReport: report, gpuCerts: [chain], gpuRims: rims, gpuOcsp: Array.from({ length: 9 }, () => answer),
      moreGpus: Array.from({ length: MAX_SESSION_GPUS - 1 }, (_, i) => ({ index: i + 1, kind: 'nvidia-gpu', report, certs: [chain], rims: [], ocsp: [answer, answer, answer] }))
    })
    expect(validateEvidence(bytes).moreGpus).toHaveLength(MAX_SESSION_GPUS - 1)
    expect(bytes.byteLength).toBeLessThan(MAX_EVIDENCE_MESSAGE_SIZE * 0.75)
  })
})
