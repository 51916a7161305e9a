import { AttestationErrorCode, fail } from '../errors.js'
import { toHex } from '../../util/hex.js'
import type { TcbInfo } from './collateral.js'
import type { TdxQuote } from './parse.js'
import type { PckPlatform } from './pck.js'

/**
 * Result of TDX TCB evaluation. `status` uses Intel's TCB status names (UpToDate, SWHardeningNeeded,
 * ConfigurationNeeded, ConfigurationAndSWHardeningNeeded, OutOfDate, OutOfDateConfigurationNeeded,
 * Revoked) plus NotSupported when no TCB level matches the platform.
 */
export interface TdxTcbEvaluation {
  status: string
  advisoryIds: string[]
  tcbDate?: string
  /** status of the TDX module from its identity (UpToDate when only the base module is described) */
  moduleStatus: string
  tcbEvaluationIssueDate: string
}

const hexEq = (a: Uint8Array, b: string): boolean => toHex(a) === b.toLowerCase()

function masked (value: Uint8Array, expected: string, mask: string): boolean {
  const e = Buffer.from(expected, 'hex')
  const m = Buffer.from(mask, 'hex')
  for (let i = 0; i < m.byteLength; i++) if (((value[i] ?? 0) & m[i]) !== (e[i] & m[i])) return false
  return true
}

/** TDX module identity and TCB (Intel QVL TdxModuleCheck): TEE_TCB_SVN[1] is the module's major version, [0] its SVN. */
function moduleStatus (quote: TdxQuote, info: TcbInfo): string {
  const svn = quote.body.teeTcbSvn
  const version = svn[1]
  if (version === 0) {
    const m = info.tdxModule
    if (m == null) fail(AttestationErrorCode.MALFORMED, 'TCB info has no tdxModule')
    if (!hexEq(quote.body.mrSignerSeam, m.mrsigner) || !masked(quote.body.seamAttributes, m.attributes, m.attributesMask)) {
      fail(AttestationErrorCode.CERT_MISMATCH, 'TDX module signer or attributes do not match the TCB info')
    }
    return 'UpToDate'
  }
  const id = `TDX_${version.toString(16).padStart(2, '0').toUpperCase()}`
  const ident = info.tdxModuleIdentities?.find((x) => x.id.toUpperCase() === id)
  if (ident == null) return 'NotSupported'
  if (!hexEq(quote.body.mrSignerSeam, ident.mrsigner) || !masked(quote.body.seamAttributes, ident.attributes, ident.attributesMask)) {
    fail(AttestationErrorCode.CERT_MISMATCH, `TDX module does not match identity ${id}`)
  }
  const level = ident.tcbLevels.find((l) => svn[0] >= l.tcb.isvsvn)
  return level?.tcbStatus ?? 'NotSupported'
}

/** Intel QVL convergeTcbStatusWithTdxModuleStatus: an out-of-date module drags the TDX status down. */
function converge (tdx: string, mod: string): string {
  if (mod === 'OutOfDate') {
    if (tdx === 'UpToDate' || tdx === 'SWHardeningNeeded') return 'OutOfDate'
    if (tdx === 'ConfigurationNeeded' || tdx === 'ConfigurationAndSWHardeningNeeded') return 'OutOfDateConfigurationNeeded'
  }
  if (mod === 'Revoked') return 'Revoked'
  return tdx
}

/**
 * Evaluates a verified TDX quote's TCB against verified TCB info (Intel QVL TcbLevelCheck): the
 * first TCB level (highest first) whose SGX components and PCESVN the PCK certificate meets, and
 * whose TDX components TEE_TCB_SVN meets (from index 2 when the module version TEE_TCB_SVN[1] is
 * set), gives the status, converged with the TDX module's status. The QE's own TCB (QE identity
 * collateral), CRLs and the TD relaunch advice of TDX 1.5 are not evaluated.
 */
export function evaluateTdxTcb (quote: TdxQuote, platform: PckPlatform, info: TcbInfo): TdxTcbEvaluation {
  // [REJECT] the collateral is for this platform family
  if (!hexEq(platform.fmspc, info.fmspc) || !hexEq(platform.pceId, info.pceId)) {
    fail(AttestationErrorCode.CERT_MISMATCH, `TCB info is for FMSPC ${info.fmspc}, the PCK certificate says ${toHex(platform.fmspc)}`)
  }
  const svn = quote.body.teeTcbSvn
  const start = svn[1] > 0 ? 2 : 0
  const mod = moduleStatus(quote, info)
  const base = { moduleStatus: mod, tcbEvaluationIssueDate: info.issueDate }
  if (mod === 'NotSupported') return { status: 'NotSupported', advisoryIds: [], ...base }
  for (const level of info.tcbLevels) {
    const sgx = level.tcb.sgxtcbcomponents
    if (!sgx.every((c, i) => platform.tcbComponents[i] >= c.svn) || platform.pceSvn < level.tcb.pcesvn) continue
    const tdx = level.tcb.tdxtcbcomponents ?? []
    let ok = true
    for (let i = start; i < 16; i++) if (svn[i] < (tdx[i]?.svn ?? 0)) { ok = false; break }
    if (!ok) continue
    return { status: converge(level.tcbStatus, mod), advisoryIds: level.advisoryIDs ?? [], tcbDate: level.tcbDate, ...base }
  }
  return { status: 'NotSupported', advisoryIds: [], ...base }
}
