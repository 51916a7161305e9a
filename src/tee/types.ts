import type { SnpTcb } from './snp/tcb.js'
import type { Crl } from './x509/crl.js'
import type { SignedTcbInfo } from './tdx/collateral.js'

/** The TEE kinds the node knows. `simulated` is for development and refused unless a policy allows it. */
export type TeeKind = 'sev-snp' | 'tdx' | 'simulated'
export const TEE_KINDS: readonly TeeKind[] = ['sev-snp', 'tdx', 'simulated']

/** Attestation evidence as it travels: the raw report or quote, and any certificate blobs beside it. */
export interface Evidence {
  kind: TeeKind
  /** SNP attestation report, TDX quote, or simulated evidence */
  evidence: Uint8Array
  /** SNP: VCEK/VLEK (and optionally ASK/ARK) as DER, PEM, or a configfs-tsm auxblob certificate table */
  certs: Uint8Array[]
}

/** What a verified piece of evidence says, normalised across kinds for policy checks. */
export interface VerifiedEvidence {
  kind: TeeKind
  /** the 64 bytes of report data the enclave chose */
  reportData: Uint8Array
  /** SNP MEASUREMENT, TDX MRTD, simulated measurement */
  measurement: Uint8Array
  /** TDX RTMR0..3 */
  rtmrs?: Uint8Array[]
  debug: boolean
  /**
   * the guest may be moved to another host: SEV-SNP POLICY bit 18 (MIGRATE_MA), TDX TD_ATTRIBUTES
   * bit 29 (MIGRATABLE); false for simulated evidence
   */
  migratable: boolean
  /** SNP reported TCB, decoded */
  snpTcb?: SnpTcb
  /** TDX TEE_TCB_SVN */
  tdxTcbSvn?: Uint8Array
  /** TDX TCB status from Intel's TCB info, when collateral was given (UpToDate, OutOfDate, ...) */
  tdxTcbStatus?: string
  /** simulated only: when the evidence was produced (ms since epoch) */
  producedAt?: number
  /** every parsed field for display and `--json`: hex strings, numbers and booleans */
  fields: Record<string, string | number | boolean | null>
  /** certificate chain common names, leaf first (empty for simulated) */
  chain: string[]
}

/** Produces evidence binding the given 64 bytes of report data. */
export interface AttestationProvider {
  readonly kind: TeeKind
  attest (reportData: Uint8Array, opts?: { signal?: AbortSignal }): Promise<Evidence>
}

/** Checks evidence cryptographically (signatures, chains at a time); policy is separate. */
export interface EvidenceVerifier {
  verify (evidence: Evidence, opts?: { at?: Date, crls?: readonly Crl[], tdxCollateral?: readonly SignedTcbInfo[] }): VerifiedEvidence
}

/**
 * Kinds of GPU evidence: `nvidia-gpu` (the GPU's SPDM measurement report, Hopper and Blackwell) and
 * `simulated-gpu` for development (refused unless the policy allows simulation).
 */
export type GpuEvidenceKind = 'nvidia-gpu' | 'simulated-gpu'
export const GPU_EVIDENCE_KINDS: readonly GpuEvidenceKind[] = ['nvidia-gpu', 'simulated-gpu']

/** GPU evidence as it travels beside the CPU evidence of a session. */
export interface GpuEvidence {
  kind: GpuEvidenceKind
  /** nvidia-gpu: SPDM GET_MEASUREMENTS request ‖ response; simulated-gpu: the simulated report */
  report: Uint8Array
  /** nvidia-gpu: the device certificate chain (PEM or DER), leaf first */
  certs: Uint8Array[]
  /** nvidia-gpu: driver and VBIOS RIMs (signed SWID tags); NVIDIA signs them, so any party may carry them */
  rims: Uint8Array[]
  /**
   * nvidia-gpu: OCSP answers (DER OCSPResponse) about the device certificates and the RIM signers,
   * from NVIDIA's responder; signed by NVIDIA, so the supplier staples them and the renter checks them
   */
  ocsp?: Uint8Array[]
}

/** What verified GPU evidence says, normalised across GPU kinds. */
export interface VerifiedGpuEvidence {
  kind: GpuEvidenceKind
  /** the 32-byte nonce the GPU signed */
  nonce: Uint8Array
  /** chip, e.g. GH100 */
  model: string
  driverVersion: string | null
  vbiosVersion: string | null
  /** see GpuCcMode; simulated evidence says 'on' or 'off' */
  ccMode: string
  /** every golden value of a driver and a VBIOS RIM matched */
  measurementsMatched: boolean
  /**
   * a stable id of the GPU: the SHA-256 fingerprint of its device certificate (the issuer of the
   * per-boot attestation key), or the simulated device id
   */
  deviceId: string
  /** simulated only: when it was produced (ms since epoch) */
  producedAt?: number
  fields: Record<string, string | number | boolean | null>
  /** device chain common names, leaf first (empty for simulated) */
  chain: string[]
}

/** Produces GPU evidence answering a 32-byte nonce. */
export interface GpuAttestationProvider {
  readonly kind: GpuEvidenceKind
  /**
   * `index`: which of the node's GPUs attests (its CUDA/NVML index); absent: the provider's own
   * (index 0 unless configured otherwise)
   */
  attest (nonce: Uint8Array, opts?: { signal?: AbortSignal, index?: number }): Promise<GpuEvidence>
}

/** Checks GPU evidence cryptographically (signature, chains, RIMs, nonce); policy is separate. */
export interface GpuEvidenceVerifier {
  verify (evidence: GpuEvidence, opts: { at?: Date, nonce?: Uint8Array, crls?: readonly Crl[], requireRevocation?: boolean }): VerifiedGpuEvidence
}
