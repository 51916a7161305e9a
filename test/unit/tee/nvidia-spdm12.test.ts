import { randomBytes } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { AttestationError, AttestationErrorCode } from '../../../src/tee/errors.js'
import { verifyGpuReport } from '../../../src/tee/nvidia/verify-report.js'
import { verifyGpuEvidence } from '../../../src/tee/gpu-verify.js'
import { parseGpuReport } from '../../../src/tee/nvidia/parse-report.js'
import { spdmMeasurementsSigningPrefix, spdmMeasurementsSignatureValid } from '../../../src/tee/nvidia/spdm-signing.js'
import { loadCertificates } from '../../../src/tee/x509/load.js'
import { buildSpdmReport, makeGpuPki, PKI_AT, type TestGpuPki } from '../../helpers/spdm-gpu.js'
import { fixture, haveTeeFixtures } from '../../helpers/tee-fixtures.js'

const codeOf = (fn: () => unknown): string | undefined => {
  try { fn() } catch (err) { return err instanceof AttestationError ? err.code : `untyped ${String(err)}` }
  return undefined
}

/**
 * SPDM 1.2 and 1.3 MEASUREMENTS signatures (combined_spdm_prefix ‖ SHA-384(L1/L2)), on reports and a
 * P-384 device chain made by the test: no NVIDIA sample of either version exists.
 */
describe('SPDM 1.2+ measurement signing (self-made reports)', () => {
  let pki: TestGpuPki
  const nonce = new Uint8Array(randomBytes(32))
  beforeAll(async () => { pki = await makeGpuPki() })
  const verify = (bytes: Uint8Array): ReturnType<typeof verifyGpuReport> =>
    verifyGpuReport(bytes, { certs: loadCertificates(pki.chainPem), deviceRoots: [pki.root], at: PKI_AT, nonce })

  it('the signing prefix is 4 version strings, zero padding and the measurements context: 100 bytes', () => {
    const p = Buffer.from(spdmMeasurementsSigningPrefix(0x12))
    expect(p.byteLength).toBe(100)
    expect(p.subarray(0, 64).toString('latin1')).toBe('dmtf-spdm-v1.2.*'.repeat(4))
    expect([...p.subarray(64, 70)]).toEqual([0, 0, 0, 0, 0, 0])
    expect(p.subarray(70).toString('latin1')).toBe('responder-measurements signing')
    expect(Buffer.from(spdmMeasurementsSigningPrefix(0x13)).subarray(0, 16).toString('latin1')).toBe('dmtf-spdm-v1.3.*')
    expect(codeOf(() => spdmMeasurementsSigningPrefix(0x11))).toBe(AttestationErrorCode.UNSUPPORTED_VERSION)
  })

  for (const version of [0x12, 0x13]) {
    describe(`SPDM 1.${version & 0xf}`, () => {
      it('verifies, chain to the test root included, with its fields read', () => {
        const v = verify(buildSpdmReport({ version, nonce, key: pki.leafKey }))
        expect(v.report.spdmVersion).toBe(version)
        expect(v.report.blocks.map((b) => b.index)).toEqual([1, 2])
        expect(v.opaque.driverVersion).toBe('570.124.06')
        expect(v.opaque.vbiosVersion).toBe('97.00.88.00.0F')
        expect(v.model).toBe('GB100')
        expect(v.ccMode).toBe('spt')
        expect(v.chain).toEqual(['GB100 A01 GSP FMC LF', 'Test GPU CA', 'Test GPU Root'])
        expect(v.nonceChecked).toBe(true)
      })

      it('every flipped byte of the signed part, and of the signature, fails', () => {
        const bytes = buildSpdmReport({ version, nonce, key: pki.leafKey })
        const leafKey = pki.leaf.publicKey
        for (let i = 0; i < bytes.byteLength; i++) {
          const bad = bytes.slice()
          bad[i] ^= 0x01
          // a flip may break the layout first (a typed refusal); when it parses, the signature must fail
          let report
          try { report = parseGpuReport(bad) } catch (err) { expect(err).toBeInstanceOf(AttestationError); continue }
          expect(spdmMeasurementsSignatureValid(report, leafKey), `byte ${i}`).toBe(false)
        }
        const last = bytes.slice()
        last[last.byteLength - 1] ^= 0x80
        expect(codeOf(() => verify(last))).toBe(AttestationErrorCode.SIGNATURE_INVALID)
      })

      it('signed by SPDM 1.1 rules (no prefix), it fails', () => {
        expect(codeOf(() => verify(buildSpdmReport({ version, nonce, key: pki.leafKey, signAs: 0x11 })))).toBe(AttestationErrorCode.SIGNATURE_INVALID)
      })

      it('signed with the other 1.x prefix, it fails', () => {
        const other = version === 0x12 ? 0x13 : 0x12
        expect(codeOf(() => verify(buildSpdmReport({ version, nonce, key: pki.leafKey, signAs: other })))).toBe(AttestationErrorCode.SIGNATURE_INVALID)
      })

      it('with a VCA the signer did not include, it fails; with the one it did, it verifies', () => {
        const report = parseGpuReport(buildSpdmReport({ version, nonce, key: pki.leafKey }))
        expect(spdmMeasurementsSignatureValid(report, pki.leaf.publicKey)).toBe(true)
        expect(spdmMeasurementsSignatureValid(report, pki.leaf.publicKey, new Uint8Array([version, 0x04, 0, 0]))).toBe(false)
      })
    })
  }

  it('an SPDM 1.1 report signed by 1.2 rules fails; signed by 1.1 rules it verifies', () => {
    expect(codeOf(() => verify(buildSpdmReport({ version: 0x11, nonce, key: pki.leafKey, signAs: 0x12 })))).toBe(AttestationErrorCode.SIGNATURE_INVALID)
    expect(verify(buildSpdmReport({ version: 0x11, nonce, key: pki.leafKey })).report.spdmVersion).toBe(0x11)
  })

  it('a self-made chain is refused under the pinned NVIDIA root, and a wrong nonce is refused', () => {
    const bytes = buildSpdmReport({ version: 0x12, nonce, key: pki.leafKey })
    expect(codeOf(() => verifyGpuReport(bytes, { certs: loadCertificates(pki.chainPem), at: PKI_AT }))).toBe(AttestationErrorCode.CHAIN_INVALID)
    expect(codeOf(() => verifyGpuReport(bytes, { certs: loadCertificates(pki.chainPem), deviceRoots: [pki.root], at: PKI_AT, nonce: new Uint8Array(32) }))).toBe(AttestationErrorCode.REPORT_DATA_MISMATCH)
  })

  it('a GPU is known by its device certificate, not its per-boot attestation key: a reset GPU is the same GPU, another GPU is another', async () => {
    const id = (chainPem: Uint8Array, key: typeof pki.leafKey, root = pki.root): string =>
      verifyGpuEvidence({ kind: 'nvidia-gpu', report: buildSpdmReport({ version: 0x12, nonce, key }), certs: [chainPem], rims: [] }, { deviceRoots: [root], at: PKI_AT, nonce }).deviceId
    const before = id(pki.chainPem, pki.leafKey)
    const reset = await pki.reissueLeaf()
    expect(reset.leaf.fingerprint256).not.toBe(pki.leaf.fingerprint256)
    expect(id(reset.chainPem, reset.leafKey)).toBe(before)
    expect(before).not.toBe(pki.leaf.fingerprint256.replace(/:/g, '').toLowerCase())
    const other = await makeGpuPki('Other GPU')
    expect(id(other.chainPem, other.leafKey, other.root)).not.toBe(before)
  })

  it.skipIf(!haveTeeFixtures)('the real H100 (SPDM 1.1) sample still verifies; its identity is its BROM certificate', () => {
    const bytes = new Uint8Array(Buffer.from(Buffer.from(fixture('nvtrust/hopperAttestationReport.txt')).toString('latin1').trim(), 'hex'))
    const certs = loadCertificates(fixture('nvtrust/hopperCertChain.txt'))
    const v = verifyGpuReport(bytes, { certs, at: new Date('2024-07-01T00:00:00Z') })
    expect(v.report.spdmVersion).toBe(0x11)
    expect(v.model).toBe('GH100')
    // the chip's own certificate, below the alias leaf: "GH100 A01 GSP BROM", its serial the chip's
    expect(v.deviceCert.subject).toMatch(/CN=GH100 A01 GSP BROM/)
    expect(v.deviceCert.fingerprint256).toBe(certs[1]!.fingerprint256)
  })
})
