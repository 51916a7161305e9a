import { readFile } from 'node:fs/promises'
import { loadCrls, type Crl } from '../tee/x509/crl.js'
import { UserError } from '../util/errors.js'

/**
 * The CRLs of `tee.crlFiles`, read afresh for each rental (an operator refreshes the files; a
 * stale one refuses sessions as STALE). A file that is missing or not a CRL is a UserError.
 */
export async function readCrlFiles (files: readonly string[]): Promise<Crl[]> {
  const out: Crl[] = []
  for (const f of files) {
    try {
      out.push(...loadCrls(await readFile(f)))
    } catch (err) {
      throw new UserError(`tee.crlFiles: ${f}: ${(err as Error).message}`, { code: 'CRL_UNREADABLE', cause: err })
    }
  }
  return out
}
