import { randomBytes } from 'node:crypto'
import { link, open, rename, unlink } from 'node:fs/promises'
import path from 'node:path'
import { SECRET_FILE_MODE } from '../home.js'
import { BoundedReadError, readBoundedFile } from '../../util/fs.js'
import { KeystoreError, KeystoreErrorCode } from './errors.js'

/**
 * Writes a secret file atomically with mode 0600: the bytes go to a temporary file in the same
 * directory which is synced, then moved into place. With `exclusive`, the move fails if `file`
 * already exists (a hard link refuses to replace, unlike rename) and the function returns false:
 * two processes initialising the same home cannot both win.
 *
 * Any failure of the file system (a full disk, a read-only or unwritable folder) is WRITE_FAILED,
 * naming the file and the error code, and leaves no temporary file: it may hold part of a secret.
 */
export async function writeSecretFile (file: string, data: string | Uint8Array, opts: { exclusive: boolean }): Promise<boolean> {
  const dir = path.dirname(file)
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`)
  let fh
  try {
    fh = await open(tmp, 'wx', SECRET_FILE_MODE)
  } catch (err) {
    throw writeFailed(file, err)
  }
  try {
    try {
      await fh.writeFile(data)
      // the mode given to open() is masked by the umask; set it explicitly
      await fh.chmod(SECRET_FILE_MODE)
      await fh.sync()
    } finally {
      await fh.close()
    }
    if (opts.exclusive) {
      try {
        await link(tmp, file)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
        throw err
      }
    } else {
      await rename(tmp, file)
    }
  } catch (err) {
    throw writeFailed(file, err)
  } finally {
    await unlink(tmp).catch(() => {})
  }
  await syncDir(dir)
  return true
}

/** A file system error on writing `file`, as one line: `cannot write <file>: ENOSPC`. */
function writeFailed (file: string, err: unknown): KeystoreError {
  const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message
  return new KeystoreError(KeystoreErrorCode.WRITE_FAILED, `cannot write ${file}: ${code}`, { cause: err })
}

/**
 * Reads a regular file of at most `maxBytes` as UTF-8; undefined when it does not exist. Anything
 * else that is not such a file (larger, a directory, a FIFO, a device), or cannot be read, is
 * refused by `refuse`, with the reason, before it is read whole (`readBoundedFile`).
 */
export async function readSmallFile (file: string, maxBytes: number, refuse: (why: string) => Error): Promise<string | undefined> {
  try {
    return (await readBoundedFile(file, maxBytes)).toString('utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    // a file on the path in place of a directory (`--home /etc/passwd`): there is no such file either
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    if (err instanceof BoundedReadError) throw refuse(err.message)
    throw refuse(`cannot read: ${code ?? (err as Error).message}`)
  }
}

/** fsync a directory so that a rename or link in it survives a crash (POSIX leaves it to the caller). */
async function syncDir (dir: string): Promise<void> {
  let fh
  try {
    fh = await open(dir, 'r')
    await fh.sync()
  } catch {
    // some file systems refuse fsync on a directory; the data file itself is already synced
  } finally {
    await fh?.close()
  }
}
