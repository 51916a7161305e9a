import { AttestationErrorCode, fail } from '../errors.js'
import { Reader } from '../bytes.js'
import { isZero } from '../../util/bytes.js'
import { decodeSnpTcb, type SnpTcb } from './tcb.js'

/** Size of an ATTESTATION_REPORT (SEV-SNP ABI spec, Table "ATTESTATION_REPORT Structure"). */
export const SNP_REPORT_SIZE = 0x4a0
/** The signature covers bytes 0x000..0x29F. */
export const SNP_SIGNED_LENGTH = 0x2a0
/** Report versions this parser implements: 2 (ABI 1.51), 3 (adds CPUID and committed/launch fields), 5 (adds mitigation vectors). */
export const SNP_SUPPORTED_VERSIONS: readonly number[] = [2, 3, 4, 5]
/** SIGNATURE_ALGO 1 = ECDSA P-384 with SHA-384. */
export const SNP_SIG_ALGO_ECDSA_P384_SHA384 = 1

/** GUEST_POLICY bit 19: debugging of the guest is allowed (the hypervisor can read its memory). */
export const SNP_POLICY_DEBUG = 1n << 19n
/**
 * GUEST_POLICY bit 18: MIGRATE_MA, the guest may be associated with a migration agent (SEV-SNP ABI
 * spec, "Guest Policy", table "Structure of the Guest Policy"), which can export its memory to
 * another platform. Fixed at launch, and signed in the report's POLICY.
 */
export const SNP_POLICY_MIGRATE_MA = 1n << 18n

/** Which key signed the report (the SIGNING_KEY field, bits 4:2 at 0x48). */
export enum SnpSigningKey { VCEK = 0, VLEK = 1, NONE = 7 }

/** Every field of an SEV-SNP attestation report. Byte arrays are copies; integers are as in the report. */
export interface SnpReport {
  version: number
  guestSvn: number
  policy: bigint
  /** POLICY bit 19 */
  debug: boolean
  /** POLICY bit 18 (MIGRATE_MA) */
  migratable: boolean
  familyId: Uint8Array
  imageId: Uint8Array
  vmpl: number
  signatureAlgo: number
  currentTcb: bigint
  platformInfo: bigint
  authorKeyEn: boolean
  maskChipKey: boolean
  signingKey: SnpSigningKey
  reportData: Uint8Array
  measurement: Uint8Array
  hostData: Uint8Array
  idKeyDigest: Uint8Array
  authorKeyDigest: Uint8Array
  reportId: Uint8Array
  reportIdMa: Uint8Array
  reportedTcb: bigint
  /** decoded per product (Turin has its own layout) */
  reportedTcbParts: SnpTcb
  /** v3+: CPUID family, model, stepping of the chip; undefined in v2 */
  cpuidFamId?: number
  cpuidModId?: number
  cpuidStep?: number
  chipId: Uint8Array
  committedTcb: bigint
  currentBuild: number
  currentMinor: number
  currentMajor: number
  committedBuild: number
  committedMinor: number
  committedMajor: number
  launchTcb: bigint
  /** v5+ */
  launchMitVector?: bigint
  currentMitVector?: bigint
  /** big-endian 48-byte r and s, converted from the report's little-endian 72-byte fields */
  signatureR: Uint8Array
  signatureS: Uint8Array
  /** bytes 0..0x2A0, what the signature covers */
  signed: Uint8Array
}

/** Converts a little-endian zero-padded 72-byte ECDSA component to 48 big-endian bytes. */
function leComponent (field: Uint8Array): Uint8Array {
  // SEV-SNP ABI, "ECDSA P-384 with SHA-384 Signature": R and S are 72-byte little-endian fields
  // whose upper 24 bytes are zero.
  if (!isZero(field.subarray(48))) fail(AttestationErrorCode.MALFORMED, 'snp report: signature component over 384 bits')
  return field.slice(0, 48).reverse()
}

/**
 * Parses an SEV-SNP ATTESTATION_REPORT. Bytes after the 0x4A0-byte report are ignored (files and
 * firmware buffers may pad). Throws TRUNCATED, UNSUPPORTED_VERSION or MALFORMED.
 */
export function parseSnpReport (bytes: Uint8Array): SnpReport {
  const r = new Reader(bytes, 'snp report')
  const version = r.u32(0x00)
  if (!SNP_SUPPORTED_VERSIONS.includes(version)) fail(AttestationErrorCode.UNSUPPORTED_VERSION, `snp report: version ${version}`)
  r.need(0, SNP_REPORT_SIZE)
  const signatureAlgo = r.u32(0x34)
  const keyBits = r.u32(0x48)
  const signingKey = (keyBits >> 2) & 0x7
  if (signingKey !== SnpSigningKey.VCEK && signingKey !== SnpSigningKey.VLEK && signingKey !== SnpSigningKey.NONE) {
    fail(AttestationErrorCode.MALFORMED, `snp report: signing key ${signingKey}`)
  }
  const policy = r.u64(0x08)
  const v3 = version >= 3
  const cpuidFamId = v3 ? r.u8(0x188) : undefined
  const turin = cpuidFamId === 0x1a
  const reportedTcb = r.u64(0x180)
  // [REJECT] the signature structure's reserved tail (0x330..0x4A0, after R and S) is zero in the
  // ABI: unchecked, one signed report would have many byte encodings
  if (!isZero(r.slice(0x2a0 + 144, SNP_REPORT_SIZE - 0x2a0 - 144))) fail(AttestationErrorCode.MALFORMED, 'snp report: reserved bytes after the signature are not zero')
  return {
    version,
    guestSvn: r.u32(0x04),
    policy,
    debug: (policy & SNP_POLICY_DEBUG) !== 0n,
    migratable: (policy & SNP_POLICY_MIGRATE_MA) !== 0n,
    familyId: r.slice(0x10, 16),
    imageId: r.slice(0x20, 16),
    vmpl: r.u32(0x30),
    signatureAlgo,
    currentTcb: r.u64(0x38),
    platformInfo: r.u64(0x40),
    authorKeyEn: (keyBits & 1) === 1,
    maskChipKey: (keyBits & 2) === 2,
    signingKey,
    reportData: r.slice(0x50, 64),
    measurement: r.slice(0x90, 48),
    hostData: r.slice(0xc0, 32),
    idKeyDigest: r.slice(0xe0, 48),
    authorKeyDigest: r.slice(0x110, 48),
    reportId: r.slice(0x140, 32),
    reportIdMa: r.slice(0x160, 32),
    reportedTcb,
    reportedTcbParts: decodeSnpTcb(reportedTcb, turin),
    cpuidFamId,
    cpuidModId: v3 ? r.u8(0x189) : undefined,
    cpuidStep: v3 ? r.u8(0x18a) : undefined,
    chipId: r.slice(0x1a0, 64),
    committedTcb: r.u64(0x1e0),
    currentBuild: r.u8(0x1e8),
    currentMinor: r.u8(0x1e9),
    currentMajor: r.u8(0x1ea),
    committedBuild: r.u8(0x1ec),
    committedMinor: r.u8(0x1ed),
    committedMajor: r.u8(0x1ee),
    launchTcb: r.u64(0x1f0),
    launchMitVector: version >= 5 ? r.u64(0x1f8) : undefined,
    currentMitVector: version >= 5 ? r.u64(0x200) : undefined,
    signatureR: leComponent(r.slice(0x2a0, 72)),
    signatureS: leComponent(r.slice(0x2a0 + 72, 72)),
    signed: r.slice(0, SNP_SIGNED_LENGTH)
  }
}
