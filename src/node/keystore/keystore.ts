import { access } from 'node:fs/promises'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { checkHomeIsDirectory, DIR_MODE, ensureHome, homePaths } from '../home.js'
import { accountSecrets, deriveAccounts, generateMnemonic, normalizeDevName, normalizeMnemonic, storedKeyMaterial, type AccountSource, type StoredKey } from './accounts.js'
import { createApiToken } from './api-token.js'
import { KEYSTORE_KIND, MAX_KEY_FILE_BYTES } from './constants.js'
import { createEnclaveKey, loadEnclaveKey, loadOrCreateEnclaveKey } from './enclave.js'
import { KeystoreError, KeystoreErrorCode } from './errors.js'
import { readSmallFile, writeSecretFile } from './files.js'
import { decodePeerKey, devPeerKey, encodePeerKey, generatePeerKey } from './peer-key.js'
import { formatSealedFile, parseSealedFile, seal, unseal, type SealedFile } from './sealed.js'
import type { Identity, InitOptions, InitResult, OpenOptions } from './types.js'
import { makeDirs } from '../../util/fs.js'

/** Version of the JSON payload inside the ciphertext of keystore.json. */
const PAYLOAD_VERSION = 1

/** The decrypted content of keystore.json. */
interface KeystorePayload {
  version: typeof PAYLOAD_VERSION
  /** base64 of libp2p's protobuf PrivateKey encoding */
  peerKey: string
  accounts: AccountSource
}

/**
 * Creates a node home: the encrypted keystore (peer key, coldkey, hotkey), the control-API token,
 * a config.json when none exists, and with `supplier` the simulated enclave's key.
 *
 * Refuses with ALREADY_INITIALIZED when keys exist and `force` is not set; nothing is touched then.
 * With `force` the keystore, API token and an existing enclave key are replaced; config.json is
 * always kept.
 */
export async function initHome (opts: InitOptions): Promise<InitResult> {
  if ([opts.mnemonic, opts.dev, opts.keys].filter(x => x != null).length > 1) {
    throw new KeystoreError(KeystoreErrorCode.INVALID_OPTIONS, 'give one of a mnemonic, a dev name or imported keys')
  }
  if (opts.passphrase === '') throw new KeystoreError(KeystoreErrorCode.NO_PASSPHRASE, 'the passphrase must not be empty')
  const force = opts.force === true
  // validate user input before touching the disk
  let source: AccountSource
  let generated = false
  if (opts.keys != null) {
    source = { kind: 'keys', coldkey: checkStoredKey(opts.keys.coldkey), hotkey: checkStoredKey(opts.keys.hotkey) }
  } else if (opts.dev != null) {
    source = { kind: 'dev', name: normalizeDevName(opts.dev) }
  } else if (opts.mnemonic != null) {
    source = { kind: 'mnemonic', mnemonic: await normalizeMnemonic(opts.mnemonic) }
  } else {
    source = { kind: 'mnemonic', mnemonic: await generateMnemonic() }
    generated = true
  }
  opts.signal?.throwIfAborted()

  const paths = await ensureHome(opts.home)
  if (!force && await exists(paths.keystore)) {
    throw new KeystoreError(KeystoreErrorCode.ALREADY_INITIALIZED, `${paths.root} already holds keys (use --force to replace them)`)
  }

  // an enclave key left in the home is kept without force: it must open with this passphrase,
  // checked now so that a mismatch fails before anything is written
  if (!force && opts.supplier === true) await loadEnclaveKey(paths.root, opts.passphrase)

  const peerKey = source.kind === 'dev' ? await devPeerKey(source.name) : await generatePeerKey()
  const peerId = peerIdFromPrivateKey(peerKey).toString()
  const { coldkey, hotkey } = await deriveAccounts(source)
  const payload: KeystorePayload = {
    version: PAYLOAD_VERSION,
    peerKey: Buffer.from(encodePeerKey(peerKey)).toString('base64'),
    accounts: source
  }
  const plaintext = Buffer.from(JSON.stringify(payload))
  let sealed: SealedFile
  try {
    sealed = await seal(KEYSTORE_KIND, plaintext, opts.passphrase, {
      scrypt: opts.scrypt,
      public: { peerId, coldkey: coldkey.address, hotkey: hotkey.address, source: source.kind }
    })
  } finally {
    plaintext.fill(0)
  }
  opts.signal?.throwIfAborted()
  if (!await writeSecretFile(paths.keystore, formatSealedFile(sealed), { exclusive: !force })) {
    throw new KeystoreError(KeystoreErrorCode.ALREADY_INITIALIZED, `${paths.root} already holds keys (use --force to replace them)`)
  }

  await createApiToken(paths.root, { overwrite: force })
  const configWritten = await writeSecretFile(paths.config, JSON.stringify(opts.config ?? {}, null, 2) + '\n', { exclusive: true })
  await makeDirs(paths.db, DIR_MODE)
  await makeDirs(paths.logs, DIR_MODE)

  let enclavePeerId: string | undefined
  // with force an existing enclave key is replaced too: it is sealed with the old passphrase
  if (opts.supplier === true || (force && await exists(paths.enclaveKey))) {
    const enclave = force
      ? await createEnclaveKey(paths.root, opts.passphrase, { scrypt: opts.scrypt, overwrite: true })
      : await loadOrCreateEnclaveKey(paths.root, opts.passphrase, { scrypt: opts.scrypt, signal: opts.signal })
    enclavePeerId = enclave.peerId.toString()
  }

  return {
    home: paths.root,
    peerId,
    coldkey: coldkey.address,
    hotkey: hotkey.address,
    source: source.kind,
    ...(source.kind === 'dev' ? { devName: source.name } : {}),
    ...(generated && source.kind === 'mnemonic' ? { mnemonic: source.mnemonic } : {}),
    ...(enclavePeerId != null ? { enclavePeerId } : {}),
    configWritten
  }
}

/**
 * Unlocks the identities of a home. NOT_INITIALIZED when there is no keystore, WRONG_PASSPHRASE
 * when the passphrase does not open it, CORRUPT or UNSUPPORTED_VERSION for a damaged file.
 */
export async function openKeystore (home: string, passphrase: string, opts: OpenOptions = {}): Promise<Identity> {
  const file = await readKeystoreFile(home)
  opts.signal?.throwIfAborted()
  const where = homePaths(home).keystore
  const payload = await openPayload(file, passphrase, where)
  const peerKey: Ed25519PrivateKey = decodePeerKey(Buffer.from(payload.peerKey, 'base64'), where)
  const peerId = peerIdFromPrivateKey(peerKey)
  const { coldkey, hotkey } = await deriveAccounts(payload.accounts)
  // the public summary is authenticated; a mismatch means the file was written by a faulty build
  if (file.public.peerId !== peerId.toString() || file.public.coldkey !== coldkey.address || file.public.hotkey !== hotkey.address) {
    throw new KeystoreError(KeystoreErrorCode.CORRUPT, `${where}: the public summary does not match the keys`)
  }
  const src = payload.accounts
  return {
    peerKey,
    peerId,
    coldkey,
    hotkey,
    source: src.kind,
    ...(src.kind === 'dev' ? { devName: src.name } : {}),
    ...(opts.revealMnemonic === true && src.kind === 'mnemonic' ? { mnemonic: src.mnemonic } : {}),
    ...(opts.revealSecrets === true ? { secrets: await accountSecrets(src) } : {})
  }
}

/**
 * Replaces the coldkey and hotkey of an initialised home with `keys` (imported from a btcli wallet),
 * keeping its peer key, API token, enclave key and config. The keystore is rewritten atomically
 * (temporary file, fsync, rename), so a crash leaves either the old or the new file.
 */
export async function replaceAccounts (
  home: string,
  passphrase: string,
  keys: { coldkey: StoredKey, hotkey: StoredKey },
  opts: { scrypt?: InitOptions['scrypt'], signal?: AbortSignal } = {}
): Promise<{ coldkey: string, hotkey: string, previous: { coldkey: string, hotkey: string } }> {
  const file = await readKeystoreFile(home)
  const where = homePaths(home).keystore
  const payload = await openPayload(file, passphrase, where)
  const previous = await deriveAccounts(payload.accounts)
  const source: AccountSource = { kind: 'keys', coldkey: checkStoredKey(keys.coldkey), hotkey: checkStoredKey(keys.hotkey) }
  const { coldkey, hotkey } = await deriveAccounts(source)
  const next: KeystorePayload = { version: PAYLOAD_VERSION, peerKey: payload.peerKey, accounts: source }
  const text = Buffer.from(JSON.stringify(next))
  let sealed: SealedFile
  try {
    sealed = await seal(KEYSTORE_KIND, text, passphrase, {
      scrypt: opts.scrypt,
      public: { peerId: file.public.peerId ?? '', coldkey: coldkey.address, hotkey: hotkey.address, source: source.kind }
    })
  } finally {
    text.fill(0)
  }
  opts.signal?.throwIfAborted()
  await writeSecretFile(where, formatSealedFile(sealed), { exclusive: false })
  return { coldkey: coldkey.address, hotkey: hotkey.address, previous: { coldkey: previous.coldkey.address, hotkey: previous.hotkey.address } }
}

/** A stored key that is well formed (its public key computes), else CORRUPT. */
function checkStoredKey (k: StoredKey): StoredKey {
  storedKeyMaterial(k)
  return 'seed' in k ? { seed: k.seed } : { secretKey: k.secretKey }
}

/**
 * The public summary of a home's keystore (peer id, addresses), readable without the passphrase.
 * Authenticated only once the keystore is opened: use it for display, not for decisions.
 */
export async function readKeystorePublic (home: string): Promise<{ peerId: string, coldkey: string, hotkey: string, source: string }> {
  const p = (await readKeystoreFile(home)).public
  return { peerId: p.peerId ?? '', coldkey: p.coldkey ?? '', hotkey: p.hotkey ?? '', source: p.source ?? '' }
}

/** Whether `home` holds a keystore. */
export async function isInitialized (home: string): Promise<boolean> {
  return await exists(homePaths(home).keystore)
}

async function readKeystoreFile (home: string): Promise<SealedFile> {
  const where = homePaths(home).keystore
  const text = await readSmallFile(where, MAX_KEY_FILE_BYTES,
    (why) => new KeystoreError(KeystoreErrorCode.CORRUPT, `${where}: ${why}`))
  if (text == null) {
    // a home that is a file is not one bazaar init can fix
    await checkHomeIsDirectory(home)
    throw new KeystoreError(KeystoreErrorCode.NOT_INITIALIZED, `no keystore in ${homePaths(home).root} (run bazaar init)`)
  }
  return parseSealedFile(text, KEYSTORE_KIND, where)
}

function parsePayload (plaintext: Buffer, where: string): KeystorePayload {
  const corrupt = new KeystoreError(KeystoreErrorCode.CORRUPT, `${where}: the decrypted payload is malformed`)
  let v: unknown
  try {
    v = JSON.parse(plaintext.toString('utf8'))
  } catch {
    throw corrupt
  }
  if (typeof v !== 'object' || v === null) throw corrupt
  const o = v as Record<string, unknown>
  if (o.version !== PAYLOAD_VERSION) {
    throw new KeystoreError(KeystoreErrorCode.UNSUPPORTED_VERSION, `${where}: payload version ${String(o.version)} is not supported`)
  }
  if (typeof o.peerKey !== 'string') throw corrupt
  const a = o.accounts as Record<string, unknown> | null
  if (typeof a !== 'object' || a === null) throw corrupt
  if (a.kind === 'mnemonic' && typeof a.mnemonic === 'string') {
    return { version: PAYLOAD_VERSION, peerKey: o.peerKey, accounts: { kind: 'mnemonic', mnemonic: a.mnemonic } }
  }
  if (a.kind === 'dev' && typeof a.name === 'string') {
    return { version: PAYLOAD_VERSION, peerKey: o.peerKey, accounts: { kind: 'dev', name: normalizeDevName(a.name) } }
  }
  if (a.kind === 'keys') {
    const cold = parseStoredKey(a.coldkey)
    const hot = parseStoredKey(a.hotkey)
    if (cold != null && hot != null) return { version: PAYLOAD_VERSION, peerKey: o.peerKey, accounts: { kind: 'keys', coldkey: cold, hotkey: hot } }
  }
  throw corrupt
}

function parseStoredKey (v: unknown): StoredKey | undefined {
  if (typeof v !== 'object' || v === null) return undefined
  const o = v as Record<string, unknown>
  if (typeof o.seed === 'string') return { seed: o.seed }
  if (typeof o.secretKey === 'string') return { secretKey: o.secretKey }
  return undefined
}

async function exists (file: string): Promise<boolean> {
  try {
    await access(file)
    return true
  } catch {
    return false
  }
}

/** the keystore's payload, decrypted and parsed; the plaintext is wiped as soon as it is parsed */
async function openPayload (file: Parameters<typeof unseal>[0], passphrase: string, where: string): Promise<KeystorePayload> {
  const plaintext = Buffer.from(await unseal(file, passphrase, where))
  try {
    return parsePayload(plaintext, where)
  } finally {
    plaintext.fill(0)
  }
}
