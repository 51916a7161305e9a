import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signatureVerify } from '@polkadot/util-crypto'
import { main } from '../../../src/cli/main.js'
import { initHome, openKeystore } from '../../../src/node/keystore/index.js'
import { writeBtcliWallet } from '../../../src/node/wallet/index.js'
import { FAST, MNEMONICS, SENSITIVE, btPwValue, btPwVariable, keyFromMnemonic, naclOpen, snapshot, writeWallet, type TestKey } from '../../helpers/btcli-wallet.js'

async function run (argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number, out: string[], err: string[] }> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env })
  return { code, out, err }
}

// Two argon2i13 derivations at btcli's real cost (OPSLIMIT_SENSITIVE, MEMLIMIT_SENSITIVE = 512 MiB)
// run in the reader and two in the writer; the test writer derives its key once per password (the
// salt is fixed). On a busy 2-core machine each takes 15 to 30 s.
describe('bazaar init --from-btcli, wallet export, wallet import (real btcli argon2 cost)', { timeout: 600_000 }, () => {
  let tmp: string
  let cold: TestKey
  let hot: TestKey
  const password = 'a btcli password'
  const passphrase = 'node keystore passphrase'

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'bazaar-btcli-cli-'))
    cold = await keyFromMnemonic(MNEMONICS[0])
    hot = await keyFromMnemonic(MNEMONICS[2])
  })
  afterAll(async () => { await rm(tmp, { recursive: true, force: true }) })

  it('imports a NaCl wallet, exports it for btcli, and imports the export again with the same addresses', async () => {
    const wallets = path.join(tmp, 'wallets')
    const files = await writeWallet(wallets, 'default', 'miner1', { coldkey: cold, hotkey: hot, coldFormat: 'nacl', password, limits: SENSITIVE })
    const before = await snapshot(wallets)
    const env = { BAZAAR_PASSPHRASE: passphrase, [btPwVariable(files.coldkey)]: btPwValue(files.coldkey, password) }

    // 1. a new home from the btcli wallet
    const home1 = path.join(tmp, 'home1')
    const r1 = await run(['init', '--home', home1, '--from-btcli', '--path', wallets, '--wallet', 'default', '--hotkey', 'miner1', '--json'], env)
    expect(r1.err.filter((l) => !l.startsWith('opening '))).toEqual([])
    expect(r1.code).toBe(0)
    const init1 = JSON.parse(r1.out[0])
    expect(init1).toMatchObject({ coldkey: cold.ss58, hotkey: hot.ss58, source: 'keys' })
    expect(init1.mnemonic).toBeUndefined()
    expect(await snapshot(wallets)).toEqual(before)

    // the hotkey is the wallet's own key, not <mnemonic>//hot: a signature verifies against the
    // address in the btcli hotkey file
    const id = await openKeystore(home1, passphrase)
    const hotFile = JSON.parse(await readFile(files.hotkey, 'utf8'))
    const msg = new TextEncoder().encode('offer 1')
    expect(signatureVerify(msg, id.hotkey.sign(msg), hotFile.ss58Address).isValid).toBe(true)
    expect(signatureVerify(msg, id.coldkey.sign(msg), cold.ss58).isValid).toBe(true)

    // 2. export to another wallets folder, as btcli lays it out
    const out = path.join(tmp, 'exported')
    const exportedColdkey = path.join(out, 'copy', 'coldkey')
    const envOut = { BAZAAR_PASSPHRASE: passphrase, [btPwVariable(exportedColdkey)]: btPwValue(exportedColdkey, password) }
    const r2 = await run(['wallet', 'export', '--btcli', '--home', home1, '--path', out, '--wallet', 'copy', '--hotkey', 'miner1', '--json'], envOut)
    expect(r2.code).toBe(0)
    for (const f of ['coldkey', 'coldkeypub.txt', 'hotkeys/miner1']) {
      expect((await stat(path.join(out, 'copy', f))).mode & 0o777).toBe(0o600)
    }
    const coldBytes = await readFile(exportedColdkey)
    expect(coldBytes.subarray(0, 5).toString()).toBe('$NACL')
    // opened by the test's own NaCl reader (argon2i13 SENSITIVE, fixed salt, secretbox)
    const coldJson = JSON.parse(await naclOpen(coldBytes, password, SENSITIVE))
    expect(coldJson).toMatchObject({ ss58Address: cold.ss58, secretSeed: `0x${Buffer.from(cold.seed).toString('hex')}`, privateKey: `0x${Buffer.from(cold.privateKey).toString('hex')}` })
    expect(JSON.parse(await readFile(path.join(out, 'copy', 'coldkeypub.txt'), 'utf8'))).toEqual({
      accountId: `0x${Buffer.from(cold.publicKey).toString('hex')}`, publicKey: `0x${Buffer.from(cold.publicKey).toString('hex')}`, ss58Address: cold.ss58
    })
    const hotJson = JSON.parse(await readFile(path.join(out, 'copy', 'hotkeys', 'miner1'), 'utf8'))
    expect(hotJson).toMatchObject({ ss58Address: hot.ss58, privateKey: `0x${Buffer.from(hot.privateKey).toString('hex')}` })

    // exporting again over it refuses and changes nothing
    const again = await snapshot(out)
    const r3 = await run(['wallet', 'export', '--btcli', '--home', home1, '--path', out, '--wallet', 'copy', '--hotkey', 'miner1'], envOut)
    expect(r3.code).toBe(1)
    expect(r3.err).toHaveLength(1)
    expect(await snapshot(out)).toEqual(again)

    // 3. the export imported into a second home: the same addresses
    const home2 = path.join(tmp, 'home2')
    const r4 = await run(['init', '--home', home2, '--from-btcli', '--path', out, '--wallet', 'copy', '--hotkey', 'miner1', '--json'], envOut)
    expect(r4.code).toBe(0)
    expect(JSON.parse(r4.out[0])).toMatchObject({ coldkey: cold.ss58, hotkey: hot.ss58 })
  })
})

describe('bazaar wallet import and export (plain coldkeys, no key derivation)', () => {
  let tmp: string
  beforeAll(async () => { tmp = await mkdtemp(path.join(os.tmpdir(), 'bazaar-btcli-imp-')) })
  afterAll(async () => { await rm(tmp, { recursive: true, force: true }) })

  it('replaces a home\'s accounts only with --force, keeping its peer id', async () => {
    const cold = await keyFromMnemonic(MNEMONICS[1])
    const hot = await keyFromMnemonic(MNEMONICS[2])
    const wallets = path.join(tmp, 'wallets')
    await writeWallet(wallets, 'w', 'h', { coldkey: cold, hotkey: hot, coldFormat: 'plain', style: 'python' })
    const env = { BAZAAR_PASSPHRASE: 'pp' }
    const home = path.join(tmp, 'home')
    expect((await run(['init', '--home', home, '--json'], env)).code).toBe(0)
    const first = await openKeystore(home, 'pp')

    const refused = await run(['wallet', 'import', '--btcli', '--home', home, '--path', wallets, '--wallet', 'w', '--hotkey', 'h'], env)
    expect(refused.code).toBe(1)
    expect(refused.err.at(-1)).toMatch(/--force/)
    expect((await openKeystore(home, 'pp')).coldkey.address).toBe(first.coldkey.address)

    const ok = await run(['wallet', 'import', '--btcli', '--force', '--home', home, '--path', wallets, '--wallet', 'w', '--hotkey', 'h', '--json'], env)
    expect(ok.code).toBe(0)
    expect(JSON.parse(ok.out[0])).toMatchObject({ coldkey: cold.ss58, hotkey: hot.ss58, coldkeyFormat: 'plain', changed: true })
    const after = await openKeystore(home, 'pp')
    expect(after.peerId.toString()).toBe(first.peerId.toString())
    expect([after.coldkey.address, after.hotkey.address, after.source]).toEqual([cold.ss58, hot.ss58, 'keys'])
  })

  it('changes nothing when the wallet holds the home\'s own accounts, keeping its mnemonic', async () => {
    const home = path.join(tmp, 'home-same')
    await initHome({ home, passphrase: 'pp', scrypt: { N: 1024, r: 8, p: 1 }, mnemonic: MNEMONICS[1] })
    const id = await openKeystore(home, 'pp', { revealSecrets: true })
    // the home's own keys as a btcli wallet, the coldkey then stored plain (opened by the test's own reader)
    const wallets = path.join(tmp, 'wallets-same')
    const files = await writeBtcliWallet({ path: wallets, wallet: 'w', hotkey: 'h' }, id.secrets!, { password: 'pw', argon2: FAST })
    await writeFile(files.coldkey, await naclOpen(await readFile(files.coldkey), 'pw', FAST))
    const before = await snapshot(home)

    const r = await run(['wallet', 'import', '--btcli', '--home', home, '--path', wallets, '--wallet', 'w', '--hotkey', 'h', '--json'], { BAZAAR_PASSPHRASE: 'pp' })
    expect(r.code).toBe(0)
    expect(JSON.parse(r.out[0])).toMatchObject({ coldkey: id.coldkey.address, hotkey: id.hotkey.address, changed: false })
    expect(await snapshot(home)).toEqual(before)
    const after = await openKeystore(home, 'pp', { revealMnemonic: true })
    expect([after.source, after.mnemonic]).toEqual(['mnemonic', MNEMONICS[1]])
  })

  it('export refuses a wallets folder it cannot write in with one line, before any passphrase is asked', async () => {
    const home = path.join(tmp, 'home-export')
    await initHome({ home, passphrase: 'pp', scrypt: { N: 1024, r: 8, p: 1 }, dev: 'alice' })
    const file = path.join(tmp, 'a-file')
    await writeFile(file, 'not a folder')
    // no passphrase anywhere: a refusal that came after asking for it would be NO_PASSPHRASE
    const r = await run(['wallet', 'export', '--btcli', '--home', home, '--path', path.join(file, 'wallets'), '--wallet', 'w'], {})
    expect(r.code).toBe(1)
    expect(r.err).toEqual([`bazaar wallet: cannot write ${path.join(file, 'wallets', 'w', 'hotkeys')}: ENOTDIR`])
  })

  it('is a usage error without --btcli, and one line for a missing wallet', async () => {
    expect((await run(['wallet', 'import'], {})).code).toBe(2)
    const home = path.join(tmp, 'home-missing')
    expect((await run(['init', '--home', home], { BAZAAR_PASSPHRASE: 'pp' })).code).toBe(0)
    const r = await run(['wallet', 'import', '--btcli', '--home', home, '--path', path.join(tmp, 'none'), '--wallet', 'x'], { BAZAAR_PASSPHRASE: 'pp' })
    expect(r.code).toBe(1)
    expect(r.err.at(-1)).toMatch(/no coldkeypub\.txt at/)
  })
})
