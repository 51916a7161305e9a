import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { AttestationErrorCode, fail } from '../tee/errors.js'
import { RIM_ID_RE, checkRimMatchesId } from '../tee/nvidia/rim-ids.js'
import { MAX_RIM_SIZE, verifyRim } from '../tee/nvidia/verify-rim.js'
import { bytesEqual } from '../util/bytes.js'
import { UserError } from '../util/errors.js'
import { makeDirs, writeFileAtomic } from '../util/fs.js'
import { DEFAULT_DOWNLOAD_TIMEOUT_MS, download, downloadSignal, errorLine } from './download.js'

/**
 * `bazaar attest fetch-rims`: a supplier's GPU driver and VBIOS reference integrity manifests from
 * NVIDIA's RIM service, checked before they are kept (signed by a chain to the pinned NVIDIA RIM
 * root, current, and the manifest of the driver or VBIOS its id names), and written as
 * `<dir>/<id>.xml` for `tee.gpuRimFiles` to list. The supplier sends them with its GPU evidence, so
 * renters compare the measurements without reaching NVIDIA. A RIM never changes for its id, so a
 * file already holding the same bytes is kept; different bytes that verify (NVIDIA re-signed it)
 * replace it atomically. What fails leaves the file as it was.
 */

/** NVIDIA's RIM service; `<base><id>` answers `{ id, rim: base64, sha256, ... }`. */
export const NVIDIA_RIM_SERVICE = 'https://rim.attestation.nvidia.com/v1/rim/'

/** The JSON answer: a RIM in base64 (4/3 of MAX_RIM_SIZE) and a few short fields. */
const MAX_ANSWER = Math.ceil(MAX_RIM_SIZE * 4 / 3) + 4096

export interface FetchRimsOptions {
  dir: string
  ids: readonly string[]
  /** in place of NVIDIA's service (a caching proxy, a test server): `<base><id>` */
  baseUrl?: string
  /** the time each RIM's signing chain must be valid at */
  now?: Date
  /** per download */
  timeoutMs?: number
  signal?: AbortSignal
}

export interface FetchedRim {
  id: string
  file: string
  result: 'updated' | 'kept' | 'failed'
  /** what the RIM in the file describes (updated or kept) */
  version?: string
  product?: string
  /** active measurements */
  measurements?: number
  /** when its signing chain stops being valid */
  validTo?: string
  /** a DownloadErrorCode or the verifier's AttestationErrorCode, and a line */
  code?: string
  error?: string
}

export function checkRimIds (ids: readonly string[]): void {
  for (const id of ids) {
    if (!RIM_ID_RE.test(id)) throw new UserError(`'${id.slice(0, 64)}' is not a RIM id (e.g. NV_GPU_DRIVER_GH100_550.90.07)`, { code: 'BAD_RIM_ID' })
  }
}

export async function fetchRims (opts: FetchRimsOptions): Promise<FetchedRim[]> {
  checkRimIds(opts.ids)
  await makeDirs(opts.dir).catch((err: NodeJS.ErrnoException) => {
    throw new UserError(`cannot create the RIM directory ${opts.dir}: ${err.code ?? 'error'}`, { code: 'RIM_DIR_UNUSABLE', cause: err })
  })
  const base = opts.baseUrl ?? NVIDIA_RIM_SERVICE
  const now = opts.now ?? new Date()
  const out: FetchedRim[] = []
  for (const id of new Set(opts.ids)) {
    const file = path.join(opts.dir, `${id}.xml`)
    try {
      const signal = downloadSignal(opts.timeoutMs ?? DEFAULT_DOWNLOAD_TIMEOUT_MS, opts.signal)
      const { body } = await download(`${base}${encodeURIComponent(id)}`, { max: MAX_ANSWER, signal, headers: { accept: 'application/json' } })
      const bytes = rimFromAnswer(body, id)
      const rim = verifyRim(bytes, { at: now })
      checkRimMatchesId(rim, id)
      const result = await store(file, bytes)
      out.push({ id, file, result, version: rim.version, product: rim.product, measurements: rim.golden.length, validTo: rim.validTo.toISOString() })
    } catch (err) {
      if (opts.signal?.aborted === true) throw err
      out.push({ id, file, result: 'failed', code: (err as { code?: string }).code, error: errorLine(err) })
    }
  }
  return out
}

/**
 * The RIM bytes of the service's answer. [REJECT] an answer that is not the JSON object the service
 * sends, names another id, or whose sha256 is not that of the RIM it carries.
 */
export function rimFromAnswer (body: Uint8Array, id: string): Uint8Array {
  let answer: unknown
  try {
    answer = JSON.parse(Buffer.from(body).toString('utf8'))
  } catch (err) {
    fail(AttestationErrorCode.MALFORMED, `RIM ${id}: the answer is not JSON`, err)
  }
  if (answer == null || typeof answer !== 'object' || Array.isArray(answer)) fail(AttestationErrorCode.MALFORMED, `RIM ${id}: the answer is not a JSON object`)
  const a = answer as { id?: unknown, rim?: unknown, sha256?: unknown }
  if (a.id != null && a.id !== id) fail(AttestationErrorCode.RIM_MISMATCH, `RIM ${id}: the answer is for ${String(a.id).slice(0, 80)}`)
  if (typeof a.rim !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(a.rim)) fail(AttestationErrorCode.MALFORMED, `RIM ${id}: the answer has no base64 rim`)
  const bytes = new Uint8Array(Buffer.from(a.rim, 'base64'))
  if (bytes.byteLength === 0 || bytes.byteLength > MAX_RIM_SIZE) fail(AttestationErrorCode.MALFORMED, `RIM ${id}: ${bytes.byteLength} bytes (at most ${MAX_RIM_SIZE})`)
  if (a.sha256 != null) {
    const digest = createHash('sha256').update(bytes).digest('hex')
    if (typeof a.sha256 !== 'string' || a.sha256.toLowerCase() !== digest) fail(AttestationErrorCode.MALFORMED, `RIM ${id}: the answer's sha256 is not that of its rim`)
  }
  return bytes
}

async function store (file: string, bytes: Uint8Array): Promise<'updated' | 'kept'> {
  const old = await readFile(file).then((b) => new Uint8Array(b), () => undefined)
  if (old != null && bytesEqual(old, bytes)) return 'kept'
  await writeFileAtomic(file, bytes)
  return 'updated'
}
