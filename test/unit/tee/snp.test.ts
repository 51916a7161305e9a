import { describe, expect, it } from 'vitest'
import { AttestationErrorCode } from '../../../src/tee/errors.js'
import { toHex } from '../../../src/util/hex.js'
import { parseSnpReport } from '../../../src/tee/snp/parse.js'
import { verifySnpReport } from '../../../src/tee/snp/verify.js'
import { loadCertificates } from '../../../src/tee/x509/load.js'
import { fixture, haveTeeFixtures, manifest, type SnpManifestEntry } from '../../helpers/tee-fixtures.js'

const entries: SnpManifestEntry[] = haveTeeFixtures ? manifest().snp : []
const certsOf = (e: SnpManifestEntry) => [...loadCertificates(fixture(e.vek)), ...loadCertificates(fixture(e.chain))]

function codeOf (fn: () => unknown): string | undefined {
  try { fn() } catch (err) { return (err as { code?: string }).code }
  return undefined
}

describe.skipIf(!haveTeeFixtures)('SEV-SNP fixtures', () => {
  it('the manifest lists SNP fixtures', () => { expect(entries.length).toBeGreaterThan(0) })

  describe.each(entries.map((e) => [e.file, e] as const))('%s', (_name, e) => {
    it('parses to the manifest fields', () => {
      const r = parseSnpReport(fixture(e.file))
      const f = e.fields
      expect(r.version).toBe(f.version)
      expect(r.guestSvn).toBe(f.guest_svn)
      expect('0x' + r.policy.toString(16)).toBe(f.policy)
      expect(r.vmpl).toBe(f.vmpl)
      expect(r.signatureAlgo).toBe(f.signature_algo)
      expect(r.signingKey).toBe(f.signing_key)
      expect('0x' + r.platformInfo.toString(16)).toBe(f.platform_info)
      expect('0x' + r.reportedTcb.toString(16).padStart(16, '0')).toBe(f.reported_tcb)
      expect(r.reportedTcbParts).toEqual(f.reported_tcb_fields)
      expect('0x' + r.currentTcb.toString(16).padStart(16, '0')).toBe(f.current_tcb)
      expect('0x' + r.committedTcb.toString(16).padStart(16, '0')).toBe(f.committed_tcb)
      expect('0x' + r.launchTcb.toString(16).padStart(16, '0')).toBe(f.launch_tcb)
      expect([r.currentMajor, r.currentMinor, r.currentBuild]).toEqual([f.current_major, f.current_minor, f.current_build])
      if (r.version >= 3) {
        expect('0x' + r.cpuidFamId?.toString(16)).toBe(f.cpuid_fam_id)
        expect('0x' + r.cpuidModId?.toString(16)).toBe(f.cpuid_mod_id)
        expect('0x' + r.cpuidStep?.toString(16)).toBe(f.cpuid_step)
      }
      expect(r.launchMitVector == null ? null : '0x' + r.launchMitVector.toString(16)).toBe(f.launch_mit_vector)
      expect(r.currentMitVector == null ? null : '0x' + r.currentMitVector.toString(16)).toBe(f.current_mit_vector)
      expect(toHex(r.measurement)).toBe(f.measurement)
      expect(toHex(r.reportData)).toBe(f.report_data)
      expect(toHex(r.hostData)).toBe(f.host_data)
      expect(toHex(r.reportId)).toBe(f.report_id)
      expect(toHex(r.chipId)).toBe(f.chip_id)
    })

    it('verifies at its pinned time', () => {
      const v = verifySnpReport(fixture(e.file), { certs: certsOf(e), at: new Date(e.pinAt) })
      expect(v.product).toBe('Milan')
      expect(v.signer).toBe(e.fields.signing_key === 1 ? 'VLEK' : 'VCEK')
      expect(v.chain).toHaveLength(3)
    })

    it('verifies with only its VCEK/VLEK (ASK/ASVK and ARK are pinned)', () => {
      const v = verifySnpReport(fixture(e.file), { certs: loadCertificates(fixture(e.vek)), at: new Date(e.pinAt) })
      expect(v.chain[2]).toBe('ARK-Milan')
    })

    it('refuses every single flipped byte of the signed part, and flips in the signature', () => {
      const bytes = fixture(e.file)
      // every byte of the signed part, and bytes of both signature components
      const positions = [...Array.from({ length: 0x2a0 }, (_, i) => i), 0x2a0, 0x2a0 + 47, 0x2a0 + 72, 0x2a0 + 119]
      for (const p of positions) {
        const t = bytes.slice()
        t[p] ^= 0x01
        const code = codeOf(() => verifySnpReport(t, { certs: certsOf(e), at: new Date(e.pinAt) }))
        expect(code, `byte 0x${p.toString(16)}`).toBeDefined()
        // a flip in the version, algorithm or key-selection fields is caught by the parser first
        expect([AttestationErrorCode.SIGNATURE_INVALID, AttestationErrorCode.UNSUPPORTED_VERSION, AttestationErrorCode.MALFORMED, AttestationErrorCode.CERT_MISSING], `byte 0x${p.toString(16)}`).toContain(code)
      }
    })

    it('reads POLICY bit 18 (MIGRATE_MA) as migratable, under the signature', () => {
      const bytes = fixture(e.file)
      expect(parseSnpReport(bytes).migratable).toBe(false)
      const t = bytes.slice()
      t[0x08 + 2] |= 0x04 // POLICY is a little-endian u64 at 0x08: bit 18 is bit 2 of its third byte
      const r = parseSnpReport(t)
      expect(r.migratable).toBe(true)
      expect(r.policy).toBe(parseSnpReport(bytes).policy | (1n << 18n))
      expect(codeOf(() => verifySnpReport(t, { certs: certsOf(e), at: new Date(e.pinAt) }))).toBe(AttestationErrorCode.SIGNATURE_INVALID)
    })

    it('refuses a report whose reserved bytes after the signature are not zero (one report, one encoding)', () => {
      for (const p of [0x330, 0x400, 0x49f]) {
        const t = fixture(e.file).slice()
        expect(t[p]).toBe(0)
        t[p] = 1
        expect(codeOf(() => verifySnpReport(t, { certs: certsOf(e), at: new Date(e.pinAt) })), `byte 0x${p.toString(16)}`).toBe(AttestationErrorCode.MALFORMED)
      }
    })

    it('refuses a truncated report', () => {
      const bytes = fixture(e.file)
      for (const n of [0, 3, 0x2a0, 0x4a0 - 1]) {
        expect(codeOf(() => verifySnpReport(bytes.slice(0, n), { certs: certsOf(e), at: new Date(e.pinAt) }))).toBe(AttestationErrorCode.TRUNCATED)
      }
    })

    it('refuses when the certificates are expired or not yet valid', () => {
      expect(codeOf(() => verifySnpReport(fixture(e.file), { certs: certsOf(e), at: new Date('2040-01-01T00:00:00Z') }))).toBe(AttestationErrorCode.CERT_EXPIRED)
      expect(codeOf(() => verifySnpReport(fixture(e.file), { certs: certsOf(e), at: new Date('2019-01-01T00:00:00Z') }))).toBe(AttestationErrorCode.CERT_EXPIRED)
    })

    it('refuses without its signing certificate', () => {
      expect(codeOf(() => verifySnpReport(fixture(e.file), { certs: loadCertificates(fixture(e.chain)), at: new Date(e.pinAt) }))).toBe(AttestationErrorCode.CERT_MISSING)
    })
  })

  it('refuses a report with another chip\'s VCEK (swapped certificate)', () => {
    const vceks = entries.filter((e) => e.fields.signing_key === 0)
    expect(vceks.length).toBeGreaterThanOrEqual(2)
    const [a, b] = vceks
    expect(codeOf(() => verifySnpReport(fixture(a.file), { certs: certsOf(b), at: new Date(a.pinAt) }))).toBe(AttestationErrorCode.SIGNATURE_INVALID)
  })

  it('refuses a VLEK-signed report given a VCEK, and the reverse (wrong certificate kind)', () => {
    const vlek = entries.find((e) => e.fields.signing_key === 1)
    const vcek = entries.find((e) => e.fields.signing_key === 0)
    expect(vlek).toBeDefined()
    expect(vcek).toBeDefined()
    if (vlek == null || vcek == null) return
    expect(codeOf(() => verifySnpReport(fixture(vlek.file), { certs: certsOf(vcek), at: new Date(vlek.pinAt) }))).toBe(AttestationErrorCode.CERT_MISSING)
    expect(codeOf(() => verifySnpReport(fixture(vcek.file), { certs: certsOf(vlek), at: new Date(vcek.pinAt) }))).toBe(AttestationErrorCode.CERT_MISSING)
  })
})
