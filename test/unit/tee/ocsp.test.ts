import { readFileSync } from 'node:fs'
import path from 'node:path'
import { X509Certificate } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { AttestationError } from '../../../src/tee/errors.js'
import { checkOcspStatus, ocspRequest, parseOcspResponse, type OcspResponse } from '../../../src/tee/x509/ocsp.js'
import { verifyChain } from '../../../src/tee/x509/chain.js'

/**
 * OCSP against what OpenSSL makes (test/fixtures/ocsp/make.sh): a P-384 chain shaped like NVIDIA's
 * GPU device chain (root, identity CA, provisioner CA, BROM, FMC leaf), requests from `openssl ocsp`
 * and answers from `openssl ocsp` as the responder, valid for the week after they were made.
 */
const DIR = path.resolve(__dirname, '../../fixtures/ocsp')
const file = (f: string): Uint8Array => new Uint8Array(readFileSync(path.join(DIR, f)))
const cert = (name: string): X509Certificate => new X509Certificate(readFileSync(path.join(DIR, `${name}.pem`)))
const MADE = new Date(readFileSync(path.join(DIR, 'made-at.txt'), 'utf8').trim())
const AT = new Date(MADE.getTime() + 24 * 3600_000)

const root = cert('root')
const chain = verifyChain(cert('leaf'), ['brom', 'prov', 'ica'].map(cert), [root], AT)
const BROM = 1
const PROV = 2
const ICA = 3
const answer = (f: string): OcspResponse => parseOcspResponse(file(`${f}.der`))
const codeOf = (fn: () => unknown): string | undefined => {
  try { fn() } catch (err) { return (err as { code?: string }).code }
  return undefined
}

describe('OCSP (RFC 6960) against OpenSSL', () => {
  it('the request is byte for byte what openssl ocsp -sha384 -no_nonce sends', () => {
    expect(Buffer.from(ocspRequest(cert('prov'), cert('ica')))).toEqual(Buffer.from(file('req-prov.der')))
  })

  it('reads an answer: responder, times, the certificate asked about and its status', () => {
    const r = answer('brom-revoked')
    expect(r.responses).toHaveLength(1)
    expect(r.responses[0]).toMatchObject({ hash: 'sha384', serial: '41431d480fe5e87274', status: 'revoked' })
    expect(r.responses[0].revokedAt!.getTime()).toBeLessThan(r.responses[0].thisUpdate.getTime())
    expect(r.responses[0].nextUpdate!.getTime() - r.responses[0].thisUpdate.getTime()).toBe(7 * 24 * 3600_000)
    expect(r.certs.map((c) => c.subject)).toEqual([cert('responder').subject])
    expect(answer('brom-good-by-issuer').responderKeyHash).toHaveLength(20)
  })

  it('every link of the chain but the root is good, whether a delegated responder or the issuer answers', () => {
    expect(chain.map((c) => c.subject.split('\n').at(-1))).toEqual(['CN=Test GSP FMC LF', 'CN=Test GSP BROM', 'CN=Test Provisioner ICA', 'CN=Test GH100 Identity', 'CN=Test Device Identity CA'])
    checkOcspStatus(answer('brom-good'), chain, BROM, AT)
    checkOcspStatus(answer('prov-good'), chain, PROV, AT)
    checkOcspStatus(answer('ica-good'), chain, ICA, AT)
    checkOcspStatus(answer('brom-good-by-issuer'), chain, BROM, AT)
  })

  it('refuses a revoked certificate, one the responder does not know, and an answer about another', () => {
    expect(codeOf(() => { checkOcspStatus(answer('brom-revoked'), chain, BROM, AT) })).toBe('CERT_REVOKED')
    expect(codeOf(() => { checkOcspStatus(answer('brom-unknown'), chain, BROM, AT) })).toBe('CERT_MISSING')
    expect(codeOf(() => { checkOcspStatus(answer('prov-good'), chain, BROM, AT) })).toBe('CERT_MISSING')
  })

  it('refuses a responder the chain does not vouch for', () => {
    // certified by the root, but not for OCSP signing
    expect(codeOf(() => { checkOcspStatus(answer('ica-not-a-responder'), chain, ICA, AT) })).toBe('CHAIN_INVALID')
    // the delegated responder is the root's: a path without the root does not vouch for it
    expect(codeOf(() => { checkOcspStatus(answer('brom-good'), chain.slice(0, 4), BROM, AT) })).toBe('CHAIN_INVALID')
    // an answer about the BROM as the provisioner CA issued it fits no path where another CA issued it
    expect(codeOf(() => { checkOcspStatus(answer('brom-good-by-issuer'), [chain[1], chain[3], chain[4]], 0, AT) })).toBe('CERT_MISSING')
  })

  it('refuses an answer outside its window or with a changed byte', () => {
    const next = answer('brom-good').responses[0].nextUpdate!
    expect(codeOf(() => { checkOcspStatus(answer('brom-good-by-issuer'), chain, BROM, new Date(next.getTime() + 1000)) })).toBe('STALE')
    // made after the time asked about, beyond the allowed clock skew
    expect(codeOf(() => { checkOcspStatus(answer('brom-good-by-issuer'), chain, BROM, new Date(MADE.getTime() - 10 * 60_000)) })).toBe('STALE')
    checkOcspStatus(answer('brom-good-by-issuer'), chain, BROM, new Date(MADE.getTime() - 60_000))
    // a byte of the signed data changed: producedAt's last digit of seconds
    const bytes = file('brom-good.der')
    const r = parseOcspResponse(bytes)
    const produced = r.producedAt.toISOString().replace(/[-:T]|\.\d+/g, '')
    const at = Buffer.from(bytes).indexOf(Buffer.from(produced, 'latin1')) + produced.length - 2
    const changed = new Uint8Array(bytes)
    changed[at] ^= 0x01
    expect(parseOcspResponse(changed).producedAt.getTime()).not.toBe(r.producedAt.getTime())
    expect(codeOf(() => { checkOcspStatus(parseOcspResponse(changed), chain, BROM, AT) })).toBe('SIGNATURE_INVALID')
    const sig = new Uint8Array(bytes)
    const s = Buffer.from(bytes).indexOf(Buffer.from(r.signature)) + r.signature.byteLength - 1
    sig[s] ^= 0x01
    expect(codeOf(() => { checkOcspStatus(parseOcspResponse(sig), chain, BROM, AT) })).toBe('SIGNATURE_INVALID')
  })

  it('a responder that refused, and bytes that are no OCSP answer, are MALFORMED with one line', () => {
    expect(() => parseOcspResponse(new Uint8Array([0x30, 0x03, 0x0a, 0x01, 0x03]))).toThrow(/answered tryLater/)
    for (const b of [new Uint8Array(0), new Uint8Array([0x30]), new Uint8Array([0x30, 0x03, 0x0a, 0x01, 0x00]), file('req-prov.der'), new Uint8Array(20_000)]) {
      expect(codeOf(() => parseOcspResponse(b))).toBe('MALFORMED')
    }
  })

  it('never throws anything but an AttestationError on a changed answer', () => {
    const bytes = file('brom-revoked.der')
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(bytes.byteLength - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
      const b = new Uint8Array(bytes)
      for (const [i, x] of edits) b[i] ^= x
      try {
        checkOcspStatus(parseOcspResponse(b), chain, BROM, AT)
      } catch (err) {
        if (!(err instanceof AttestationError)) throw err
      }
    }), { numRuns: 400 })
  })
})
