import path from 'node:path'
import { CRL_SOURCES, PCK_CRL_ISSUER_CHAIN_HEADER, verifySourceCrl, type CrlSource } from '../tee/crl-sources.js'
import { MAX_CRL_SIZE, type Crl } from '../tee/x509/crl.js'
import { bytesEqual } from '../util/bytes.js'
import { UserError } from '../util/errors.js'
import { makeDirs, writeFileAtomic } from '../util/fs.js'
import { DEFAULT_DOWNLOAD_TIMEOUT_MS, download, downloadSignal, errorLine, issuerChainHeader } from './download.js'
import { readCrlFiles } from './crl-files.js'

/**
 * `bazaar attest fetch-crls`: downloads the AMD and Intel CRLs (`CRL_SOURCES`), checks each against
 * the vendor keys pinned in this program, and writes it as `<dir>/<source>.crl` for `tee.crlFiles`
 * to list. A file is replaced only by a newer CRL (a later thisUpdate), written to a temporary file,
 * synced and renamed over it, so a daemon reading the file at a rental never sees half of one.
 * What fails to download or verify leaves the file as it was. Meant to run from a timer (AMD and
 * Intel reissue their CRLs within days), or by a daemon with `tee.crlDir` (CrlRefresher).
 */

export interface FetchCrlsOptions {
  dir: string
  /** the sources by name; all of them by default */
  sources?: readonly string[]
  /** a URL per source name, in place of the vendor's (a PCCS or caching proxy, a test server) */
  urls?: Readonly<Record<string, string>>
  /** the time CRLs must be current at */
  now?: Date
  /** per download */
  timeoutMs?: number
  signal?: AbortSignal
}

export interface FetchedCrl {
  source: string
  file: string
  result: 'updated' | 'kept' | 'failed'
  /** the window of the CRL now in the file (updated or kept) */
  thisUpdate?: string
  nextUpdate?: string
  revoked?: number
  /** why it failed: a DownloadErrorCode or the verifier's AttestationErrorCode, and a line */
  code?: string
  error?: string
}

export function crlSourceNames (): string[] { return CRL_SOURCES.map((s) => s.name) }

export async function fetchCrls (opts: FetchCrlsOptions): Promise<FetchedCrl[]> {
  const names = opts.sources ?? crlSourceNames()
  const sources = names.map((n) => {
    const s = CRL_SOURCES.find((x) => x.name === n)
    if (s == null) throw new UserError(`unknown CRL source ${n} (known: ${crlSourceNames().join(', ')})`, { code: 'UNKNOWN_CRL_SOURCE' })
    return s
  })
  await makeDirs(opts.dir).catch((err: NodeJS.ErrnoException) => {
    throw new UserError(`cannot create the CRL directory ${opts.dir}: ${err.code ?? 'error'}`, { code: 'CRL_DIR_UNUSABLE', cause: err })
  })
  // every source at once: a vendor that does not answer costs one download timeout, not one each
  return await Promise.all(sources.map(async (source): Promise<FetchedCrl> => {
    const file = path.join(opts.dir, `${source.name}.crl`)
    try {
      const signal = downloadSignal(opts.timeoutMs ?? DEFAULT_DOWNLOAD_TIMEOUT_MS, opts.signal)
      const { der, crl } = await fetchSource(source, opts.urls?.[source.name] ?? source.url, opts.now ?? new Date(), signal)
      const { result, held } = await store(file, der, crl)
      return { source: source.name, file, result, thisUpdate: held.thisUpdate.toISOString(), nextUpdate: held.nextUpdate?.toISOString(), revoked: held.revoked.size }
    } catch (err) {
      if (opts.signal?.aborted === true) throw err
      return { source: source.name, file, result: 'failed', code: (err as { code?: string }).code, error: errorLine(err) }
    }
  }))
}

async function fetchSource (source: CrlSource, url: string, now: Date, signal: AbortSignal): Promise<{ der: Uint8Array, crl: Crl }> {
  const { body: der, headers } = await download(url, { max: MAX_CRL_SIZE, signal })
  const chain = issuerChainHeader(headers, [PCK_CRL_ISSUER_CHAIN_HEADER])
  return { der, crl: verifySourceCrl(source, der, now, chain) }
}

/**
 * Writes `der` to `file` unless the file holds a CRL at least as new; atomic (temp, sync, rename).
 * Returns what the file holds now.
 */
async function store (file: string, der: Uint8Array, crl: Crl): Promise<{ result: 'updated' | 'kept', held: Crl }> {
  const old = await readCrlFiles([file]).then((c) => c[0], () => undefined)
  if (old != null && bytesEqual(old.issuer, crl.issuer) && old.thisUpdate >= crl.thisUpdate) return { result: 'kept', held: old }
  await writeFileAtomic(file, der)
  return { result: 'updated', held: crl }
}
