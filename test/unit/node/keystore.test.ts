import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { signatureVerify } from '@polkadot/util-crypto'
import {
  DEFAULT_SCRYPT, KeystoreError, KeystoreErrorCode, bearerMatches, initHome, loadOrCreateEnclaveKey, openKeystore,
  readApiToken, readKeystorePublic, resolvePassphrase, writeSecretFile, type InitOptions
} from '../../../src/node/keystore/index.js'
import { MAX_PASSPHRASE_CHARS } from '../../../src/node/keystore/passphrase.js'
import { decodePeerKey, devPeerKey, encodePeerKey, generatePeerKey } from '../../../src/node/keystore/peer-key.js'
import { ensureHome, homePaths, resolveHome } from '../../../src/node/home.js'
import { homedir } from 'node:os'
import { chmod, mkdir } from 'node:fs/promises'

/** Fast scrypt for tests (the bounds admit 2^10); the default cost is checked once below. */
const FAST = { N: 2 ** 10, r: 8, p: 1 }
const PW = 'correct horse battery staple'
/** Substrate's well-known development phrase (DEV_PHRASE in @polkadot/keyring) */
const DEV_PHRASE = 'bottom drive obey lake curtain smoke basket hold race lonely fit walk'
/** Known addresses (ss58 prefix 42, sr25519): the dev phrase's root account and //Alice */
const DEV_PHRASE_ROOT = '5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV'
const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY'

const homes: string[] = []
async function tmpHome (): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bazaar-ks-'))
  homes.push(dir)
  return path.join(dir, 'home')
}
afterEach(async () => {
  await Promise.all(homes.splice(0).map(async (d) => { await rm(d, { recursive: true, force: true }) }))
})

async function init (home: string, opts: Partial<InitOptions> = {}): ReturnType<typeof initHome> {
  return await initHome({ home, passphrase: PW, scrypt: FAST, ...opts })
}

async function codeOf (p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(KeystoreError)
  return (err as KeystoreError).code
}

describe('initHome / openKeystore', () => {
  it('round trips the peer key and both accounts', async () => {
    const home = await tmpHome()
    const r = await init(home)
    expect(r.source).toBe('mnemonic')
    expect(r.mnemonic?.split(' ')).toHaveLength(12)
    const id = await openKeystore(home, PW)
    expect(id.peerId.toString()).toBe(r.peerId)
    expect(peerIdFromPrivateKey(id.peerKey).toString()).toBe(r.peerId)
    expect(id.peerKey.type).toBe('Ed25519')
    expect(id.coldkey.address).toBe(r.coldkey)
    expect(id.hotkey.address).toBe(r.hotkey)
    expect(id.coldkey.type).toBe('sr25519')
    expect(id.hotkey.address).not.toBe(id.coldkey.address)
    expect(id.coldkey.address.startsWith('5')).toBe(true)
    // the unlocked hotkey signs
    const msg = new TextEncoder().encode('bazaar')
    expect(signatureVerify(msg, id.hotkey.sign(msg), r.hotkey).isValid).toBe(true)
    // the peer key signs and its public key verifies
    const sig = await id.peerKey.sign(msg)
    expect(await id.peerKey.publicKey.verify(msg, sig)).toBe(true)
  })

  it('keeps the same peer id across reopenings (restart)', async () => {
    const home = await tmpHome()
    const r = await init(home)
    const a = await openKeystore(home, PW)
    const b = await openKeystore(home, PW)
    expect(a.peerId.equals(b.peerId)).toBe(true)
    expect(b.peerId.toString()).toBe(r.peerId)
    expect(a.peerKey.raw).toEqual(b.peerKey.raw)
  })

  it('never exposes the mnemonic unless asked', async () => {
    const home = await tmpHome()
    const r = await init(home)
    expect((await openKeystore(home, PW)).mnemonic).toBeUndefined()
    expect((await openKeystore(home, PW, { revealMnemonic: true })).mnemonic).toBe(r.mnemonic)
  })

  it('keeps secrets out of the file in clear', async () => {
    const home = await tmpHome()
    const r = await init(home)
    const text = await readFile(homePaths(home).keystore, 'utf8')
    // single BIP-39 words also occur in the file's own vocabulary ("public", "source"); pairs cannot
    const words = r.mnemonic?.split(' ') ?? []
    expect(words).toHaveLength(12)
    for (let i = 1; i < words.length; i++) expect(text).not.toContain(`${words[i - 1]} ${words[i]}`)
    const id = await openKeystore(home, PW)
    expect(text).not.toContain(Buffer.from(id.peerKey.raw).toString('base64').slice(0, 20))
    // the public summary is readable without the passphrase
    expect(await readKeystorePublic(home)).toEqual({ peerId: r.peerId, coldkey: r.coldkey, hotkey: r.hotkey, source: 'mnemonic' })
  })

  it('wrong passphrase → WRONG_PASSPHRASE', async () => {
    const home = await tmpHome()
    await init(home)
    expect(await codeOf(openKeystore(home, 'not the passphrase'))).toBe(KeystoreErrorCode.WRONG_PASSPHRASE)
    const err = await openKeystore(home, 'x').catch((e: KeystoreError) => e)
    expect((err as KeystoreError).exitCode).toBe(1)
    expect((err as KeystoreError).message).not.toContain('\n')
  })

  it('normalises the passphrase (NFKC): composed and decomposed accents open the same file', async () => {
    const home = await tmpHome()
    await init(home, { passphrase: 'caf\u00e9' })
    expect((await openKeystore(home, 'cafe\u0301')).peerId.toString()).toBe((await readKeystorePublic(home)).peerId)
  })

  it('refuses to re-initialise without force and leaves every file byte-identical', async () => {
    const home = await tmpHome()
    await init(home)
    const p = homePaths(home)
    const before = await Promise.all([p.keystore, p.apiToken, p.config].map(async (f) => await readFile(f)))
    const code = await codeOf(init(home))
    expect(code).toBe(KeystoreErrorCode.ALREADY_INITIALIZED)
    expect(await codeOf(init(home, { dev: 'alice' }))).toBe(KeystoreErrorCode.ALREADY_INITIALIZED)
    const after = await Promise.all([p.keystore, p.apiToken, p.config].map(async (f) => await readFile(f)))
    expect(after).toEqual(before)
  })

  it('with force replaces the keys and the API token but keeps config.json', async () => {
    const home = await tmpHome()
    const first = await init(home)
    const p = homePaths(home)
    await writeFile(p.config, '{ "role": "renter" }\n')
    const token = await readApiToken(home)
    const second = await init(home, { force: true })
    expect(second.peerId).not.toBe(first.peerId)
    expect(second.coldkey).not.toBe(first.coldkey)
    expect(second.configWritten).toBe(false)
    expect(await readFile(p.config, 'utf8')).toBe('{ "role": "renter" }\n')
    expect(await readApiToken(home)).not.toBe(token)
    expect((await openKeystore(home, PW)).peerId.toString()).toBe(second.peerId)
  })

  it('two concurrent inits of one home: exactly one wins', async () => {
    const home = await tmpHome()
    const results = await Promise.allSettled([init(home), init(home)])
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
    expect((lost.reason as KeystoreError).code).toBe(KeystoreErrorCode.ALREADY_INITIALIZED)
    const won = (results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Awaited<ReturnType<typeof initHome>>>).value
    expect((await openKeystore(home, PW)).peerId.toString()).toBe(won.peerId)
  })

  it('creates the home 0700 and secret files 0600', async () => {
    const home = await tmpHome()
    await init(home, { supplier: true })
    const p = homePaths(home)
    expect((await stat(p.root)).mode & 0o777).toBe(0o700)
    for (const f of [p.keystore, p.apiToken, p.enclaveKey]) expect((await stat(f)).mode & 0o777).toBe(0o600)
  })

  it('uses strong scrypt parameters by default', async () => {
    expect(DEFAULT_SCRYPT.N).toBeGreaterThanOrEqual(2 ** 15)
    const home = await tmpHome()
    await initHome({ home, passphrase: PW })
    const file = JSON.parse(await readFile(homePaths(home).keystore, 'utf8'))
    expect(file.kdf).toEqual({ name: 'scrypt', N: DEFAULT_SCRYPT.N, r: 8, p: 1, dkLen: 32 })
    expect(file.cipher).toBe('aes-256-gcm')
    expect(file.version).toBe(1)
    expect(Buffer.from(file.salt, 'base64')).toHaveLength(32)
    expect(Buffer.from(file.iv, 'base64')).toHaveLength(12)
    expect(Buffer.from(file.tag, 'base64')).toHaveLength(16)
    // the bounds a file is read with admit what the project writes
    expect((await openKeystore(home, PW)).source).toBe('mnemonic')
  })
})

describe('accounts', () => {
  it('restores from a mnemonic: coldkey = phrase, hotkey = phrase//hot (known vector)', async () => {
    const home = await tmpHome()
    const r = await init(home, { mnemonic: DEV_PHRASE })
    expect(r.coldkey).toBe(DEV_PHRASE_ROOT)
    expect(r.mnemonic).toBeUndefined()
    // case and spacing do not matter
    const other = await tmpHome()
    const r2 = await init(other, { mnemonic: `  ${DEV_PHRASE.toUpperCase().replaceAll(' ', '   ')} ` })
    expect(r2.coldkey).toBe(r.coldkey)
    expect(r2.hotkey).toBe(r.hotkey)
    // the peer key is not derived from the mnemonic: a restored node gets a fresh peer id
    expect(r2.peerId).not.toBe(r.peerId)
  })

  it('dev mode uses //Name (known vector) and a well-known peer key', async () => {
    const [a, b, c] = [await tmpHome(), await tmpHome(), await tmpHome()]
    const alice = await init(a, { dev: 'alice' })
    expect(alice.coldkey).toBe(ALICE)
    expect(alice.source).toBe('dev')
    expect(alice.devName).toBe('Alice')
    expect(alice.mnemonic).toBeUndefined()
    expect((await init(b, { dev: 'Alice' })).peerId).toBe(alice.peerId)
    const bob = await init(c, { dev: 'bob' })
    expect(bob.peerId).not.toBe(alice.peerId)
    expect(bob.coldkey).not.toBe(alice.coldkey)
    const id = await openKeystore(a, PW)
    expect(id.source).toBe('dev')
    expect(id.devName).toBe('Alice')
    expect(id.coldkey.address).toBe(ALICE)
  })

  const invalid: Array<{ name: string, opts: Partial<InitOptions>, code: KeystoreErrorCode }> = [
    { name: 'bad checksum', opts: { mnemonic: DEV_PHRASE.replace('walk', 'wall') }, code: KeystoreErrorCode.INVALID_MNEMONIC },
    { name: '11 words', opts: { mnemonic: DEV_PHRASE.split(' ').slice(1).join(' ') }, code: KeystoreErrorCode.INVALID_MNEMONIC },
    { name: 'not words', opts: { mnemonic: 'x'.repeat(100) }, code: KeystoreErrorCode.INVALID_MNEMONIC },
    { name: 'dev name with a path', opts: { dev: 'alice//hot' }, code: KeystoreErrorCode.INVALID_DEV_NAME },
    { name: 'dev name empty', opts: { dev: '' }, code: KeystoreErrorCode.INVALID_DEV_NAME },
    { name: 'mnemonic and dev', opts: { mnemonic: DEV_PHRASE, dev: 'alice' }, code: KeystoreErrorCode.INVALID_OPTIONS },
    { name: 'empty passphrase', opts: { passphrase: '' }, code: KeystoreErrorCode.NO_PASSPHRASE },
    { name: 'scrypt N not a power of two', opts: { scrypt: { N: 3000, r: 8, p: 1 } }, code: KeystoreErrorCode.INVALID_OPTIONS }
  ]
  it.each(invalid)('$name → $code, nothing written', async ({ opts, code }) => {
    const home = await tmpHome()
    expect(await codeOf(init(home, opts))).toBe(code)
    expect(await stat(homePaths(home).keystore).catch(() => undefined)).toBeUndefined()
  })
})

describe('damaged keystore files', () => {
  const rows: Array<{ name: string, edit: (f: any) => unknown, code: KeystoreErrorCode }> = [
    { name: 'public peer id edited (authenticated)', edit: (f) => { f.public.peerId = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN' }, code: KeystoreErrorCode.WRONG_PASSPHRASE },
    { name: 'ciphertext flipped', edit: (f) => { const b = Buffer.from(f.ciphertext, 'base64'); b[0] ^= 1; f.ciphertext = b.toString('base64') }, code: KeystoreErrorCode.WRONG_PASSPHRASE },
    { name: 'kdf N lowered (authenticated)', edit: (f) => { f.kdf.N = 2 ** 11 }, code: KeystoreErrorCode.WRONG_PASSPHRASE },
    { name: 'kdf N memory bomb', edit: (f) => { f.kdf.N = 2 ** 30 }, code: KeystoreErrorCode.CORRUPT },
    { name: 'kdf r huge', edit: (f) => { f.kdf.r = 1e6 }, code: KeystoreErrorCode.CORRUPT },
    // each parameter within its own bound, the product past twice the default's cost
    { name: 'kdf memory 512 MiB (N 2^19, r 8)', edit: (f) => { f.kdf.N = 2 ** 19 }, code: KeystoreErrorCode.CORRUPT },
    { name: 'kdf memory 256 MiB times p 4', edit: (f) => { f.kdf.N = 2 ** 18; f.kdf.p = 4 }, code: KeystoreErrorCode.CORRUPT },
    { name: 'iv wrong length', edit: (f) => { f.iv = Buffer.alloc(8).toString('base64') }, code: KeystoreErrorCode.CORRUPT },
    { name: 'tag not base64', edit: (f) => { f.tag = '!!!!' }, code: KeystoreErrorCode.CORRUPT },
    { name: 'kind of another file', edit: (f) => { f.kind = 'bazaar-enclave-key' }, code: KeystoreErrorCode.CORRUPT },
    { name: 'future version', edit: (f) => { f.version = 2 }, code: KeystoreErrorCode.UNSUPPORTED_VERSION },
    { name: 'not JSON', edit: () => 'not json', code: KeystoreErrorCode.CORRUPT },
    { name: 'too large', edit: () => ' '.repeat(70 * 1024), code: KeystoreErrorCode.CORRUPT },
    { name: 'an array', edit: () => '[]', code: KeystoreErrorCode.CORRUPT }
  ]
  it.each(rows)('$name → $code', async ({ edit, code }) => {
    const home = await tmpHome()
    await init(home)
    const file = homePaths(home).keystore
    const f = JSON.parse(await readFile(file, 'utf8'))
    const replaced = edit(f)
    await writeFile(file, typeof replaced === 'string' ? replaced : JSON.stringify(f))
    expect(await codeOf(openKeystore(home, PW))).toBe(code)
  })

  it('a stored peer key whose public half is not its seed\'s is CORRUPT, not a peer id that cannot sign', async () => {
    const key = await generatePeerKey()
    const bytes = encodePeerKey(key)
    expect(decodePeerKey(bytes, 'keystore').publicKey.equals(key.publicKey)).toBe(true)
    expect(decodePeerKey(encodePeerKey(await devPeerKey('Alice')), 'keystore').type).toBe('Ed25519')
    // the protobuf ends with the 64 raw bytes: seed, then public key
    for (const at of [bytes.length - 1, bytes.length - 32]) {
      const bad = Uint8Array.from(bytes)
      bad[at] ^= 1
      expect(() => decodePeerKey(bad, 'keystore')).toThrow(/^keystore: the peer key's public half is not its seed's$/)
    }
    // a changed seed leaves the stored public half another key's
    const seedChanged = Uint8Array.from(bytes)
    seedChanged[bytes.length - 64] ^= 1
    expect(() => decodePeerKey(seedChanged, 'keystore')).toThrow(KeystoreError)
  })

  it('no keystore → NOT_INITIALIZED', async () => {
    expect(await codeOf(openKeystore(await tmpHome(), PW))).toBe(KeystoreErrorCode.NOT_INITIALIZED)
  })
})

describe('writeSecretFile', () => {
  it.each([
    { name: 'the folder is missing (the open fails)', exclusive: true, prepare: async (dir: string) => path.join(dir, 'none', 'secret') },
    { name: 'a folder holds the name (the move fails)', exclusive: false, prepare: async (dir: string) => { await mkdir(path.join(dir, 'secret', 'x'), { recursive: true }); return path.join(dir, 'secret') } }
  ])('$name → WRITE_FAILED naming the file, no temporary file left', async ({ exclusive, prepare }) => {
    const dir = await tmpHome()
    await mkdir(dir)
    const file = await prepare(dir)
    const err = await writeSecretFile(file, 'secret bytes', { exclusive }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: KeystoreErrorCode.WRITE_FAILED })
    expect((err as Error).message).toContain(file)
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })
})

describe('enclave key', () => {
  it('is created on first use and the same afterwards', async () => {
    const home = await tmpHome()
    const a = await loadOrCreateEnclaveKey(home, PW, { scrypt: FAST })
    const b = await loadOrCreateEnclaveKey(home, PW, { scrypt: FAST })
    expect(a.created).toBe(true)
    expect(b.created).toBe(false)
    expect(b.peerId.equals(a.peerId)).toBe(true)
    expect(b.privateKey.raw).toEqual(a.privateKey.raw)
    expect(await codeOf(loadOrCreateEnclaveKey(home, 'wrong', { scrypt: FAST }))).toBe(KeystoreErrorCode.WRONG_PASSPHRASE)
  })

  it('concurrent first uses agree on one key', async () => {
    const home = await tmpHome()
    const keys = await Promise.all([1, 2, 3].map(async () => await loadOrCreateEnclaveKey(home, PW, { scrypt: FAST })))
    expect(new Set(keys.map((k) => k.peerId.toString())).size).toBe(1)
    expect(keys.filter((k) => k.created)).toHaveLength(1)
  })

  it('init --force with a new passphrase replaces an existing enclave key', async () => {
    const home = await tmpHome()
    const first = await init(home, { supplier: true })
    const second = await init(home, { force: true, passphrase: 'new passphrase' })
    expect(second.enclavePeerId).toBeDefined()
    expect(second.enclavePeerId).not.toBe(first.enclavePeerId)
    expect((await loadOrCreateEnclaveKey(home, 'new passphrase')).peerId.toString()).toBe(second.enclavePeerId)
  })

  it('init --supplier keeps an enclave key left in the home, and refuses one sealed with another passphrase before writing', async () => {
    const home = await tmpHome()
    const left = await loadOrCreateEnclaveKey(home, PW, { scrypt: FAST })
    const other = await tmpHome()
    await loadOrCreateEnclaveKey(other, 'another passphrase', { scrypt: FAST })
    expect((await init(home, { supplier: true })).enclavePeerId).toBe(left.peerId.toString())
    expect(await codeOf(init(other, { supplier: true }))).toBe(KeystoreErrorCode.WRONG_PASSPHRASE)
    expect(await stat(homePaths(other).keystore).catch(() => undefined)).toBeUndefined()
  })

  it('init --supplier creates it, distinct from the node peer key', async () => {
    const home = await tmpHome()
    const r = await init(home, { supplier: true })
    expect(r.enclavePeerId).toBeDefined()
    expect(r.enclavePeerId).not.toBe(r.peerId)
    expect((await loadOrCreateEnclaveKey(home, PW)).peerId.toString()).toBe(r.enclavePeerId)
  })
})

describe('API token', () => {
  it('is 32 random bytes in hex, different per home', async () => {
    const [a, b] = [await tmpHome(), await tmpHome()]
    await init(a)
    await init(b)
    const ta = await readApiToken(a)
    expect(ta).toMatch(/^[0-9a-f]{64}$/)
    expect(await readApiToken(b)).not.toBe(ta)
  })

  it.each([
    { name: 'missing', content: undefined },
    { name: 'short', content: 'abcd\n' },
    { name: 'not hex', content: 'z'.repeat(64) }
  ])('$name → INVALID_API_TOKEN', async ({ content }) => {
    const home = await tmpHome()
    await init(home)
    if (content == null) await rm(homePaths(home).apiToken)
    else await writeFile(homePaths(home).apiToken, content)
    expect(await codeOf(readApiToken(home))).toBe(KeystoreErrorCode.INVALID_API_TOKEN)
  })

  const token = 'ab'.repeat(32)
  it.each([
    { header: `Bearer ${token}`, ok: true },
    { header: `bearer ${token}`, ok: true },
    { header: `Bearer ${token.slice(0, -1)}c`, ok: false },
    { header: `Bearer ${token}x`, ok: false },
    { header: token, ok: false },
    { header: 'Basic abc', ok: false },
    { header: undefined, ok: false }
  ])('bearerMatches($header) = $ok', ({ header, ok }) => {
    expect(bearerMatches(token, header)).toBe(ok)
  })
})

describe('resolvePassphrase', () => {
  it.each([
    { name: 'flag wins over env', flag: 'f', env: { BAZAAR_PASSPHRASE: 'e' }, want: 'f' },
    { name: 'env when no flag', flag: undefined, env: { BAZAAR_PASSPHRASE: 'e' }, want: 'e' }
  ])('$name', async ({ flag, env, want }) => {
    expect(await resolvePassphrase({ flag, env, tty: false })).toBe(want)
  })

  it.each([
    { name: 'nothing and no terminal', opts: { env: {} } },
    { name: 'tty requested but stdin is not a terminal', opts: { env: {}, tty: true } },
    { name: 'empty flag', opts: { flag: '', env: {} } },
    { name: 'empty env', opts: { env: { BAZAAR_PASSPHRASE: '' } } }
  ])('$name → NO_PASSPHRASE', async ({ opts }) => {
    if (opts.tty === true && process.stdin.isTTY) return // only meaningful when the test runner has no terminal
    expect(await codeOf(resolvePassphrase(opts))).toBe(KeystoreErrorCode.NO_PASSPHRASE)
  })

  describe('passphrase files (--passphrase-file, BAZAAR_PASSPHRASE_FILE)', () => {
    async function fileWith (content: string | Buffer): Promise<string> {
      const dir = path.dirname(await tmpHome())
      await mkdir(dir, { recursive: true })
      const f = path.join(dir, 'passphrase')
      await writeFile(f, content)
      return f
    }

    it.each([
      { name: 'one trailing newline dropped', content: 'pw\n', want: 'pw' },
      { name: 'CRLF dropped', content: 'pw\r\n', want: 'pw' },
      { name: 'spaces kept, only one newline dropped', content: ' p w \n\n', want: ' p w \n' },
      { name: 'no newline', content: 'pw', want: 'pw' }
    ])('$name', async ({ content, want }) => {
      expect(await resolvePassphrase({ file: await fileWith(content), env: {}, tty: false })).toBe(want)
    })

    it('order: --passphrase, --passphrase-file, BAZAAR_PASSPHRASE, BAZAAR_PASSPHRASE_FILE', async () => {
      const a = await fileWith('from-flag-file')
      const b = await fileWith('from-env-file')
      const env = { BAZAAR_PASSPHRASE: 'from-env', BAZAAR_PASSPHRASE_FILE: b }
      expect(await resolvePassphrase({ flag: 'from-flag', file: a, env })).toBe('from-flag')
      expect(await resolvePassphrase({ file: a, env })).toBe('from-flag-file')
      expect(await resolvePassphrase({ env })).toBe('from-env')
      expect(await resolvePassphrase({ env: { BAZAAR_PASSPHRASE_FILE: b } })).toBe('from-env-file')
    })

    it.each([
      { name: 'empty file', content: '\n' },
      { name: 'over the bound', content: 'x'.repeat(MAX_PASSPHRASE_CHARS * 4 + 3) },
      { name: 'over the bound in characters', content: 'x'.repeat(MAX_PASSPHRASE_CHARS + 1) }
    ])('$name → PASSPHRASE_FILE', async ({ content }) => {
      expect(await codeOf(resolvePassphrase({ file: await fileWith(content), env: {} }))).toBe(KeystoreErrorCode.PASSPHRASE_FILE)
    })

    it('a missing file is PASSPHRASE_FILE naming the file, not its content', async () => {
      const err = await resolvePassphrase({ env: { BAZAAR_PASSPHRASE_FILE: '/nonexistent/bazaar/pw' } }).catch((e: unknown) => e) as KeystoreError
      expect(err.code).toBe(KeystoreErrorCode.PASSPHRASE_FILE)
      expect(err.message).toContain('/nonexistent/bazaar/pw')
    })
  })

  function fakeTty (): { input: PassThrough & { setRawMode: (r: boolean) => void, raw: boolean[] }, output: PassThrough, written: () => string } {
    const input = Object.assign(new PassThrough(), { raw: [] as boolean[], setRawMode (r: boolean) { this.raw.push(r) } })
    const output = new PassThrough()
    const chunks: Buffer[] = []
    output.on('data', (c: Buffer) => chunks.push(c))
    return { input, output, written: () => Buffer.concat(chunks).toString() }
  }

  it('prompts without echo in raw mode, handles backspace, restores the terminal', async () => {
    const tty = fakeTty()
    const p = resolvePassphrase({ env: {}, tty })
    tty.input.write('secx\u007fret\r')
    expect(await p).toBe('secret')
    expect(tty.input.raw).toEqual([true, false])
    expect(tty.written()).toContain('Passphrase:')
    expect(tty.written()).not.toContain('sec')
  })

  it('prompt: a UTF-8 character split across two reads is kept whole', async () => {
    const tty = fakeTty()
    const p = resolvePassphrase({ env: {}, tty })
    const bytes = Buffer.from('pé€\r')
    // 'é' is 2 bytes, '€' 3: each is cut between two reads, as a terminal may deliver them
    for (const part of [bytes.subarray(0, 2), bytes.subarray(2, 4), bytes.subarray(4)]) {
      tty.input.write(part)
      await new Promise((resolve) => setImmediate(resolve))
    }
    expect(await p).toBe('pé€')
  })

  it.each([
    { name: 'confirmation differs', keys: ['one\r', 'two\r'], code: KeystoreErrorCode.PASSPHRASE_MISMATCH },
    { name: 'Ctrl-C', keys: ['ab\u0003'], code: KeystoreErrorCode.CANCELLED },
    { name: 'empty line', keys: ['\r'], code: KeystoreErrorCode.PASSPHRASE_MISMATCH }
  ])('prompt: $name → $code', async ({ keys, code }) => {
    const tty = fakeTty()
    const p = codeOf(resolvePassphrase({ env: {}, tty, confirm: true }))
    for (const k of keys) {
      tty.input.write(k)
      await new Promise((resolve) => setImmediate(resolve))
    }
    expect(await p).toBe(code)
    expect(tty.input.raw.at(-1)).toBe(false)
  })

  it('prompt: confirmed passphrase', async () => {
    const tty = fakeTty()
    const p = resolvePassphrase({ env: {}, tty, confirm: true })
    tty.input.write('pw\r')
    await new Promise((resolve) => setImmediate(resolve))
    tty.input.write('pw\n')
    expect(await p).toBe('pw')
  })
})

describe('node home', () => {
  it.each([
    { name: 'flag wins', flag: '/a', env: { BAZAAR_HOME: '/b' }, want: '/a' },
    { name: 'env when no flag', flag: undefined, env: { BAZAAR_HOME: '/b' }, want: '/b' },
    { name: 'empty env ignored', flag: undefined, env: { BAZAAR_HOME: '' }, want: path.join(homedir(), '.bazaar') },
    { name: 'default ~/.bazaar', flag: undefined, env: {}, want: path.join(homedir(), '.bazaar') },
    { name: '~/ expanded', flag: '~/x', env: {}, want: path.join(homedir(), 'x') },
    { name: 'relative made absolute', flag: 'rel', env: {}, want: path.resolve('rel') }
  ])('resolveHome: $name', ({ flag, env, want }) => {
    expect(resolveHome({ flag, env })).toBe(want)
  })

  it('keeps the mode of an existing directory', async () => {
    const home = await tmpHome()
    await mkdir(home)
    await chmod(home, 0o755)
    await ensureHome(home)
    expect((await stat(home)).mode & 0o777).toBe(0o755)
    await init(home)
    expect((await stat(homePaths(home).keystore)).mode & 0o777).toBe(0o600)
  })
})
