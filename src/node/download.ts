import { BazaarError } from '../util/errors.js'

/**
 * One bounded HTTP GET from a vendor's service (AMD KDS, Intel PCS, NVIDIA's RIM service), for the
 * commands that keep attestation collateral in files. Nothing here trusts the body: the caller
 * verifies what it gets against keys pinned in the program.
 */

/** Why a download failed. */
export enum DownloadErrorCode {
  /** no connection, a DNS failure, no answer in time */
  UNREACHABLE = 'UNREACHABLE',
  /** an HTTP status other than 2xx */
  HTTP_STATUS = 'HTTP_STATUS',
  /** a body over its bound */
  TOO_LARGE = 'TOO_LARGE'
}

export class DownloadError extends BazaarError<DownloadErrorCode> {}

export const DEFAULT_DOWNLOAD_TIMEOUT_MS = 20_000

export interface DownloadOptions {
  /** the body is refused past this many bytes, without reading the rest */
  max: number
  signal: AbortSignal
  headers?: Record<string, string>
  /** GET by default; POST sends `body` */
  method?: 'GET' | 'POST'
  body?: Uint8Array
}

export async function download (url: string, opts: DownloadOptions): Promise<{ body: Uint8Array, headers: Headers }> {
  const unreachable = (err: Error): never => {
    // fetch's "fetch failed" hides the socket error in its cause
    const cause = err.cause as { code?: string, message?: string } | undefined
    const why = err.name === 'TimeoutError' ? 'no answer in time' : cause?.code ?? cause?.message ?? err.message
    throw new DownloadError(DownloadErrorCode.UNREACHABLE, `cannot fetch ${url}: ${why}`, { cause: err })
  }
  const res = await fetch(url, { method: opts.method ?? 'GET', body: opts.body != null ? Buffer.from(opts.body) : undefined, signal: opts.signal, redirect: 'follow', headers: opts.headers }).catch(unreachable)
  if (!res.ok) {
    await res.body?.cancel()
    throw new DownloadError(DownloadErrorCode.HTTP_STATUS, `HTTP ${res.status} from ${url}`)
  }
  const body = await readBounded(res, opts.max).catch((err: Error) => err instanceof DownloadError ? Promise.reject(err) : unreachable(err))
  return { body, headers: res.headers }
}

async function readBounded (res: Response, max: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? NaN)
  if (declared > max) {
    await res.body?.cancel()
    throw new DownloadError(DownloadErrorCode.TOO_LARGE, `response of ${declared} bytes, over ${max}`)
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
      throw new DownloadError(DownloadErrorCode.TOO_LARGE, `response over ${max} bytes`)
    }
    parts.push(value)
  }
  return new Uint8Array(Buffer.concat(parts))
}

/** The timeout of one download joined with the caller's signal. */
export function downloadSignal (timeoutMs: number, signal?: AbortSignal): AbortSignal {
  return AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(signal != null ? [signal] : [])])
}

export function errorLine (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
