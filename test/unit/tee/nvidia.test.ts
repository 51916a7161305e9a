import { X509Certificate } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { AttestationError, AttestationErrorCode } from '../../../src/tee/errors.js'
import { verifyGpuReport } from '../../../src/tee/nvidia/verify-report.js'
import { parseGpuReport } from '../../../src/tee/nvidia/parse-report.js'
import { parseGpuOpaqueData } from '../../../src/tee/nvidia/parse-opaque.js'
import { MAX_RIM_DEPTH, MAX_RIM_ELEMENTS, MAX_RIM_NAMESPACES, verifyRim } from '../../../src/tee/nvidia/verify-rim.js'
import { compareGpuMeasurements } from '../../../src/tee/nvidia/compare-measurements.js'
import { RimCache } from '../../../src/tee/nvidia/rim-cache.js'
import { loadCertificates } from '../../../src/tee/x509/load.js'
import { fixture, haveTeeFixtures } from '../../helpers/tee-fixtures.js'

const codeOf = (fn: () => unknown): string | undefined => {
  try { fn() } catch (err) { return (err as { code?: string }).code }
  return undefined
}
const hexFile = (rel: string): Uint8Array => new Uint8Array(Buffer.from(Buffer.from(fixture(rel)).toString('latin1').trim(), 'hex'))

/**
 * The two real H100 samples of ../shared/fixtures/tee/nvtrust with the RIMs that match each (see
 * the fixtures' README: nvtrust's test mode pairs the 2023 RIMs with the newer report, which does
 * not match). `at` lies inside every RIM signing certificate's validity (2024-06-01 to 2025-06-22 for all of them).
 */
const SAMPLES = haveTeeFixtures
  ? [
      {
        name: 'attestationReport-2023 (driver 545.00)',
        report: 'nvtrust/attestationReport-2023.txt',
        chain: 'nvtrust/gpuAkCertChain-2023.txt',
        rims: ['nvtrust/Driver_RIM_test_no_gpu.swidtag', 'nvtrust/1010_0200_882_96005E0001_test_no_gpu.swidtag'],
        at: new Date('2024-07-01T00:00:00Z'),
        nonce: '4cff7f5380ead8fad8ec2c531c110aca4302a88f603792801a8ca29ee151af2e',
        driver: '545.00',
        vbios: '96.00.5E.00.01',
        fwid: false
      },
      {
        name: 'hopperAttestationReport (driver 550.90.07)',
        report: 'nvtrust/hopperAttestationReport.txt',
        chain: 'nvtrust/hopperCertChain.txt',
        rims: ['nvtrust/NV_GPU_DRIVER_GH100_550.90.07.xml', 'nvtrust/NV_GPU_VBIOS_1010_0200_882_96009F0001.xml'],
        at: new Date('2024-07-01T00:00:00Z'),
        nonce: '931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb',
        driver: '550.90.07',
        vbios: '96.00.9F.00.01',
        fwid: true
      }
    ]
  : []

describe.skipIf(!haveTeeFixtures)('NVIDIA GPU attestation report (real H100 samples)', () => {
  for (const s of SAMPLES) {
    describe(s.name, () => {
      const bytes = hexFile(s.report)
      const certs = loadCertificates(fixture(s.chain))
      const rims = s.rims.map(fixture)
      const nonce = new Uint8Array(Buffer.from(s.nonce, 'hex'))

      it('verifies against its driver and VBIOS RIMs, with its fields read', () => {
        const v = verifyGpuReport(bytes, { certs, at: s.at, nonce, rims })
        expect(v.report.spdmVersion).toBe(0x11)
        expect(v.report.blocks).toHaveLength(64)
        expect(v.report.trailing).toBe(0)
        expect(v.opaque.driverVersion).toBe(s.driver)
        expect(v.opaque.vbiosVersion).toBe(s.vbios)
        expect(v.opaque.project).toBe('1010')
        expect(v.opaque.projectSku).toBe('0200')
        expect(v.opaque.chipSku).toBe('882')
        expect(v.model).toBe('GH100')
        expect(v.ccMode).toBe('unreported')
        expect(v.fwidChecked).toBe(s.fwid)
        expect(v.chain).toEqual(['GH100 A01 GSP FMC LF', 'GH100 A01 GSP BROM', 'NVIDIA GH100 Provisioner ICA 1', 'NVIDIA GH100 Identity', 'NVIDIA Device Identity CA'])
        expect(v.driverRim?.version).toBe(s.driver)
        expect(v.vbiosRim?.version).toBe(s.vbios)
        expect(v.driverRim?.chain.at(-1)).toBe('NVIDIA CoRIM signing Root CA')
        expect(v.measurementsCompared).toBe((v.driverRim?.golden.length ?? 0) + (v.vbiosRim?.golden.length ?? 0))
        expect(v.measurementsCompared).toBeGreaterThan(20)
        expect(v.measurementsMatched).toBe(true)
        expect(v.nonceChecked).toBe(true)
      })

      it('verifies without RIMs, and then says the measurements were not matched', () => {
        const v = verifyGpuReport(bytes, { certs, at: s.at })
        expect(v.measurementsMatched).toBe(false)
        expect(v.measurementsCompared).toBe(0)
      })

      it('refuses a wrong nonce', () => {
        const wrong = new Uint8Array(nonce)
        wrong[0] ^= 1
        expect(codeOf(() => verifyGpuReport(bytes, { certs, at: s.at, nonce: wrong }))).toBe(AttestationErrorCode.REPORT_DATA_MISMATCH)
      })

      it('refuses every flipped byte of the signed part (and of the signature)', () => {
        const { signed } = parseGpuReport(bytes)
        const refused = new Set<string>()
        for (let i = 0; i < signed.byteLength + 96; i++) {
          const m = new Uint8Array(bytes)
          m[i] ^= 0x01
          try {
            verifyGpuReport(m, { certs, at: s.at })
            throw new Error(`flipped byte ${i} was accepted`)
          } catch (err) {
            expect(err, `byte ${i}`).toBeInstanceOf(AttestationError)
            refused.add((err as AttestationError).code)
          }
        }
        expect(refused.has(AttestationErrorCode.SIGNATURE_INVALID)).toBe(true)
      }, 240_000) // about 4,000 ECDSA P-384 verifications: slow on a busy machine, not timed

      it('refuses the chain of another GPU', () => {
        const other = SAMPLES.find((o) => o !== s)
        if (other == null) throw new Error('two samples expected')
        const otherCerts = loadCertificates(fixture(other.chain))
        expect(codeOf(() => verifyGpuReport(bytes, { certs: otherCerts, at: s.at }))).toBe(AttestationErrorCode.SIGNATURE_INVALID)
      })

      it('refuses a chain that does not end at the pinned NVIDIA device root', () => {
        // the leaf without its intermediates, and the leaf with the RIM root in place of NVIDIA's device root
        expect(codeOf(() => verifyGpuReport(bytes, { certs: certs.slice(0, 1), at: s.at }))).toBe(AttestationErrorCode.CHAIN_INVALID)
        expect(codeOf(() => verifyGpuReport(bytes, { certs: [...certs.slice(0, 3), ...loadCertificates(fixture('nvtrust/verifier_RIM_root.pem'))], at: s.at }))).toBe(AttestationErrorCode.CHAIN_INVALID)
        // a bounded chain: a peer cannot make the walk try dozens of issuers
        expect(codeOf(() => verifyGpuReport(bytes, { certs: [...certs, ...certs], at: s.at }))).toBe(AttestationErrorCode.MALFORMED)
      })

      it('refuses RIMs of another driver or VBIOS', () => {
        const other = SAMPLES.find((o) => o !== s)
        if (other == null) throw new Error('two samples expected')
        expect(codeOf(() => verifyGpuReport(bytes, { certs, at: s.at, rims: [other.rims.map(fixture)[0]] }))).toBe(AttestationErrorCode.RIM_MISMATCH)
      })
    })
  }

  it('refuses, as MALFORMED, a leaf certificate that parses but whose public key does not decode', () => {
    const s = SAMPLES[1]
    const certs = loadCertificates(fixture(s.chain))
    const der = Buffer.from(certs[0].raw)
    // the P-384 curve OID and the BIT STRING that follows it; its first content byte is the point's
    // 0x04 (uncompressed) prefix, which made 0x05 names no point encoding SEC 1 §2.3.3 knows
    const at = der.indexOf(Buffer.from('2b8104002203620004', 'hex'))
    expect(at).toBeGreaterThan(0)
    der[at + 8] = 0x05
    const leaf = new X509Certificate(der)
    expect(() => leaf.publicKey).toThrow()
    expect(codeOf(() => verifyGpuReport(hexFile(s.report), { certs: [leaf, ...certs.slice(1)], at: s.at }))).toBe(AttestationErrorCode.MALFORMED)
  })

  it('refuses a RIM with a changed golden value (its signature no longer covers it)', () => {
    const s = SAMPLES[1]
    const text = Buffer.from(fixture(s.rims[0])).toString('utf8')
    const m = /ns2:Hash0="([0-9a-f]{96})"[^>]*name="Measurement_7"|index="7" active="True" alternatives="1" ns2:Hash0="([0-9a-f]{96})"/.exec(text)
    const golden = m?.[1] ?? m?.[2]
    expect(golden).toBeDefined()
    const changed = text.replace(golden as string, (golden as string).replace(/^./, (c) => c === '0' ? '1' : '0'))
    expect(changed).not.toBe(text)
    expect(codeOf(() => verifyRim(new Uint8Array(Buffer.from(changed)), { at: s.at }))).toBe(AttestationErrorCode.SIGNATURE_INVALID)
    const bytes = hexFile(s.report)
    expect(codeOf(() => verifyGpuReport(bytes, { certs: loadCertificates(fixture(s.chain)), at: s.at, rims: [new Uint8Array(Buffer.from(changed))] }))).toBe(AttestationErrorCode.SIGNATURE_INVALID)
  })

  it('refuses a measurement that matches no golden value of a verified RIM', () => {
    const s = SAMPLES[1]
    const report = parseGpuReport(hexFile(s.report))
    const rim = verifyRim(fixture(s.rims[0]), { at: s.at })
    expect(compareGpuMeasurements(report.blocks, [rim])).toBe(rim.golden.length)
    const g = rim.golden[0]
    const altered = { ...rim, golden: [{ ...g, alternatives: g.alternatives.map((a) => a.map((x) => x ^ 0xff)) }] }
    expect(codeOf(() => compareGpuMeasurements(report.blocks, [altered]))).toBe(AttestationErrorCode.GPU_MEASUREMENT_MISMATCH)
    // two RIMs claiming one index
    expect(codeOf(() => compareGpuMeasurements(report.blocks, [rim, rim]))).toBe(AttestationErrorCode.RIM_MISMATCH)
  })

  it('refuses a RIM outside its signing certificate\'s validity, and a tampered or foreign XML', () => {
    const s = SAMPLES[1]
    expect(codeOf(() => verifyRim(fixture(s.rims[0]), { at: new Date('2030-01-01T00:00:00Z') }))).toBe(AttestationErrorCode.CERT_EXPIRED)
    expect(codeOf(() => verifyRim(new TextEncoder().encode('<a/>'), { at: s.at }))).toBe(AttestationErrorCode.MALFORMED)
    expect(codeOf(() => verifyRim(new TextEncoder().encode('<!DOCTYPE x [<!ENTITY a "b">]><a/>'), { at: s.at }))).toBe(AttestationErrorCode.MALFORMED)
    expect(codeOf(() => verifyRim(new TextEncoder().encode('<a><b></a>'), { at: s.at }))).toBe(AttestationErrorCode.MALFORMED)
    // the signed RIM with a space between attributes made a NUL: not XML, though the parser reads past it
    const text = Buffer.from(fixture(s.rims[0])).toString('utf8')
    const at = text.indexOf(' ', text.indexOf('<', 1))
    expect(at).toBeGreaterThan(0)
    expect(codeOf(() => verifyRim(new Uint8Array(Buffer.from(text.slice(0, at) + '\u0000' + text.slice(at + 1))), { at: s.at }))).toBe(AttestationErrorCode.MALFORMED)
    expect(verifyRim(fixture(s.rims[0]), { at: s.at })).toBeDefined()
  })

  it('refuses a RIM nested too deep or holding too many elements before its signature is checked', () => {
    const s = SAMPLES[1]
    const text = Buffer.from(fixture(s.rims[0])).toString('utf8')
    // the RIM nests 6 deep and holds 85 elements; a Resource sits at depth 3, under Payload
    const before = '<ns0:Resource '
    expect(text.includes(before)).toBe(true)
    const nest = (d: number): string => '<x>'.repeat(d) + '</x>'.repeat(d)
    const withExtra = (xml: string): Uint8Array => new Uint8Array(Buffer.from(text.replace(before, xml + before)))
    const cases: Array<[string, string, AttestationErrorCode]> = [
      // unsigned elements inside the bounds reach the signature check, which refuses them
      ['nested to the depth bound', nest(MAX_RIM_DEPTH - 2), AttestationErrorCode.SIGNATURE_INVALID],
      ['at the element bound', '<x/>'.repeat(MAX_RIM_ELEMENTS - 85), AttestationErrorCode.SIGNATURE_INVALID],
      // past them the shape alone refuses: 6,000 levels cost xml-crypto about 9 s, 40,000 flat
      // elements (177 KiB, under MAX_RIM_SIZE) about 27 s, before the signature decided anything
      ['nested one past the depth bound', nest(MAX_RIM_DEPTH - 1), AttestationErrorCode.MALFORMED],
      ['6,000 levels deep', nest(6000), AttestationErrorCode.MALFORMED],
      ['one element past the bound', '<x/>'.repeat(MAX_RIM_ELEMENTS - 84), AttestationErrorCode.MALFORMED],
      ['40,000 elements', '<x/>'.repeat(40_000), AttestationErrorCode.MALFORMED],
      // the RIM declares 6 namespaces: up to the bound the signature check refuses, past it the count
      ['namespaces to the bound', `<x ${Array.from({ length: MAX_RIM_NAMESPACES - 6 }, (_, i) => `xmlns:n${i}="urn:n${i}"`).join(' ')}/>`, AttestationErrorCode.SIGNATURE_INVALID],
      ['one namespace past the bound', `<x ${Array.from({ length: MAX_RIM_NAMESPACES - 5 }, (_, i) => `xmlns:n${i}="urn:n${i}"`).join(' ')}/>`, AttestationErrorCode.MALFORMED],
      ['9,000 namespaces on one element', `<x ${Array.from({ length: 9000 }, (_, i) => `xmlns:n${i}="urn:n${i}"`).join(' ')}/>`, AttestationErrorCode.MALFORMED]
    ]
    for (const [name, xml, code] of cases) expect(codeOf(() => verifyRim(withExtra(xml), { at: s.at })), name).toBe(code)
    expect(verifyRim(fixture(s.rims[0]), { at: s.at }).golden.length).toBeGreaterThan(0)
  }, 120_000) // without the bounds the two large cases take over 30 s

  it('the production VBIOS RIM verifies and is refused for a report of another VBIOS', () => {
    const rim = verifyRim(fixture('nvtrust/1010_0200_882_96005E0001_PROD.swidtag'), { at: new Date('2024-06-01T00:00:00Z') })
    expect(rim.version).toBe('96.00.5E.00.01')
    const s = SAMPLES[1]
    expect(codeOf(() => verifyGpuReport(hexFile(s.report), { certs: loadCertificates(fixture(s.chain)), at: s.at, rims: [fixture('nvtrust/1010_0200_882_96005E0001_PROD.swidtag')] })))
      .toBe(AttestationErrorCode.RIM_MISMATCH)
  })

  it('a RIM cache reuses a verified RIM only by its bytes and inside its signer chain\'s validity', () => {
    const s = SAMPLES[1]
    const cache = new RimCache(1)
    const driver = fixture(s.rims[0])
    const first = cache.verify(driver, { at: s.at })
    expect(cache.verify(driver, { at: s.at })).toBe(first)
    expect(first.validTo.toISOString()).toBe('2026-06-01T02:08:29.000Z')
    // outside the window the signature chain is judged again
    expect(codeOf(() => cache.verify(driver, { at: new Date('2030-01-01T00:00:00Z') }))).toBe(AttestationErrorCode.CERT_EXPIRED)
    // other bytes are other entries (and this cache holds one)
    const tampered = new Uint8Array(Buffer.from(Buffer.from(driver).toString('utf8').replace('550.90.07"', '550.90.08"')))
    expect(codeOf(() => cache.verify(tampered, { at: s.at }))).toBe(AttestationErrorCode.SIGNATURE_INVALID)
    cache.verify(fixture(s.rims[1]), { at: s.at })
    expect(cache.size).toBe(1)
    expect(cache.verify(driver, { at: s.at })).not.toBe(first)
    const v = verifyGpuReport(hexFile(s.report), { certs: loadCertificates(fixture(s.chain)), at: s.at, rims: s.rims.map(fixture), rimCache: new RimCache() })
    expect(v.measurementsMatched).toBe(true)
  })

  it('random and mutated input gets typed rejections only', () => {
    const s = SAMPLES[1]
    const bytes = hexFile(s.report)
    const certs = loadCertificates(fixture(s.chain))
    const runs = Number(process.env.BAZAAR_FUZZ_RUNS ?? 200)
    const typedOnly = (b: Uint8Array): void => {
      try { verifyGpuReport(b, { certs, at: s.at }) } catch (err) {
        if (!(err instanceof AttestationError)) throw err
      }
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 5000 }), (b) => { typedOnly(b) }), { numRuns: runs })
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(bytes.byteLength - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.nat(bytes.byteLength), (edits, cut) => {
      const m = new Uint8Array(bytes.subarray(0, Math.max(cut, 1) === bytes.byteLength ? bytes.byteLength : cut))
      for (const [i, v] of edits) if (i < m.byteLength) m[i] = v
      typedOnly(m)
    }), { numRuns: runs })
    // the opaque data alone, and RIM bytes
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (b) => {
      try { parseGpuOpaqueData(b) } catch (err) { if (!(err instanceof AttestationError)) throw err }
    }), { numRuns: runs })
    const rim = fixture(s.rims[1])
    fc.assert(fc.property(fc.nat(rim.byteLength - 1), fc.integer({ min: 0, max: 255 }), (i, v) => {
      const m = new Uint8Array(rim)
      m[i] = v
      try { verifyRim(m, { at: s.at }) } catch (err) { if (!(err instanceof AttestationError)) throw err }
    }), { numRuns: Math.min(runs, 100) })
  })
})
