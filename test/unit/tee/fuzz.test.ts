import fc from 'fast-check'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { AttestationError } from '../../../src/tee/errors.js'
import { verifyEvidence } from '../../../src/tee/verify.js'
import { parseSnpCertTable } from '../../../src/tee/snp/certs.js'
import { loadCertificates } from '../../../src/tee/x509/load.js'
import { validateEvidence, validateHello, validateVerdict } from '../../../src/protocols/session/validate.js'
import { SessionError } from '../../../src/protocols/session/errors.js'
import type { TeeKind } from '../../../src/tee/types.js'
import { parseGpuReport } from '../../../src/tee/nvidia/parse-report.js'
import { parseGpuOpaqueData } from '../../../src/tee/nvidia/parse-opaque.js'
import { verifyGpuEvidence } from '../../../src/tee/gpu-verify.js'
import { loadCrls } from '../../../src/tee/x509/crl.js'
import { parseOcspResponse } from '../../../src/tee/x509/ocsp.js'
import { fixture, haveTeeFixtures, manifest } from '../../helpers/tee-fixtures.js'

/** Runs fn; anything thrown must be of the expected typed class (never a TypeError, RangeError ...). */
function onlyTyped (fn: () => unknown, cls: new (...a: any[]) => Error): void {
  try { fn() } catch (err) {
    if (!(err instanceof cls)) throw new Error(`untyped ${(err as Error)?.name}: ${(err as Error)?.message}`)
  }
}

/** runs per property: the default, or BAZAAR_FUZZ_RUNS for a longer campaign */
const runs = (n: number): number => Number(process.env.BAZAAR_FUZZ_RUNS ?? n)

const mutation = (len: number) => fc.record({
  flips: fc.array(fc.record({ at: fc.nat({ max: len - 1 }), xor: fc.integer({ min: 1, max: 255 }) }), { maxLength: 4 }),
  cut: fc.option(fc.nat({ max: len }), { nil: undefined })
})

function mutate (bytes: Uint8Array, m: { flips: Array<{ at: number, xor: number }>, cut?: number }): Uint8Array {
  const t = bytes.slice(0, m.cut ?? bytes.byteLength)
  for (const f of m.flips) if (f.at < t.byteLength) t[f.at] ^= f.xor
  return t
}

describe('untrusted input gets a typed rejection, never a crash', () => {
  it.each(['sev-snp', 'tdx', 'simulated'] as const)('random bytes as %s evidence', (kind) => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 6000 }), (b) => onlyTyped(() => verifyEvidence({ kind, evidence: b, certs: [] }), AttestationError)), { numRuns: runs(300) })
  })

  it.skipIf(!haveTeeFixtures)('mutated real SNP reports, certificates and TDX quotes', () => {
    const m = manifest()
    const snp = m.snp[0]
    const report = fixture(snp.file)
    const vek = fixture(snp.vek)
    const tdx = fixture(m.tdx.find((e) => e.role === 'DEV')!.file)
    fc.assert(fc.property(mutation(report.byteLength), mutation(vek.byteLength), (mr, mv) => {
      onlyTyped(() => verifyEvidence({ kind: 'sev-snp', evidence: mutate(report, mr), certs: [mutate(vek, mv)] }, { at: new Date(snp.pinAt) }), AttestationError)
    }), { numRuns: runs(200) })
    fc.assert(fc.property(mutation(tdx.byteLength), (mq) => {
      onlyTyped(() => verifyEvidence({ kind: 'tdx', evidence: mutate(tdx, mq), certs: [] }), AttestationError)
    }), { numRuns: runs(300) })
  })

  it.skipIf(!haveTeeFixtures)('a PCK certificate that parses but whose public key does not decode is MALFORMED (found by the mutation run)', () => {
    const tdx = fixture(manifest().tdx.find((e) => e.role === 'DEV')!.file).slice()
    tdx[1738] ^= 1 // a bit of the leaf's subjectPublicKeyInfo in the quote's PEM chain
    let code: string | undefined
    try { verifyEvidence({ kind: 'tdx', evidence: tdx, certs: [] }) } catch (err) { code = err instanceof AttestationError ? err.code : `untyped ${String(err)}` }
    expect(code).toBe('MALFORMED')
  })

  it.skipIf(!haveTeeFixtures)('mutated real GPU reports, their opaque data and device chain, and Intel CRLs', () => {
    const report = new Uint8Array(Buffer.from(Buffer.from(fixture('nvtrust/hopperAttestationReport.txt')).toString('latin1').trim(), 'hex'))
    const certs = fixture('nvtrust/hopperCertChain.txt')
    const rims = [fixture('nvtrust/NV_GPU_DRIVER_GH100_550.90.07.xml'), fixture('nvtrust/NV_GPU_VBIOS_1010_0200_882_96009F0001.xml')]
    const opaque = parseGpuReport(report).opaque
    fc.assert(fc.property(mutation(report.byteLength), (m) => { onlyTyped(() => parseGpuReport(mutate(report, m)), AttestationError) }), { numRuns: runs(500) })
    fc.assert(fc.property(mutation(opaque.byteLength), (m) => { onlyTyped(() => parseGpuOpaqueData(mutate(opaque, m)), AttestationError) }), { numRuns: runs(500) })
    fc.assert(fc.property(mutation(report.byteLength), mutation(certs.byteLength), (mr, mc) => {
      onlyTyped(() => verifyGpuEvidence({ kind: 'nvidia-gpu', report: mutate(report, mr), certs: [mutate(certs, mc)], rims }), AttestationError)
    }), { numRuns: runs(30) })
    for (const file of ['go-tdx-guest/pckcrl', 'go-tdx-guest/rootcrl.der']) {
      const crl = fixture(file)
      fc.assert(fc.property(mutation(crl.byteLength), (m) => { onlyTyped(() => loadCrls(mutate(crl, m)), AttestationError) }), { numRuns: runs(300) })
    }
  })

  it('mutated OCSP answers (good, revoked, unknown, by a delegated responder)', () => {
    for (const name of ['brom-good', 'brom-revoked', 'brom-unknown', 'ica-good', 'prov-good']) {
      const der = new Uint8Array(readFileSync(new URL(`../../fixtures/ocsp/${name}.der`, import.meta.url)))
      fc.assert(fc.property(mutation(der.byteLength), (m) => { onlyTyped(() => parseOcspResponse(mutate(der, m)), AttestationError) }), { numRuns: runs(200) })
    }
  })

  it('random certificate blobs and tables', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 3000 }), (b) => {
      onlyTyped(() => loadCertificates(b), AttestationError)
      onlyTyped(() => parseSnpCertTable(b), AttestationError)
      onlyTyped(() => loadCertificates(Uint8Array.of(0x30, ...b)), AttestationError)
    }), { numRuns: runs(300) })
  })

  it('random session messages', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
      onlyTyped(() => validateHello(b), SessionError)
      onlyTyped(() => validateEvidence(b), SessionError)
      onlyTyped(() => validateVerdict(b), SessionError)
    }), { numRuns: runs(500) })
  })

  it('kinds outside the known set are refused with a code', () => {
    onlyTyped(() => verifyEvidence({ kind: 'sgx' as TeeKind, evidence: new Uint8Array(10), certs: [] }), AttestationError)
    expect(() => verifyEvidence({ kind: 'sgx' as TeeKind, evidence: new Uint8Array(10), certs: [] })).toThrow(AttestationError)
  })
})
