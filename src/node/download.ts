import { MAX_BUNDLE_SIZE } from '../tee/x509/load.js'
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
  /** a body, or an issuer chain header, over its bound */
  TOO_LARGE = 'TOO_LARGE',
  /** a redirect where the caller follows none (Intel PCS and a PCCS answer in place) */
  REDIRECTED = 'REDIRECTED',
  /** an issuer chain header that is not URL-encoded text, or one the answer must carry and lacks */
  BAD_HEADER = 'BAD_HEADER'
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
  /**
   * follow (the default: AMD KDS and NVIDIA's services may move) or refuse a redirect
   * (REDIRECTED). What comes back is verified either way; refusing keeps a service from sending the
   * daemon to an address its operator never named.
   */
  redirect?: 'follow' | 'refuse'
}

export async function download (url: string, opts: DownloadOptions): Promise<{ body: Uint8Array, headers: Headers }> {
  const unreachable = (err: Error): never => {
    // fetch's "fetch failed" hides the socket error in its cause
    const cause = err.cause as { code?: string, message?: string } | undefined
    const why = err.name === 'TimeoutError' ? 'no answer in time' : cause?.code ?? cause?.message ?? err.message
    throw new DownloadError(DownloadErrorCode.UNREACHABLE, `cannot fetch ${url}: ${why}`, { cause: err })
  }
  const redirect = opts.redirect === 'refuse' ? 'manual' : 'follow'
  const res = await fetch(url, { method: opts.method ?? 'GET', body: opts.body != null ? Buffer.from(opts.body) : undefined, signal: opts.signal, redirect, headers: opts.headers }).catch(unreachable)
  if (redirect === 'manual' && res.status >= 300 && res.status < 400) {
    await res.body?.cancel()
    throw new DownloadError(DownloadErrorCode.REDIRECTED, `HTTP ${res.status} from ${url}: a redirect, and none is followed here (name the final URL)`)
  }
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

/**
 * The PEM certificate chain a vendor sends in a header beside what it signed (Intel PCS and a PCCS:
 * `SGX-PCK-CRL-Issuer-Chain`, `TCB-Info-Issuer-Chain`), URL-encoded; the first of `names` present.
 * Undefined when none is. Nothing is trusted here: the caller verifies the chain to a pinned root.
 * [REJECT] a header past what a PEM bundle may hold URL-encoded (TOO_LARGE), or one that does not
 * URL-decode (BAD_HEADER).
 */
export function issuerChainHeader (headers: Headers, names: readonly string[]): Uint8Array | undefined {
  const value = names.map((n) => headers.get(n)).find((v) => v != null)
  if (value == null) return undefined
  if (value.length > 3 * MAX_BUNDLE_SIZE) throw new DownloadError(DownloadErrorCode.TOO_LARGE, `issuer chain header over ${3 * MAX_BUNDLE_SIZE} characters`)
  let text: string
  try { text = decodeURIComponent(value) } catch (err) { throw new DownloadError(DownloadErrorCode.BAD_HEADER, 'issuer chain header is not URL-encoded', { cause: err }) }
  return new TextEncoder().encode(text)
}

/** The timeout of one download joined with the caller's signal. */
export function downloadSignal (timeoutMs: number, signal?: AbortSignal): AbortSignal {
  return AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(signal != null ? [signal] : [])])
}

export function errorLine (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
