import { describe, expect, it } from 'vitest'
import { AttestationErrorCode } from '../../../src/tee/errors.js'
import { toHex } from '../../../src/util/hex.js'
import { parseTdxQuote, type QeReport, type TdxQuote } from '../../../src/tee/tdx/parse.js'
import { checkTdQeIdentity } from '../../../src/tee/tdx/qe-identity.js'
import { verifyTdxQuote } from '../../../src/tee/tdx/verify.js'
import { fixture, haveTeeFixtures, manifest, type TdxManifestEntry } from '../../helpers/tee-fixtures.js'

const all: TdxManifestEntry[] = haveTeeFixtures ? manifest().tdx : []
const dev = all.filter((e) => e.role === 'DEV')
const codeOf = (fn: () => unknown): string | undefined => { try { fn() } catch (err) { return (err as { code?: string }).code } return undefined }

/** Rebuilds `bytes` (quote q) with another PEM chain in its inner certification data, fixing every length on the way. */
function withChain (bytes: Uint8Array, q: TdxQuote, pem: string): Uint8Array {
  const signedEnd = q.signed.byteLength
  const s = signedEnd + 4
  const inner = s + 134 + 384 + 64 + 2 + q.qeAuthData.byteLength
  const chain = new TextEncoder().encode(pem)
  const out = new Uint8Array(inner + 6 + chain.byteLength)
  out.set(bytes.subarray(0, inner + 2))
  out.set(chain, inner + 6)
  const v = new DataView(out.buffer)
  v.setUint32(inner + 2, chain.byteLength, true)
  v.setUint32(s + 130, out.byteLength - (s + 134), true)
  v.setUint32(signedEnd, out.byteLength - s, true)
  return out
}

describe.skipIf(!haveTeeFixtures)('TDX fixtures', () => {
  it('the manifest lists DEV TDX quotes', () => { expect(dev.length).toBeGreaterThan(0) })

  describe.each(dev.map((e) => [e.file, e] as const))('%s', (_name, e) => {
    it('parses to the manifest fields', () => {
      const q = parseTdxQuote(fixture(e.file))
      expect(q.length).toBe(e.quote_len)
      expect(q.header.version).toBe(e.header.version)
      expect(q.header.attKeyType).toBe(e.header.att_key_type)
      expect('0x' + q.header.teeType.toString(16)).toBe(e.header.tee_type)
      expect(toHex(q.header.qeVendorId)).toBe(e.header.qe_vendor_id)
      expect(toHex(q.header.userData)).toBe(e.header.user_data)
      expect(q.bodyType ?? null).toBe(e.body_type)
      const b = e.body!
      const got: Record<string, string> = {
        tee_tcb_svn: toHex(q.body.teeTcbSvn),
        mrseam: toHex(q.body.mrSeam),
        mrsignerseam: toHex(q.body.mrSignerSeam),
        seam_attributes: toHex(q.body.seamAttributes),
        td_attributes: toHex(q.body.tdAttributes),
        xfam: toHex(q.body.xfam),
        mrtd: toHex(q.body.mrTd),
        mrconfigid: toHex(q.body.mrConfigId),
        mrowner: toHex(q.body.mrOwner),
        mrownerconfig: toHex(q.body.mrOwnerConfig),
        rtmr0: toHex(q.body.rtmr0),
        rtmr1: toHex(q.body.rtmr1),
        rtmr2: toHex(q.body.rtmr2),
        rtmr3: toHex(q.body.rtmr3),
        report_data: toHex(q.body.reportData)
      }
      for (const [k, v] of Object.entries(b)) if (k in got) expect(got[k], k).toBe(v)
      expect(q.body.debug).toBe(false)
      expect(q.body.migratable).toBe(false)
      const qe = e.qe_report as Record<string, unknown>
      expect(toHex(q.qeReport.mrEnclave)).toBe(qe.mrenclave)
      expect(toHex(q.qeReport.mrSigner)).toBe(qe.mrsigner)
      expect(q.qeReport.isvProdId).toBe(qe.isvprodid)
      expect(q.qeReport.isvSvn).toBe(qe.isvsvn)
      expect(toHex(q.qeReport.reportData)).toBe(qe.report_data)
    })

    it('verifies at its pinned time', () => {
      const v = verifyTdxQuote(fixture(e.file), { at: new Date(e.pinAt!) })
      expect(v.chain).toEqual(['Intel SGX PCK Certificate', 'Intel SGX PCK Platform CA', 'Intel SGX Root CA'])
      // the PCK leaf's SGX extensions: FMSPC and the TCB it was issued for
      expect(toHex(v.platform.fmspc)).toBe(e.pck_fmspc)
      const tcb = e.pck_tcb!
      expect(v.platform.tcbComponents).toEqual(Array.from({ length: 16 }, (_, i) => tcb[`comp${String(i + 1).padStart(2, '0')}`]))
      expect(v.platform.pceSvn).toBe(tcb.pcesvn)
      expect(toHex(v.platform.cpuSvn)).toBe(tcb.cpusvn)
    })

    it('refuses every single flipped byte of the header and body, and flips in the signature', () => {
      const bytes = fixture(e.file)
      const q = parseTdxQuote(bytes)
      const signedLen = q.signed.byteLength
      const positions = [...Array.from({ length: signedLen }, (_, i) => i), signedLen + 4, signedLen + 4 + 63]
      for (const p of positions) {
        const t = bytes.slice()
        t[p] ^= 0x01
        const code = codeOf(() => verifyTdxQuote(t, { at: new Date(e.pinAt!) }))
        expect([AttestationErrorCode.SIGNATURE_INVALID, AttestationErrorCode.UNSUPPORTED_VERSION, AttestationErrorCode.WRONG_TEE_TYPE, AttestationErrorCode.MALFORMED, AttestationErrorCode.TRUNCATED], `byte ${p}`).toContain(code)
      }
    })

    it('refuses a flipped byte in the attestation key, the QE report or its signature', () => {
      const bytes = fixture(e.file)
      const q = parseTdxQuote(bytes)
      const s = q.signed.byteLength + 4
      const cases: Array<[number, string[]]> = [
        // attestation key: the quote signature no longer verifies under it
        [s + 64 + 5, [AttestationErrorCode.SIGNATURE_INVALID]],
        // QE report body: its PCK signature fails, or its report data no longer binds the key
        [s + 134 + 100, [AttestationErrorCode.SIGNATURE_INVALID]],
        [s + 134 + 320, [AttestationErrorCode.QE_BINDING_INVALID]],
        [s + 134 + 384 + 10, [AttestationErrorCode.SIGNATURE_INVALID]]
      ]
      for (const [p, codes] of cases) {
        const t = bytes.slice()
        t[p] ^= 0x80
        expect(codes, `byte ${p}`).toContain(codeOf(() => verifyTdxQuote(t, { at: new Date(e.pinAt!) })))
      }
    })

    it('reads TD_ATTRIBUTES bit 29 (MIGRATABLE) as migratable, under the signature', () => {
      const bytes = fixture(e.file)
      const q = parseTdxQuote(bytes)
      expect(q.body.migratable).toBe(false)
      // TD_ATTRIBUTES is a little-endian u64 at offset 120 of the body (after the 48-byte header,
      // and v5's 6-byte body descriptor): bit 29 is bit 5 of its fourth byte
      const t = bytes.slice()
      t[(q.header.version === 5 ? 54 : 48) + 120 + 3] |= 0x20
      expect(parseTdxQuote(t).body.migratable).toBe(true)
      expect(codeOf(() => verifyTdxQuote(t, { at: new Date(e.pinAt!) }))).toBe(AttestationErrorCode.SIGNATURE_INVALID)
    })

    it('refuses a truncated quote', () => {
      const bytes = fixture(e.file)
      const q = parseTdxQuote(bytes)
      for (const n of [0, 10, 47, 100, q.signed.byteLength + 2, q.length - 1]) {
        expect([AttestationErrorCode.TRUNCATED], `length ${n}`).toContain(codeOf(() => verifyTdxQuote(bytes.slice(0, n), { at: new Date(e.pinAt!) })))
      }
    })

    it('refuses outside the validity window of its PCK chain', () => {
      expect(codeOf(() => verifyTdxQuote(fixture(e.file), { at: new Date('2050-06-01T00:00:00Z') }))).toBe(AttestationErrorCode.CERT_EXPIRED)
      expect(codeOf(() => verifyTdxQuote(fixture(e.file), { at: new Date('2018-06-01T00:00:00Z') }))).toBe(AttestationErrorCode.CERT_EXPIRED)
    })
  })

  it('refuses a quote whose PCK chain is swapped for another platform\'s', () => {
    const [a, b] = dev
    const qa = parseTdxQuote(fixture(a.file))
    const qb = parseTdxQuote(fixture(b.file))
    const swapped = withChain(fixture(a.file), qa, new TextDecoder().decode(qb.pckChain))
    // sanity: the rebuilt quote with its own chain still verifies
    expect(verifyTdxQuote(withChain(fixture(a.file), qa, new TextDecoder().decode(qa.pckChain)), { at: new Date(a.pinAt!) }).chain).toHaveLength(3)
    expect(codeOf(() => verifyTdxQuote(swapped, { at: new Date(a.pinAt!) }))).toBe(AttestationErrorCode.SIGNATURE_INVALID)
  })

  it('refuses a quote whose chain ends at a root other than the pinned Intel root', () => {
    const [a] = dev
    const qa = parseTdxQuote(fixture(a.file))
    const certs = new TextDecoder().decode(qa.pckChain).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!
    // leaf alone: the platform CA is missing, so no path reaches the pinned root
    expect(codeOf(() => verifyTdxQuote(withChain(fixture(a.file), qa, certs[0]), { at: new Date(a.pinAt!) }))).toBe(AttestationErrorCode.CHAIN_INVALID)
  })

  it('checks the QE identity: Intel MRSIGNER, TD QE product id, MISCSELECT and ATTRIBUTES under their masks', () => {
    const q = parseTdxQuote(fixture(dev[0].file))
    expect(() => checkTdQeIdentity(q.qeReport)).not.toThrow()
    const cases: Array<[string, (r: QeReport) => void]> = [
      ['mrsigner', (r) => { r.mrSigner[0] ^= 1 }],
      ['isvprodid', (r) => { r.isvProdId = 1 }],
      ['miscselect', (r) => { r.miscSelect = 1 }],
      ['attributes (debug bit)', (r) => { r.attributes[0] |= 0x02 }]
    ]
    for (const [name, mutate] of cases) {
      const r = { ...q.qeReport, mrSigner: q.qeReport.mrSigner.slice(), attributes: q.qeReport.attributes.slice() }
      mutate(r)
      expect(codeOf(() => checkTdQeIdentity(r)), name).toBe(AttestationErrorCode.QE_IDENTITY_INVALID)
    }
    // a bit outside the attributes mask (bit 2 of byte 0, MODE64BIT is masked out) does not matter
    const r = { ...q.qeReport, attributes: q.qeReport.attributes.slice() }
    r.attributes[0] ^= 0x04
    expect(() => checkTdQeIdentity(r)).not.toThrow()
  })

  it.each(all.filter((e) => e.role === 'EXTRA').map((e) => [e.file]))('refuses the SGX quote %s as the wrong TEE type', (file) => {
    expect(codeOf(() => verifyTdxQuote(fixture(file)))).toBe(AttestationErrorCode.WRONG_TEE_TYPE)
  })

  it.each(all.filter((e) => e.role === 'NEGATIVE').map((e) => [e.file, e] as const))('refuses the synthetic quote %s', (file, e) => {
    const q = parseTdxQuote(fixture(file))
    expect(toHex(q.header.userData)).toBe(e.header.user_data)
    // its QE report is signed by the PCK certificate it carries (as DER), but that chain ends at a
    // test "Intel SGX Root CA", not the pinned one
    expect(codeOf(() => verifyTdxQuote(fixture(file)))).toBe(AttestationErrorCode.CHAIN_INVALID)
  })
})
