import { open } from 'node:fs/promises'
import type { AttestationPolicy } from '../tee/policy.js'
import { loadCrls, type Crl } from '../tee/x509/crl.js'
import { UserError } from '../util/errors.js'

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

/**
 * A rental's policy with the CRLs of the config: `tee.crlFiles` for the CPU evidence and
 * `tee.gpuCrlFiles` for the GPU evidence (when the policy asks for it), both read now.
 */
export async function withCrlFiles (policy: AttestationPolicy, tee: { crlFiles: readonly string[], gpuCrlFiles: readonly string[] }): Promise<AttestationPolicy> {
  const crls = await readCrlFiles(tee.crlFiles)
  const gpuCrls = await readCrlFiles(tee.gpuCrlFiles, 'tee.gpuCrlFiles')
  return {
    ...policy,
    crls,
    ...(policy.gpu != null && gpuCrls.length > 0 ? { gpu: { ...policy.gpu, crls: gpuCrls } } : {})
  }
}
