import { constants } from 'node:fs'
import { access, lstat, stat, unlink } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { writeSecretFile, type KeyMaterial } from '../keystore/index.js'
import { ansibleVaultDecrypt } from './ansible.js'
import { ANSIBLE_PREFIX, DEFAULT_WALLETS_DIR, FERNET_PREFIX, MAX_KEYFILE_BYTES, WALLET_DIR_MODE } from './constants.js'
import { WalletError, WalletErrorCode } from './errors.js'
import { formatKeypairJson, parseKeypairJson, type BtcliKey } from './keypair-json.js'
import { BTCLI_ARGON2_LIMITS, isNaclKeyfile, naclDecrypt, naclEncrypt, startsWith, type Argon2Limits } from './nacl.js'
import { btcliPasswordVariable } from './password.js'
import { BoundedReadError, makeDirs, readBoundedFile } from '../../util/fs.js'

/** Where a btcli wallet lives: `<path>/<wallet>/coldkey`, `coldkeypub.txt`, `hotkeys/<hotkey>`. */
export interface BtcliWalletLocation {
  /** the wallets folder; default `~/.bittensor/wallets` (a leading `~` is expanded) */
  path?: string
  /** the wallet's name (btcli `--wallet.name`) */
  wallet: string
  /** the hotkey's name (btcli `--wallet.hotkey`) */
  hotkey: string
}

export interface BtcliWalletPaths {
  dir: string
  coldkey: string
  coldkeypub: string
  hotkeysDir: string
  hotkey: string
}

/** How a keyfile was stored. */
export type KeyfileFormat = 'nacl' | 'ansible-vault' | 'plain'

/**
 * Asks for the password of an encrypted keyfile. `variable` is the btcli environment variable for
 * that file (`BT_PW_...`), which the caller reads first.
 */
export type PasswordSource = (request: { file: string, variable: string }) => Promise<string>

export interface ReadBtcliWalletOptions {
  password: PasswordSource
  /** internal: argon2i cost, lowered by tests of the error paths; btcli's SENSITIVE limits by default */
  argon2?: Argon2Limits
  signal?: AbortSignal
}

/** A btcli wallet's keys, checked against each other (both with their secrets). */
export interface BtcliWallet {
  paths: BtcliWalletPaths
  coldkey: BtcliKey & { secret: KeyMaterial }
  hotkey: BtcliKey & { secret: KeyMaterial }
  coldkeyFormat: KeyfileFormat
  hotkeyFormat: KeyfileFormat
}

/** The file paths of a wallet; INVALID_NAME for a name that is not a plain file name. */
export function btcliWalletPaths (loc: BtcliWalletLocation): BtcliWalletPaths {
  const base = expandHome(loc.path ?? DEFAULT_WALLETS_DIR)
  const dir = path.join(base, checkName(loc.wallet, 'wallet'))
  const hotkeysDir = path.join(dir, 'hotkeys')
  return {
    dir,
    coldkey: path.join(dir, 'coldkey'),
    coldkeypub: path.join(dir, 'coldkeypub.txt'),
    hotkeysDir,
    hotkey: path.join(hotkeysDir, checkName(loc.hotkey, 'hotkey'))
  }
}

/**
 * Reads a btcli wallet as bittensor-wallet writes it, without changing any of its files (they are
 * only opened for reading). The cheap checks run first: the public key file and the hotkey are read
 * and checked before the coldkey's password is asked for and its (slow, 512 MiB) key derived.
 *
 * Refuses with ADDRESS_MISMATCH when the coldkey is not the key in `coldkeypub.txt`, or when a
 * keyfile's own `ss58Address`/`publicKey` is not its key's.
 */
export async function readBtcliWallet (loc: BtcliWalletLocation, opts: ReadBtcliWalletOptions): Promise<BtcliWallet> {
  const paths = btcliWalletPaths(loc)
  const pubBytes = await readKeyfile(paths.coldkeypub, 'coldkeypub.txt')
  const coldkeypub = await parseKeypairJson(pubBytes, paths.coldkeypub)
  const hotBytes = await readKeyfile(paths.hotkey, 'hotkey')
  const coldBytes = await readKeyfile(paths.coldkey, 'coldkey')
  opts.signal?.throwIfAborted()

  const hot = await openKeyfile(hotBytes, paths.hotkey, opts)
  const hotkey = await parseKeypairJson(hot.plaintext, paths.hotkey)
  if (hotkey.secret == null) throw new WalletError(WalletErrorCode.CORRUPT, `${paths.hotkey}: holds no secret key`)
  opts.signal?.throwIfAborted()

  const cold = await openKeyfile(coldBytes, paths.coldkey, opts)
  let coldkey: BtcliKey
  try {
    coldkey = await parseKeypairJson(cold.plaintext, paths.coldkey)
  } finally {
    cold.plaintext.fill(0)
  }
  if (coldkey.secret == null) throw new WalletError(WalletErrorCode.CORRUPT, `${paths.coldkey}: holds no secret key`)
  // [ADDRESS_MISMATCH] the coldkey must be the account coldkeypub.txt names (what btcli shows and funds)
  if (coldkey.ss58Address !== coldkeypub.ss58Address) {
    throw new WalletError(WalletErrorCode.ADDRESS_MISMATCH,
      `${paths.coldkey} is ${coldkey.ss58Address} but ${paths.coldkeypub} names ${coldkeypub.ss58Address}`)
  }
  return {
    paths,
    coldkey: { ...coldkey, secret: coldkey.secret },
    hotkey: { ...hotkey, secret: hotkey.secret },
    coldkeyFormat: cold.format,
    hotkeyFormat: hot.format
  }
}

export interface WriteBtcliWalletOptions {
  /** encrypts the coldkey (NaCl, as btcli does); the hotkey is written plain, as btcli does */
  password: string
  argon2?: Argon2Limits
  signal?: AbortSignal
}

/**
 * Writes a wallet in btcli's layout: `coldkey` (NaCl-encrypted keypair JSON), `coldkeypub.txt`
 * (public keypair JSON) and `hotkeys/<hotkey>` (plain keypair JSON), each 0600 in 0700 folders.
 * Refuses with EXISTS when any of the three files is already there; nothing is overwritten. The
 * target is checked (`checkExportTarget`) before the coldkey's key is derived, and a write that
 * fails removes the files this call placed.
 */
export async function writeBtcliWallet (
  loc: BtcliWalletLocation,
  keys: { coldkey: KeyMaterial, hotkey: KeyMaterial },
  opts: WriteBtcliWalletOptions
): Promise<BtcliWalletPaths> {
  const paths = await checkExportTarget(loc)
  if (opts.password === '') throw new WalletError(WalletErrorCode.NO_PASSWORD, 'the coldkey password must not be empty')
  const coldJson = new TextEncoder().encode(formatKeypairJson({ publicKey: keys.coldkey.publicKey, secret: keys.coldkey }))
  let sealed: Uint8Array
  try {
    sealed = await naclEncrypt(coldJson, opts.password, opts.argon2 ?? BTCLI_ARGON2_LIMITS)
  } finally {
    coldJson.fill(0)
  }
  opts.signal?.throwIfAborted()
  try {
    await makeDirs(paths.hotkeysDir, WALLET_DIR_MODE)
  } catch (err) {
    throw writeFailed(paths.hotkeysDir, err)
  }
  const placed: string[] = []
  const put = async (file: string, data: string | Uint8Array): Promise<void> => {
    if (!await writeSecretFile(file, data, { exclusive: true })) {
      throw new WalletError(WalletErrorCode.EXISTS, `${file} already exists (nothing was written)`)
    }
    placed.push(file)
  }
  try {
    // the public file first and the coldkey last: a wallet cut short by a crash never has a coldkey
    // that coldkeypub.txt does not describe
    await put(paths.coldkeypub, formatKeypairJson({ publicKey: keys.coldkey.publicKey }))
    await put(paths.hotkey, formatKeypairJson({ publicKey: keys.hotkey.publicKey, secret: keys.hotkey }))
    await put(paths.coldkey, sealed)
  } catch (err) {
    // a failure removes the files this export placed, and only those: half a wallet (a plain
    // hotkey without its coldkey) would stay behind and make the next export refuse
    await Promise.all(placed.map(async (f) => { await unlink(f).catch(() => {}) }))
    throw err
  }
  return paths
}

/**
 * The paths of a wallet to be written, checked without writing anything (before any password is
 * asked or key derived): EXISTS when any of its three files is already there, a dangling link
 * included (checked again, atomically, as each file is linked into place); WRITE_FAILED when its
 * folder cannot be made or written in (a file in the place of one, no permission, read-only).
 */
export async function checkExportTarget (loc: BtcliWalletLocation): Promise<BtcliWalletPaths> {
  const paths = btcliWalletPaths(loc)
  for (const f of [paths.coldkey, paths.coldkeypub, paths.hotkey]) {
    if (await exists(f)) throw new WalletError(WalletErrorCode.EXISTS, `${f} already exists (nothing was written)`)
  }
  await checkWritable(paths.hotkeysDir)
  return paths
}

/** WRITE_FAILED unless `dir`, or the nearest folder above it that exists, is a folder this process may write in. */
async function checkWritable (dir: string): Promise<void> {
  for (let at = dir; ; at = path.dirname(at)) {
    let st
    try {
      st = await stat(at)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && path.dirname(at) !== at) continue
      throw writeFailed(dir, err)
    }
    if (!st.isDirectory()) throw writeFailed(dir, Object.assign(new Error(`${at} is not a directory`), { code: 'ENOTDIR' }))
    try {
      await access(at, constants.W_OK | constants.X_OK)
    } catch (err) {
      throw writeFailed(dir, err)
    }
    return
  }
}

function writeFailed (dir: string, err: unknown): WalletError {
  const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message
  return new WalletError(WalletErrorCode.WRITE_FAILED, `cannot write ${dir}: ${code}`, { cause: err })
}

/** Detects the format of keyfile bytes and decrypts them when needed. */
async function openKeyfile (data: Uint8Array, file: string, opts: ReadBtcliWalletOptions): Promise<{ plaintext: Uint8Array, format: KeyfileFormat }> {
  if (isNaclKeyfile(data)) {
    const password = await opts.password({ file, variable: btcliPasswordVariable(file) })
    return { plaintext: await naclDecrypt(data, password, file, opts.argon2 ?? BTCLI_ARGON2_LIMITS), format: 'nacl' }
  }
  if (startsWith(data, new TextEncoder().encode(ANSIBLE_PREFIX))) {
    const password = await opts.password({ file, variable: btcliPasswordVariable(file) })
    return { plaintext: await ansibleVaultDecrypt(data, password, file), format: 'ansible-vault' }
  }
  if (startsWith(data, new TextEncoder().encode(FERNET_PREFIX))) {
    throw new WalletError(WalletErrorCode.UNSUPPORTED_FORMAT,
      `${file}: the oldest (Fernet) keyfile format is not supported; open the wallet with btcli once to re-encrypt it (btcli wallet update)`)
  }
  return { plaintext: data, format: 'plain' }
}

async function readKeyfile (file: string, what: string): Promise<Uint8Array> {
  let bytes: Buffer
  try {
    bytes = await readBoundedFile(file, MAX_KEYFILE_BYTES)
  } catch (err) {
    // [CORRUPT] a keyfile is well under 1 KiB: a larger one is refused before it is read whole
    if (err instanceof BoundedReadError && err.code === 'TOO_LARGE') throw new WalletError(WalletErrorCode.CORRUPT, `${file}: larger than ${MAX_KEYFILE_BYTES} bytes, not a keyfile`)
    if (err instanceof BoundedReadError) throw new WalletError(WalletErrorCode.NOT_FOUND, `${file} is not a file`)
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new WalletError(WalletErrorCode.NOT_FOUND, `no ${what} at ${file}`)
    throw new WalletError(WalletErrorCode.NOT_FOUND, `cannot read ${what} ${file}: ${code ?? 'error'}`, { cause: err })
  }
  if (bytes.length === 0) throw new WalletError(WalletErrorCode.CORRUPT, `${file}: empty`)
  return new Uint8Array(bytes)
}

function checkName (name: string, what: string): string {
  // [INVALID_NAME] one path segment: no separator, not `.`/`..`, nothing hidden or unprintable
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(name)) {
    throw new WalletError(WalletErrorCode.INVALID_NAME, `${what} name ${JSON.stringify(name.slice(0, 40))} must be a plain name (letters, digits, _ . -)`)
  }
  return name
}

/** `~` and `~/x` are the user's home, as btcli expands them. */
export function expandHome (p: string): string {
  if (p === '~') return os.homedir()
  if (p.startsWith('~/')) return path.join(os.homedir(), p.slice(2))
  return path.resolve(p)
}

/** Whether anything is at `file`, a link to nothing included (lstat: a link is not followed). */
async function exists (file: string): Promise<boolean> {
  try {
    await lstat(file)
    return true
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    // a file in the place of a folder above it: no such file (the folder check names it)
    if (code === 'ENOENT' || code === 'ENOTDIR') return false
    throw writeFailed(file, err)
  }
}
