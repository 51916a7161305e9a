import { mkdir, readFile, rmdir, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { AttestationError, AttestationErrorCode, fail } from '../errors.js'
import { bytesEqual } from '../../util/bytes.js'
import { REPORT_DATA_LENGTH } from '../binding.js'
import { parseSnpReport } from '../snp/parse.js'
import { parseTdxQuote } from '../tdx/parse.js'
import type { AttestationProvider, Evidence } from '../types.js'

/** Where Linux mounts configfs-tsm reports (Documentation/ABI/testing/configfs-tsm-report). */
export const CONFIGFS_TSM_REPORT = '/sys/kernel/config/tsm/report'
/** The `provider` attribute the kernel driver reports for each kind. */
const DRIVER: Record<'sev-snp' | 'tdx', string> = { 'sev-snp': 'sev_guest', tdx: 'tdx_guest' }
/** Largest outblob or auxblob read (a quote is about 5 KiB, a certificate table about 4 KiB). */
const MAX_BLOB = 64 * 1024

export interface ConfigfsProviderInit {
  kind: 'sev-snp' | 'tdx'
  /** the configfs-tsm report directory; injectable so tests can point at a fake tree */
  root?: string
  /** name of the report entry to create (default: unique per provider); reused across calls */
  entry?: string
  /** SNP: VMPL to request the report at (the `privlevel` attribute); left to the kernel default when unset */
  privlevel?: number
}

async function readBlob (file: string, optional = false): Promise<Uint8Array | undefined> {
  try {
    const st = await stat(file)
    if (st.size > MAX_BLOB) fail(AttestationErrorCode.MALFORMED, `${path.basename(file)} over ${MAX_BLOB} bytes`)
    return new Uint8Array(await readFile(file))
  } catch (err) {
    if (err instanceof AttestationError) throw err
    if (optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    fail(AttestationErrorCode.UNAVAILABLE, `configfs-tsm: cannot read ${path.basename(file)}`, err)
  }
}

async function readGeneration (dir: string): Promise<number> {
  const g = await readBlob(path.join(dir, 'generation'))
  const n = Number.parseInt(Buffer.from(g ?? new Uint8Array()).toString('latin1').trim(), 10)
  if (!Number.isSafeInteger(n)) fail(AttestationErrorCode.MALFORMED, 'configfs-tsm: bad generation')
  return n
}

/**
 * A provider that reads SEV-SNP reports or TDX quotes through Linux configfs-tsm: create a report
 * entry, write the 64 bytes of report data to `inblob`, read `outblob` (and for SNP the certificate
 * table in `auxblob`). The `generation` counter, read before and after, detects another writer
 * racing on the same entry; the report data inside the outblob is checked too.
 * Fails with UNAVAILABLE when the interface is absent or the kernel driver is of another kind.
 */
export function configfsProvider (init: ConfigfsProviderInit): AttestationProvider {
  const root = init.root ?? CONFIGFS_TSM_REPORT
  const entry = init.entry ?? `bazaar-${process.pid}-${randomBytes(4).toString('hex')}`
  const dir = path.join(root, entry)
  return {
    kind: init.kind,
    async attest (reportData: Uint8Array, opts?: { signal?: AbortSignal }): Promise<Evidence> {
      opts?.signal?.throwIfAborted()
      if (reportData.byteLength !== REPORT_DATA_LENGTH) fail(AttestationErrorCode.MALFORMED, `report data of ${reportData.byteLength} bytes`)
      try {
        await stat(root)
      } catch (err) {
        fail(AttestationErrorCode.UNAVAILABLE, `configfs-tsm is not available at ${root} (not in a ${init.kind} guest, or configfs not mounted)`, err)
      }
      try {
        await mkdir(dir)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') fail(AttestationErrorCode.UNAVAILABLE, `configfs-tsm: cannot create ${dir}`, err)
      }
      const driver = Buffer.from(await readBlob(path.join(dir, 'provider')) ?? new Uint8Array()).toString('latin1').trim()
      if (driver !== DRIVER[init.kind]) fail(AttestationErrorCode.UNAVAILABLE, `configfs-tsm provider is '${driver}', not ${DRIVER[init.kind]} (${init.kind})`)
      try {
        if (init.privlevel != null) await writeFile(path.join(dir, 'privlevel'), String(init.privlevel))
        await writeFile(path.join(dir, 'inblob'), reportData)
      } catch (err) {
        fail(AttestationErrorCode.UNAVAILABLE, `configfs-tsm: cannot write the request to ${dir}`, err)
      }
      const before = await readGeneration(dir)
      opts?.signal?.throwIfAborted()
      const outblob = await readBlob(path.join(dir, 'outblob'))
      const auxblob = init.kind === 'sev-snp' ? await readBlob(path.join(dir, 'auxblob'), true) : undefined
      const after = await readGeneration(dir)
      if (before !== after) fail(AttestationErrorCode.UNAVAILABLE, 'configfs-tsm: entry written concurrently (generation changed); retry')
      const out = outblob ?? new Uint8Array()
      // [REJECT] the report must carry the report data we wrote (a stale or foreign outblob does not)
      const got = init.kind === 'sev-snp' ? parseSnpReport(out).reportData : parseTdxQuote(out).body.reportData
      if (!bytesEqual(got, reportData)) fail(AttestationErrorCode.REPORT_DATA_MISMATCH, 'configfs-tsm outblob does not carry the requested report data')
      return { kind: init.kind, evidence: out, certs: auxblob != null && auxblob.byteLength > 0 ? [auxblob] : [] }
    }
  }
}

/** Removes the provider's report entry (configfs entries are removed with rmdir). */
export async function removeConfigfsEntry (root: string, entry: string): Promise<void> {
  await rmdir(path.join(root, entry)).catch(() => {})
}
