/**
 * Attestation: providers that produce TEE evidence (SEV-SNP and TDX through configfs-tsm, and a
 * simulated one for development), verifiers of the real formats against pinned vendor roots, the
 * renter's policy, and the session report-data binding. Knows nothing of libp2p.
 */
export { AttestationError, AttestationErrorCode } from './errors.js'
export type { TeeKind, Evidence, VerifiedEvidence, AttestationProvider, EvidenceVerifier } from './types.js'
export { TEE_KINDS } from './types.js'
export { verifyEvidence, evidenceVerifier, type VerifyEvidenceOptions } from './verify.js'
export { checkPolicy, DEFAULT_POLICY, type AttestationPolicy, type PolicyContext } from './policy.js'
export { sessionReportData, checkReportData, BINDING_TAG, NONCE_LENGTH, ENCLAVE_KEY_LENGTH, REPORT_DATA_LENGTH } from './binding.js'
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
export { loadCertificates } from './x509/load.js'
