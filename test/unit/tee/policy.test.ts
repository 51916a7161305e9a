import { describe, expect, it } from 'vitest'
import { AttestationErrorCode } from '../../../src/tee/errors.js'
import { checkPolicy, DEFAULT_POLICY, type AttestationPolicy } from '../../../src/tee/policy.js'
import { checkReportData, sessionReportData } from '../../../src/tee/binding.js'
import type { VerifiedEvidence } from '../../../src/tee/types.js'
import { verifyEvidence } from '../../../src/tee/verify.js'
import { fixture, haveTeeFixtures, manifest } from '../../helpers/tee-fixtures.js'

const m = (b: number) => new Uint8Array(48).fill(b)
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const base = (over: Partial<VerifiedEvidence> = {}): VerifiedEvidence => ({
  kind: 'sev-snp', reportData: new Uint8Array(64), measurement: m(1), debug: false, migratable: false,
  snpTcb: { bootloader: 4, tee: 0, snp: 24, microcode: 217 }, fields: {}, chain: [], ...over
})
const tdx = (over: Partial<VerifiedEvidence> = {}): VerifiedEvidence => base({ kind: 'tdx', snpTcb: undefined, tdxTcbSvn: Uint8Array.from([3, 0, 4, 0, ...new Array(12).fill(0)]), ...over })
const sim = (over: Partial<VerifiedEvidence> = {}): VerifiedEvidence => base({ kind: 'simulated', snpTcb: undefined, producedAt: 15_000, ...over })
const codeOf = (fn: () => unknown): string | undefined => { try { fn() } catch (err) { return (err as { code?: string }).code } return undefined }

const P: AttestationPolicy = { kinds: ['sev-snp', 'tdx'], maxEvidenceAgeMs: 10_000 }

describe('checkPolicy', () => {
  const cases: Array<[string, VerifiedEvidence, AttestationPolicy, string | undefined, number?]> = [
    ['snp accepted', base(), P, undefined],
    ['tdx accepted', tdx(), P, undefined],
    ['simulated refused by default', sim(), { ...P, kinds: [...P.kinds, 'simulated'] }, AttestationErrorCode.SIMULATED_REFUSED],
    ['simulated allowed explicitly', sim(), { ...P, kinds: ['simulated'], allowSimulated: true }, undefined],
    ['simulated allowed but kind not listed', sim(), { ...P, allowSimulated: true }, AttestationErrorCode.KIND_REFUSED],
    ['kind not accepted', tdx(), { ...P, kinds: ['sev-snp'] }, AttestationErrorCode.KIND_REFUSED],
    ['debug refused by default', base({ debug: true }), P, AttestationErrorCode.DEBUG_REFUSED],
    ['debug allowed explicitly', base({ debug: true }), { ...P, allowDebug: true }, undefined],
    ['snp migratable (MIGRATE_MA) refused by default', base({ migratable: true }), P, AttestationErrorCode.MIGRATION_REFUSED],
    ['tdx migratable (MIGRATABLE) refused by default', tdx({ migratable: true }), P, AttestationErrorCode.MIGRATION_REFUSED],
    ['migratable allowed explicitly', tdx({ migratable: true }), { ...P, allowMigratable: true }, undefined],
    ['measurement allowed', base(), { ...P, measurements: { 'sev-snp': [hex(m(1)).toUpperCase()] } }, undefined],
    ['measurement refused', base(), { ...P, measurements: { 'sev-snp': [hex(m(2))] } }, AttestationErrorCode.MEASUREMENT_REFUSED],
    ['empty list refuses all', base(), { ...P, measurements: { 'sev-snp': [] } }, AttestationErrorCode.MEASUREMENT_REFUSED],
    ['list for another kind does not apply', base(), { ...P, measurements: { tdx: [] } }, undefined],
    ['snp tcb meets minimum', base(), { ...P, minTcb: { 'sev-snp': { snp: 24, microcode: 200 } } }, undefined],
    ['snp tcb below minimum', base(), { ...P, minTcb: { 'sev-snp': { snp: 25 } } }, AttestationErrorCode.TCB_TOO_LOW],
    ['tdx tcb meets minimum', tdx(), { ...P, minTcb: { tdx: '0300040000000000' } }, undefined],
    ['tdx tcb below minimum', tdx(), { ...P, minTcb: { tdx: '0300050000000000' } }, AttestationErrorCode.TCB_TOO_LOW],
    ['snp VMPL within the limit', base({ fields: { vmpl: 0 } }), { ...P, snpMaxVmpl: 0 }, undefined],
    ['snp VMPL above the limit', base({ fields: { vmpl: 1 } }), { ...P, snpMaxVmpl: 0 }, AttestationErrorCode.MEASUREMENT_REFUSED],
    ['fresh by request time', base(), P, undefined, 5_000],
    ['stale by request time', base(), P, AttestationErrorCode.STALE, 20_000],
    ['simulated stale by its own timestamp', sim({ producedAt: 0 }), { ...P, kinds: ['simulated'], allowSimulated: true }, AttestationErrorCode.STALE, 5_000]
  ]
  it.each(cases)('%s', (_n, v, policy, code, requestedAgo) => {
    const now = 20_000
    const requestedAt = now - (requestedAgo ?? 0)
    expect(codeOf(() => checkPolicy(v, policy, { now, requestedAt }))).toBe(code)
  })
})

describe.skipIf(!haveTeeFixtures)('the default policy and the real SNP and TDX evidence', () => {
  const fixtures = haveTeeFixtures ? manifest() : { snp: [], tdx: [] }
  const real = [
    ...fixtures.snp.map((e) => [e.file, () => verifyEvidence({ kind: 'sev-snp', evidence: fixture(e.file), certs: [fixture(e.vek), fixture(e.chain)] }, { at: new Date(e.pinAt) })] as const),
    ...fixtures.tdx.filter((e) => e.role === 'DEV').map((e) => [e.file, () => verifyEvidence({ kind: 'tdx', evidence: fixture(e.file), certs: [] }, { at: new Date(e.pinAt!) })] as const)
  ]
  it.each(real)('%s is not migratable and passes; made migratable it is refused unless allowed', (_file, verify) => {
    const v = verify()
    const now = Date.now()
    // go-sev-guest's sample was launched with debugging allowed (POLICY 0xb0000): that alone is
    // judged by allowDebug
    const policy: AttestationPolicy = { ...DEFAULT_POLICY, allowDebug: v.debug }
    expect(v.migratable).toBe(false)
    expect(v.fields.migratable).toBe(false)
    expect(codeOf(() => checkPolicy(v, policy, { now, requestedAt: now }))).toBeUndefined()
    expect(codeOf(() => checkPolicy({ ...v, migratable: true }, policy, { now, requestedAt: now }))).toBe('MIGRATION_REFUSED')
    expect(codeOf(() => checkPolicy({ ...v, migratable: true }, { ...policy, allowMigratable: true }, { now, requestedAt: now }))).toBeUndefined()
  })
})

describe('session report data', () => {
  const key = new Uint8Array(32).fill(7)
  const nonce = new Uint8Array(32).fill(9)
  const agreement = new Uint8Array(32).fill(3)
  it('is SHA-512 over tag, key, nonce and agreement hash', async () => {
    const { createHash } = await import('node:crypto')
    const want = createHash('sha512').update('bazaar-attest-v1').update(key).update(nonce).update(agreement).digest()
    expect(hex(sessionReportData(key, nonce, agreement))).toBe(want.toString('hex'))
  })
  it.each([
    ['another key', new Uint8Array(32).fill(8), nonce, agreement],
    ['another nonce', key, new Uint8Array(32).fill(1), agreement],
    ['another agreement', key, nonce, new Uint8Array(32).fill(4)]
  ])('a binding for %s does not match', (_n, k, n, a) => {
    expect(codeOf(() => checkReportData(sessionReportData(key, nonce, agreement), k, n, a))).toBe(AttestationErrorCode.REPORT_DATA_MISMATCH)
  })
  it('refuses wrong lengths', () => {
    expect(codeOf(() => sessionReportData(new Uint8Array(31), nonce, agreement))).toBe(AttestationErrorCode.MALFORMED)
    expect(codeOf(() => sessionReportData(key, new Uint8Array(16), agreement))).toBe(AttestationErrorCode.MALFORMED)
    expect(codeOf(() => sessionReportData(key, nonce, new Uint8Array(0)))).toBe(AttestationErrorCode.MALFORMED)
  })
})
