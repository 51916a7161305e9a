import { createHash, randomBytes } from 'node:crypto'
import { constants as fsc } from 'node:fs'
import { chmod, lstat, mkdir, open, readdir, realpath, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { RuntimeError } from './errors.js'
import { MAX_CHUNK_BYTES } from './constants.js'
import { isSafeRelativePath } from './spec.js'
import type { FileHandle } from 'node:fs/promises'
import { makeDirs } from '../util/fs.js'

/**
 * Creates `<workRoot>/<jobId>` (which must not exist yet) and returns its real absolute path.
 * The job id was validated ([A-Za-z0-9._-], no leading dot) so it is one path segment.
 * @throws RuntimeError WORKDIR_FAILED
 */
export async function createJobDir (workRoot: string, jobId: string): Promise<string> {
  try {
    await makeDirs(workRoot)
    const dir = path.join(await realpath(workRoot), jobId)
    await mkdir(dir, { recursive: false, mode: 0o700 })
    return dir
  } catch (err) {
    throw new RuntimeError('WORKDIR_FAILED', `cannot create the job directory: ${(err as NodeJS.ErrnoException).code ?? ''}`, { cause: err })
  }
}

/**
 * Removes a job directory and everything the job left in it. A job may have taken the permissions
 * off one of its directories (`chmod 000 sub`), which stops the removal of what is inside with
 * EACCES; then every directory of the tree is given back to its owner and the removal is tried once
 * more.
 * @throws RuntimeError WORKDIR_FAILED when the directory cannot be removed
 */
export async function removeJobDir (dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true, maxRetries: 2 })
    return
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'EACCES' && code !== 'EPERM') throw new RuntimeError('WORKDIR_FAILED', `cannot remove the job directory: ${code ?? ''}`, { cause: err })
  }
  try {
    await grantOwnerDirs(dir)
    await rm(dir, { recursive: true, force: true, maxRetries: 2 })
  } catch (err) {
    throw new RuntimeError('WORKDIR_FAILED', `cannot remove the job directory: ${(err as NodeJS.ErrnoException).code ?? ''}`, { cause: err })
  }
}

/**
 * Names a finished job's directory is renamed to while it is removed (`WorkDirTrash`): no job id
 * starts with a dot (JOB_ID_RE), so no job takes one.
 */
export const DISCARDED_DIR_PREFIX = '.removing-'

export interface WorkDirTrashInit {
  /** removes a directory moved aside; `removeJobDir` by default */
  remove?: (dir: string) => Promise<void>
}

/**
 * Where finished jobs' directories go. A job may leave millions of files, and removing them takes
 * as long as it takes (300,000 files: about 16 s); the supplier settles once its job server
 * returns, and the escrow's expiry does not wait. `discard` renames the directory aside at once
 * (within its own parent: the same filesystem, atomic, and no write permission on the directory
 * itself needed) and removes it in the background. A removal a crash cut short leaves a
 * `.removing-*` directory under the work root, which `clearWorkRoot` removes at the next start.
 */
export class WorkDirTrash {
  private readonly remove: (dir: string) => Promise<void>
  private readonly pending = new Set<Promise<void>>()

  constructor (init: WorkDirTrashInit = {}) {
    this.remove = init.remove ?? removeJobDir
  }

  /**
   * Moves `dir` aside and starts its removal; resolves once it is moved (or, where the rename
   * failed, once the removal in place started). `onLeft` hears of a removal that failed.
   */
  async discard (dir: string, onLeft?: (err: unknown) => void): Promise<void> {
    let target = path.join(path.dirname(dir), `${DISCARDED_DIR_PREFIX}${path.basename(dir)}-${randomBytes(6).toString('hex')}`)
    try {
      await rename(dir, target)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      // removed where it is: a new job of the same id is refused until it is gone
      target = dir
    }
    const removal: Promise<void> = this.remove(target)
      .catch((err: unknown) => { onLeft?.(err) })
      .finally(() => { this.pending.delete(removal) })
    this.pending.add(removal)
  }

  /** how many removals are in flight */
  get size (): number { return this.pending.size }

  /** resolves once every removal started so far (and any started meanwhile) has ended */
  async drain (): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending])
  }
}

/**
 * Removes every job directory under `workRoot`, and what `WorkDirTrash` was still removing: at a
 * supplier's start no job runs, so what is there was left by one that crashed (a job's inputs and
 * scratch, and its id, which a new job of the same id could not take). Returns the names it could
 * not remove.
 */
export async function clearWorkRoot (workRoot: string): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(workRoot)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const left: string[] = []
  for (const name of names) await removeJobDir(path.join(workRoot, name)).catch(() => { left.push(name) })
  return left
}

/**
 * What the outputs `names` of a finished job in `dir` will send, in bytes, as `openOutput` and the
 * supplier's caps will find them (regular files only, not followed; one over its cap is sent as
 * missing). It sizes the window the outputs get (`outputDeliveryMs`).
 */
export async function outputsSize (dir: string, names: readonly string[], maxFileBytes: number, maxTotalBytes: number): Promise<number> {
  let budget = maxTotalBytes
  let total = 0
  for (const name of names) {
    if (!isSafeRelativePath(name)) continue
    const full = path.join(dir, name)
    // a parent that leads out of the job directory is missing to openOutput too
    if (!(await assertInside(dir, path.dirname(full)).then(() => true, () => false))) continue
    const st = await lstat(full).catch(() => undefined)
    if (st == null || !st.isFile() || st.size > Math.min(maxFileBytes, budget)) continue
    budget -= st.size
    total += st.size
  }
  return total
}

/**
 * Adds owner rwx to `dir` and to every directory below it, so that their entries can be listed and
 * unlinked. Symlinks are not followed (lstat, and the entry types readdir reports): a job could
 * point one anywhere on the supplier.
 * @throws the first error of lstat, chmod or readdir
 */
export async function grantOwnerDirs (dir: string): Promise<void> {
  const st = await lstat(dir)
  if (!st.isDirectory()) return
  if ((st.mode & 0o700) !== 0o700) await chmod(dir, (st.mode & 0o7777) | 0o700)
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) await grantOwnerDirs(path.join(dir, e.name))
  }
}

/**
 * Opens `<dir>/<name>` for writing a new file, creating parent directories. O_EXCL|O_NOFOLLOW: never
 * overwrite, never write through a symlink.
 */
export async function createFileIn (dir: string, name: string, mode = 0o600): Promise<FileHandle> {
  if (!isSafeRelativePath(name)) throw new RuntimeError('WORKDIR_FAILED', 'unsafe path')
  const full = path.join(dir, name)
  await makeDirs(path.dirname(full))
  await assertInside(dir, path.dirname(full))
  return await open(full, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, mode)
}

async function assertInside (dir: string, p: string): Promise<void> {
  const realDir = await realpath(dir)
  const real = await realpath(p)
  if (real !== realDir && !real.startsWith(realDir + path.sep)) throw new RuntimeError('WORKDIR_FAILED', 'path leaves the job directory')
}

/** An output file found in the job directory, open for reading. */
export interface FoundOutput {
  size: number
  /** hex SHA-256 */
  sha256: string
  /** reads the file in chunks of at most 256 KiB; the handle closes at the end */
  chunks: () => AsyncGenerator<Uint8Array<ArrayBuffer>>
  close: () => Promise<void>
}

/**
 * Opens an output the job left in its directory. An output counts as missing when it does not
 * exist, is not a regular file, is a symlink (the job could point it anywhere on the supplier),
 * sits under a symlinked directory that leaves the job dir, or is larger than `maxBytes`.
 * Called after the job's process group is gone, so the job cannot swap files underneath.
 */
export async function openOutput (dir: string, name: string, maxBytes: number): Promise<FoundOutput | undefined> {
  if (!isSafeRelativePath(name)) return undefined
  const full = path.join(dir, name)
  let fh: FileHandle
  try {
    await assertInside(dir, path.dirname(full))
    // O_NONBLOCK: a FIFO left in the output's place would otherwise hold the open (and a libuv
    // thread) until a writer came, which never happens; it is refused below as not a regular file
    fh = await open(full, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK)
  } catch {
    return undefined
  }
  try {
    const st = await fh.stat()
    if (!st.isFile() || st.size > maxBytes) { await fh.close(); return undefined }
    const size = st.size
    const hash = createHash('sha256')
    for await (const c of readChunks(fh, size)) hash.update(c)
    return {
      size,
      sha256: hash.digest('hex'),
      chunks: () => readChunks(fh, size),
      close: async () => { await fh.close() }
    }
  } catch (err) {
    await fh.close().catch(() => {})
    throw err
  }
}

async function * readChunks (fh: FileHandle, size: number): AsyncGenerator<Uint8Array<ArrayBuffer>> {
  let pos = 0
  while (pos < size) {
    const buf = new Uint8Array(Math.min(MAX_CHUNK_BYTES, size - pos))
    const { bytesRead } = await fh.read(buf, 0, buf.byteLength, pos)
    if (bytesRead === 0) throw new RuntimeError('WORKDIR_FAILED', 'output shrank while being read')
    pos += bytesRead
    yield buf.subarray(0, bytesRead)
  }
}
