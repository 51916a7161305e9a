import 'reflect-metadata' // @peculiar/x509 (certificates and CRLs made for this test) needs it
import { webcrypto, X509Certificate } from 'node:crypto'
import * as px from '@peculiar/x509'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { AttestationError, AttestationErrorCode } from '../../../src/tee/errors.js'
import { checkRevocation, parseCrl, type Crl } from '../../../src/tee/x509/crl.js'
import { loadTcbInfoCollateral } from '../../../src/tee/tdx/collateral.js'
import { verifyTdxQuote } from '../../../src/tee/tdx/verify.js'
import { fixture, haveTeeFixtures } from '../../helpers/tee-fixtures.js'

function codeOf (fn: () => unknown): string | undefined {
  try { fn(); return undefined } catch (err) { return err instanceof AttestationError ? err.code : `untyped ${String(err)}` }
}

/** A three-level PKI made here (root → CA → leaf, ECDSA P-256) and CRLs its CAs sign. */
describe('revocation along a certificate path, on a PKI made for the test', () => {
  px.cryptoProvider.set(webcrypto as never)
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const T = new Date('2026-01-10T00:00:00Z')
  const notBefore = new Date('2025-01-01T00:00:00Z')
  const notAfter = new Date('2030-01-01T00:00:00Z')
  const day = 24 * 3600_000
  let rootKeys: webcrypto.CryptoKeyPair
  let caKeys: webcrypto.CryptoKeyPair
  let otherKeys: webcrypto.CryptoKeyPair
  let path: X509Certificate[]
  let names: { root: string, ca: string }

  const keys = async (): Promise<webcrypto.CryptoKeyPair> => await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair
  const ca = (): px.Extension[] => [new px.BasicConstraintsExtension(true, undefined, true)]

  beforeAll(async () => {
    rootKeys = await keys()
    caKeys = await keys()
    otherKeys = await keys()
    const leafKeys = await keys()
    const root = await px.X509CertificateGenerator.createSelfSigned({ serialNumber: '01', name: 'CN=Test Root', notBefore, notAfter, keys: rootKeys, signingAlgorithm: alg, extensions: ca() })
    const mid = await px.X509CertificateGenerator.create({ serialNumber: '0a0b', subject: 'CN=Test CA', issuer: root.subject, notBefore, notAfter, publicKey: caKeys.publicKey, signingKey: rootKeys.privateKey, signingAlgorithm: alg, extensions: ca() })
    // a serial with a leading zero byte (its top bit is set): CRL entries must match it however written
    const leaf = await px.X509CertificateGenerator.create({ serialNumber: '00f1e2d3', subject: 'CN=Test Leaf', issuer: mid.subject, notBefore, notAfter, publicKey: leafKeys.publicKey, signingKey: caKeys.privateKey, signingAlgorithm: alg })
    path = [leaf, mid, root].map((c) => new X509Certificate(Buffer.from(c.rawData)))
    names = { root: root.subject, ca: mid.subject }
  })

  async function crl (issuer: string, signingKey: webcrypto.CryptoKey, serials: string[] = [], window: { thisUpdate?: Date, nextUpdate?: Date | null } = {}): Promise<Crl> {
    const c = await px.X509CrlGenerator.create({
      issuer,
      thisUpdate: window.thisUpdate ?? new Date(T.getTime() - day),
      nextUpdate: window.nextUpdate === null ? undefined : (window.nextUpdate ?? new Date(T.getTime() + 30 * day)),
      entries: serials.map((serialNumber) => ({ serialNumber, revocationDate: new Date(T.getTime() - 2 * day), reason: px.X509CrlReason.keyCompromise })),
      signingKey,
      signingAlgorithm: alg
    })
    return parseCrl(new Uint8Array(c.rawData))
  }

  it('current CRLs from both issuers that list neither certificate: the path stands', async () => {
    const crls = [await crl(names.ca, caKeys.privateKey, ['77', '0a0c']), await crl(names.root, rootKeys.privateKey, ['05'])]
    expect(crls[0].revoked).toEqual(new Set(['77', 'a0c']))
    expect(codeOf(() => { checkRevocation(path, crls, T) })).toBeUndefined()
  })

  it.each<[string, AttestationErrorCode, () => Promise<Crl[]>, Date?]>([
    ['the CA revoked the leaf', AttestationErrorCode.CERT_REVOKED, async () => [await crl(names.ca, caKeys.privateKey, ['f1e2d3']), await crl(names.root, rootKeys.privateKey)]],
    ['the root revoked the CA', AttestationErrorCode.CERT_REVOKED, async () => [await crl(names.ca, caKeys.privateKey), await crl(names.root, rootKeys.privateKey, ['0a0b'])]],
    ['no CRL from the CA', AttestationErrorCode.CERT_MISSING, async () => [await crl(names.root, rootKeys.privateKey)]],
    ['a CRL in the CA\'s name signed by another key', AttestationErrorCode.SIGNATURE_INVALID, async () => [await crl(names.ca, otherKeys.privateKey), await crl(names.root, rootKeys.privateKey)]],
    ['CRLs past their next update', AttestationErrorCode.STALE, async () => [await crl(names.ca, caKeys.privateKey), await crl(names.root, rootKeys.privateKey)], new Date(T.getTime() + 31 * day)],
    ['CRLs not yet issued', AttestationErrorCode.STALE, async () => [await crl(names.ca, caKeys.privateKey), await crl(names.root, rootKeys.privateKey)], new Date(T.getTime() - 2 * day)],
    ['a CRL without a next update', AttestationErrorCode.STALE, async () => [await crl(names.ca, caKeys.privateKey, [], { nextUpdate: null }), await crl(names.root, rootKeys.privateKey)]]
  ])('%s → %s', async (_name, code, make, at) => {
    const crls = await make()
    expect(codeOf(() => { checkRevocation(path, crls, at ?? T) })).toBe(code)
  })

  it('of several CRLs from one issuer the newest decides, in any order', async () => {
    const older = await crl(names.ca, caKeys.privateKey, [], { thisUpdate: new Date(T.getTime() - 5 * day) })
    const newer = await crl(names.ca, caKeys.privateKey, ['f1e2d3'])
    const root = await crl(names.root, rootKeys.privateKey)
    expect(codeOf(() => { checkRevocation(path, [older, newer, root], T) })).toBe(AttestationErrorCode.CERT_REVOKED)
    expect(codeOf(() => { checkRevocation(path, [newer, older, root], T) })).toBe(AttestationErrorCode.CERT_REVOKED)
  })

  it('a CRL with any byte flipped or cut is refused with a typed error, never accepted as another', async () => {
    const good = await px.X509CrlGenerator.create({ issuer: names.ca, thisUpdate: new Date(T.getTime() - day), nextUpdate: new Date(T.getTime() + day), entries: [{ serialNumber: 'f1e2d3' }], signingKey: caKeys.privateKey, signingAlgorithm: alg })
    const der = new Uint8Array(good.rawData)
    const root = await crl(names.root, rootKeys.privateKey)
    fc.assert(fc.property(fc.nat({ max: der.byteLength - 1 }), fc.integer({ min: 1, max: 255 }), fc.option(fc.nat({ max: der.byteLength }), { nil: undefined }), (at, xor, cut) => {
      const bad = der.slice(0, cut ?? der.byteLength)
      if (at < bad.byteLength) bad[at] ^= xor
      const code = codeOf(() => { checkRevocation(path, [parseCrl(bad), root], T) })
      // the leaf stays revoked unless the CRL no longer verifies or parses: a flip never un-revokes it
      expect(code === undefined ? 'accepted' : code).not.toMatch(/^untyped|^accepted$/)
    }), { numRuns: 300 })
  })
})

describe('AMD-style CRLs: RSASSA-PSS signed by the root, covering only the certificates it signed', () => {
  const T = new Date('2026-01-10T00:00:00Z')
  const day = 24 * 3600_000
  const pss = { name: 'RSA-PSS', hash: 'SHA-384', saltLength: 48, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }
  let arkKeys: webcrypto.CryptoKeyPair
  let path: X509Certificate[]
  let ark: px.X509Certificate

  beforeAll(async () => {
    arkKeys = await webcrypto.subtle.generateKey(pss, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair
    const askKeys = await webcrypto.subtle.generateKey(pss, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair
    const vekKeys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair
    const window = { notBefore: new Date('2025-01-01T00:00:00Z'), notAfter: new Date('2030-01-01T00:00:00Z') }
    const ca = [new px.BasicConstraintsExtension(true, undefined, true)]
    ark = await px.X509CertificateGenerator.createSelfSigned({ serialNumber: '01', name: 'CN=ARK-Test', keys: arkKeys, signingAlgorithm: pss, extensions: ca, ...window })
    const ask = await px.X509CertificateGenerator.create({ serialNumber: '0202', subject: 'CN=SEV-Test', issuer: ark.subject, publicKey: askKeys.publicKey, signingKey: arkKeys.privateKey, signingAlgorithm: pss, extensions: ca, ...window })
    const vek = await px.X509CertificateGenerator.create({ serialNumber: '03', subject: 'CN=SEV-VCEK', issuer: ask.subject, publicKey: vekKeys.publicKey, signingKey: askKeys.privateKey, signingAlgorithm: pss, ...window })
    path = [vek, ask, ark].map((c) => new X509Certificate(Buffer.from(c.rawData)))
  })

  const crl = async (serials: string[]): Promise<Crl> => parseCrl(new Uint8Array((await px.X509CrlGenerator.create({
    issuer: ark.subject, thisUpdate: new Date(T.getTime() - day), nextUpdate: new Date(T.getTime() + day), entries: serials.map((serialNumber) => ({ serialNumber })), signingKey: arkKeys.privateKey, signingAlgorithm: pss as never
  })).rawData))

  it('reads the PSS parameters, and the ARK\'s CRL alone covers the path', async () => {
    const c = await crl(['0999'])
    expect(c.pss).toEqual({ hash: 'sha384', saltLength: 48 })
    expect(codeOf(() => { checkRevocation(path, [c], T, { links: 'into-root' }) })).toBeUndefined()
    // every link would need a CRL: there is none from the ASK
    expect(codeOf(() => { checkRevocation(path, [c], T) })).toBe(AttestationErrorCode.CERT_MISSING)
  })

  it('a revoked ASK is refused; a PSS CRL signed by another key does not verify', async () => {
    const revoking = await crl(['0202'])
    expect(codeOf(() => { checkRevocation(path, [revoking], T, { links: 'into-root' }) })).toBe(AttestationErrorCode.CERT_REVOKED)
    const otherKeys = await webcrypto.subtle.generateKey(pss, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair
    const forged = parseCrl(new Uint8Array((await px.X509CrlGenerator.create({
      issuer: ark.subject, thisUpdate: new Date(T.getTime() - day), nextUpdate: new Date(T.getTime() + day), signingKey: otherKeys.privateKey, signingAlgorithm: pss as never
    })).rawData))
    expect(codeOf(() => { checkRevocation(path, [forged], T, { links: 'into-root' }) })).toBe(AttestationErrorCode.SIGNATURE_INVALID)
  })
})

describe('CRLs signed with RSA PKCS#1 v1.5', () => {
  it('verify under the issuer\'s RSA key and revoke what they list', async () => {
    const T = new Date('2026-01-10T00:00:00Z')
    const day = 24 * 3600_000
    const rsa = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }
    const window = { notBefore: new Date('2025-01-01T00:00:00Z'), notAfter: new Date('2030-01-01T00:00:00Z') }
    const rootKeys = await webcrypto.subtle.generateKey(rsa, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair
    const leafKeys = await webcrypto.subtle.generateKey(rsa, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair
    const root = await px.X509CertificateGenerator.createSelfSigned({ serialNumber: '01', name: 'CN=RSA Root', keys: rootKeys, signingAlgorithm: rsa, extensions: [new px.BasicConstraintsExtension(true, undefined, true)], ...window })
    const leaf = await px.X509CertificateGenerator.create({ serialNumber: '42', subject: 'CN=RSA Leaf', issuer: root.subject, publicKey: leafKeys.publicKey, signingKey: rootKeys.privateKey, signingAlgorithm: rsa, ...window })
    const path = [leaf, root].map((c) => new X509Certificate(Buffer.from(c.rawData)))
    const crl = async (serials: string[]): Promise<Crl> => parseCrl(new Uint8Array((await px.X509CrlGenerator.create({
      issuer: root.subject, thisUpdate: new Date(T.getTime() - day), nextUpdate: new Date(T.getTime() + day), entries: serials.map((serialNumber) => ({ serialNumber })), signingKey: rootKeys.privateKey, signingAlgorithm: rsa as never
    })).rawData))
    const clean = await crl(['43'])
    expect(clean.signatureAlgorithm).toBe('1.2.840.113549.1.1.11')
    expect(codeOf(() => { checkRevocation(path, [clean], T) })).toBeUndefined()
    const revoking = await crl(['42'])
    expect(codeOf(() => { checkRevocation(path, [revoking], T) })).toBe(AttestationErrorCode.CERT_REVOKED)
  })
})

describe.skipIf(!haveTeeFixtures)('Intel CRLs from the public fixtures', () => {
  const DCAP_AT = new Date('2025-07-01T00:00:00Z')

  it('parses the PCK CRL: issuer, window and revoked serials', () => {
    const crl = parseCrl(fixture('dcap-qvl/tdx_quote_collateral.pck_crl.der'))
    expect(crl.thisUpdate.toISOString()).toBe('2025-06-19T10:00:35.000Z')
    expect(crl.nextUpdate?.toISOString()).toBe('2025-07-19T10:00:35.000Z')
    expect(crl.revoked.has('6fc34e5023e728923435d61aa4b83c618166ad35')).toBe(true)
    expect(crl.revoked.has('efae6e9715fca13b87e333e8261ed6d990a926ad')).toBe(true)
    expect(Buffer.from(crl.issuer).toString('latin1')).toContain('Intel SGX PCK Platform CA')
  })

  it('a quote with its QuoteCollateralV3 (CRLs inside) is checked for revocation; without CRLs it is not', () => {
    const collateral = loadTcbInfoCollateral([fixture('dcap-qvl/tdx_quote_collateral.json')])
    expect(collateral.crls).toHaveLength(2)
    expect(verifyTdxQuote(fixture('dcap-qvl/tdx_quote'), { at: DCAP_AT, collateral }).revocationChecked).toBe(true)
    expect(verifyTdxQuote(fixture('dcap-qvl/tdx_quote'), { at: DCAP_AT, collateral: { ...collateral, crls: [] } }).revocationChecked).toBe(false)
  })

  it('CRLs given as DER files count the same; a missing PCK CRL or one from another time is refused', () => {
    const json = loadTcbInfoCollateral([fixture('dcap-qvl/tdx_quote_collateral.json')])
    // the same collateral without its CRL fields, and the CRLs as DER files beside it
    const { root_ca_crl: _r, pck_crl: _p, ...bare } = JSON.parse(new TextDecoder().decode(fixture('dcap-qvl/tdx_quote_collateral.json'))) as Record<string, unknown>
    expect(loadTcbInfoCollateral([new TextEncoder().encode(JSON.stringify(bare))]).crls).toHaveLength(0)
    const der = loadTcbInfoCollateral([
      new TextEncoder().encode(JSON.stringify(bare)),
      fixture('dcap-qvl/tdx_quote_collateral.root_ca_crl.der'), fixture('dcap-qvl/tdx_quote_collateral.pck_crl.der')
    ])
    expect(der.crls.map((c) => c.revoked.size)).toEqual(json.crls.map((c) => c.revoked.size))
    expect(verifyTdxQuote(fixture('dcap-qvl/tdx_quote'), { at: DCAP_AT, collateral: der }).revocationChecked).toBe(true)
    const rootOnly = { ...json, crls: [parseCrl(fixture('dcap-qvl/tdx_quote_collateral.root_ca_crl.der'))] }
    expect(codeOf(() => verifyTdxQuote(fixture('dcap-qvl/tdx_quote'), { at: DCAP_AT, collateral: rootOnly }))).toBe(AttestationErrorCode.CERT_MISSING)
    // the 2023 PCK CRL of the other fixture is not current in July 2025; beside the 2025 one it is ignored
    const old = parseCrl(fixture('go-tdx-guest/pckcrl'))
    expect(codeOf(() => verifyTdxQuote(fixture('dcap-qvl/tdx_quote'), { at: DCAP_AT, collateral: { ...json, crls: [json.crls[0], old] } }))).toBe(AttestationErrorCode.STALE)
    expect(verifyTdxQuote(fixture('dcap-qvl/tdx_quote'), { at: DCAP_AT, collateral: { ...json, crls: [old, ...json.crls] } }).revocationChecked).toBe(true)
  })
})
