import { mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { KeystoreErrorCode, VoucherKeyVault } from '../../../src/node/keystore/index.js'
import { homePaths } from '../../../src/node/home.js'
import { verifyVoucher } from '../../../src/escrow/index.js'

const FAST = { N: 2 ** 10, r: 8, p: 1 }
const PW = 'correct horse battery staple'
const ID_A = '0x' + 'a1'.repeat(32)
const ID_B = '0x' + 'b2'.repeat(32)

const dirs: string[] = []
async function tmpHome (): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bazaar-vk-'))
  dirs.push(dir)
  return path.join(dir, 'home')
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map(async (d) => { await rm(d, { recursive: true, force: true }) }))
})

async function codeOf (p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  return (err as { code?: string } | undefined)?.code ?? 'NO_ERROR'
}

describe('voucher key vault', () => {
  it('a key created for an escrow loads back in a new vault and signs vouchers its public key verifies', async () => {
    const home = await tmpHome()
    const created = await new VoucherKeyVault(home, PW, { scrypt: FAST }).create(ID_A)
    // a second vault over the same home stands for a restarted process
    const loaded = await new VoucherKeyVault(home, PW, { scrypt: FAST }).load(ID_A)
    expect(loaded?.publicKeyHex).toBe(created.publicKeyHex)
    const v = loaded!.sign({ escrowId: ID_A, cumulative: 12_345n, sequence: 3n })
    expect(verifyVoucher(v, created.publicKeyHex)).toBe(true)
  })

  it('is sealed: owner-only file, no seed in the clear, a wrong passphrase refused', async () => {
    const home = await tmpHome()
    const vault = new VoucherKeyVault(home, PW, { scrypt: FAST })
    const signer = await vault.create(ID_A)
    const file = path.join(homePaths(home).voucherKeys, ID_A.slice(2) + '.key')
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const doc = JSON.parse(await readFile(file, 'utf8')) as { kind: string, public: Record<string, string> }
    expect(doc.kind).toBe('bazaar-voucher-key')
    expect(doc.public).toEqual({ escrowId: ID_A, voucherKey: signer.publicKeyHex })
    expect(await codeOf(new VoucherKeyVault(home, 'wrong', { scrypt: FAST }).load(ID_A))).toBe(KeystoreErrorCode.WRONG_PASSPHRASE)
  })

  it('refuses a second key for one escrow, and keeps the first', async () => {
    const home = await tmpHome()
    const vault = new VoucherKeyVault(home, PW, { scrypt: FAST })
    const first = await vault.create(ID_A)
    expect(await codeOf(vault.create(ID_A))).toBe(KeystoreErrorCode.ALREADY_INITIALIZED)
    expect((await vault.load(ID_A))?.publicKeyHex).toBe(first.publicKeyHex)
  })

  it('a file moved to another escrow\'s name, an altered public part, junk and oversized files are refused with typed codes', async () => {
    const home = await tmpHome()
    const vault = new VoucherKeyVault(home, PW, { scrypt: FAST })
    await vault.create(ID_A)
    const dir = homePaths(home).voucherKeys
    await rename(path.join(dir, ID_A.slice(2) + '.key'), path.join(dir, ID_B.slice(2) + '.key'))
    expect(await codeOf(vault.load(ID_B))).toBe(KeystoreErrorCode.CORRUPT)

    // the public part is authenticated: pointing it at the other id breaks the tag
    const moved = path.join(dir, ID_B.slice(2) + '.key')
    const doc = JSON.parse(await readFile(moved, 'utf8')) as { public: Record<string, string> }
    doc.public.escrowId = ID_B
    await writeFile(moved, JSON.stringify(doc))
    expect(await codeOf(vault.load(ID_B))).toBe(KeystoreErrorCode.WRONG_PASSPHRASE)

    await writeFile(moved, 'not json')
    expect(await codeOf(vault.load(ID_B))).toBe(KeystoreErrorCode.CORRUPT)
    await writeFile(moved, Buffer.alloc(70 * 1024, 0x20))
    expect(await codeOf(vault.load(ID_B))).toBe(KeystoreErrorCode.CORRUPT)
  })

  it('escrow ids that are not 32 bytes of lowercase hex never become a path', async () => {
    const home = await tmpHome()
    const vault = new VoucherKeyVault(home, PW, { scrypt: FAST })
    for (const bad of ['../../etc/passwd', '0x' + 'ab'.repeat(31), '0x' + 'AB'.repeat(32), '']) {
      expect(await codeOf(vault.create(bad))).toBe(KeystoreErrorCode.INVALID_OPTIONS)
      expect(await codeOf(vault.load(bad))).toBe(KeystoreErrorCode.INVALID_OPTIONS)
    }
  })

  it('lists stored escrows (ignoring stray files), loads nothing for an unknown one, and removes', async () => {
    const home = await tmpHome()
    const vault = new VoucherKeyVault(home, PW, { scrypt: FAST })
    expect(await vault.list()).toEqual([])
    await vault.create(ID_B)
    await vault.create(ID_A)
    await writeFile(path.join(homePaths(home).voucherKeys, 'notes.txt'), 'x')
    expect(await vault.list()).toEqual([ID_A, ID_B])
    expect(await vault.load('0x' + 'cc'.repeat(32))).toBeUndefined()
    await vault.remove(ID_A)
    await vault.remove(ID_A)
    expect(await vault.list()).toEqual([ID_B])
    expect(await vault.load(ID_A)).toBeUndefined()
    expect((await readdir(homePaths(home).voucherKeys)).filter((n) => n.endsWith('.tmp'))).toEqual([])
  })
})
