import { AttestationErrorCode, fail } from './errors.js'
import { toHex } from './bytes.js'
import { snpTcbAtLeast, type SnpTcb } from './snp/tcb.js'
import type { TeeKind, VerifiedEvidence } from './types.js'
import type { Crl } from './x509/crl.js'

/** What a renter accepts from an enclave. */
export interface AttestationPolicy {
  /** accepted TEE kinds */
  kinds: readonly TeeKind[]
  /**
   * allowed measurements per kind, lower-case hex (SNP MEASUREMENT, TDX MRTD, simulated measurement).
   * A kind with no list accepts any measurement; an empty list accepts none.
   */
  measurements?: Partial<Record<TeeKind, readonly string[]>>
  /** minimum TCB: SNP per component; TDX per byte of TEE_TCB_SVN (hex, 16 bytes) */
  minTcb?: { 'sev-snp'?: Partial<SnpTcb>, tdx?: string }
  /**
   * TDX: accepted TCB statuses from Intel's TCB info (e.g. ['UpToDate']). When set, evidence without
   * an evaluated status (no collateral) is refused too.
   */
  tdxTcbStatuses?: readonly string[]
  /** SEV-SNP: highest VMPL accepted (0 is the most privileged level; a paravisor runs the guest at 1+) */
  snpMaxVmpl?: number
  /** accept guests with debugging enabled (never in production). Default false */
  allowDebug?: boolean
  /** evidence older than this (ms) is refused; measured from the nonce for sessions */
  maxEvidenceAgeMs?: number
  /** accept simulated evidence. Default false; the devnet sets it, loudly */
  allowSimulated?: boolean
  /**
   * CRLs the evidence's certificate chain is checked against (AMD's ARK CRLs, Intel's root CA and
   * PCK CRLs); with any, a chain without a current CRL for it is refused. Applied while verifying.
   */
  crls?: readonly Crl[]
}

/** Production default: real TEEs only, no debug, evidence at most one minute old. */
export const DEFAULT_POLICY: AttestationPolicy = {
  kinds: ['sev-snp', 'tdx'],
  allowDebug: false,
  allowSimulated: false,
  maxEvidenceAgeMs: 60_000
}

export interface PolicyContext {
  /** ms since epoch */
  now: number
  /** when the evidence was requested (the nonce was sent), ms since epoch */
  requestedAt?: number
}

function tdxTcbAtLeast (have: Uint8Array, minHex: string): boolean {
  const min = Buffer.from(minHex, 'hex')
  for (let i = 0; i < min.byteLength; i++) if ((have[i] ?? 0) < min[i]) return false
  return true
}

/**
 * Judges verified evidence against a policy, cheapest refusal first. Throws AttestationError:
 * SIMULATED_REFUSED, KIND_REFUSED, DEBUG_REFUSED, MEASUREMENT_REFUSED, TCB_TOO_LOW or STALE.
 */
export function checkPolicy (v: VerifiedEvidence, policy: AttestationPolicy, ctx: PolicyContext): void {
  // [REJECT] simulated evidence proves nothing about hardware
  if (v.kind === 'simulated' && policy.allowSimulated !== true) fail(AttestationErrorCode.SIMULATED_REFUSED, 'simulated enclave refused by policy')
  if (!policy.kinds.includes(v.kind)) fail(AttestationErrorCode.KIND_REFUSED, `${v.kind} not accepted by policy`)
  // [REJECT] a debuggable guest's memory is readable by the host
  if (v.debug && policy.allowDebug !== true) fail(AttestationErrorCode.DEBUG_REFUSED, `${v.kind} guest has debugging enabled`)
  const allowed = policy.measurements?.[v.kind]
  if (allowed != null && !allowed.map((m) => m.toLowerCase()).includes(toHex(v.measurement))) {
    fail(AttestationErrorCode.MEASUREMENT_REFUSED, `measurement ${toHex(v.measurement).slice(0, 16)}… not allowed`)
  }
  const vmpl = v.fields.vmpl
  if (v.kind === 'sev-snp' && policy.snpMaxVmpl != null && typeof vmpl === 'number' && vmpl > policy.snpMaxVmpl) {
    fail(AttestationErrorCode.MEASUREMENT_REFUSED, `snp report from VMPL ${vmpl}, policy allows up to ${policy.snpMaxVmpl}`)
  }
  const minSnp = policy.minTcb?.['sev-snp']
  if (v.kind === 'sev-snp' && minSnp != null && v.snpTcb != null && !snpTcbAtLeast(v.snpTcb, minSnp)) {
    fail(AttestationErrorCode.TCB_TOO_LOW, `snp TCB ${JSON.stringify(v.snpTcb)} below ${JSON.stringify(minSnp)}`)
  }
  const minTdx = policy.minTcb?.tdx
  if (v.kind === 'tdx' && minTdx != null && v.tdxTcbSvn != null && !tdxTcbAtLeast(v.tdxTcbSvn, minTdx)) {
    fail(AttestationErrorCode.TCB_TOO_LOW, `tdx TEE_TCB_SVN ${toHex(v.tdxTcbSvn)} below ${minTdx}`)
  }
  const statuses = policy.tdxTcbStatuses
  if (v.kind === 'tdx' && statuses != null && (v.tdxTcbStatus == null || !statuses.includes(v.tdxTcbStatus))) {
    fail(AttestationErrorCode.TCB_TOO_LOW, `tdx TCB status ${v.tdxTcbStatus ?? 'not evaluated'} not in ${statuses.join(', ')}`)
  }
  const maxAge = policy.maxEvidenceAgeMs
  if (maxAge != null) {
    // hardware reports carry no time: their freshness is the nonce's; simulated ones say when they were made
    const since = v.producedAt ?? ctx.requestedAt
    if (since != null && ctx.now - since > maxAge) fail(AttestationErrorCode.STALE, `evidence ${ctx.now - since} ms old, over ${maxAge} ms`)
  }
}
