import { execFile, execFileSync } from 'node:child_process'
import { constants as fsc } from 'node:fs'
import { chmod, chown, lstat, mkdir, mkdtemp, open, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { clearWorkRoot, createJobDir, DISCARDED_DIR_PREFIX, grantOwnerDirs, openOutput, WorkDirTrash } from '../../../src/jobs/workdir.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const HOOKS = path.join(here, '../../integration/escrow-ts-hooks.mjs')
const CHILD = path.join(here, 'workdir-remove.child.ts')

let root: string
beforeEach(async () => { root = await mkdtemp(path.join(tmpdir(), 'bazaar-workdir-')) })
afterEach(async () => {
  await grantOwnerDirs(root).catch(() => {})
  await rm(root, { recursive: true, force: true })
})

const mode = async (p: string): Promise<number> => (await lstat(p)).mode & 0o777

describe('openOutput', () => {
  it('counts a FIFO left in an output\'s place as missing, without waiting for a writer', async () => {
    const dir = await createJobDir(root, 'job-1')
    const fifo = path.join(dir, 'out.txt')
    execFileSync('mkfifo', [fifo])
    const opening = openOutput(dir, 'out.txt', 1024)
    // A blocking open never returns on its own: bound the wait, and then be the writer that lets
    // the blocked thread go, so that a failure leaves nothing hanging.
    let timer: NodeJS.Timeout | undefined
    const hung = Symbol('hung')
    const first = await Promise.race([opening, new Promise<typeof hung>((resolve) => { timer = setTimeout(resolve, 5_000, hung) })])
    clearTimeout(timer)
    if (first === hung) {
      await (await open(fifo, fsc.O_WRONLY | fsc.O_NONBLOCK)).close()
      await (await opening)?.close()
    }
    expect(first).toBeUndefined()
  })

  it('still opens a regular output', async () => {
    const dir = await createJobDir(root, 'job-1')
    await writeFile(path.join(dir, 'out.txt'), 'result')
    const found = await openOutput(dir, 'out.txt', 1024)
    try {
      expect(found).toMatchObject({ size: 6 })
    } finally {
      await found?.close()
    }
  })
})

describe('removing a job directory', () => {
  it('gives the owner back every directory of the tree, and none outside it through a symlink', async () => {
    const dir = path.join(root, 'job')
    const outside = path.join(root, 'outside')
    await mkdir(path.join(dir, 'a', 'b', 'c'), { recursive: true })
    await mkdir(outside, { mode: 0o500 })
    await chmod(outside, 0o500)
    await symlink(outside, path.join(dir, 'a', 'out'))
    await writeFile(path.join(dir, 'a', 'file'), 'x', { mode: 0o400 })
    await chmod(path.join(dir, 'a', 'b', 'c'), 0)
    await chmod(path.join(dir, 'a', 'b'), 0o100)
    await chmod(path.join(dir, 'a'), 0)
    await grantOwnerDirs(dir)
    expect(await mode(path.join(dir, 'a'))).toBe(0o700)
    expect(await mode(path.join(dir, 'a', 'b'))).toBe(0o700)
    expect(await mode(path.join(dir, 'a', 'b', 'c'))).toBe(0o700)
    // files keep their mode (unlinking needs only the directory), the symlink's target is untouched
    expect(await mode(path.join(dir, 'a', 'file'))).toBe(0o400)
    expect(await mode(outside)).toBe(0o500)
  })

  it('removes a tree in which the job took the permissions off a directory', async () => {
    // as root, mode 000 stops nothing: the child runs as nobody then, in a directory it owns
    const asRoot = process.getuid?.() === 0
    if (asRoot) await chown(root, 65534, 65534)
    const dir = path.join(root, 'job')
    const { stdout } = await promisify(execFile)(process.execPath, ['--experimental-transform-types', '--no-warnings', '--import', HOOKS, CHILD, dir], {
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
      cwd: root
    })
    expect(JSON.parse(stdout)).toEqual({ error: null, left: false })
  })
})

describe('WorkDirTrash', () => {
  it('moves a job directory aside within its parent at once, and removes it in the background', async () => {
    const dir = await createJobDir(root, 'job-1')
    await mkdir(path.join(dir, 'sub'))
    await writeFile(path.join(dir, 'sub', 'f'), 'x')
    let release!: () => void
    const held = new Promise<void>((resolve) => { release = resolve })
    const removing: string[] = []
    const trash = new WorkDirTrash({ remove: async (d) => { removing.push(d); await held; await rm(d, { recursive: true, force: true }) } })
    await trash.discard(dir)
    // the job's id is free at once; what it left waits for its removal beside it
    expect(removing).toHaveLength(1)
    expect(path.dirname(removing[0])).toBe(path.dirname(dir))
    expect(path.basename(removing[0]).startsWith(`${DISCARDED_DIR_PREFIX}job-1-`)).toBe(true)
    expect(await readdir(root)).toEqual([path.basename(removing[0])])
    expect(await readdir(path.join(removing[0], 'sub'))).toEqual(['f'])
    expect(trash.size).toBe(1)
    release()
    await trash.drain()
    expect(await readdir(root)).toEqual([])
  })

  it('reports a removal that failed, and drains all the same', async () => {
    const dir = await createJobDir(root, 'job-1')
    const trash = new WorkDirTrash({ remove: async () => { throw new Error('EPERM') } })
    const left: unknown[] = []
    await trash.discard(dir, (err) => { left.push(err) })
    await trash.drain()
    expect(left).toHaveLength(1)
    expect(trash.size).toBe(0)
  })

  it('at the start, clearWorkRoot removes what a crash left being removed, with the job directories', async () => {
    const aside = path.join(root, `${DISCARDED_DIR_PREFIX}job-1-0123456789ab`)
    await mkdir(path.join(aside, 'many'), { recursive: true })
    await writeFile(path.join(aside, 'many', 'f'), 'x')
    await createJobDir(root, 'job-2')
    expect(await clearWorkRoot(root)).toEqual([])
    expect(await readdir(root)).toEqual([])
  })
})
