import { BazaarError } from '../util/errors.js'

/**
 * Why a piece of attestation evidence was refused. Stable codes: callers, logs and tests branch on
 * them, never on the message.
 */
export enum AttestationErrorCode {
  /** the evidence is shorter than its structure says, or a length field points past the end */
  TRUNCATED = 'TRUNCATED',
  /** a field has a value the format does not allow (reserved bits, unknown type) */
  MALFORMED = 'MALFORMED',
  /** a report or quote version this verifier does not implement */
  UNSUPPORTED_VERSION = 'UNSUPPORTED_VERSION',
  /** a quote of another TEE (an SGX quote handed to the TDX verifier) */
  WRONG_TEE_TYPE = 'WRONG_TEE_TYPE',
  /** the evidence or the QE report is not signed by the key that should have signed it */
  SIGNATURE_INVALID = 'SIGNATURE_INVALID',
  /** the certificate chain does not lead to a pinned vendor root, or a link does not verify */
  CHAIN_INVALID = 'CHAIN_INVALID',
  /** a certificate of the chain is outside its validity window at the verification time */
  CERT_EXPIRED = 'CERT_EXPIRED',
  /** the certificate needed to verify the evidence (VCEK, VLEK, PCK chain) is missing */
  CERT_MISSING = 'CERT_MISSING',
  /** a certificate of the chain is listed in its issuer's current CRL */
  CERT_REVOKED = 'CERT_REVOKED',
  /** the certificate does not describe the platform that produced the report (chip id, TCB) */
  CERT_MISMATCH = 'CERT_MISMATCH',
  /** the QE report data does not bind the attestation key and QE authentication data */
  QE_BINDING_INVALID = 'QE_BINDING_INVALID',
  /** the QE report is not from Intel's TD Quoting Enclave */
  QE_IDENTITY_INVALID = 'QE_IDENTITY_INVALID',
  /** the guest runs with debugging enabled, and the policy refuses that */
  DEBUG_REFUSED = 'DEBUG_REFUSED',
  /** the guest may be migrated to another host (SEV-SNP MIGRATE_MA, TDX MIGRATABLE), and the policy refuses that */
  MIGRATION_REFUSED = 'MIGRATION_REFUSED',
  /** the launch measurement is not one the policy allows */
  MEASUREMENT_REFUSED = 'MEASUREMENT_REFUSED',
  /** the TCB is below the policy's minimum */
  TCB_TOO_LOW = 'TCB_TOO_LOW',
  /** the TEE kind is not accepted by the policy */
  KIND_REFUSED = 'KIND_REFUSED',
  /** simulated evidence, and the policy does not explicitly allow simulated enclaves */
  SIMULATED_REFUSED = 'SIMULATED_REFUSED',
  /** the report data is not the binding the verifier expected */
  REPORT_DATA_MISMATCH = 'REPORT_DATA_MISMATCH',
  /** the evidence is older than the policy's maximum age */
  STALE = 'STALE',
  /** the platform has no attestation interface (no configfs-tsm, wrong provider, no CC-capable GPU) */
  UNAVAILABLE = 'UNAVAILABLE',
  /** GPU: a reference integrity manifest is for another driver or VBIOS, or two RIMs claim one measurement */
  RIM_MISMATCH = 'RIM_MISMATCH',
  /** GPU: a measurement block matches none of its RIM's golden values */
  GPU_MEASUREMENT_MISMATCH = 'GPU_MEASUREMENT_MISMATCH',
  /** GPU evidence is required by the renter's policy and the supplier sent none */
  GPU_EVIDENCE_MISSING = 'GPU_EVIDENCE_MISSING',
  /** GPU: the driver or VBIOS version is not one the policy accepts */
  GPU_VERSION_REFUSED = 'GPU_VERSION_REFUSED',
  /** GPU: the evidence says confidential computing is off (or in a developer mode) */
  GPU_CC_OFF = 'GPU_CC_OFF',
  /** GPU: evidence of fewer distinct GPUs than the agreement covers (one missing, or one GPU twice) */
  GPU_COUNT_SHORT = 'GPU_COUNT_SHORT',
  /** TDX: the renter holds no TCB info for the quote's platform (FMSPC) and could not fetch it from Intel PCS or its PCCS */
  COLLATERAL_NOT_FETCHED = 'COLLATERAL_NOT_FETCHED'
}

/** A typed refusal of attestation evidence. */
export class AttestationError extends BazaarError<AttestationErrorCode> {
  constructor (code: AttestationErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }
}

/** Shorthand used by the parsers and verifiers. */
export function fail (code: AttestationErrorCode, message: string, cause?: unknown): never {
  throw new AttestationError(code, message, cause === undefined ? undefined : { cause })
}
