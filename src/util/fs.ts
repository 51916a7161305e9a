import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { mkdir, open, rename, rm, stat } from 'node:fs/promises'
import path from 'node:path'

/**
 * `mkdir -p`: creates `dir` and its missing parents, each with `mode`, and returns the first
 * directory it created (undefined when `dir` already was one), as `mkdir(dir, { recursive: true })`
 * does.
 *
 * Node's recursive mkdir never returns where a parent exists but refuses a child with ENOENT, as
 * procfs does (`--home /proc/x` spun forever). This one makes each missing directory on its own,
 * from the deepest existing one down, so every refusal ends as the error of that one directory.
 */
export async function makeDirs (dir: string, mode?: number): Promise<string | undefined> {
  const missing: string[] = []
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    const kind = await stat(at).then((s) => s.isDirectory() ? 'dir' : 'other', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return 'none'
      throw e
    })
    if (kind === 'dir') break
    if (kind === 'other') throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${at}'`), { code: 'ENOTDIR', path: at })
    missing.push(at)
    // the root itself missing: nothing left to stand on
    if (path.dirname(at) === at) break
  }
  let first: string | undefined
  for (const d of missing.reverse()) {
    try {
      await mkdir(d, { mode })
      first ??= d
    } catch (e) {
      // made meanwhile by someone else: fine if it is a directory
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !(await stat(d)).isDirectory()) throw e
    }
  }
  return first
}

/**
 * Replaces `file` with `data` so that a reader sees the old file or the new one, never half of
 * either, and the new one survives a crash once this returns: a temporary file beside it, synced,
 * renamed over it, and the directory synced.
 */
export async function writeFileAtomic (file: string, data: Uint8Array | string, mode = 0o644): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    const fh = await open(tmp, 'wx', mode)
    try {
      await fh.writeFile(data)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, file)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
  const dh = await open(path.dirname(file), 'r')
  try { await dh.sync() } finally { await dh.close() }
}

/** why `readBoundedFile` refused a file it could open */
export class BoundedReadError extends Error {
  override name = 'BoundedReadError'
  constructor (readonly code: 'NOT_A_FILE' | 'TOO_LARGE', message: string) {
    super(message)
  }
}

/**
 * The bytes of a regular file of at most `maxBytes`: for files an operator or a peer can put in
 * place (keys, wallets, evidence). The open does not block, since a FIFO in the file's place would
 * wait for a writer forever; anything but a regular file is refused (a directory, a FIFO, a device
 * such as /dev/zero, whose size reads 0); and at most `maxBytes + 1` bytes are read, whatever the
 * size said, so a file that grows meanwhile cannot make it read on.
 * @throws the open's own error (ENOENT, EACCES, ...), or BoundedReadError
 */
export async function readBoundedFile (file: string, maxBytes: number): Promise<Buffer> {
  const fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK)
  try {
    const st = await fh.stat()
    if (!st.isFile()) throw new BoundedReadError('NOT_A_FILE', 'not a regular file')
    if (st.size > maxBytes) throw new BoundedReadError('TOO_LARGE', `larger than ${maxBytes} bytes`)
    const buf = Buffer.alloc(maxBytes + 1)
    let got = 0
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, got)
      if (bytesRead === 0) break
      got += bytesRead
    }
    if (got > maxBytes) throw new BoundedReadError('TOO_LARGE', `larger than ${maxBytes} bytes`)
    return buf.subarray(0, got)
  } finally {
    await fh.close()
  }
}
