import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { KeystoreError, KeystoreErrorCode, initHome, openKeystore, type Identity } from '../../../src/node/keystore/index.js'
import { readBtcliWallet, writeBtcliWallet, WalletErrorCode } from '../../../src/node/wallet/index.js'
import { FAST } from '../../helpers/btcli-wallet.js'

// The one failure a real file system cannot be made to give on cue: the nth secret file write of an
// export fails as a full disk does, or finds its file placed meanwhile by another process.
const failure = vi.hoisted(() => ({ at: 0, calls: 0, kind: 'ENOSPC' as 'ENOSPC' | 'raced' }))
vi.mock('../../../src/node/keystore/files.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../src/node/keystore/files.js')>()
  return {
    ...real,
    writeSecretFile: async (...args: Parameters<typeof real.writeSecretFile>): ReturnType<typeof real.writeSecretFile> => {
      if (++failure.calls === failure.at) {
        if (failure.kind === 'ENOSPC') throw new KeystoreError(KeystoreErrorCode.WRITE_FAILED, `cannot write ${args[0]}: ENOSPC`)
        await writeFile(args[0], 'placed by another process')
      }
      return await real.writeSecretFile(...args)
    }
  }
})

async function files (dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort()
}

describe('an export cut short leaves no part of a wallet', () => {
  let tmp: string
  let id: Identity
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'bazaar-export-cut-'))
    const home = path.join(tmp, 'home')
    await initHome({ home, passphrase: 'pp', scrypt: { N: 1024, r: 8, p: 1 }, dev: 'alice' })
    id = await openKeystore(home, 'pp', { revealSecrets: true })
  })
  afterAll(async () => { await rm(tmp, { recursive: true, force: true }) })

  it.each([
    { name: 'the disk fills at the hotkey (second file)', at: 2, kind: 'ENOSPC' as const, code: KeystoreErrorCode.WRITE_FAILED, left: ['hotkeys/other'] },
    { name: 'the disk fills at the coldkey (third file)', at: 3, kind: 'ENOSPC' as const, code: KeystoreErrorCode.WRITE_FAILED, left: ['hotkeys/other'] },
    { name: 'another process places the coldkey meanwhile', at: 3, kind: 'raced' as const, code: WalletErrorCode.EXISTS, left: ['coldkey', 'hotkeys/other'] }
  ])('$name → $code; its own files removed, the others kept, and a rerun succeeds', async ({ at, kind, code, left }) => {
    const wallets = path.join(tmp, `wallets-${at}-${kind}`)
    const loc = { path: wallets, wallet: 'w', hotkey: 'h' }
    // a hotkey of the wallet that was there before: never touched
    await mkdir(path.join(wallets, 'w', 'hotkeys'), { recursive: true })
    await writeFile(path.join(wallets, 'w', 'hotkeys', 'other'), 'another hotkey')
    Object.assign(failure, { at, kind, calls: 0 })
    await expect(writeBtcliWallet(loc, id.secrets!, { password: 'pw', argon2: FAST })).rejects.toMatchObject({ code })
    expect(await files(path.join(wallets, 'w'))).toEqual(left)
    expect(await readFile(path.join(wallets, 'w', 'hotkeys', 'other'), 'utf8')).toBe('another hotkey')
    if (kind === 'raced') return

    Object.assign(failure, { at: 0, calls: 0 })
    await writeBtcliWallet(loc, id.secrets!, { password: 'pw', argon2: FAST })
    const back = await readBtcliWallet(loc, { password: async () => 'pw', argon2: FAST })
    expect([back.coldkey.ss58Address, back.hotkey.ss58Address]).toEqual([id.coldkey.address, id.hotkey.address])
  })
})
