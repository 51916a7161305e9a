import { X509Certificate, createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto'
import { AttestationErrorCode, fail } from '../errors.js'
import { bytesEqual, isZero } from '../../util/bytes.js'
import { INTEL_SGX_ROOT_CA } from '../roots/intel.js'
import { verifyChain } from '../x509/chain.js'
import { checkRevocation, type Crl } from '../x509/crl.js'
import { commonName, loadCertificates, publicKeyOf } from '../x509/load.js'
import { parseTdxQuote, type TdxQuote } from './parse.js'
import { readPckPlatform, type PckPlatform } from './pck.js'
import { checkTdQeIdentity } from './qe-identity.js'
import { verifyTcbInfo, type SignedTcbInfo } from './collateral.js'
import { evaluateTdxTcb, type TdxTcbEvaluation } from './tcb-status.js'

export interface TdxVerifyOptions {
  /** verification time; every certificate of the PCK chain must be valid then. Default: now */
  at?: Date
  /**
   * TCB info collateral: when given, the TCB status is evaluated (collateral valid at `at`). A list
   * holds one per platform (FMSPC); the one for the quote's platform is used, and with none for
   * it the status is left unevaluated.
   */
  collateral?: SignedTcbInfo | readonly SignedTcbInfo[]
  /** Intel CRLs besides those in the collateral; with any, the PCK chain is checked for revocation */
  crls?: readonly Crl[]
}

export interface TdxVerification {
  quote: TdxQuote
  /** common names of the PCK chain, leaf first */
  chain: string[]
  /** FMSPC and TCB of the platform, from the PCK leaf's SGX extensions */
  platform: PckPlatform
  /** TCB status against Intel's TCB info, when collateral was given */
  tcb?: TdxTcbEvaluation
  /** whether the PCK chain was checked against Intel's CRLs (collateral with CRLs was given) */
  revocationChecked: boolean
}

let intelRoot: X509Certificate | undefined

/** The raw 64-byte x||y attestation key as a P-256 public key. */
function p256Key (xy: Uint8Array): KeyObject {
  const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url')
  try {
    return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64(xy.subarray(0, 32)), y: b64(xy.subarray(32, 64)) }, format: 'jwk' })
  } catch (err) {
    fail(AttestationErrorCode.SIGNATURE_INVALID, 'attestation key is not a P-256 point', err)
  }
}

function ecdsaP256Valid (data: Uint8Array, sig: Uint8Array, key: KeyObject): boolean {
  try {
    return cryptoVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig)
  } catch {
    return false
  }
}

/**
 * Verifies a TDX quote (v4, v5): the attestation key signs header and TD report body; the PCK leaf
 * signs the QE report; the QE report data is SHA-256(attestation key || QE authentication data)
 * followed by 32 zero bytes; the QE is Intel's TD Quoting Enclave; and the PCK chain in the certification data leads to the pinned Intel
 * SGX Root CA, every certificate valid at `at`. With TCB info collateral, the platform's TCB status
 * is evaluated too (see evaluateTdxTcb); without, it is not. Throws AttestationError.
 */
export function verifyTdxQuote (bytes: Uint8Array, opts: TdxVerifyOptions = {}): TdxVerification {
  const at = opts.at ?? new Date()
  const quote = parseTdxQuote(bytes)
  // [REJECT] the quote is signed by its attestation key (cheap, and catches any flipped body byte)
  if (!ecdsaP256Valid(quote.signed, quote.signature, p256Key(quote.attestationKey))) {
    fail(AttestationErrorCode.SIGNATURE_INVALID, 'tdx quote signature does not verify under its attestation key')
  }
  // [REJECT] the QE report binds the attestation key and the QE authentication data
  const binding = createHash('sha256').update(quote.attestationKey).update(quote.qeAuthData).digest()
  if (!bytesEqual(quote.qeReport.reportData.subarray(0, 32), binding) || !isZero(quote.qeReport.reportData.subarray(32))) {
    fail(AttestationErrorCode.QE_BINDING_INVALID, 'QE report data does not bind the attestation key')
  }
  // [REJECT] the PCK chain is present and leads to the pinned Intel root
  if (quote.pckChain.byteLength === 0) fail(AttestationErrorCode.CERT_MISSING, 'tdx quote carries no PCK certificate chain')
  // the DCAP spec puts PEM here; loadCertificates also accepts the concatenated DER some samples carry
  const certs = loadCertificates(quote.pckChain)
  // the leaf is the one certificate that is not a CA; a chain of CAs alone lacks the PCK certificate
  const leaf = certs.find((c) => !c.ca)
  if (leaf == null) fail(AttestationErrorCode.CERT_MISSING, 'tdx quote carries no PCK leaf certificate')
  intelRoot ??= new X509Certificate(INTEL_SGX_ROOT_CA)
  // [REJECT] the PCK leaf signs the QE report (a certificate can parse while its key does not)
  if (!ecdsaP256Valid(quote.qeReport.raw, quote.qeReportSignature, publicKeyOf(leaf, 'the PCK certificate'))) {
    fail(AttestationErrorCode.SIGNATURE_INVALID, 'QE report signature does not verify under the PCK certificate')
  }
  const path = verifyChain(leaf, certs.filter((c) => c !== leaf), [intelRoot], at)
  // the collateral of this platform, where a list holds one per FMSPC (a leaf that is no PCK
  // certificate is refused below, in its turn)
  const collateral = collateralFor(opts.collateral, leaf)
  // [REJECT] with CRLs in the collateral: a revoked PCK certificate or intermediate CA
  const crls = [...(opts.crls ?? []), ...(collateral?.crls ?? [])]
  if (crls.length > 0) checkRevocation(path, crls, at)
  // [REJECT] the QE is Intel's TD Quoting Enclave (judged once its report is known to be genuine)
  checkTdQeIdentity(quote.qeReport)
  // [REJECT] the leaf is a PCK certificate (Intel issues others under the same root)
  const platform = readPckPlatform(leaf)
  const tcb = collateral != null ? evaluateTdxTcb(quote, platform, verifyTcbInfo(collateral, at)) : undefined
  return { quote, chain: path.map(commonName), platform, tcb, revocationChecked: crls.length > 0 }
}

/**
 * The collateral for the platform of the PCK certificate `leaf`: a single one as given
 * (evaluateTdxTcb refuses it for another FMSPC), or the one of a list whose TCB info names the
 * platform's FMSPC (undefined: none does, or the leaf names no platform)
 */
function collateralFor (c: SignedTcbInfo | readonly SignedTcbInfo[] | undefined, leaf: X509Certificate): SignedTcbInfo | undefined {
  if (c == null || !Array.isArray(c)) return c as SignedTcbInfo | undefined
  let fmspc: string
  try {
    fmspc = Buffer.from(readPckPlatform(leaf).fmspc).toString('hex')
  } catch {
    return undefined
  }
  return c.find((x) => tcbInfoFmspc(x)?.toLowerCase() === fmspc)
}

/** the FMSPC a signed TCB info names (read before its signature is checked, to choose among several) */
function tcbInfoFmspc (c: SignedTcbInfo): string | undefined {
  try {
    const fmspc = (JSON.parse(c.text) as { fmspc?: unknown }).fmspc
    return typeof fmspc === 'string' ? fmspc : undefined
  } catch {
    return undefined
  }
}
