import { X509Certificate, verify as cryptoVerify } from 'node:crypto'
import { AttestationErrorCode, fail } from '../errors.js'
import { fromHex } from '../../util/hex.js'
import { INTEL_SGX_ROOT_CA } from '../roots/intel.js'
import { verifyChain } from '../x509/chain.js'
import { loadCertificates } from '../x509/load.js'
import { loadCrls, parseCrl, type Crl } from '../x509/crl.js'

/** Largest collateral file accepted (a TDX TCB info is about 3 to 14 KiB). */
export const MAX_COLLATERAL_SIZE = 256 * 1024

/** TCB info as signed by Intel (PCS API v4, "TCB Info V3" for TDX); only the fields evaluated are typed. */
export interface TcbInfo {
  id: string
  version: number
  issueDate: string
  nextUpdate: string
  fmspc: string
  pceId: string
  /** Intel's TCB recovery counter: a higher number is a later evaluation of the same platform */
  tcbEvaluationDataNumber?: number
  tdxModule?: { mrsigner: string, attributes: string, attributesMask: string }
  tdxModuleIdentities?: Array<{ id: string, mrsigner: string, attributes: string, attributesMask: string, tcbLevels: Array<{ tcb: { isvsvn: number }, tcbStatus: string }> }>
  tcbLevels: Array<{
    tcb: { sgxtcbcomponents: Array<{ svn: number }>, pcesvn: number, tdxtcbcomponents?: Array<{ svn: number }> }
    tcbDate: string
    tcbStatus: string
    advisoryIDs?: string[]
  }>
}

/**
 * TCB info text exactly as signed, its signature (r||s) and the signing certificate chain; and the
 * CRLs that came with it (Intel's root CA CRL and PCK CRL), with which the quote's PCK chain is
 * checked for revocation.
 */
export interface SignedTcbInfo {
  text: string
  signature: Uint8Array
  chain: X509Certificate[]
  crls: Crl[]
}

/** The exact text of the JSON value that follows `"key":` in `text` (strings and nesting respected). */
function rawJsonValue (text: string, key: string): string | undefined {
  const at = text.indexOf(`"${key}"`)
  if (at < 0) return undefined
  let i = text.indexOf(':', at + key.length + 2) + 1
  while (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t') i++
  if (text[i] !== '{') return undefined
  let depth = 0
  let inString = false
  for (let j = i; j < text.length; j++) {
    const c = text[j]
    if (inString) {
      if (c === '\\') j++
      else if (c === '"') inString = false
    } else if (c === '"') inString = true
    else if (c === '{') depth++
    else if (c === '}' && --depth === 0) return text.slice(i, j + 1)
  }
  return undefined
}

/**
 * Reads TCB info collateral from files, in either form found in the field:
 * - a QuoteCollateralV3 JSON object (`tcb_info` text, `tcb_info_signature` hex, `tcb_info_issuer_chain` PEM,
 *   and the CRLs `root_ca_crl` and `pck_crl` in hex DER), or
 * - an Intel PCS response body (`{"tcbInfo":{...},"signature":"hex"}`) plus the issuer chain as a PEM file
 *   (PCS sends it in the `TCB-Info-Issuer-Chain` header), and CRLs as DER or PEM (`X509 CRL`) files.
 * Throws MALFORMED or CERT_MISSING.
 */
export function loadTcbInfoCollateral (files: readonly Uint8Array[]): SignedTcbInfo {
  let text: string | undefined
  let signature: Uint8Array | undefined
  const chain: X509Certificate[] = []
  const crls: Crl[] = []
  for (const f of files) {
    if (f.byteLength > MAX_COLLATERAL_SIZE) fail(AttestationErrorCode.MALFORMED, `collateral over ${MAX_COLLATERAL_SIZE} bytes`)
    const s = Buffer.from(f).toString('utf8')
    if (f[0] === 0x30 || s.trimStart().startsWith('-----BEGIN X509 CRL-----')) { crls.push(...loadCrls(f)); continue }
    if (s.trimStart().startsWith('-----BEGIN')) { chain.push(...loadCertificates(f)); continue }
    let obj: Record<string, unknown>
    try { obj = JSON.parse(s) } catch (err) { fail(AttestationErrorCode.MALFORMED, 'collateral is neither JSON nor PEM', err) }
    if (typeof obj.tcb_info === 'string' && typeof obj.tcb_info_signature === 'string') {
      text = obj.tcb_info
      signature = fromHexOrFail(obj.tcb_info_signature)
      if (typeof obj.tcb_info_issuer_chain === 'string') chain.push(...loadCertificates(new TextEncoder().encode(obj.tcb_info_issuer_chain)))
      for (const k of ['root_ca_crl', 'pck_crl']) {
        const v = obj[k]
        if (typeof v === 'string' && v !== '') crls.push(parseCrl(fromHexOrFail(v)))
      }
    } else if (typeof obj.signature === 'string' && obj.tcbInfo != null) {
      text = rawJsonValue(s, 'tcbInfo')
      signature = fromHexOrFail(obj.signature)
    }
  }
  if (text == null || signature == null) fail(AttestationErrorCode.CERT_MISSING, 'no TCB info in the collateral')
  if (chain.length === 0) fail(AttestationErrorCode.CERT_MISSING, 'no TCB info issuer chain in the collateral')
  return { text, signature, chain, crls }
}

function fromHexOrFail (h: string): Uint8Array {
  try { return fromHex(h) } catch (err) { fail(AttestationErrorCode.MALFORMED, 'collateral field is not hex', err) }
}

/**
 * Verifies TCB info: the Intel SGX TCB Signing certificate chains to the pinned Intel root at `at`,
 * its ECDSA P-256 signature covers the exact TCB info text, the info is for TDX (id "TDX", version 3+),
 * and `at` is before its nextUpdate (expired collateral says nothing about today's TCB).
 */
export function verifyTcbInfo (signed: SignedTcbInfo, at: Date): TcbInfo {
  const root = new X509Certificate(INTEL_SGX_ROOT_CA)
  const leaf = signed.chain.find((c) => !c.ca)
  if (leaf == null) fail(AttestationErrorCode.CERT_MISSING, 'no TCB signing certificate')
  verifyChain(leaf, signed.chain.filter((c) => c !== leaf), [root], at)
  let ok = false
  try {
    ok = signed.signature.byteLength === 64 && cryptoVerify('sha256', Buffer.from(signed.text, 'utf8'), { key: leaf.publicKey, dsaEncoding: 'ieee-p1363' }, signed.signature)
  } catch { ok = false }
  if (!ok) fail(AttestationErrorCode.SIGNATURE_INVALID, 'TCB info signature does not verify')
  let info: TcbInfo
  try { info = JSON.parse(signed.text) as TcbInfo } catch (err) { fail(AttestationErrorCode.MALFORMED, 'TCB info is not JSON', err) }
  if (info.id !== 'TDX' || typeof info.version !== 'number' || info.version < 3 || !Array.isArray(info.tcbLevels)) {
    fail(AttestationErrorCode.MALFORMED, `TCB info ${String(info.id)} v${String(info.version)} is not TDX TCB info v3`)
  }
  const next = Date.parse(info.nextUpdate)
  if (!Number.isFinite(next) || at.getTime() > next) fail(AttestationErrorCode.STALE, `TCB info expired at ${info.nextUpdate}`)
  return info
}
