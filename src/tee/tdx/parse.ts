import { AttestationErrorCode, fail } from '../errors.js'
import { Reader } from '../bytes.js'

/**
 * Intel TDX DCAP quote layout (Intel "TDX DCAP Quoting Library API", Appendix A: Quote Format v4;
 * Quote Format v5 adds a body-type header).
 */
export const TDX_HEADER_SIZE = 48
export const TDX_TEE_TYPE = 0x81
export const SGX_TEE_TYPE = 0x00
/** attestation key type 2: ECDSA-256 with P-256 */
export const ATT_KEY_ECDSA_P256 = 2
/** TD report body sizes: TDX 1.0 (v4, v5 body type 2) and TDX 1.5 (v5 body type 3) */
export const TD_REPORT_10_SIZE = 584
export const TD_REPORT_15_SIZE = 648
/** SGX enclave REPORT body (the QE report) */
export const SGX_REPORT_SIZE = 384
/** certification data types (DCAP: 5 = PCK cert chain in PEM, 6 = QE report certification data) */
export const CERT_DATA_PCK_CHAIN = 5
export const CERT_DATA_QE_REPORT = 6
/** Largest quote accepted: real ones are about 5 KiB; the PCK chain dominates. */
export const MAX_QUOTE_SIZE = 64 * 1024
/** TD_ATTRIBUTES bit 0: DEBUG (the TD is debuggable; the host can read its state). */
export const TD_ATTRIBUTES_DEBUG = 1n
/**
 * TD_ATTRIBUTES bit 29: MIGRATABLE (Intel TDX Module ABI spec, table "TD_ATTRIBUTES Definition"):
 * the TD may be exported to another platform by a migration TD. Other attribute bits are read as
 * they are and not refused: the set the TDX module defines grows with its versions (Linux's
 * asm/shared/tdx.h now also names ICSSD at 16, LASS at 27 and TPA at 62), so a bit reserved in one
 * version of the ABI is a feature of a later one, and a quote does not say which list applies.
 */
export const TD_ATTRIBUTES_MIGRATABLE = 1n << 29n

export interface TdxHeader {
  version: number
  attKeyType: number
  teeType: number
  qeSvn: number
  pceSvn: number
  qeVendorId: Uint8Array
  userData: Uint8Array
}

/** The TD report body (TDREPORT's TDINFO and TEE_TCB_INFO fields as quoted). */
export interface TdReportBody {
  teeTcbSvn: Uint8Array
  mrSeam: Uint8Array
  mrSignerSeam: Uint8Array
  seamAttributes: Uint8Array
  tdAttributes: Uint8Array
  /** TD_ATTRIBUTES bit 0 */
  debug: boolean
  /** TD_ATTRIBUTES bit 29 (MIGRATABLE) */
  migratable: boolean
  xfam: Uint8Array
  mrTd: Uint8Array
  mrConfigId: Uint8Array
  mrOwner: Uint8Array
  mrOwnerConfig: Uint8Array
  rtmr0: Uint8Array
  rtmr1: Uint8Array
  rtmr2: Uint8Array
  rtmr3: Uint8Array
  reportData: Uint8Array
  /** TDX 1.5 only */
  teeTcbSvn2?: Uint8Array
  mrServiceTd?: Uint8Array
}

/** The SGX REPORT body of the Quoting Enclave. */
export interface QeReport {
  cpuSvn: Uint8Array
  miscSelect: number
  attributes: Uint8Array
  mrEnclave: Uint8Array
  mrSigner: Uint8Array
  isvProdId: number
  isvSvn: number
  reportData: Uint8Array
  /** the 384 bytes the PCK signature covers */
  raw: Uint8Array
}

export interface TdxQuote {
  header: TdxHeader
  /** v5 only: 2 (TDX 1.0) or 3 (TDX 1.5) */
  bodyType?: number
  body: TdReportBody
  /** header and body: what the attestation key signs */
  signed: Uint8Array
  /** r||s, big-endian 32 bytes each */
  signature: Uint8Array
  /** x||y of the P-256 attestation key */
  attestationKey: Uint8Array
  qeReport: QeReport
  qeReportSignature: Uint8Array
  qeAuthData: Uint8Array
  /** the PCK chain (leaf, platform or processor CA, root) as carried: PEM per the DCAP spec */
  pckChain: Uint8Array
  /** bytes of the quote proper (the file may carry trailing bytes) */
  length: number
}

function parseBody (r: Reader, o: number, size: number): TdReportBody {
  const tdAttributes = r.slice(o + 120, 8)
  const attributes = new DataView(tdAttributes.buffer).getBigUint64(0, true)
  const body: TdReportBody = {
    teeTcbSvn: r.slice(o, 16),
    mrSeam: r.slice(o + 16, 48),
    mrSignerSeam: r.slice(o + 64, 48),
    seamAttributes: r.slice(o + 112, 8),
    tdAttributes,
    debug: (attributes & TD_ATTRIBUTES_DEBUG) !== 0n,
    migratable: (attributes & TD_ATTRIBUTES_MIGRATABLE) !== 0n,
    xfam: r.slice(o + 128, 8),
    mrTd: r.slice(o + 136, 48),
    mrConfigId: r.slice(o + 184, 48),
    mrOwner: r.slice(o + 232, 48),
    mrOwnerConfig: r.slice(o + 280, 48),
    rtmr0: r.slice(o + 328, 48),
    rtmr1: r.slice(o + 376, 48),
    rtmr2: r.slice(o + 424, 48),
    rtmr3: r.slice(o + 472, 48),
    reportData: r.slice(o + 520, 64)
  }
  if (size === TD_REPORT_15_SIZE) {
    body.teeTcbSvn2 = r.slice(o + 584, 16)
    body.mrServiceTd = r.slice(o + 600, 48)
  }
  return body
}

function parseQeReport (r: Reader, o: number): QeReport {
  return {
    cpuSvn: r.slice(o, 16),
    miscSelect: r.u32(o + 16),
    attributes: r.slice(o + 48, 16),
    mrEnclave: r.slice(o + 64, 32),
    mrSigner: r.slice(o + 128, 32),
    isvProdId: r.u16(o + 256),
    isvSvn: r.u16(o + 258),
    reportData: r.slice(o + 320, 64),
    raw: r.slice(o, SGX_REPORT_SIZE)
  }
}

/**
 * Parses a TDX quote v4 or v5 by the lengths inside it (trailing bytes are ignored). An SGX quote
 * (TEE type 0) is refused with WRONG_TEE_TYPE; other versions with UNSUPPORTED_VERSION; short or
 * inconsistent lengths with TRUNCATED or MALFORMED.
 */
export function parseTdxQuote (bytes: Uint8Array): TdxQuote {
  if (bytes.byteLength > MAX_QUOTE_SIZE) fail(AttestationErrorCode.MALFORMED, `tdx quote over ${MAX_QUOTE_SIZE} bytes`)
  const r = new Reader(bytes, 'tdx quote')
  const version = r.u16(0)
  const header: TdxHeader = {
    version,
    attKeyType: r.u16(2),
    teeType: r.u32(4),
    qeSvn: r.u16(8),
    pceSvn: r.u16(10),
    qeVendorId: r.slice(12, 16),
    userData: r.slice(28, 20)
  }
  // [REJECT] an SGX quote is not TDX evidence, whatever its version
  if (header.teeType === SGX_TEE_TYPE) fail(AttestationErrorCode.WRONG_TEE_TYPE, `quote is for SGX (TEE type 0), not TDX (version ${version})`)
  if (version !== 4 && version !== 5) fail(AttestationErrorCode.UNSUPPORTED_VERSION, `tdx quote version ${version}`)
  if (header.teeType !== TDX_TEE_TYPE) fail(AttestationErrorCode.WRONG_TEE_TYPE, `tee type 0x${header.teeType.toString(16)}`)
  if (header.attKeyType !== ATT_KEY_ECDSA_P256) fail(AttestationErrorCode.UNSUPPORTED_VERSION, `attestation key type ${header.attKeyType}`)

  let bodyOffset = TDX_HEADER_SIZE
  let bodySize = TD_REPORT_10_SIZE
  let bodyType: number | undefined
  if (version === 5) {
    bodyType = r.u16(48)
    bodySize = r.u32(50)
    bodyOffset = 54
    // v5 body types: 2 = TD report 1.0, 3 = TD report 1.5 (1 is SGX)
    if (bodyType === 2 && bodySize !== TD_REPORT_10_SIZE) fail(AttestationErrorCode.MALFORMED, `body type 2 with size ${bodySize}`)
    else if (bodyType === 3 && bodySize !== TD_REPORT_15_SIZE) fail(AttestationErrorCode.MALFORMED, `body type 3 with size ${bodySize}`)
    else if (bodyType !== 2 && bodyType !== 3) fail(AttestationErrorCode.UNSUPPORTED_VERSION, `tdx quote body type ${bodyType}`)
  }
  const body = parseBody(r, bodyOffset, bodySize)
  const signedEnd = bodyOffset + bodySize
  const sigLen = r.u32(signedEnd)
  const s = signedEnd + 4
  r.need(s, sigLen)
  const end = s + sigLen
  // ECDSA quote signature data: signature (64), attestation key (64), certification data
  const signature = r.slice(s, 64)
  const attestationKey = r.slice(s + 64, 64)
  const certType = r.u16(s + 128)
  const certSize = r.u32(s + 130)
  const c = s + 134
  if (c + certSize > end) fail(AttestationErrorCode.TRUNCATED, 'tdx quote: certification data past the signature data')
  if (certType !== CERT_DATA_QE_REPORT) fail(AttestationErrorCode.UNSUPPORTED_VERSION, `certification data type ${certType} (expected 6, QE report)`)
  const qeReport = parseQeReport(r, c)
  const qeReportSignature = r.slice(c + SGX_REPORT_SIZE, 64)
  const authOffset = c + SGX_REPORT_SIZE + 64
  const authSize = r.u16(authOffset)
  const qeAuthData = r.slice(authOffset + 2, authSize)
  const inner = authOffset + 2 + authSize
  const innerType = r.u16(inner)
  const innerSize = r.u32(inner + 2)
  if (inner + 6 + innerSize > c + certSize) fail(AttestationErrorCode.TRUNCATED, 'tdx quote: PCK chain past the certification data')
  if (innerType !== CERT_DATA_PCK_CHAIN) fail(AttestationErrorCode.UNSUPPORTED_VERSION, `inner certification data type ${innerType} (expected 5, PCK chain)`)
  // trailing NULs pad some chains
  let chainLen = innerSize
  while (chainLen > 0 && bytes[inner + 6 + chainLen - 1] === 0) chainLen--
  const pckChain = r.slice(inner + 6, chainLen)
  return {
    header,
    bodyType,
    body,
    signed: r.slice(0, signedEnd),
    signature,
    attestationKey,
    qeReport,
    qeReportSignature,
    qeAuthData,
    pckChain,
    length: end
  }
}
