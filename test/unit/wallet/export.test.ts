import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Keyring } from '@polkadot/keyring'
import { encodeAddress, signatureVerify } from '@polkadot/util-crypto'
import { initHome, openKeystore } from '../../../src/node/keystore/index.js'
import { readBtcliWallet, writeBtcliWallet, WalletErrorCode } from '../../../src/node/wallet/index.js'
import { FAST, MNEMONICS, keyFromMnemonic, keypairJson, naclOpen, naclSeal, snapshot, writeWallet } from '../../helpers/btcli-wallet.js'

const SCRYPT = { N: 1024, r: 8, p: 1 }

describe('exporting homes made by bazaar (argon2i at low cost)', () => {
  let tmp: string
  beforeAll(async () => { tmp = await mkdtemp(path.join(os.tmpdir(), 'bazaar-export-')) })
  afterAll(async () => { await rm(tmp, { recursive: true, force: true }) })

  it.each([
    ['a mnemonic home (hotkey <mnemonic>//hot)', { mnemonic: MNEMONICS[1] }],
    ['a dev home (//Alice, //Alice//hot)', { dev: 'alice' }]
  ])('writes %s as a btcli wallet that reads back as the same keys', async (name, src) => {
    const home = path.join(tmp, name.replace(/[^a-z]+/gi, '-'))
    await initHome({ home, passphrase: 'pp', scrypt: SCRYPT, ...src })
    const id = await openKeystore(home, 'pp', { revealSecrets: true })
    // the exported secrets are those of the keystore's own pairs
    expect(encodeAddress(id.secrets!.coldkey.publicKey, 42)).toBe(id.coldkey.address)
    expect(encodeAddress(id.secrets!.hotkey.publicKey, 42)).toBe(id.hotkey.address)
    const msg = new TextEncoder().encode('exported')
    const hotPair = new Keyring({ type: 'sr25519' }).addFromPair({ publicKey: id.secrets!.hotkey.publicKey, secretKey: id.secrets!.hotkey.secretKey })
    expect(signatureVerify(msg, hotPair.sign(msg), id.hotkey.address).isValid).toBe(true)

    const wallets = path.join(home, 'wallets')
    const paths = await writeBtcliWallet({ path: wallets, wallet: 'w', hotkey: 'h' }, id.secrets!, { password: 'pw', argon2: FAST })
    // the test's own reader opens the coldkey; the mnemonic is kept where there is one
    const cold = JSON.parse(await naclOpen(await readFile(paths.coldkey), 'pw', FAST))
    expect(cold.ss58Address).toBe(id.coldkey.address)
    if ('mnemonic' in src) expect(cold.secretPhrase).toBe(src.mnemonic)
    expect(Object.keys(cold)).not.toContain('cryptoType')
    for (const f of [paths.coldkey, paths.coldkeypub, paths.hotkey]) expect((await stat(f)).mode & 0o777).toBe(0o600)
    expect((await stat(paths.dir)).mode & 0o777).toBe(0o700)

    const back = await readBtcliWallet({ path: wallets, wallet: 'w', hotkey: 'h' }, { password: async () => 'pw', argon2: FAST })
    expect([back.coldkey.ss58Address, back.hotkey.ss58Address]).toEqual([id.coldkey.address, id.hotkey.address])
    expect(back.hotkeyFormat).toBe('plain')

    // a second export to the same place refuses and leaves the files as they were
    const before = await snapshot(paths.dir)
    await expect(writeBtcliWallet({ path: wallets, wallet: 'w', hotkey: 'h' }, id.secrets!, { password: 'pw', argon2: FAST }))
      .rejects.toMatchObject({ code: WalletErrorCode.EXISTS })
    expect(await snapshot(paths.dir)).toEqual(before)
  })

  it.each([
    {
      name: 'a dangling link in the coldkey\'s place',
      code: WalletErrorCode.EXISTS,
      prepare: async (wallets: string) => { await mkdir(path.join(wallets, 'w'), { recursive: true }); await symlink('nowhere', path.join(wallets, 'w', 'coldkey')) }
    },
    { name: 'a file in the wallet folder\'s place', code: WalletErrorCode.WRITE_FAILED, prepare: async (wallets: string) => { await mkdir(wallets); await writeFile(path.join(wallets, 'w'), 'a file') } },
    { name: 'a file in the wallets folder\'s place', code: WalletErrorCode.WRITE_FAILED, prepare: async (wallets: string) => { await writeFile(wallets, 'a file') } }
  ])('refuses $name with $code before the key derivation, and writes nothing', async ({ name, code, prepare }) => {
    const root = path.join(tmp, name.replace(/[^a-z]+/gi, '-'))
    const home = path.join(root, 'home')
    await initHome({ home, passphrase: 'pp', scrypt: SCRYPT, dev: 'alice' })
    const { secrets } = await openKeystore(home, 'pp', { revealSecrets: true })
    const wallets = path.join(root, 'wallets')
    await prepare(wallets)
    const before = await snapshot(root)
    // limits argon2 refuses: a refusal that came after the key derivation would be argon2's instead
    await expect(writeBtcliWallet({ path: wallets, wallet: 'w', hotkey: 'h' }, secrets!, { password: 'pw', argon2: { opslimit: 0, memlimit: 0 } }))
      .rejects.toMatchObject({ code })
    expect(await snapshot(root)).toEqual(before)
  })

  it('reads an encrypted hotkey with the password of its own btcli variable', async () => {
    const cold = await keyFromMnemonic(MNEMONICS[0])
    const hot = await keyFromMnemonic(MNEMONICS[2])
    const wallets = path.join(tmp, 'enc-hot')
    const files = await writeWallet(wallets, 'w', 'h', { coldkey: cold, hotkey: hot, coldFormat: 'plain' })
    await writeFile(files.hotkey, await naclSeal(keypairJson(hot), 'hot pw', FAST))
    const asked: string[] = []
    const w = await readBtcliWallet({ path: wallets, wallet: 'w', hotkey: 'h' }, {
      password: async ({ variable }) => { asked.push(variable); return 'hot pw' }, argon2: FAST
    })
    expect(w.hotkey.ss58Address).toBe(hot.ss58)
    expect(w.hotkeyFormat).toBe('nacl')
    expect(asked).toEqual(['BT_PW_' + files.hotkey.replace(/[/.]/g, '_').toUpperCase()])
  })
})
