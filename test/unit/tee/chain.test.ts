import { X509Certificate } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { AttestationErrorCode } from '../../../src/tee/errors.js'
import { AMD_ROOTS } from '../../../src/tee/roots/amd.js'
import { INTEL_SGX_ROOT_CA } from '../../../src/tee/roots/intel.js'
import { verifyChain } from '../../../src/tee/x509/chain.js'
import { loadCertificates } from '../../../src/tee/x509/load.js'
import { fixture, haveTeeFixtures } from '../../helpers/tee-fixtures.js'

const roots = (p: string) => AMD_ROOTS.find((r) => r.product === p)!
const codeOf = (fn: () => unknown): string | undefined => { try { fn() } catch (err) { return (err as { code?: string }).code } return undefined }

describe('pinned roots', () => {
  it.each(['Milan', 'Genoa', 'Turin'])('%s: ARK is self-signed, ASK and ASVK are signed by it', (p) => {
    const r = roots(p)
    const ark = new X509Certificate(r.ark)
    expect(ark.verify(ark.publicKey)).toBe(true)
    expect(new X509Certificate(r.ask).verify(ark.publicKey)).toBe(true)
    expect(new X509Certificate(r.asvk).verify(ark.publicKey)).toBe(true)
  })
  it('Intel SGX Root CA is self-signed', () => {
    const root = new X509Certificate(INTEL_SGX_ROOT_CA)
    expect(root.verify(root.publicKey)).toBe(true)
    expect(root.subject).toContain('CN=Intel SGX Root CA')
  })
})

describe.skipIf(!haveTeeFixtures)('verifyChain', () => {
  const vcek = () => loadCertificates(fixture('go-sev-guest/vcek.testcer'))[0]
  const milan = roots('Milan')
  const genoa = roots('Genoa')
  const at = new Date('2026-03-25T12:55:28Z')

  it('walks VCEK → ASK → ARK', () => {
    const path = verifyChain(vcek(), [new X509Certificate(milan.ask)], [new X509Certificate(milan.ark)], at)
    expect(path).toHaveLength(3)
  })
  it('refuses a path that ends at another product\'s root', () => {
    expect(codeOf(() => verifyChain(vcek(), [new X509Certificate(milan.ask), new X509Certificate(genoa.ask)], [new X509Certificate(genoa.ark)], at))).toBe(AttestationErrorCode.CHAIN_INVALID)
  })
  it('refuses a path without its intermediate', () => {
    expect(codeOf(() => verifyChain(vcek(), [new X509Certificate(genoa.ask)], [new X509Certificate(milan.ark)], at))).toBe(AttestationErrorCode.CHAIN_INVALID)
  })
  it('refuses out of the validity window', () => {
    expect(codeOf(() => verifyChain(vcek(), [new X509Certificate(milan.ask)], [new X509Certificate(milan.ark)], new Date('2030-01-01T00:00:00Z')))).toBe(AttestationErrorCode.CERT_EXPIRED)
  })
  it('refuses junk and empty bundles with MALFORMED', () => {
    expect(codeOf(() => loadCertificates(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00])))).toBe(AttestationErrorCode.MALFORMED)
    expect(codeOf(() => loadCertificates(new TextEncoder().encode('hello')))).toBe(AttestationErrorCode.MALFORMED)
  })
})

describe('DER reader (bounded)', async () => {
  const { readTlv, children, oidString } = await import('../../../src/tee/x509/der.js')
  it.each([
    ['empty', []],
    ['length past the end', [0x30, 0x05, 0x02, 0x01]],
    ['long-form length past the end', [0x30, 0x82, 0xff, 0xff, 0x00]],
    ['indefinite length', [0x30, 0x80, 0x00, 0x00]],
    ['five length bytes', [0x30, 0x85, 0, 0, 0, 0, 1, 0]]
  ])('%s → MALFORMED', (_n, b) => {
    expect(codeOf(() => readTlv(Uint8Array.from(b), 0))).toBe(AttestationErrorCode.MALFORMED)
  })
  it('refuses a child that runs past its parent', () => {
    const b = Uint8Array.from([0x30, 0x03, 0x04, 0x05, 0x00, 0x00, 0x00, 0x00])
    expect(codeOf(() => children(b, readTlv(b, 0)))).toBe(AttestationErrorCode.MALFORMED)
  })
  it('decodes the SGX extensions OID', () => {
    const b = Uint8Array.from([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01])
    expect(oidString(b, readTlv(b, 0))).toBe('1.2.840.113741.1.13.1')
  })
})
