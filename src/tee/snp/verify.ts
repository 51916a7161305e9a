import { X509Certificate, verify as cryptoVerify } from 'node:crypto'
import { AttestationErrorCode, fail } from '../errors.js'
import { bytesEqual, isZero } from '../../util/bytes.js'
import { AMD_ROOTS } from '../roots/amd.js'
import { verifyChain } from '../x509/chain.js'
import { checkRevocation, type Crl } from '../x509/crl.js'
import { commonName } from '../x509/load.js'
import { derSmallInteger, extensionValues } from '../x509/extensions.js'
import { parseSnpReport, SNP_SIG_ALGO_ECDSA_P384_SHA384, SnpSigningKey, type SnpReport } from './parse.js'
import { decodeSnpTcb } from './tcb.js'

/** AMD VCEK/VLEK extension OIDs (AMD "Versioned Chip Endorsement Key (VCEK) Certificate and KDS Interface Specification"). */
const OID = {
  blSPL: '1.3.6.1.4.1.3704.1.3.1',
  teeSPL: '1.3.6.1.4.1.3704.1.3.2',
  snpSPL: '1.3.6.1.4.1.3704.1.3.3',
  ucodeSPL: '1.3.6.1.4.1.3704.1.3.8',
  fmcSPL: '1.3.6.1.4.1.3704.1.3.9',
  hwID: '1.3.6.1.4.1.3704.1.4'
}

export interface SnpVerifyOptions {
  /** VCEK or VLEK, and optionally ASK/ASVK/ARK (untrusted; the path must end at a pinned ARK) */
  certs?: readonly X509Certificate[]
  /** verification time; certificates must be valid then. Default: now */
  at?: Date
  /**
   * AMD's CRL of the product (KDS `/vcek/v1/<product>/crl`, signed by the ARK): when given, the
   * ASK or ASVK of the path must not be listed, and the CRL must be current at `at`
   */
  crls?: readonly Crl[]
}

export interface SnpVerification {
  report: SnpReport
  /** Milan, Genoa or Turin: from the pinned ARK the chain ends at */
  product: string
  signer: 'VCEK' | 'VLEK'
  /** common names, leaf first */
  chain: string[]
  /** whether the ARK's CRL was checked (CRLs were given) */
  revocationChecked: boolean
}

let pinned: { arks: X509Certificate[], intermediates: X509Certificate[] } | undefined
function pinnedAmd (): { arks: X509Certificate[], intermediates: X509Certificate[] } {
  pinned ??= {
    arks: AMD_ROOTS.map((r) => new X509Certificate(r.ark)),
    intermediates: AMD_ROOTS.flatMap((r) => [new X509Certificate(r.ask), new X509Certificate(r.asvk)])
  }
  return pinned
}

function reportSignatureValid (report: SnpReport, key: X509Certificate): boolean {
  try {
    return cryptoVerify('sha384', report.signed, { key: key.publicKey, dsaEncoding: 'ieee-p1363' },
      Buffer.concat([report.signatureR, report.signatureS]))
  } catch {
    return false
  }
}

/** The VEK's TCB and chip id must describe the platform that produced the report. */
function checkVekMatchesReport (vek: X509Certificate, report: SnpReport, signer: 'VCEK' | 'VLEK', turin: boolean): void {
  const ext = extensionValues(vek)
  const certTcb = {
    bootloader: derSmallInteger(ext.get(OID.blSPL)),
    tee: derSmallInteger(ext.get(OID.teeSPL)),
    snp: derSmallInteger(ext.get(OID.snpSPL)),
    microcode: derSmallInteger(ext.get(OID.ucodeSPL)),
    fmc: turin ? derSmallInteger(ext.get(OID.fmcSPL)) : undefined
  }
  const reported = decodeSnpTcb(report.reportedTcb, turin)
  // the VEK is derived from the reported TCB (ABI spec: "REPORTED_TCB ... used to derive the VCEK")
  for (const k of ['bootloader', 'tee', 'snp', 'microcode', 'fmc'] as const) {
    if (k === 'fmc' && !turin) continue
    if (certTcb[k] !== reported[k]) fail(AttestationErrorCode.CERT_MISMATCH, `${signer} ${k} SPL ${certTcb[k]} != reported ${reported[k]}`)
  }
  if (signer === 'VCEK' && !report.maskChipKey && !isZero(report.chipId)) {
    const hwid = ext.get(OID.hwID)
    if (hwid == null || !bytesEqual(hwid, report.chipId)) fail(AttestationErrorCode.CERT_MISMATCH, 'VCEK hwID is not the report chip id')
  }
}

/**
 * Verifies an SEV-SNP attestation report: parses it, checks the ECDSA P-384 signature over bytes
 * 0..0x2A0 with the VCEK or VLEK named by SIGNING_KEY, walks VCEK → ASK → ARK (or VLEK → ASVK → ARK)
 * to a pinned AMD root valid at `at`, and checks that the certificate's TCB and hwID match the report.
 * Policy (debug, measurement, minimum TCB) is not judged here; see `checkPolicy`.
 * Throws AttestationError.
 */
export function verifySnpReport (bytes: Uint8Array, opts: SnpVerifyOptions = {}): SnpVerification {
  const at = opts.at ?? new Date()
  const report = parseSnpReport(bytes)
  // [REJECT] only ECDSA P-384 with SHA-384 is defined
  if (report.signatureAlgo !== SNP_SIG_ALGO_ECDSA_P384_SHA384) fail(AttestationErrorCode.UNSUPPORTED_VERSION, `snp report: signature algorithm ${report.signatureAlgo}`)
  if (report.signingKey === SnpSigningKey.NONE) fail(AttestationErrorCode.SIGNATURE_INVALID, 'snp report is not signed (SIGNING_KEY = none)')
  const signer = report.signingKey === SnpSigningKey.VLEK ? 'VLEK' : 'VCEK'
  const supplied = opts.certs ?? []
  const candidates = supplied.filter((c) => commonName(c) === `SEV-${signer}`)
  if (candidates.length === 0) fail(AttestationErrorCode.CERT_MISSING, `snp report is signed by a ${signer}; supply it (--certs)`)
  // [REJECT] the report signature verifies under the VEK
  const vek = candidates.find((c) => reportSignatureValid(report, c))
  if (vek == null) fail(AttestationErrorCode.SIGNATURE_INVALID, `snp report signature does not verify under the ${signer}`)
  // [REJECT] the VEK chains to a pinned ARK
  const { arks, intermediates } = pinnedAmd()
  const untrusted = supplied.filter((c) => c !== vek)
  const path = verifyChain(vek, [...intermediates, ...untrusted], arks, at)
  const root = path[path.length - 1]
  const product = commonName(root).replace(/^ARK-/, '')
  // [REJECT] the certificate describes this platform
  checkVekMatchesReport(vek, report, signer, product === 'Turin')
  // [REJECT] with CRLs: the ARK revoked the ASK/ASVK of this path (AMD issues no CRL below the ARK)
  const crls = opts.crls ?? []
  if (crls.length > 0) checkRevocation(path, crls, at, { links: 'into-root' })
  return { report, product, signer, chain: path.map(commonName), revocationChecked: crls.length > 0 }
}
