import { open, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { CRL_SOURCES, PCK_CRL_ISSUER_CHAIN_HEADER, verifySourceCrl, type CrlSource } from '../tee/crl-sources.js'
import { MAX_CRL_SIZE, type Crl } from '../tee/x509/crl.js'
import { MAX_BUNDLE_SIZE } from '../tee/x509/load.js'
import { bytesEqual } from '../util/bytes.js'
import { UserError } from '../util/errors.js'
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
}

export interface FetchedCrl {
  source: string
  file: string
  result: 'updated' | 'kept' | 'failed'
  /** the window of the CRL now in the file (updated or kept) */
  thisUpdate?: string
  nextUpdate?: string
  revoked?: number
  /** why it failed */
  error?: string
}

export const DEFAULT_CRL_FETCH_TIMEOUT_MS = 20_000

export function crlSourceNames (): string[] { return CRL_SOURCES.map((s) => s.name) }

export async function fetchCrls (opts: FetchCrlsOptions): Promise<FetchedCrl[]> {
  const names = opts.sources ?? crlSourceNames()
  const sources = names.map((n) => {
    const s = CRL_SOURCES.find((x) => x.name === n)
    if (s == null) throw new Error(`unknown CRL source ${n} (known: ${crlSourceNames().join(', ')})`)
    return s
  })
  await makeDirs(opts.dir).catch((err: NodeJS.ErrnoException) => {
    throw new UserError(`cannot create the CRL directory ${opts.dir}: ${err.code ?? 'error'}`, { code: 'CRL_DIR_UNUSABLE', cause: err })
  })
  const out: FetchedCrl[] = []
  for (const source of sources) {
    const file = path.join(opts.dir, `${source.name}.crl`)
    try {
      const { der, crl } = await download(source, opts.urls?.[source.name] ?? source.url, opts.now ?? new Date(), opts.timeoutMs ?? DEFAULT_CRL_FETCH_TIMEOUT_MS)
      const result = await store(file, der, crl)
      const held = result === 'updated' ? crl : (await readCrlFiles([file]))[0]
      out.push({ source: source.name, file, result, thisUpdate: held.thisUpdate.toISOString(), nextUpdate: held.nextUpdate?.toISOString(), revoked: held.revoked.size })
    } catch (err) {
      out.push({ source: source.name, file, result: 'failed', error: errorLine(err) })
    }
  }
  return out
}

async function download (source: CrlSource, url: string, now: Date, timeoutMs: number): Promise<{ der: Uint8Array, crl: Crl }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' }).catch((err: Error & { cause?: { code?: string, message?: string } }) => {
    // fetch's "fetch failed" hides the socket error in its cause
    const why = err.name === 'TimeoutError' ? `no answer in ${timeoutMs / 1000} s` : err.cause?.code ?? err.cause?.message ?? err.message
    throw new Error(`cannot fetch ${url}: ${why}`)
  })
  if (!res.ok) {
    await res.body?.cancel()
    throw new Error(`HTTP ${res.status} from ${url}`)
  }
  const der = await readBounded(res, MAX_CRL_SIZE)
  const chainHeader = res.headers.get(PCK_CRL_ISSUER_CHAIN_HEADER)
  let chain: Uint8Array | undefined
  if (chainHeader != null) {
    if (chainHeader.length > 3 * MAX_BUNDLE_SIZE) throw new Error('issuer chain header too large')
    chain = new TextEncoder().encode(decodeURIComponent(chainHeader))
  }
  return { der, crl: verifySourceCrl(source, der, now, chain) }
}

/** the body, refused past `max` bytes without reading the rest */
async function readBounded (res: Response, max: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? NaN)
  if (declared > max) {
    await res.body?.cancel()
    throw new Error(`response of ${declared} bytes, over ${max}`)
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
      throw new Error(`response over ${max} bytes`)
    }
    parts.push(value)
  }
  return new Uint8Array(Buffer.concat(parts))
}

/** writes `der` to `file` unless the file holds a CRL at least as new; atomic (temp, sync, rename) */
async function store (file: string, der: Uint8Array, crl: Crl): Promise<'updated' | 'kept'> {
  const held = await readCrlFiles([file]).then((c) => c[0], () => undefined)
  if (held != null && bytesEqual(held.issuer, crl.issuer) && held.thisUpdate >= crl.thisUpdate) return 'kept'
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
  return 'updated'
}

function errorLine (err: unknown): string {
  const e = err as Error & { code?: string }
  // an AttestationError's code says which check refused it (CHAIN_INVALID, STALE, ...)
  if (e?.name === 'TimeoutError') return 'the body did not arrive in time'
  return e?.code != null && !String(e.message).startsWith(e.code) ? `${e.code}: ${e.message}` : String(e?.message ?? err)
}
