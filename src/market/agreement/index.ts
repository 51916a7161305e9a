export { agreementBudget, agreementHash, buildTerms, decodeTerms, encodeTerms, type BuildTermsOptions } from './terms.js'
export { signAgreementHash, verifyAgreement, verifyPartySignature, type VerifiedAgreement } from './sign.js'
export { AgreementStore, AGREEMENTS_SUBLEVEL, AGREEMENT_KEY_PREFIX, type AgreementRecord, type AgreementRole, type AgreementStatus, type PruneOptions } from './store.js'
