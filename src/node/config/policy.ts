import type { AttestationPolicy } from '../../tee/policy.js'
import type { BazaarConfig } from './types.js'

/**
 * The attestation policy a renter applies to suppliers' enclaves, from the config: accepted kinds
 * are `market.teeKinds`, measurements `tee.allowedMeasurements` (same meaning: an absent kind
 * accepts any, a listed kind only its list), the lowest TCB `tee.minTcb`, the highest SEV-SNP VMPL
 * `tee.snpMaxVmpl`, the TDX TCB statuses `tee.tdxTcbStatuses` (the collateral is read per rental,
 * see crl-files.ts), `tee.maxEvidenceAgeS`, `tee.allowSimulated` and `tee.allowMigratable`.
 * Debug guests are never accepted from a config.
 */
export function attestationPolicyFromConfig (config: Pick<BazaarConfig, 'market' | 'tee'>): AttestationPolicy {
  return {
    kinds: [...config.market.teeKinds],
    measurements: Object.fromEntries(Object.entries(config.tee.allowedMeasurements).map(([k, v]) => [k, [...v]])),
    maxEvidenceAgeMs: config.tee.maxEvidenceAgeS * 1000,
    ...(Object.keys(config.tee.minTcb).length > 0 ? { minTcb: config.tee.minTcb } : {}),
    ...(config.tee.snpMaxVmpl != null ? { snpMaxVmpl: config.tee.snpMaxVmpl } : {}),
    ...(config.tee.tdxTcbStatuses != null ? { tdxTcbStatuses: [...config.tee.tdxTcbStatuses] } : {}),
    allowSimulated: config.tee.allowSimulated,
    allowDebug: false,
    allowMigratable: config.tee.allowMigratable,
    // absent means off: GPU evidence is not asked for
    ...(config.tee.gpu !== 'off' ? { gpu: { mode: config.tee.gpu, ...config.tee.gpuAccept } } : {})
  }
}
