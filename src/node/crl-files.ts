import { access, open } from 'node:fs/promises'
import path from 'node:path'
import type { AttestationPolicy, TdxCollateralSource } from '../tee/policy.js'
import { loadCrls, type Crl } from '../tee/x509/crl.js'
import { loadTcbInfoCollateral, type SignedTcbInfo } from '../tee/tdx/collateral.js'
import { UserError } from '../util/errors.js'
import { readTdxCollateralDir } from './tdx-collateral-fetch.js'

/**
 * Largest CRL file read. AMD's, Intel's and NVIDIA's CRLs are a few KiB to a few hundred KiB; a
 * file past this is a wrong path (an image, a log), not a CRL.
 */
export const MAX_CRL_FILE_SIZE = 8 * 1024 * 1024

async function readBounded (file: string): Promise<Uint8Array> {
  const fh = await open(file, 'r')
  try {
    const { size } = await fh.stat()
    if (size > MAX_CRL_FILE_SIZE) throw new Error(`over ${MAX_CRL_FILE_SIZE} bytes`)
    const buf = Buffer.alloc(size)
    const { bytesRead } = await fh.read(buf, 0, size, 0)
    return new Uint8Array(buf.buffer, buf.byteOffset, bytesRead)
  } finally {
    await fh.close()
  }
}

/**
 * The CRLs of `tee.crlFiles` (or of the config field named by `field`), read afresh for each
 * rental (an operator refreshes the files; a stale one refuses sessions as STALE). A file that is
 * missing, too large or not a CRL is a UserError naming the field and the file.
 */
export async function readCrlFiles (files: readonly string[], field = 'tee.crlFiles'): Promise<Crl[]> {
  const out: Crl[] = []
  for (const f of files) {
    try {
      out.push(...loadCrls(await readBounded(f)))
    } catch (err) {
      throw new UserError(`${field}: ${f}: ${(err as Error).message}`, { code: 'CRL_UNREADABLE', cause: err })
    }
  }
  return out
}

/** The files a CRL directory holds (`tee.crlDir`, `bazaar attest fetch-crls --dir`): `<dir>/<source>.crl`. */
export function crlDirFiles (dir: string, sources: readonly string[]): string[] {
  return sources.map((s) => path.join(dir, `${s}.crl`))
}

/**
 * The CRLs of a directory the daemon keeps current (`tee.crlDir`): each source's file that exists
 * (a source never fetched yet has none). A directory that holds none of them is refused
 * (`CRL_NOT_FETCHED`): the operator asked for revocation checks, and no CRL would mean none.
 */
export async function readCrlDir (dir: string, sources: readonly string[]): Promise<Crl[]> {
  const present: string[] = []
  for (const f of crlDirFiles(dir, sources)) if (await exists(f)) present.push(f)
  if (present.length === 0) {
    throw new UserError(`tee.crlDir: no CRL in ${dir} yet (the daemon fetches ${sources.join(', ')} there; its log says why a fetch failed)`, { code: 'CRL_NOT_FETCHED' })
  }
  return await readCrlFiles(present, 'tee.crlDir')
}

async function exists (file: string): Promise<boolean> {
  return await access(file).then(() => true, () => false)
}

/**
 * Intel's TCB info collateral of `tee.tdxCollateralFiles`, one per file (a QuoteCollateralV3 JSON
 * per platform), read afresh for each rental. A file that is missing, too large or not collateral
 * is a UserError naming the field and the file.
 */
export async function readTdxCollateral (files: readonly string[]): Promise<SignedTcbInfo[]> {
  const out: SignedTcbInfo[] = []
  for (const f of files) {
    try {
      out.push(loadTcbInfoCollateral([await readBounded(f)]))
    } catch (err) {
      throw new UserError(`tee.tdxCollateralFiles: ${f}: ${(err as Error).message}`, { code: 'COLLATERAL_UNREADABLE', cause: err })
    }
  }
  return out
}

/**
 * A rental's policy with the revocation and TCB files of the config: `tee.crlFiles` and those of
 * `tee.crlDir` for the CPU evidence, `tee.tdxCollateralFiles` and those of `tee.tdxCollateralDir`
 * for TDX quotes, and `tee.gpuCrlFiles` for the GPU evidence (when the policy asks for it), all
 * read now; and `tdxCollateralSource`, the daemon's keeper of `tee.tdxCollateralDir`, for a
 * platform none of those covers.
 */
export async function withCrlFiles (policy: AttestationPolicy, tee: { crlFiles: readonly string[], gpuCrlFiles: readonly string[], crlDir?: string, crlSources?: readonly string[], tdxCollateralFiles?: readonly string[], tdxCollateralDir?: string }, more: { tdxCollateralSource?: TdxCollateralSource } = {}): Promise<AttestationPolicy> {
  const crls = await readCrlFiles(tee.crlFiles)
  if (tee.crlDir != null) crls.push(...await readCrlDir(tee.crlDir, tee.crlSources ?? []))
  const gpuCrls = await readCrlFiles(tee.gpuCrlFiles, 'tee.gpuCrlFiles')
  // the directory the daemon keeps current first: verifyTdxQuote takes the first one of the
  // quote's platform, and an operator's file may have lapsed
  const kept = tee.tdxCollateralDir != null ? (await readTdxCollateralDir(tee.tdxCollateralDir)).map((c) => c.collateral) : []
  const tdxCollateral = [...kept, ...await readTdxCollateral(tee.tdxCollateralFiles ?? [])]
  return {
    ...policy,
    crls,
    ...(tdxCollateral.length > 0 ? { tdxCollateral } : {}),
    ...(more.tdxCollateralSource != null ? { tdxCollateralSource: more.tdxCollateralSource } : {}),
    ...(policy.gpu != null && gpuCrls.length > 0 ? { gpu: { ...policy.gpu, crls: gpuCrls } } : {})
  }
}
