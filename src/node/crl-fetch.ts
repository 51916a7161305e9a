import { open, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { CRL_SOURCES, PCK_CRL_ISSUER_CHAIN_HEADER, verifySourceCrl, type CrlSource } from '../tee/crl-sources.js'
import { MAX_CRL_SIZE, type Crl } from '../tee/x509/crl.js'
import { MAX_BUNDLE_SIZE } from '../tee/x509/load.js'
import { bytesEqual } from '../util/bytes.js'
import { BazaarError, UserError } from '../util/errors.js'
import { makeDirs } from '../util/fs.js'
import { readCrlFiles } from './crl-files.js'

/**
 * `bazaar attest fetch-crls`: downloads the AMD and Intel CRLs (`CRL_SOURCES`), checks each against
 * the vendor keys pinned in this program, and writes it as `<dir>/<source>.crl` for `tee.crlFiles`
 * to list. A file is replaced only by a newer CRL (a later thisUpdate), written to a temporary file,
 * synced and renamed over it, so a daemon reading the file at a rental never sees half of one.
 * What fails to download or verify leaves the file as it was. Meant to run from a timer (AMD and
 * Intel reissue their CRLs within days); nothing fetches while the node runs.
 */

/** Why a source was not fetched, besides the verifier's own codes (AttestationErrorCode). */
export enum CrlFetchErrorCode {
  /** no connection, a DNS failure, no answer in time */
  UNREACHABLE = 'UNREACHABLE',
  /** an HTTP status other than 2xx */
  HTTP_STATUS = 'HTTP_STATUS',
  /** a body or header over its bound */
  TOO_LARGE = 'TOO_LARGE',
  /** an issuer chain header that is not URL-encoded text */
  BAD_HEADER = 'BAD_HEADER'
}

export class CrlFetchError extends BazaarError<CrlFetchErrorCode> {}

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
  /** why it failed: a CrlFetchErrorCode or the verifier's AttestationErrorCode, and a line */
  code?: string
  error?: string
}

export const DEFAULT_CRL_FETCH_TIMEOUT_MS = 20_000

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
  const out: FetchedCrl[] = []
  for (const source of sources) {
    const file = path.join(opts.dir, `${source.name}.crl`)
    try {
      const signal = AbortSignal.any([AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_CRL_FETCH_TIMEOUT_MS), ...(opts.signal != null ? [opts.signal] : [])])
      const { der, crl } = await download(source, opts.urls?.[source.name] ?? source.url, opts.now ?? new Date(), signal)
      const { result, held } = await store(file, der, crl)
      out.push({ source: source.name, file, result, thisUpdate: held.thisUpdate.toISOString(), nextUpdate: held.nextUpdate?.toISOString(), revoked: held.revoked.size })
    } catch (err) {
      if (opts.signal?.aborted === true) throw err
      out.push({ source: source.name, file, result: 'failed', code: (err as { code?: string }).code, error: errorLine(err) })
    }
  }
  return out
}

async function download (source: CrlSource, url: string, now: Date, signal: AbortSignal): Promise<{ der: Uint8Array, crl: Crl }> {
  const unreachable = (err: Error): never => {
    // fetch's "fetch failed" hides the socket error in its cause
    const cause = err.cause as { code?: string, message?: string } | undefined
    const why = err.name === 'TimeoutError' ? 'no answer in time' : cause?.code ?? cause?.message ?? err.message
    throw new CrlFetchError(CrlFetchErrorCode.UNREACHABLE, `cannot fetch ${url}: ${why}`, { cause: err })
  }
  const res = await fetch(url, { signal, redirect: 'follow' }).catch(unreachable)
  if (!res.ok) {
    await res.body?.cancel()
    throw new CrlFetchError(CrlFetchErrorCode.HTTP_STATUS, `HTTP ${res.status} from ${url}`)
  }
  const der = await readBounded(res, MAX_CRL_SIZE).catch((err: Error) => err instanceof CrlFetchError ? Promise.reject(err) : unreachable(err))
  const chainHeader = res.headers.get(PCK_CRL_ISSUER_CHAIN_HEADER)
  let chain: Uint8Array | undefined
  if (chainHeader != null) {
    // [REJECT] a header past what a PEM bundle may hold, URL-encoded
    if (chainHeader.length > 3 * MAX_BUNDLE_SIZE) throw new CrlFetchError(CrlFetchErrorCode.TOO_LARGE, 'issuer chain header too large')
    let text: string
    try { text = decodeURIComponent(chainHeader) } catch (err) { throw new CrlFetchError(CrlFetchErrorCode.BAD_HEADER, 'issuer chain header is not URL-encoded', { cause: err }) }
    chain = new TextEncoder().encode(text)
  }
  return { der, crl: verifySourceCrl(source, der, now, chain) }
}

/** the body, refused past `max` bytes without reading the rest */
async function readBounded (res: Response, max: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? NaN)
  if (declared > max) {
    await res.body?.cancel()
    throw new CrlFetchError(CrlFetchErrorCode.TOO_LARGE, `response of ${declared} bytes, over ${max}`)
  }
  const parts: Uint8Array[] = []
  let size = 0
  if (res.body == null) return new Uint8Array(0)
  const reader = res.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > max) {
      await reader.cancel()
      throw new CrlFetchError(CrlFetchErrorCode.TOO_LARGE, `response over ${max} bytes`)
    }
    parts.push(value)
  }
  return new Uint8Array(Buffer.concat(parts))
}

/**
 * Writes `der` to `file` unless the file holds a CRL at least as new; atomic (temp, sync, rename).
 * Returns what the file holds now.
 */
async function store (file: string, der: Uint8Array, crl: Crl): Promise<{ result: 'updated' | 'kept', held: Crl }> {
  const old = await readCrlFiles([file]).then((c) => c[0], () => undefined)
  if (old != null && bytesEqual(old.issuer, crl.issuer) && old.thisUpdate >= crl.thisUpdate) return { result: 'kept', held: old }
  const tmp = `${file}.${process.pid}.tmp`
  try {
    const fh = await open(tmp, 'w', 0o644)
    try {
      await fh.writeFile(der)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, file)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
  // the rename is durable once the directory is
  const dh = await open(path.dirname(file), 'r')
  try { await dh.sync() } finally { await dh.close() }
  return { result: 'updated', held: crl }
}

function errorLine (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
