import 'reflect-metadata' // @peculiar/x509 (certificates made for this test) needs it
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { webcrypto, X509Certificate } from 'node:crypto'
import { AsnConvert } from '@peculiar/asn1-schema'
import { Certificate } from '@peculiar/asn1-x509'
import * as px from '@peculiar/x509'
import { beforeAll, describe, expect, it } from 'vitest'
import { extensionValues } from '../../../src/tee/x509/extensions.js'
import { loadCertificates } from '../../../src/tee/x509/load.js'
import { haveTeeFixtures, TEE_FIXTURES } from '../../helpers/tee-fixtures.js'

// extensionValues reads certificates with the project's own DER reader; @peculiar/asn1-x509, a
// full ASN.1 schema parser, is the reference it must agree with, extension by extension.

function reference (cert: X509Certificate): Map<string, string> {
  const parsed = AsnConvert.parse(cert.raw, Certificate)
  return new Map((parsed.tbsCertificate.extensions ?? []).map((e) => [e.extnID, Buffer.from(e.extnValue.buffer).toString('hex')]))
}

function ours (cert: X509Certificate): Map<string, string> {
  return new Map([...extensionValues(cert)].map(([oid, v]) => [oid, Buffer.from(v).toString('hex')]))
}

/** every certificate in the fixture tree's PEM and DER files */
function fixtureCertificates (): Array<{ file: string, cert: X509Certificate }> {
  const out: Array<{ file: string, cert: X509Certificate }> = []
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (/\.(pem|der|crt|cer)$/.test(name)) {
        try {
          for (const cert of loadCertificates(new Uint8Array(readFileSync(p)))) out.push({ file: path.relative(TEE_FIXTURES, p), cert })
        } catch {
          // a CRL or a key, not certificates
        }
      }
    }
  }
  walk(TEE_FIXTURES)
  return out
}

describe('certificate extensions', () => {
  beforeAll(() => { px.cryptoProvider.set(webcrypto as never) })

  it('reads critical and non-critical extensions, and none, as the ASN.1 schema parser does', async () => {
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
    const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair
    const window = { notBefore: new Date('2026-01-01'), notAfter: new Date('2027-01-01') }
    const custom = (oid: string, critical: boolean, value: Uint8Array): px.Extension => new px.Extension(oid, critical, value)
    const certs = [
      await px.X509CertificateGenerator.createSelfSigned({ serialNumber: '01', name: 'CN=none', keys, signingAlgorithm: alg, ...window }),
      await px.X509CertificateGenerator.createSelfSigned({
        serialNumber: '02',
        name: 'CN=several',
        keys,
        signingAlgorithm: alg,
        extensions: [
          new px.BasicConstraintsExtension(true, 2, true),
          new px.KeyUsagesExtension(px.KeyUsageFlags.keyCertSign, true),
          custom('1.3.6.1.4.1.3704.1.3.1', false, Uint8Array.of(0x02, 0x01, 0x07)),
          // a value over 127 and over 255 bytes: long-form DER lengths
          custom('1.2.840.113741.1.13.1', false, new Uint8Array(300).fill(0x5a)),
          custom('2.999.1', true, new Uint8Array(0))
        ],
        ...window
      })
    ]
    for (const c of certs) {
      const cert = new X509Certificate(Buffer.from(c.rawData))
      expect(ours(cert)).toEqual(reference(cert))
    }
    const several = extensionValues(new X509Certificate(Buffer.from(certs[1].rawData)))
    expect(several.size).toBe(5)
    expect([...several.get('1.3.6.1.4.1.3704.1.3.1')!]).toEqual([0x02, 0x01, 0x07])
    expect(several.get('1.2.840.113741.1.13.1')!.length).toBe(300)
  })

  it.skipIf(!haveTeeFixtures)('reads every certificate of the vendors\' fixtures (AMD VCEK/VLEK/ASK/ARK, Intel PCK chains, NVIDIA) as the ASN.1 schema parser does', () => {
    const certs = fixtureCertificates()
    expect(certs.length).toBeGreaterThan(20)
    let withExtensions = 0
    for (const { file, cert } of certs) {
      const expected = reference(cert)
      expect(ours(cert), file).toEqual(expected)
      if (expected.size > 0) withExtensions++
    }
    expect(withExtensions).toBeGreaterThan(10)
  })
})
