import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureBuilt } from '../helpers/cli.js'

const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
const bin = path.join(repoRoot, 'bin/bazaar.js')
ensureBuilt()

const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY'

interface Run { code: number, stdout: string, stderr: string }

/**
 * Runs the CLI as a user would, with no inherited BAZAAR_* variables and stdin not a terminal;
 * with `sh`, after that shell command (a `ulimit`) in the same process.
 */
async function bazaar (args: string[], env: Record<string, string> = {}, sh?: string): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BAZAAR_')))
  const [file, argv] = sh == null
    ? [process.execPath, [bin, ...args]]
    : ['/bin/sh', ['-c', `${sh}; exec "$@"`, 'sh', process.execPath, bin, ...args]]
  return await new Promise((resolve) => {
    const child = execFile(file, argv, { env: { ...clean, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err == null ? 0 : (typeof err.code === 'number' ? err.code : -1), stdout, stderr })
    })
    child.stdin?.end()
  })
}

function lines (s: string): string[] {
  return s.split('\n').filter((l) => l !== '')
}

describe('bazaar init / keys show', () => {
  let dir: string
  let home: string
  let first: { home: string, peerId: string, coldkey: string, hotkey: string, mnemonic: string }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'bazaar-e2e-init-'))
    home = path.join(dir, 'node')
  })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('init --json creates the home and prints the identities once', async () => {
    const r = await bazaar(['init', '--home', home, '--passphrase', 'x', '--json'])
    expect(r.code).toBe(0)
    first = JSON.parse(r.stdout)
    expect(first.home).toBe(home)
    expect(first.peerId).toMatch(/^12D3KooW/)
    expect(first.coldkey).toMatch(/^5/)
    expect(first.hotkey).toMatch(/^5/)
    expect(first.mnemonic.split(' ')).toHaveLength(12)
    expect((await stat(home)).mode & 0o777).toBe(0o700)
    for (const f of ['keystore.json', 'api-token']) expect((await stat(path.join(home, f))).mode & 0o777).toBe(0o600)
    expect(await readFile(path.join(home, 'keystore.json'), 'utf8')).not.toContain(first.mnemonic.split(' ').slice(0, 2).join(' '))
  })

  it('a second init refuses with exit 1 and one line, keys unchanged', async () => {
    const before = await readFile(path.join(home, 'keystore.json'))
    const r = await bazaar(['init', '--home', home, '--passphrase', 'x', '--json'])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(lines(r.stderr)).toHaveLength(1)
    expect(await readFile(path.join(home, 'keystore.json'))).toEqual(before)
  })

  it('keys show with the passphrase prints the same identities', async () => {
    const r = await bazaar(['keys', 'show', '--home', home, '--json'], { BAZAAR_PASSPHRASE: 'x' })
    expect(r.code).toBe(0)
    const shown = JSON.parse(r.stdout)
    expect(shown).toMatchObject({ peerId: first.peerId, coldkey: first.coldkey, hotkey: first.hotkey, source: 'mnemonic' })
    expect(shown.mnemonic).toBeUndefined()
  })

  it('keys show with a wrong passphrase fails with exit 1 and one line', async () => {
    const r = await bazaar(['keys', 'show', '--home', home, '--passphrase', 'wrong-secret'])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(lines(r.stderr)).toHaveLength(1)
    expect(r.stderr).not.toContain('wrong-secret')
  })

  it('without a passphrase and no terminal fails with exit 1 and one line', async () => {
    const r = await bazaar(['keys', 'show', '--home', home])
    expect(r.code).toBe(1)
    expect(lines(r.stderr)).toHaveLength(1)
  })

  it('BAZAAR_MNEMONIC restores the same accounts in another home (BAZAAR_HOME)', async () => {
    const other = path.join(dir, 'restored')
    const r = await bazaar(['init', '--json'], { BAZAAR_HOME: other, BAZAAR_PASSPHRASE: 'y', BAZAAR_MNEMONIC: first.mnemonic })
    expect(r.code).toBe(0)
    const restored = JSON.parse(r.stdout)
    expect(restored.home).toBe(other)
    expect(restored.coldkey).toBe(first.coldkey)
    expect(restored.hotkey).toBe(first.hotkey)
    expect(restored.mnemonic).toBeUndefined()
  })

  it('init --force replaces the keys', async () => {
    const r = await bazaar(['init', '--home', home, '--passphrase', 'x', '--force', '--json'])
    expect(r.code).toBe(0)
    const again = JSON.parse(r.stdout)
    expect(again.peerId).not.toBe(first.peerId)
    const shown = await bazaar(['keys', 'show', '--home', home, '--passphrase', 'x', '--json'])
    expect(JSON.parse(shown.stdout).peerId).toBe(again.peerId)
  })

  it('init --dev alice uses the well-known dev account and warns', async () => {
    const r = await bazaar(['init', '--home', path.join(dir, 'alice'), '--dev', 'alice', '--supplier', '--template', 'devnet', '--json'], { BAZAAR_PASSPHRASE: 'dev' })
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.coldkey).toBe(ALICE)
    expect(out.source).toBe('dev')
    expect(out.enclavePeerId).toMatch(/^12D3KooW/)
    expect(r.stderr).toMatch(/insecure/)
    expect(JSON.parse(await readFile(path.join(dir, 'alice', 'config.json'), 'utf8')).tee.allowSimulated).toBe(true)
  })

  it('a write the system refuses is one line naming the file, and leaves no temporary file', async () => {
    const h = path.join(dir, 'no-room')
    // no file may grow (`ulimit -f 0`, with SIGXFSZ ignored so that the write returns EFBIG): every
    // write fails once its file is open, as on a full disk (ENOSPC)
    const r = await bazaar(['init', '--home', h, '--passphrase', 'x'], {}, "trap '' XFSZ; ulimit -f 0")
    expect(r.code).toBe(1)
    expect(lines(r.stderr)).toEqual([`bazaar init: cannot write ${path.join(h, 'keystore.json')}: EFBIG`])
    expect(await readdir(h)).toEqual([])
  })

  it.each([
    // a bad flag value is a usage error (exit 2), as the README's rule says
    { name: 'invalid mnemonic', args: ['--mnemonic', 'not a mnemonic', '--passphrase', 'x'], code: 2 },
    { name: 'unknown template', args: ['--template', 'nope', '--passphrase', 'x'], code: 2 },
    { name: 'unknown flag', args: ['--frobnicate'], code: 2 }
  ])('init with $name exits $code with one line and writes no keys', async ({ args, code }) => {
    const h = path.join(dir, `bad-${code}-${args[0].slice(2)}`)
    const r = await bazaar(['init', '--home', h, ...args])
    expect(r.code).toBe(code)
    expect(lines(r.stderr)).toHaveLength(1)
    expect(existsSync(path.join(h, 'keystore.json'))).toBe(false)
  })
})
