/**
 * btcli wallets against the Python bittensor package's keyfile code path (bittensor 6 and 7, the
 * btcli before bittensor-wallet), re-enacted on PyNaCl by `test/helpers/btcli_pynacl.py`: the
 * argon2i limits are libsodium's own SENSITIVE constants as PyNaCl reads them, the cipher is
 * libsodium's secretbox through PyNaCl, and the JSON is Python's `json.dumps`. Needs a python3 with
 * PyNaCl (Debian: python3-nacl; `.ci/run` installs it where the machine allows); skipped, saying
 * so, elsewhere.
 */
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initHome, openKeystore } from '../../../src/node/keystore/index.js'
import { readBtcliWallet, writeBtcliWallet } from '../../../src/node/wallet/index.js'
import { BTCLI_ARGON2_LIMITS } from '../../../src/node/wallet/nacl.js'
import { MNEMONICS } from '../../helpers/btcli-wallet.js'

const SCRIPT = fileURLToPath(new URL('../../helpers/btcli_pynacl.py', import.meta.url))

/** a python3 whose PyNaCl imports: the system's first (Debian's python3-nacl), then the one on PATH */
function pythonWithNacl (): string | undefined {
  for (const python of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(python, ['-c', 'import nacl.pwhash, nacl.secret'], { stdio: 'ignore' }).status === 0) return python
  }
  return undefined
}

const PYTHON = pythonWithNacl()
if (PYTHON == null) console.warn('btcli PyNaCl cross-check: skipped: no python3 with PyNaCl here (Debian: apt-get install python3-nacl)')

function py (...args: string[]): string {
  const r = spawnSync(PYTHON!, [SCRIPT, ...args], { encoding: 'utf8', timeout: 120_000 })
  if (r.status !== 0) throw new Error(`btcli_pynacl.py ${args[0]} exited ${r.status ?? r.signal}: ${r.stderr}`)
  return r.stdout
}

describe.skipIf(PYTHON == null)('btcli wallets and the Python bittensor keyfile code on PyNaCl', () => {
  let tmp = ''
  beforeAll(async () => { tmp = await mkdtemp(path.join(os.tmpdir(), 'bazaar-pynacl-')) })
  afterAll(async () => { await rm(tmp, { recursive: true, force: true }) })

  it('a wallet bazaar exports opens there at libsodium\'s own SENSITIVE limits, naming the same accounts; one written there opens in bazaar', async () => {
    const home = path.join(tmp, 'home')
    await initHome({ home, passphrase: 'pp', scrypt: { N: 1024, r: 8, p: 1 }, mnemonic: MNEMONICS[1] })
    const id = await openKeystore(home, 'pp', { revealSecrets: true })
    const wallets = path.join(tmp, 'wallets')
    // a password past ASCII: both sides take its UTF-8 bytes
    const password = 'pässwörd ✓'
    const paths = await writeBtcliWallet({ path: wallets, wallet: 'w', hotkey: 'h' }, id.secrets!, { password })

    const seen = JSON.parse(py('read', paths.dir, 'h', password)) as Record<string, Record<string, unknown>>
    // the limits bazaar uses are libsodium's, as PyNaCl reads them from the library
    expect(seen.limits).toEqual({ opslimit: BTCLI_ARGON2_LIMITS.opslimit, memlimit: BTCLI_ARGON2_LIMITS.memlimit })
    expect(seen.coldkey).toMatchObject({ ss58Address: id.coldkey.address, ss58FromPublicKey: id.coldkey.address, secretPhrase: MNEMONICS[1], hasPrivateKey: true })
    expect(seen.coldkey.accountId).toBe(seen.coldkey.publicKey)
    expect(seen.coldkeypub).toMatchObject({ ss58Address: id.coldkey.address, ss58FromPublicKey: id.coldkey.address, hasPrivateKey: false })
    expect(seen.hotkey).toMatchObject({ ss58Address: id.hotkey.address, ss58FromPublicKey: id.hotkey.address, hasPrivateKey: true })
    expect(seen.hotkey.accountId).toBe(seen.hotkey.publicKey)

    // written again there under another password, as set_keypair writes it, and read by bazaar
    const copy = path.join(wallets, 'py')
    py('copy', paths.dir, 'h', password, copy, 'another ✓')
    const back = await readBtcliWallet({ path: wallets, wallet: 'py', hotkey: 'h' }, { password: async () => 'another ✓' })
    expect([back.coldkey.ss58Address, back.hotkey.ss58Address]).toEqual([id.coldkey.address, id.hotkey.address])
    expect(back.coldkeyFormat).toBe('nacl')
    expect(Buffer.from(back.coldkey.secret.publicKey).toString('hex')).toBe(Buffer.from(id.secrets!.coldkey.publicKey).toString('hex'))
    // the wrong password there is refused as such
    await expect(readBtcliWallet({ path: wallets, wallet: 'py', hotkey: 'h' }, { password: async () => password })).rejects.toMatchObject({ code: 'WRONG_PASSWORD' })
  }, 180_000)
})
