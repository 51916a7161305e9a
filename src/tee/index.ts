/**
 * Attestation: providers that produce TEE evidence (SEV-SNP and TDX through configfs-tsm, NVIDIA GPU
 * evidence through NVML, and simulated ones for development), verifiers of the real formats against pinned vendor roots, the
 * renter's policy, and the session report-data binding. Knows nothing of libp2p.
 */
export { AttestationError, AttestationErrorCode } from './errors.js'
export type { TeeKind, Evidence, VerifiedEvidence, AttestationProvider, EvidenceVerifier } from './types.js'
export type { GpuEvidenceKind, GpuEvidence, VerifiedGpuEvidence, GpuAttestationProvider, GpuEvidenceVerifier } from './types.js'
export { TEE_KINDS, GPU_EVIDENCE_KINDS } from './types.js'
export { verifyEvidence, evidenceVerifier, type VerifyEvidenceOptions } from './verify.js'
export { verifyGpuEvidence, gpuEvidenceVerifier, type VerifyGpuEvidenceOptions } from './gpu-verify.js'
export { checkPolicy, checkGpuPolicy, compareVersions, DEFAULT_POLICY, GPU_EVIDENCE_MODES, type AttestationPolicy, type GpuPolicy, type GpuEvidenceMode, type PolicyContext, type TdxCollateralSource } from './policy.js'
export { sessionReportData, checkReportData, sessionGpuNonce, BINDING_TAG, GPU_BINDING_TAG, GPU_INDEX_BINDING_TAG, MAX_SESSION_GPUS, NONCE_LENGTH, GPU_NONCE_LENGTH, ENCLAVE_KEY_LENGTH, REPORT_DATA_LENGTH } from './binding.js'
export * from './nvidia/index.js'
export { parseSnpReport, type SnpReport, SnpSigningKey } from './snp/parse.js'
export { verifySnpReport, type SnpVerification } from './snp/verify.js'
export { parseSnpCertTable, SNP_CERT_GUIDS } from './snp/certs.js'
export { decodeSnpTcb, type SnpTcb } from './snp/tcb.js'
export { parseTdxQuote, type TdxQuote } from './tdx/parse.js'
export { verifyTdxQuote, type TdxVerification } from './tdx/verify.js'
export { loadTcbInfoCollateral, verifyTcbInfo, type SignedTcbInfo, type TcbInfo } from './tdx/collateral.js'
export { evaluateTdxTcb, type TdxTcbEvaluation } from './tdx/tcb-status.js'
export { configfsProvider, CONFIGFS_TSM_REPORT, type ConfigfsProviderInit } from './providers/configfs.js'
export { simulatedProvider, type SimulatedProvider, type SimulatedProviderInit } from './providers/simulated.js'
export { simulatedGpuProvider, type SimulatedGpuProvider, type SimulatedGpuProviderInit } from './providers/simulated-gpu.js'
export { nvidiaGpuProvider, type NvidiaGpuProviderInit, type NvmlRunner } from './providers/nvidia-gpu.js'
export { loadCertificates } from './x509/load.js'
