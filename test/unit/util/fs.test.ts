import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { makeDirs } from '../../../src/util/fs.js'

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
