import { readFileSync } from 'node:fs'
import path from 'node:path'
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { verifyGpuEvidence } from '../../../src/tee/gpu-verify.js'
import { parseCrl } from '../../../src/tee/x509/crl.js'
import type { GpuEvidence } from '../../../src/tee/types.js'
import { buildSpdmReport } from '../../helpers/spdm-gpu.js'

/**
 * Revocation of an NVIDIA-shaped device chain (root, identity CA, provisioner CA, BROM, alias
 * leaf) from stapled OCSP answers and CRLs, as NVIDIA publishes them: OCSP for every certificate
 * but the alias leaf, CRLs for the top links. The chain, the answers and the root's CRL are
 * OpenSSL's (test/fixtures/ocsp/make.sh); the SPDM 1.2 report is signed by the chain's leaf key.
 */
const DIR = path.resolve(__dirname, '../../fixtures/ocsp')
const file = (f: string): Uint8Array => new Uint8Array(readFileSync(path.join(DIR, f)))
const MADE = new Date(readFileSync(path.join(DIR, 'made-at.txt'), 'utf8').trim())
const AT = new Date(MADE.getTime() + 24 * 3600_000)
const root = new X509Certificate(readFileSync(path.join(DIR, 'root.pem')))
const leafKey = createPrivateKey(readFileSync(path.join(DIR, 'leaf.key')))

const codeOf = (fn: () => unknown): string | undefined => {
  try { fn() } catch (err) { return (err as { code?: string }).code }
  return undefined
}

describe('NVIDIA chain revocation from stapled OCSP answers and CRLs', () => {
  const nonce = new Uint8Array(randomBytes(32))
  const evidence = (answers: string[]): GpuEvidence => ({
    kind: 'nvidia-gpu',
    report: buildSpdmReport({ version: 0x12, nonce, key: leafKey }),
    certs: [file('chain.pem')],
    rims: [],
    ocsp: answers.map((a) => file(`${a}.der`))
  })
  const verify = (answers: string[], opts: { requireRevocation?: boolean, crls?: Uint8Array[] } = {}) =>
    verifyGpuEvidence(evidence(answers), { at: AT, nonce, deviceRoots: [root], requireRevocation: opts.requireRevocation, crls: opts.crls?.map(parseCrl) })

  it('passes with a good answer for every link but the alias leaf, and says so', () => {
    const v = verify(['brom-good', 'prov-good', 'ica-good'], { requireRevocation: true })
    expect(v.chain).toEqual(['Test GSP FMC LF', 'Test GSP BROM', 'Test Provisioner ICA', 'Test GH100 Identity', 'Test Device Identity CA'])
    expect(v.fields.revocationChecked).toBe(true)
    // the order of the answers does not matter, nor the issuer answering for itself
    expect(verify(['ica-good', 'brom-good-by-issuer', 'prov-good'], { requireRevocation: true }).fields.revocationChecked).toBe(true)
  })

  it('a CRL covers the top link and OCSP the others', () => {
    expect(verify(['brom-good', 'prov-good'], { crls: [file('root.crl')] }).fields.revocationChecked).toBe(true)
  })

  it('required: a link without a status is refused, naming it', () => {
    expect(codeOf(() => verify(['brom-good', 'prov-good'], { requireRevocation: true }))).toBe('CERT_MISSING')
    expect(() => verify(['brom-good', 'prov-good'], { requireRevocation: true })).toThrow(/no revocation status for Test GH100 Identity/)
    // a CRL given makes revocation required for the whole chain
    expect(() => verify([], { crls: [file('root.crl')] })).toThrow(/no revocation status for Test GSP BROM/)
  })

  it('not required: what is sent is still checked, and the rest is not claimed', () => {
    expect(verify([]).fields.revocationChecked).toBe(false)
    expect(verify(['brom-good']).fields.revocationChecked).toBe(false)
    expect(codeOf(() => verify(['brom-revoked']))).toBe('CERT_REVOKED')
    expect(codeOf(() => verify(['brom-unknown']))).toBe('CERT_MISSING')
    expect(codeOf(() => verify(['ica-not-a-responder']))).toBe('CHAIN_INVALID')
  })

  it('a revoked BROM is refused however the rest stands', () => {
    expect(codeOf(() => verify(['brom-revoked', 'prov-good', 'ica-good'], { requireRevocation: true }))).toBe('CERT_REVOKED')
    // a good answer beside it does not hide it, whichever comes first
    expect(codeOf(() => verify(['brom-good', 'brom-revoked', 'prov-good', 'ica-good'], { requireRevocation: true }))).toBe('CERT_REVOKED')
    expect(codeOf(() => verify(['brom-good-by-issuer', 'brom-unknown']))).toBe('CERT_MISSING')
  })

  it('answers past their window are refused when they speak for a link', () => {
    const late = new Date(MADE.getTime() + 8 * 24 * 3600_000)
    expect(codeOf(() => verifyGpuEvidence(evidence(['brom-good', 'prov-good', 'ica-good']), { at: late, nonce, deviceRoots: [root], requireRevocation: true }))).toBe('STALE')
  })

  it('bytes that are no OCSP answer, or too many answers, are MALFORMED', () => {
    const ev = evidence([])
    expect(codeOf(() => verifyGpuEvidence({ ...ev, ocsp: [new Uint8Array([0x30, 0x03, 0x0a, 0x01, 0x06])] }, { at: AT, nonce, deviceRoots: [root] }))).toBe('MALFORMED')
    expect(codeOf(() => verifyGpuEvidence({ ...ev, ocsp: Array.from({ length: 25 }, () => file('brom-good.der')) }, { at: AT, nonce, deviceRoots: [root] }))).toBe('MALFORMED')
  })
})
