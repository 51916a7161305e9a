import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { BoundedReadError, makeDirs, readBoundedFile, writeFileAtomic } from '../../../src/util/fs.js'

describe('makeDirs', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bazaar-fs-'))
  afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

  it('makes the missing parents with the mode given and returns the first it made', async () => {
    const leaf = path.join(dir, 'a', 'b', 'c')
    expect(await makeDirs(leaf, 0o700)).toBe(path.join(dir, 'a'))
    for (const d of ['a', 'a/b', 'a/b/c']) {
      const s = statSync(path.join(dir, d))
      expect(s.isDirectory()).toBe(true)
      // the umask may only clear bits: none beyond the owner's are set
      expect(s.mode & 0o077).toBe(0)
    }
    expect(await makeDirs(leaf)).toBeUndefined()
    expect(await makeDirs(path.join(dir, 'a', 'b', 'd'))).toBe(path.join(dir, 'a', 'b', 'd'))
  })

  it('refuses a file on the path with ENOTDIR, and makes nothing', async () => {
    writeFileSync(path.join(dir, 'file'), 'x')
    await expect(makeDirs(path.join(dir, 'file', 'x', 'y'))).rejects.toMatchObject({ code: 'ENOTDIR' })
    await expect(makeDirs(path.join(dir, 'file'))).rejects.toMatchObject({ code: 'ENOTDIR', path: path.join(dir, 'file') })
    expect(existsSync(path.join(dir, 'file', 'x'))).toBe(false)
  })

  it('ends with the refusal where a file system refuses a child of an existing directory (procfs)', async (ctx) => {
    if (!existsSync('/proc/self')) ctx.skip()
    // Node's recursive mkdir loops forever here: this must settle, with the directory named
    await expect(makeDirs('/proc/bazaar-test/x')).rejects.toMatchObject({ code: 'ENOENT', path: '/proc/bazaar-test' })
  })
})

describe('writeFileAtomic', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bazaar-fs-atomic-'))
  afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

  it('replaces a file whole and leaves no temporary file', async () => {
    const file = path.join(dir, 'f')
    writeFileSync(file, 'old contents, longer than the new')
    await writeFileAtomic(file, 'new')
    expect(readFileSync(file, 'utf8')).toBe('new')
    await writeFileAtomic(file, new Uint8Array([1, 2, 3]), 0o600)
    expect([...readFileSync(file)]).toEqual([1, 2, 3])
    expect(readdirSync(dir)).toEqual(['f'])
  })

  it('a write that fails leaves the old file and no temporary file', async () => {
    const file = path.join(dir, 'g')
    writeFileSync(file, 'kept')
    // a directory where the file must be renamed to: the rename fails
    const blocked = path.join(dir, 'sub')
    mkdirSync(path.join(blocked, 'inner'), { recursive: true })
    await expect(writeFileAtomic(blocked, 'x')).rejects.toMatchObject({ code: expect.stringMatching(/EISDIR|ENOTEMPTY|EEXIST/) })
    expect(readFileSync(file, 'utf8')).toBe('kept')
    expect(readdirSync(dir).sort()).toEqual(['f', 'g', 'sub'])
  })
})

describe('readBoundedFile', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bazaar-bounded-'))
  afterAll(() => { rmSync(dir, { recursive: true, force: true }) })
  const codeOf = async (file: string, max = 16): Promise<string | undefined> =>
    await readBoundedFile(file, max).then(() => undefined, (e: unknown) => e instanceof BoundedReadError ? e.code : (e as NodeJS.ErrnoException).code)

  it('reads a regular file up to its bound, and refuses one past it', async () => {
    writeFileSync(path.join(dir, 'ok'), 'x'.repeat(16))
    expect((await readBoundedFile(path.join(dir, 'ok'), 16)).toString()).toBe('x'.repeat(16))
    writeFileSync(path.join(dir, 'big'), 'x'.repeat(17))
    expect(await codeOf(path.join(dir, 'big'))).toBe('TOO_LARGE')
    expect(await codeOf(path.join(dir, 'none'))).toBe('ENOENT')
  })

  it('refuses a directory, a device whose size reads 0 (/dev/zero, through a link) and a FIFO without a writer, at once', async () => {
    expect(await codeOf(dir)).toBe('NOT_A_FILE')
    symlinkSync('/dev/zero', path.join(dir, 'zero'))
    expect(await codeOf(path.join(dir, 'zero'))).toBe('NOT_A_FILE')
    // a blocking open of a FIFO would wait for a writer forever; this one ends
    execFileSync('mkfifo', [path.join(dir, 'fifo')])
    expect(await codeOf(path.join(dir, 'fifo'))).toBe('NOT_A_FILE')
  })
})
