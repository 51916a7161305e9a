import { describe, expect, it } from 'vitest'
import { AttestationErrorCode } from '../../../src/tee/errors.js'
import { checkGpuPolicy, compareVersions, type AttestationPolicy } from '../../../src/tee/policy.js'
import { verifyGpuEvidence } from '../../../src/tee/gpu-verify.js'
import { simulatedGpuProvider } from '../../../src/tee/providers/simulated-gpu.js'
import { nvidiaGpuProvider, type NvmlRunner } from '../../../src/tee/providers/nvidia-gpu.js'
import { parseSimulatedGpuEvidence } from '../../../src/tee/simulated/gpu-format.js'
import type { VerifiedGpuEvidence } from '../../../src/tee/types.js'
import { ManualClock } from '../../../src/util/clock.js'
import { fixture, haveTeeFixtures } from '../../helpers/tee-fixtures.js'

const codeOf = (fn: () => unknown): string | undefined => {
  try { fn() } catch (err) { return (err as { code?: string }).code }
  return undefined
}
const asyncCodeOf = async (p: Promise<unknown>): Promise<string | undefined> => {
  try { await p } catch (err) { return (err as { code?: string }).code }
  return undefined
}

const gpu = (over: Partial<VerifiedGpuEvidence> = {}): VerifiedGpuEvidence => ({
  kind: 'nvidia-gpu', nonce: new Uint8Array(32), model: 'GH100', driverVersion: '550.90.07', vbiosVersion: '96.00.9F.00.01',
  ccMode: 'unreported', measurementsMatched: true, deviceId: 'ab', fields: {}, chain: [], ...over
})
const base: AttestationPolicy = { kinds: ['sev-snp'], maxEvidenceAgeMs: 60_000 }
const ctx = { now: 1_000_000, requestedAt: 999_000 }

describe('GPU policy', () => {
  it('compares driver versions as decimal and VBIOS versions as hexadecimal parts', () => {
    expect(compareVersions('550.90.07', '550.54.15', 10)).toBe(1)
    expect(compareVersions('535.0', '535', 10)).toBe(0)
    expect(compareVersions('96.00.5E.00.01', '96.00.9F.00.01', 16)).toBe(-1)
    expect(compareVersions('x', '1', 10)).toBe(-1)
  })

  it.each([
    ['off ignores absence', { mode: 'off' }, undefined, undefined],
    ['required refuses absence', { mode: 'required' }, undefined, AttestationErrorCode.GPU_EVIDENCE_MISSING],
    ['optional accepts absence', { mode: 'optional' }, undefined, undefined],
    ['valid nvidia evidence', { mode: 'required' }, gpu(), undefined],
    ['unmatched measurements', { mode: 'required' }, gpu({ measurementsMatched: false }), AttestationErrorCode.GPU_MEASUREMENT_MISMATCH],
    ['unmatched measurements allowed', { mode: 'required', requireRimMatch: false }, gpu({ measurementsMatched: false }), undefined],
    ['exact driver list', { mode: 'required', driverVersions: ['535.104.05'] }, gpu(), AttestationErrorCode.GPU_VERSION_REFUSED],
    ['driver minimum met', { mode: 'required', minDriverVersion: '550.54.15' }, gpu(), undefined],
    ['driver minimum missed', { mode: 'required', minDriverVersion: '560' }, gpu(), AttestationErrorCode.GPU_VERSION_REFUSED],
    ['VBIOS list (case-insensitive)', { mode: 'required', vbiosVersions: ['96.00.9f.00.01'] }, gpu(), undefined],
    ['VBIOS minimum missed', { mode: 'required', minVbiosVersion: '96.00.A0.00.00' }, gpu(), AttestationErrorCode.GPU_VERSION_REFUSED],
    ['simulated is judged as simulated before its CC claim', { mode: 'optional' }, gpu({ kind: 'simulated-gpu', ccMode: 'off' }), AttestationErrorCode.SIMULATED_REFUSED],
    ['simulated refused by default', { mode: 'required' }, gpu({ kind: 'simulated-gpu', ccMode: 'on', producedAt: ctx.now }), AttestationErrorCode.SIMULATED_REFUSED]
  ] as const)('%s', (_n, g, v, code) => {
    expect(codeOf(() => checkGpuPolicy(v, { ...base, gpu: g }, ctx))).toBe(code)
  })

  it('simulated evidence when allowed: CC off and age are still judged', () => {
    const allow = { ...base, allowSimulated: true, gpu: { mode: 'required' as const } }
    expect(codeOf(() => checkGpuPolicy(gpu({ kind: 'simulated-gpu', ccMode: 'on', producedAt: ctx.now - 1000 }), allow, ctx))).toBeUndefined()
    expect(codeOf(() => checkGpuPolicy(gpu({ kind: 'simulated-gpu', ccMode: 'off', producedAt: ctx.now }), allow, ctx))).toBe(AttestationErrorCode.GPU_CC_OFF)
    expect(codeOf(() => checkGpuPolicy(gpu({ kind: 'simulated-gpu', ccMode: 'on', producedAt: ctx.now - 61_000 }), allow, ctx))).toBe(AttestationErrorCode.STALE)
  })
})

describe('simulated GPU evidence', () => {
  it('round-trips its claims and refuses tampering, a wrong nonce and an untrusted signer', async () => {
    const p = simulatedGpuProvider({ clock: new ManualClock(1234), model: 'GB100' })
    const nonce = new Uint8Array(32).fill(5)
    const ev = await p.attest(nonce)
    const v = verifyGpuEvidence(ev, { nonce, simulatedKeys: [p.publicKey] })
    expect(v).toMatchObject({ kind: 'simulated-gpu', model: 'GB100', ccMode: 'on', producedAt: 1234, measurementsMatched: false })
    expect(parseSimulatedGpuEvidence(ev.report).deviceId).toEqual(p.deviceId)
    const tampered = { ...ev, report: new Uint8Array(ev.report) }
    tampered.report[30] ^= 1
    expect(codeOf(() => verifyGpuEvidence(tampered))).toBe(AttestationErrorCode.SIGNATURE_INVALID)
    expect(codeOf(() => verifyGpuEvidence(ev, { nonce: new Uint8Array(32) }))).toBe(AttestationErrorCode.REPORT_DATA_MISMATCH)
    expect(codeOf(() => verifyGpuEvidence(ev, { simulatedKeys: [new Uint8Array(32)] }))).toBe(AttestationErrorCode.CHAIN_INVALID)
    await expect(p.attest(new Uint8Array(31))).rejects.toMatchObject({ code: AttestationErrorCode.MALFORMED })
  })
})

describe('NVIDIA GPU provider (NVML helper stood in for)', () => {
  const fail = (err: object): NvmlRunner => async () => { throw Object.assign(new Error('exit'), err) }

  it('fails with UNAVAILABLE and the helper\'s reason where there is no CC-capable GPU', async () => {
    const nonce = new Uint8Array(32)
    expect(await asyncCodeOf(nvidiaGpuProvider({ run: fail({ code: 'ENOENT' }) }).attest(nonce))).toBe(AttestationErrorCode.UNAVAILABLE)
    const off = nvidiaGpuProvider({ run: fail({ code: 4, stderr: 'confidential computing is off on this system (nvidia-smi conf-compute -f)\n' }) })
    await expect(off.attest(nonce)).rejects.toThrow(/confidential computing is off/)
    expect(await asyncCodeOf(nvidiaGpuProvider({ run: async () => ({ stdout: 'not json' }) }).attest(nonce))).toBe(AttestationErrorCode.MALFORMED)
    expect(await asyncCodeOf(nvidiaGpuProvider({ run: async () => ({ stdout: JSON.stringify({ devTools: 1, report: '', chain: '' }) }) }).attest(nonce))).toBe(AttestationErrorCode.GPU_CC_OFF)
  })

  it.skipIf(!haveTeeFixtures)('returns the report, chain and RIM files; refuses a report on another nonce', async () => {
    const report = Buffer.from(Buffer.from(fixture('nvtrust/hopperAttestationReport.txt')).toString('latin1').trim(), 'hex')
    const chain = Buffer.from(fixture('nvtrust/hopperCertChain.txt'))
    const nonce = new Uint8Array(Buffer.from('931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb', 'hex'))
    const seen: string[][] = []
    const run: NvmlRunner = async (_py, args) => {
      seen.push(args)
      return { stdout: JSON.stringify({ devTools: 0, report: report.toString('base64'), chain: chain.toString('base64') }) }
    }
    const { TEE_FIXTURES } = await import('../../helpers/tee-fixtures.js')
    const rimFiles = ['NV_GPU_DRIVER_GH100_550.90.07.xml', 'NV_GPU_VBIOS_1010_0200_882_96009F0001.xml'].map((f) => `${TEE_FIXTURES}/nvtrust/${f}`)
    const ev = await nvidiaGpuProvider({ run, rimFiles, gpuIndex: 2 }).attest(nonce)
    expect(seen[0].slice(-2)).toEqual([Buffer.from(nonce).toString('hex'), '2'])
    const v = verifyGpuEvidence(ev, { nonce, at: new Date('2024-07-01T00:00:00Z') })
    expect(v).toMatchObject({ kind: 'nvidia-gpu', model: 'GH100', measurementsMatched: true })
    expect(await asyncCodeOf(nvidiaGpuProvider({ run }).attest(new Uint8Array(32)))).toBe(AttestationErrorCode.REPORT_DATA_MISMATCH)
  })
})
