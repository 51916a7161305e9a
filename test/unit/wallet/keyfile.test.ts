import { mkdtemp, rm, truncate, writeFile, readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Keyring } from '@polkadot/keyring'
import { u8aToHex } from '@polkadot/util'
import { signatureVerify } from '@polkadot/util-crypto'
import {
  btcliPasswordVariable, decodeBtcliPasswordVariable, encodeBtcliPasswordVariable, parseKeypairJson, readBtcliWallet,
  schnorrkelToPolkadotSecret, polkadotToSchnorrkelSecret, WalletError, WalletErrorCode, type PasswordSource
} from '../../../src/node/wallet/index.js'
import { FAST, MNEMONICS, btPwValue, btPwVariable, keyFromMnemonic, snapshot, writeWallet, type TestKey } from '../../helpers/btcli-wallet.js'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

// btwallet tests/test_keyfile.py: the mnemonic's address, its mini secret, and the keypair made from
// the raw privateKey alone (test_create_keypair_from_private_key)
const VECTOR = {
  mnemonic: 'old leopard transfer rib spatial phone calm indicate online fire caution review',
  ss58: '5HDvhV6WDCjCKyrXqGQSDYqQAzkzabNhctmiDYEqgBC66BsX',
  seed: '0xda3cf5b1e9144931a0f0db65664aab662673b099415a7f8121b7245fb0be4143',
  privateKey: '0x1f1995bdf3a17b60626a26cfe6f564b337d46056b7a1281b64c649d592ccda0a9cffd34d9fb01cae1fba61aeed184c817442a2186d5172416729a4b54dd4b84e',
  publicKey: '0xe4359ad3e2716c539a1d663ebd0a51bdc5c98a12e663bb4c4402db47828c9446'
}

async function code (p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    expect(err).toBeInstanceOf(WalletError)
    return (err as WalletError).code
  }
  throw new Error('expected a WalletError')
}

describe('btcli keypair JSON', () => {
  it('reads btwallet\'s published vector: phrase, seed and raw privateKey agree, and the key signs for its address', async () => {
    const k = await parseKeypairJson(enc(JSON.stringify({
      accountId: VECTOR.publicKey, publicKey: VECTOR.publicKey, privateKey: VECTOR.privateKey,
      secretPhrase: VECTOR.mnemonic, secretSeed: VECTOR.seed, ss58Address: VECTOR.ss58, cryptoType: 1
    })), 'vector')
    expect(k.ss58Address).toBe(VECTOR.ss58)
    expect(u8aToHex(k.secret!.seed)).toBe(VECTOR.seed)
    expect(u8aToHex(polkadotToSchnorrkelSecret(k.secret!.secretKey))).toBe(VECTOR.privateKey)

    // the privateKey alone (btwallet's third choice) gives the same key
    const raw = await parseKeypairJson(enc(JSON.stringify({ privateKey: VECTOR.privateKey })), 'vector')
    expect(u8aToHex(raw.publicKey)).toBe(VECTOR.publicKey)
    expect(raw.secret!.secretKey).toEqual(k.secret!.secretKey)
    const pair = new Keyring({ type: 'sr25519' }).addFromPair({ publicKey: raw.publicKey, secretKey: raw.secret!.secretKey })
    const msg = enc('bazaar wallet test')
    expect(signatureVerify(msg, pair.sign(msg), VECTOR.ss58).isValid).toBe(true)
  })

  it('reading the raw privateKey as polkadot-js\'s secret would give another key (the conversion matters)', async () => {
    const raw = Buffer.from(VECTOR.privateKey.slice(2), 'hex')
    expect(u8aToHex(schnorrkelToPolkadotSecret(raw))).not.toBe(VECTOR.privateKey)
    expect(polkadotToSchnorrkelSecret(schnorrkelToPolkadotSecret(raw))).toEqual(new Uint8Array(raw))
  })

  const bad: Array<[string, string, WalletErrorCode]> = [
    ['not JSON', '{"secretSeed": "0x', WalletErrorCode.CORRUPT],
    ['an array', '[]', WalletErrorCode.CORRUPT],
    ['no key and no address', '{"cryptoType": 1}', WalletErrorCode.CORRUPT],
    ['a short seed', '{"secretSeed": "0x1234"}', WalletErrorCode.CORRUPT],
    ['a number for a string', '{"privateKey": 12}', WalletErrorCode.CORRUPT],
    ['an all-zero privateKey (a scalar the curve refuses)', `{"privateKey": "0x${'00'.repeat(64)}"}`, WalletErrorCode.CORRUPT],
    ['an invalid phrase', '{"secretPhrase": "old leopard transfer"}', WalletErrorCode.CORRUPT],
    ['ed25519', `{"secretSeed": "${VECTOR.seed}", "cryptoType": 0}`, WalletErrorCode.UNSUPPORTED_FORMAT],
    ['another address', `{"secretSeed": "${VECTOR.seed}", "ss58Address": "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"}`, WalletErrorCode.ADDRESS_MISMATCH],
    ['another publicKey', `{"privateKey": "${VECTOR.privateKey}", "publicKey": "0x${'11'.repeat(32)}"}`, WalletErrorCode.ADDRESS_MISMATCH],
    ['a seed of another phrase', `{"secretPhrase": "${MNEMONICS[1]}", "secretSeed": "${VECTOR.seed}"}`, WalletErrorCode.ADDRESS_MISMATCH],
    ['a bad address', '{"ss58Address": "5notanaddress"}', WalletErrorCode.CORRUPT]
  ]
  it.each(bad)('refuses %s', async (_name, json, expected) => {
    expect(await code(parseKeypairJson(enc(json), 'f'))).toBe(expected)
  })

  it('a damaged keyfile (cut anywhere, bytes flipped, not UTF-8) is refused with a WalletError, never another error', async () => {
    const sample = enc(JSON.stringify({
      accountId: VECTOR.publicKey, publicKey: VECTOR.publicKey, privateKey: VECTOR.privateKey,
      secretPhrase: VECTOR.mnemonic, secretSeed: VECTOR.seed, ss58Address: VECTOR.ss58, cryptoType: 1
    }))
    const damage = fc.record({
      cut: fc.nat({ max: sample.byteLength }),
      flips: fc.array(fc.record({ at: fc.nat({ max: sample.byteLength - 1 }), xor: fc.integer({ min: 1, max: 255 }) }), { maxLength: 4 })
    })
    await fc.assert(fc.asyncProperty(damage, async ({ cut, flips }) => {
      const b = sample.slice(0, cut)
      for (const f of flips) if (f.at < b.byteLength) b[f.at] ^= f.xor
      await parseKeypairJson(b, 'f').catch((err: unknown) => { if (!(err instanceof WalletError)) throw err })
    }), { numRuns: Number(process.env.BAZAAR_FUZZ_RUNS ?? 300) })
  })
})

describe('btcli password variable', () => {
  it('is named after the path and holds base64 of the password XOR the name', () => {
    const file = '/home/ann/.bittensor/wallets/default/coldkey'
    const name = btcliPasswordVariable(file)
    expect(name).toBe('BT_PW__HOME_ANN__BITTENSOR_WALLETS_DEFAULT_COLDKEY')
    expect(name).toBe(btPwVariable(file))
    const value = btPwValue(file, 'pässword 1')
    expect(value).not.toContain(Buffer.from('pässword 1').toString('base64'))
    expect(decodeBtcliPasswordVariable(name, value)).toBe('pässword 1')
    expect(encodeBtcliPasswordVariable(name, 'pässword 1')).toBe(value)
  })
  it.each(['not base64!', 'abc', ''])('refuses %j', (v) => {
    expect(() => decodeBtcliPasswordVariable('BT_PW_X', v)).toThrow(expect.objectContaining({ code: WalletErrorCode.BAD_PASSWORD_VARIABLE }))
  })
})

describe('reading btcli wallets (argon2i at low cost)', () => {
  let root: string
  let cold: TestKey
  let hot: TestKey
  let other: TestKey
  const password = 'correct horse 7'
  const pw = (p: string): PasswordSource => async () => p

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'bazaar-btcli-'))
    cold = await keyFromMnemonic(MNEMONICS[0])
    hot = await keyFromMnemonic(MNEMONICS[1])
    other = await keyFromMnemonic(MNEMONICS[2])
  })
  afterAll(async () => { await rm(root, { recursive: true, force: true }) })

  const formats = [['nacl', 'rust-4.1'], ['nacl', 'rust-4.0'], ['ansible', 'python'], ['plain', 'python']] as const
  it.each(formats)('reads a %s coldkey (%s JSON) and a plain hotkey', async (fmt, style) => {
    const name = `w-${fmt}-${style}`
    await writeWallet(root, name, 'miner', { coldkey: cold, hotkey: hot, coldFormat: fmt, password, limits: FAST, style })
    const before = await snapshot(path.join(root, name))
    let asked = 0
    const w = await readBtcliWallet({ path: root, wallet: name, hotkey: 'miner' }, { password: async () => { asked++; return password }, argon2: FAST })
    expect(w.coldkey.ss58Address).toBe(cold.ss58)
    expect(w.hotkey.ss58Address).toBe(hot.ss58)
    expect(w.coldkeyFormat).toBe(fmt === 'ansible' ? 'ansible-vault' : fmt)
    expect(w.hotkeyFormat).toBe('plain')
    expect(asked).toBe(fmt === 'plain' ? 0 : 1)
    const msg = enc('signed by the imported hotkey')
    const pair = new Keyring({ type: 'sr25519' }).addFromPair({ publicKey: w.hotkey.publicKey, secretKey: w.hotkey.secret.secretKey })
    expect(signatureVerify(msg, pair.sign(msg), hot.ss58).isValid).toBe(true)
    expect(await snapshot(path.join(root, name))).toEqual(before)
  })

  it('asks with the btcli variable of the coldkey path', async () => {
    const files = await writeWallet(root, 'w-var', 'default', { coldkey: cold, hotkey: hot, coldFormat: 'nacl', password, limits: FAST })
    const seen: string[] = []
    await readBtcliWallet({ path: root, wallet: 'w-var', hotkey: 'default' }, { password: async (r) => { seen.push(r.variable); return password }, argon2: FAST })
    expect(seen).toEqual([btPwVariable(files.coldkey)])
  })

  // each bad wallet: one typed error, and not one byte or mtime of its files changed
  const cases: Array<[string, (dir: string) => Promise<void>, WalletErrorCode, Partial<Parameters<typeof writeWallet>[3]>, string?]> = [
    ['a wrong NaCl password', async () => {}, WalletErrorCode.WRONG_PASSWORD, { coldFormat: 'nacl' }, 'wrong'],
    ['a wrong ansible-vault password', async () => {}, WalletErrorCode.WRONG_PASSWORD, { coldFormat: 'ansible' }, 'wrong'],
    ['a NaCl coldkey truncated to its header', async (d) => { await truncate(path.join(d, 'coldkey'), 30) }, WalletErrorCode.CORRUPT, { coldFormat: 'nacl' }],
    ['a NaCl coldkey truncated in its ciphertext', async (d) => { await truncate(path.join(d, 'coldkey'), 100) }, WalletErrorCode.WRONG_PASSWORD, { coldFormat: 'nacl' }],
    ['an ansible-vault coldkey truncated', async (d) => { await truncate(path.join(d, 'coldkey'), 120) }, WalletErrorCode.CORRUPT, { coldFormat: 'ansible' }],
    ['a plain coldkey truncated', async (d) => { await truncate(path.join(d, 'coldkey'), 60) }, WalletErrorCode.CORRUPT, { coldFormat: 'plain' }],
    ['a truncated hotkey', async (d) => { await truncate(path.join(d, 'hotkeys', 'default'), 40) }, WalletErrorCode.CORRUPT, { coldFormat: 'nacl' }],
    ['an empty coldkey', async (d) => { await truncate(path.join(d, 'coldkey'), 0) }, WalletErrorCode.CORRUPT, { coldFormat: 'plain' }],
    ['a mismatched coldkeypub.txt (NaCl)', async () => {}, WalletErrorCode.ADDRESS_MISMATCH, { coldFormat: 'nacl', coldkeypubOf: undefined }, 'mismatch'],
    ['a mismatched coldkeypub.txt (plain)', async () => {}, WalletErrorCode.ADDRESS_MISMATCH, { coldFormat: 'plain' }, 'mismatch'],
    ['a hotkey whose ss58Address is another key\'s', async (d) => {
      const f = path.join(d, 'hotkeys', 'default')
      await writeFile(f, (await readFile(f, 'utf8')).replace(hot.ss58, other.ss58))
    }, WalletErrorCode.ADDRESS_MISMATCH, { coldFormat: 'plain' }],
    ['a Fernet (oldest legacy) coldkey', async (d) => { await writeFile(path.join(d, 'coldkey'), 'gAAAAABk' + 'x'.repeat(100)) }, WalletErrorCode.UNSUPPORTED_FORMAT, { coldFormat: 'plain' }],
    ['a missing hotkey', async (d) => { await rm(path.join(d, 'hotkeys', 'default')) }, WalletErrorCode.NOT_FOUND, { coldFormat: 'plain' }],
    ['a coldkey of 1 MiB', async (d) => { await writeFile(path.join(d, 'coldkey'), Buffer.alloc(1 << 20, 0x41)) }, WalletErrorCode.CORRUPT, { coldFormat: 'plain' }]
  ]
  it.each(cases)('refuses %s with one typed error and changes no file', async (name, damage, expected, opts, mode) => {
    const wname = 'bad-' + name.replace(/[^a-z0-9]+/gi, '-')
    const dir = (await writeWallet(root, wname, 'default', {
      coldkey: cold, hotkey: hot, password, limits: FAST, coldFormat: 'plain', ...opts, ...(mode === 'mismatch' ? { coldkeypubOf: other } : {})
    })).dir
    await damage(dir)
    const before = await snapshot(dir)
    const got = await code(readBtcliWallet({ path: root, wallet: wname, hotkey: 'default' }, { password: pw(mode === 'wrong' ? 'not the password' : password), argon2: FAST }))
    expect(got).toBe(expected)
    expect(await snapshot(dir)).toEqual(before)
  })

  it('refuses names that are not one path segment', async () => {
    for (const wallet of ['../x', 'a/b', '.hidden', '']) {
      expect(await code(readBtcliWallet({ path: root, wallet, hotkey: 'default' }, { password: pw(password) }))).toBe(WalletErrorCode.INVALID_NAME)
    }
  })
})
