import { AttestationErrorCode, fail } from './errors.js'
import { toHex } from '../util/hex.js'
import { snpTcbAtLeast, type SnpTcb } from './snp/tcb.js'
import type { TeeKind, VerifiedEvidence, VerifiedGpuEvidence } from './types.js'
import type { Crl } from './x509/crl.js'
import type { SignedTcbInfo } from './tdx/collateral.js'

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
   * an evaluated status (no collateral for its platform) is refused too.
   */
  tdxTcbStatuses?: readonly string[]
  /**
   * TDX: Intel's TCB info, one per platform (FMSPC), that a session's quote is evaluated against
   * (its TCB status, and its CRLs for the PCK chain). Applied while verifying.
   */
  tdxCollateral?: readonly SignedTcbInfo[]
  /**
   * TDX: where the TCB info of a platform with none in `tdxCollateral` comes from (a renter
   * daemon's `tee.tdxCollateralDir`, fetched from Intel PCS). Asked only once a quote verified,
   * its PCK chain to Intel's root included, and is bound to the session, so that a supplier cannot
   * make the renter ask about platforms that do not exist.
   */
  tdxCollateralSource?: TdxCollateralSource
  /** SEV-SNP: highest VMPL accepted (0 is the most privileged level; a paravisor runs the guest at 1+) */
  snpMaxVmpl?: number
  /** accept guests with debugging enabled (never in production). Default false */
  allowDebug?: boolean
  /**
   * accept guests that may be migrated (SEV-SNP MIGRATE_MA, TDX MIGRATABLE). Default false: the
   * evidence speaks for the platform it was made on, while a migration agent (SNP) or migration TD
   * (TDX) it does not name can later move the guest's memory to a platform nobody attested
   */
  allowMigratable?: boolean
  /** evidence older than this (ms) is refused; measured from the nonce for sessions */
  maxEvidenceAgeMs?: number
  /** accept simulated evidence. Default false; the devnet sets it, loudly */
  allowSimulated?: boolean
  /**
   * CRLs the evidence's certificate chain is checked against (AMD's ARK CRLs, Intel's root CA and
   * PCK CRLs); with any, a chain without a current CRL for it is refused. Applied while verifying.
   */
  crls?: readonly Crl[]
  /** GPU evidence beside the CPU evidence; absent: `off` */
  gpu?: GpuPolicy
}

/** Intel's TCB info of TDX platforms, fetched when a rental meets a platform not seen before. */
export interface TdxCollateralSource {
  /**
   * The verified TCB info of platform `fmspc` (12 lowercase hex digits). Throws AttestationError
   * COLLATERAL_NOT_FETCHED, one line naming the platform and why.
   */
  collateralFor: (fmspc: string, opts?: { signal?: AbortSignal }) => Promise<SignedTcbInfo>
}

/** How a renter treats GPU confidential-computing evidence. */
export type GpuEvidenceMode = 'required' | 'optional' | 'off'
export const GPU_EVIDENCE_MODES: readonly GpuEvidenceMode[] = ['required', 'optional', 'off']

export interface GpuPolicy {
  /**
   * required: a supplier without valid GPU evidence is refused (GPU_EVIDENCE_MISSING);
   * optional: GPU evidence is asked for and, when sent, must verify and pass this policy;
   * off: not asked for
   */
  mode: GpuEvidenceMode
  /** accepted driver versions, exactly (e.g. "550.90.07"); absent: any */
  driverVersions?: readonly string[]
  /** lowest driver version accepted, compared part by part as decimal numbers */
  minDriverVersion?: string
  /** accepted VBIOS versions, exactly (e.g. "96.00.9F.00.01", case-insensitive); absent: any */
  vbiosVersions?: readonly string[]
  /** lowest VBIOS version accepted, compared part by part as hexadecimal numbers */
  minVbiosVersion?: string
  /**
   * nvidia-gpu: the measurements must have matched a driver and a VBIOS RIM. Default true; false
   * accepts a signed report whose firmware was not compared with NVIDIA's golden values.
   */
  requireRimMatch?: boolean
  /**
   * NVIDIA's CRLs of the device and RIM chains (NVIDIA publishes them for the top links); with any,
   * revocation is required as with `requireRevocation`. Separate from `crls` so that AMD and Intel
   * CRLs do not demand NVIDIA's.
   */
  crls?: readonly Crl[]
  /**
   * nvidia-gpu: every certificate of the device chain (but the GPU's alias leaf) and of the RIM
   * signer chains must have a current revocation status, from `crls` or from the OCSP answers the
   * supplier stapled, and none may be revoked. Default false: what status is sent is still checked.
   */
  requireRevocation?: boolean
}

/** Production default: real TEEs only, no debug, no migratable guests, evidence at most one minute old. */
export const DEFAULT_POLICY: AttestationPolicy = {
  kinds: ['sev-snp', 'tdx'],
  allowDebug: false,
  allowMigratable: false,
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
 * SIMULATED_REFUSED, KIND_REFUSED, DEBUG_REFUSED, MIGRATION_REFUSED, MEASUREMENT_REFUSED,
 * TCB_TOO_LOW or STALE.
 */
export function checkPolicy (v: VerifiedEvidence, policy: AttestationPolicy, ctx: PolicyContext): void {
  // [REJECT] simulated evidence proves nothing about hardware
  if (v.kind === 'simulated' && policy.allowSimulated !== true) fail(AttestationErrorCode.SIMULATED_REFUSED, 'simulated enclave refused by policy')
  if (!policy.kinds.includes(v.kind)) fail(AttestationErrorCode.KIND_REFUSED, `${v.kind} not accepted by policy`)
  // [REJECT] a debuggable guest's memory is readable by the host
  if (v.debug && policy.allowDebug !== true) fail(AttestationErrorCode.DEBUG_REFUSED, `${v.kind} guest has debugging enabled`)
  // [REJECT] a migratable guest can be moved, with its memory, to a platform this evidence does not attest
  if (v.migratable && policy.allowMigratable !== true) {
    fail(AttestationErrorCode.MIGRATION_REFUSED, `${v.kind} guest may be migrated (${v.kind === 'tdx' ? 'TD_ATTRIBUTES MIGRATABLE' : 'POLICY MIGRATE_MA'})`)
  }
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

/** Compares dotted versions part by part ("550.90.07" vs "550.54.15"); a missing part counts as 0. */
export function compareVersions (a: string, b: string, radix: 10 | 16): number {
  const pa = a.split('.')
  const pb = b.split('.')
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = parseInt(pa[i] ?? '0', radix)
    const y = parseInt(pb[i] ?? '0', radix)
    const xn = Number.isNaN(x) ? -1 : x
    const yn = Number.isNaN(y) ? -1 : y
    if (xn !== yn) return xn < yn ? -1 : 1
  }
  return 0
}

/**
 * Judges GPU evidence (or its absence) against the policy's `gpu` section. Throws AttestationError:
 * GPU_EVIDENCE_MISSING, SIMULATED_REFUSED, GPU_CC_OFF, GPU_MEASUREMENT_MISMATCH,
 * GPU_VERSION_REFUSED or STALE.
 */
export function checkGpuPolicy (v: VerifiedGpuEvidence | undefined, policy: AttestationPolicy, ctx: PolicyContext): void {
  const gpu = policy.gpu
  if (gpu == null || gpu.mode === 'off') return
  if (v == null) {
    // [REJECT] the renter requires the GPU to prove itself, and it did not
    if (gpu.mode === 'required') fail(AttestationErrorCode.GPU_EVIDENCE_MISSING, 'the supplier sent no GPU evidence, and the policy requires it')
    return
  }
  // [REJECT] simulated GPU evidence proves nothing about a GPU
  if (v.kind === 'simulated-gpu' && policy.allowSimulated !== true) fail(AttestationErrorCode.SIMULATED_REFUSED, 'simulated GPU refused by policy')
  // [REJECT] outside confidential computing the host can read GPU memory
  if (v.ccMode === 'off') fail(AttestationErrorCode.GPU_CC_OFF, `${v.model} is not in confidential-computing mode`)
  if (v.kind === 'nvidia-gpu' && gpu.requireRimMatch !== false && !v.measurementsMatched) {
    fail(AttestationErrorCode.GPU_MEASUREMENT_MISMATCH, 'GPU measurements were not matched against a driver and a VBIOS RIM')
  }
  const driver = v.driverVersion ?? ''
  const vbios = (v.vbiosVersion ?? '').toUpperCase()
  if (gpu.driverVersions != null && !gpu.driverVersions.includes(driver)) fail(AttestationErrorCode.GPU_VERSION_REFUSED, `driver ${driver || '?'} not accepted`)
  if (gpu.minDriverVersion != null && compareVersions(driver, gpu.minDriverVersion, 10) < 0) fail(AttestationErrorCode.GPU_VERSION_REFUSED, `driver ${driver || '?'} below ${gpu.minDriverVersion}`)
  if (gpu.vbiosVersions != null && !gpu.vbiosVersions.map((x) => x.toUpperCase()).includes(vbios)) fail(AttestationErrorCode.GPU_VERSION_REFUSED, `VBIOS ${vbios || '?'} not accepted`)
  if (gpu.minVbiosVersion != null && compareVersions(vbios, gpu.minVbiosVersion, 16) < 0) fail(AttestationErrorCode.GPU_VERSION_REFUSED, `VBIOS ${vbios || '?'} below ${gpu.minVbiosVersion}`)
  const maxAge = policy.maxEvidenceAgeMs
  if (maxAge != null) {
    const since = v.producedAt ?? ctx.requestedAt
    if (since != null && ctx.now - since > maxAge) fail(AttestationErrorCode.STALE, `GPU evidence ${ctx.now - since} ms old, over ${maxAge} ms`)
  }
}
