import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { AttestationErrorCode, fail } from '../tee/errors.js'
import { MAX_COLLATERAL_SIZE, loadTcbInfoCollateral, verifyTcbInfo, type SignedTcbInfo, type TcbInfo } from '../tee/tdx/collateral.js'
import { toHex } from '../util/hex.js'
import { UserError } from '../util/errors.js'
import { makeDirs, readBoundedFile, writeFileAtomic } from '../util/fs.js'
import { DEFAULT_DOWNLOAD_TIMEOUT_MS, DownloadError, DownloadErrorCode, download, downloadSignal, errorLine, issuerChainHeader } from './download.js'

/**
 * `bazaar attest fetch-tdx-collateral`, and a renter daemon with `tee.tdxCollateralDir`: Intel's
 * TDX TCB info of a platform family (FMSPC) from Intel PCS API v4, or a PCCS, which serves the
 * same paths: `GET {base}/tdx/certification/v4/tcb?fmspc=<12 hex>` answers
 * `{"tcbInfo":{...},"signature":"<hex>"}` with the signing chain, URL-encoded PEM, in the
 * `TCB-Info-Issuer-Chain` header (`SGX-TCB-Info-Issuer-Chain` in API v3 and older PCCS, also
 * read). It is kept only once verified: the Intel SGX TCB Signing chain leads to the pinned Intel
 * SGX root, the signature covers the exact TCB info text, the info is TDX TCB info v3+ for the
 * FMSPC asked for, and it is current now. It is written as `<dir>/<fmspc>.json`, a QuoteCollateralV3
 * object (`tcb_info`, `tcb_info_signature`, `tcb_info_issuer_chain`) that `tee.tdxCollateralFiles`
 * and `loadTcbInfoCollateral` read, atomically (temporary file, sync, rename). A file whose TCB
 * info is as new (same bytes, or a later or equal evaluation) is kept, so a PCCS serving an older
 * document never rolls one back; what fails leaves the file as it was.
 *
 * QE identity (`/tdx/certification/v4/qe/identity`) is not fetched: the verifier pins Intel's TD
 * Quoting Enclave identity (tee/tdx/qe-identity.ts) and does not evaluate the QE's own TCB, so
 * the document would change no verdict. CRLs come from `tee.crlDir`.
 */

/** Intel's Provisioning Certification Service; a PCCS serves the same paths */
export const INTEL_PCS_URL = 'https://api.trustedservices.intel.com'

/** the header of the TCB info signing chain: PCS API v4's name first, then v3's (older PCCS) */
export const TCB_INFO_ISSUER_CHAIN_HEADERS = ['tcb-info-issuer-chain', 'sgx-tcb-info-issuer-chain'] as const

/** an FMSPC: 6 bytes (Family-Model-Stepping-Platform-CustomSKU), as the PCK certificate carries it */
export const FMSPC_RE = /^[0-9a-fA-F]{12}$/

/** the most FMSPCs one call fetches, and the most files a collateral directory is read for */
export const MAX_TDX_COLLATERAL_FILES = 64

export interface FetchTdxCollateralOptions {
  dir: string
  /** 12 hex digits each */
  fmspcs: readonly string[]
  /** Intel PCS or a PCCS: `<pcsUrl>/tdx/certification/v4/tcb?fmspc=...`; default INTEL_PCS_URL */
  pcsUrl?: string
  /** the time the TCB info must be current at */
  now?: Date
  /** per download */
  timeoutMs?: number
  signal?: AbortSignal
}

export interface FetchedTdxCollateral {
  /** lowercase */
  fmspc: string
  file: string
  result: 'updated' | 'kept' | 'failed'
  /** the TCB info now in the file (updated or kept) */
  issueDate?: string
  nextUpdate?: string
  tcbEvaluationDataNumber?: number
  /** the TCB info now in the file, verified (updated or kept) */
  collateral?: SignedTcbInfo
  /** a DownloadErrorCode or the verifier's AttestationErrorCode, and a line */
  code?: string
  error?: string
}

/** The file of a platform's TCB info in a collateral directory. */
export function tdxCollateralFile (dir: string, fmspc: string): string {
  return path.join(dir, `${fmspc.toLowerCase()}.json`)
}

/** Throws a UserError (BAD_FMSPC) unless every FMSPC is 12 hex digits, and at most MAX_TDX_COLLATERAL_FILES. */
export function checkFmspcs (fmspcs: readonly string[]): void {
  if (fmspcs.length > MAX_TDX_COLLATERAL_FILES) throw new UserError(`at most ${MAX_TDX_COLLATERAL_FILES} FMSPCs at a time`, { code: 'BAD_FMSPC' })
  for (const f of fmspcs) {
    if (!FMSPC_RE.test(f)) throw new UserError(`'${f.slice(0, 32)}' is not an FMSPC (12 hex digits, e.g. b0c06f000000)`, { code: 'BAD_FMSPC' })
  }
}

export async function fetchTdxCollateral (opts: FetchTdxCollateralOptions): Promise<FetchedTdxCollateral[]> {
  checkFmspcs(opts.fmspcs)
  await makeDirs(opts.dir).catch((err: NodeJS.ErrnoException) => {
    throw new UserError(`cannot create the TDX collateral directory ${opts.dir}: ${err.code ?? 'error'}`, { code: 'COLLATERAL_DIR_UNUSABLE', cause: err })
  })
  const base = (opts.pcsUrl ?? INTEL_PCS_URL).replace(/\/+$/, '')
  const now = opts.now ?? new Date()
  return await Promise.all([...new Set(opts.fmspcs.map((f) => f.toLowerCase()))].map(async (fmspc): Promise<FetchedTdxCollateral> => {
    const file = tdxCollateralFile(opts.dir, fmspc)
    try {
      const signal = downloadSignal(opts.timeoutMs ?? DEFAULT_DOWNLOAD_TIMEOUT_MS, opts.signal)
      const url = `${base}/tdx/certification/v4/tcb?fmspc=${fmspc}`
      // Intel PCS answers in place: a redirect is a wrong base URL, not somewhere to follow to
      const { body, headers } = await download(url, { max: MAX_COLLATERAL_SIZE, signal, redirect: 'refuse', headers: { accept: 'application/json' } })
      const chain = issuerChainHeader(headers, TCB_INFO_ISSUER_CHAIN_HEADERS)
      // [REJECT] no signing chain: the TCB info cannot be verified
      if (chain == null) throw new DownloadError(DownloadErrorCode.BAD_HEADER, `the answer of ${url} has no TCB-Info-Issuer-Chain header`)
      const signed = tcbInfoOfPcsAnswer(body, chain)
      const info = verifyFetchedTcbInfo(signed, fmspc, now)
      const { result, held, heldSigned } = await store(file, signed, info, now)
      return { fmspc, file, result, issueDate: held.issueDate, nextUpdate: held.nextUpdate, collateral: heldSigned, ...(held.tcbEvaluationDataNumber != null ? { tcbEvaluationDataNumber: held.tcbEvaluationDataNumber } : {}) }
    } catch (err) {
      if (opts.signal?.aborted === true) throw err
      return { fmspc, file, result: 'failed', code: (err as { code?: string }).code, error: errorLine(err) }
    }
  }))
}

/**
 * The signed TCB info of a PCS answer and its issuer chain (PEM). [REJECT] a body that is not
 * the JSON object PCS sends (`tcbInfo` object, `signature` of 64 bytes in hex).
 */
export function tcbInfoOfPcsAnswer (body: Uint8Array, chain: Uint8Array): SignedTcbInfo {
  let answer: unknown
  try {
    answer = JSON.parse(Buffer.from(body).toString('utf8'))
  } catch (err) {
    fail(AttestationErrorCode.MALFORMED, 'the TCB info answer is not JSON', err)
  }
  const a = answer as { tcbInfo?: unknown, signature?: unknown } | null
  if (a == null || typeof a !== 'object' || Array.isArray(a) || a.tcbInfo == null || typeof a.tcbInfo !== 'object' || Array.isArray(a.tcbInfo) || typeof a.signature !== 'string' || !/^[0-9a-fA-F]{128}$/.test(a.signature)) {
    fail(AttestationErrorCode.MALFORMED, 'the TCB info answer is not {"tcbInfo":{...},"signature":"<64 bytes hex>"}')
  }
  return loadTcbInfoCollateral([body, chain])
}

/**
 * verifyTcbInfo (chain to the pinned Intel root, signature, TDX v3+, current at `now`), and
 * [REJECT] TCB info of another platform than the one asked for, or without an issue date.
 */
function verifyFetchedTcbInfo (signed: SignedTcbInfo, fmspc: string, now: Date): TcbInfo {
  const info = verifyTcbInfo(signed, now)
  if (typeof info.fmspc !== 'string' || info.fmspc.toLowerCase() !== fmspc) fail(AttestationErrorCode.CERT_MISMATCH, `TCB info is for FMSPC ${String(info.fmspc).slice(0, 32)}, ${fmspc} was asked for`)
  if (!Number.isFinite(Date.parse(info.issueDate))) fail(AttestationErrorCode.MALFORMED, 'TCB info has no issue date')
  return info
}

/**
 * Order of two TCB infos of one platform: by Intel's tcbEvaluationDataNumber (raised at each TCB
 * recovery), then by issueDate (Intel re-signs the same evaluation as it goes). Negative: `a` is older.
 */
export function compareTcbInfo (a: Pick<TcbInfo, 'issueDate' | 'tcbEvaluationDataNumber'>, b: Pick<TcbInfo, 'issueDate' | 'tcbEvaluationDataNumber'>): number {
  const na = a.tcbEvaluationDataNumber ?? -1
  const nb = b.tcbEvaluationDataNumber ?? -1
  if (na !== nb) return na < nb ? -1 : 1
  return Math.sign((Date.parse(a.issueDate) || 0) - (Date.parse(b.issueDate) || 0))
}

/** The file's content: the QuoteCollateralV3 fields of the TCB info, the form loadTcbInfoCollateral reads. */
function fileOf (signed: SignedTcbInfo): string {
  return JSON.stringify({
    tcb_info: signed.text,
    tcb_info_signature: toHex(signed.signature),
    tcb_info_issuer_chain: signed.chain.map((c) => c.toString()).join('')
  }) + '\n'
}

/**
 * The TCB info a collateral file holds, verified now for `fmspc`; undefined when the file is
 * missing, unreadable, or holds nothing that verifies (then anything verified replaces it).
 */
async function heldTcbInfo (file: string, fmspc: string, now: Date): Promise<{ signed: SignedTcbInfo, info: TcbInfo } | undefined> {
  try {
    const signed = loadTcbInfoCollateral([new Uint8Array(await readBoundedFile(file, MAX_COLLATERAL_SIZE))])
    return { signed, info: verifyFetchedTcbInfo(signed, fmspc, now) }
  } catch {
    return undefined
  }
}

/**
 * Writes the verified TCB info to `file` unless the file holds one as new (the same text, or a
 * later or equal evaluation that still verifies): never an older over a newer. Atomic.
 */
async function store (file: string, signed: SignedTcbInfo, info: TcbInfo, now: Date): Promise<{ result: 'updated' | 'kept', held: TcbInfo, heldSigned: SignedTcbInfo }> {
  const old = await heldTcbInfo(file, info.fmspc.toLowerCase(), now)
  if (old != null && (old.signed.text === signed.text || compareTcbInfo(old.info, info) >= 0)) return { result: 'kept', held: old.info, heldSigned: old.signed }
  await writeFileAtomic(file, fileOf(signed))
  return { result: 'updated', held: info, heldSigned: signed }
}

/**
 * The TCB info a daemon keeps in `dir` (`tee.tdxCollateralDir`): every `<fmspc>.json` file, read
 * now (at most MAX_TDX_COLLATERAL_FILES). A file that does not read as collateral is left out (a
 * fetch replaces it); a directory not made yet holds none. Not verified here: a rental verifies
 * the one of its quote's platform.
 */
export async function readTdxCollateralDir (dir: string): Promise<Array<{ fmspc: string, collateral: SignedTcbInfo }>> {
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return []
    throw new UserError(`tee.tdxCollateralDir: cannot read ${dir}: ${err.code ?? 'error'}`, { code: 'COLLATERAL_UNREADABLE', cause: err })
  })
  const fmspcs = names.filter((n) => /^[0-9a-f]{12}\.json$/.test(n)).map((n) => n.slice(0, 12)).sort().slice(0, MAX_TDX_COLLATERAL_FILES)
  const out: Array<{ fmspc: string, collateral: SignedTcbInfo }> = []
  for (const fmspc of fmspcs) {
    try {
      out.push({ fmspc, collateral: loadTcbInfoCollateral([new Uint8Array(await readBoundedFile(tdxCollateralFile(dir, fmspc), MAX_COLLATERAL_SIZE))]) })
    } catch {}
  }
  return out
}
