import { fromHex, HexError, toHex0x } from '../../util/hex.js'
import { DEV_PHRASE, generateMnemonic as newMnemonic, isValidMnemonic, mnemonicToMiniSecret } from '../../util/mnemonic.js'
import { sr25519DerivePath, sr25519FromSecret, sr25519FromSeed, sr25519Pair, type AccountPair, type Sr25519Keys } from '../../util/sr25519.js'
import { HOTKEY_DERIVATION, SS58_PREFIX } from './constants.js'
import { KeystoreError, KeystoreErrorCode } from './errors.js'

/**
 * Where the accounts come from.
 *
 * - `mnemonic`: a BIP-39 phrase. The coldkey is the phrase itself (SURI `<mnemonic>`); the hotkey is
 *   its hard-derived child `<mnemonic>//hot`. One phrase restores both. A hard junction means the
 *   hotkey's secret does not reveal the coldkey's, and the hotkey's public key is not derivable from
 *   the coldkey's public key (see Substrate's `SecretUri` docs on hard and soft junctions).
 * - `dev`: the well-known development seed `//<Name>` (`//Alice`, `//Bob`, ...) shared by every
 *   Substrate devnet, with the hotkey at `//<Name>//hot`. Anyone can derive these keys:
 *   devnets only, never real funds.
 * - `keys`: a coldkey and a hotkey that are two independent keys, each stored as its own secret
 *   (imported from a btcli wallet, where the hotkey is not derived from the coldkey).
 */
export type AccountSource =
  | { kind: 'mnemonic', mnemonic: string }
  | { kind: 'dev', name: string }
  | { kind: 'keys', coldkey: StoredKey, hotkey: StoredKey }

/**
 * One sr25519 secret as the keystore keeps it (hex with 0x): the 32-byte mini secret when it is
 * known (it is what a mnemonic or btcli's `secretSeed` gives), else the 64-byte expanded secret in
 * the form polkadot-js uses (scalar times the cofactor 8, then the nonce).
 */
export type StoredKey =
  | { seed: string }
  | { secretKey: string }

/**
 * The secret material of one account, for export. `secretKey` is polkadot-js's 64-byte form; `seed`
 * (the mini secret) and `mnemonic` are present when the account has them. Secrets: never log.
 */
export interface KeyMaterial {
  publicKey: Uint8Array
  secretKey: Uint8Array
  seed?: Uint8Array
  mnemonic?: string
}

export interface Accounts {
  coldkey: AccountPair
  hotkey: AccountPair
}

/** A fresh 12-word BIP-39 mnemonic. */
export async function generateMnemonic (): Promise<string> {
  return newMnemonic(12)
}

/**
 * Normalises and checks a user-supplied mnemonic (case, spacing); throws INVALID_MNEMONIC.
 * The phrase is never echoed in the error.
 */
export async function normalizeMnemonic (input: string): Promise<string> {
  const m = input.normalize('NFKD').trim().toLowerCase().split(/\s+/).join(' ')
  const words = m.split(' ').length
  if (![12, 15, 18, 21, 24].includes(words) || !isValidMnemonic(m)) {
    throw new KeystoreError(KeystoreErrorCode.INVALID_MNEMONIC, 'the mnemonic is not a valid BIP-39 phrase (12 to 24 words with a valid checksum)')
  }
  return m
}

/** `alice` → `Alice`; throws INVALID_DEV_NAME for anything but a short plain word. */
export function normalizeDevName (input: string): string {
  const s = input.trim().replace(/^\/\//, '')
  if (!/^[A-Za-z][A-Za-z0-9]{0,31}$/.test(s)) {
    throw new KeystoreError(KeystoreErrorCode.INVALID_DEV_NAME, `dev name must be a plain word such as alice or bob, got ${JSON.stringify(input.slice(0, 40))}`)
  }
  return s[0].toUpperCase() + s.slice(1).toLowerCase()
}

/** The SURI of the coldkey for a source derived from a phrase (secret: never log it). */
export function coldkeySuri (source: Exclude<AccountSource, { kind: 'keys' }>): string {
  return source.kind === 'mnemonic' ? source.mnemonic : `//${source.name}`
}

/**
 * The coldkey and hotkey of a source derived from a phrase: the coldkey is the phrase's key (a dev
 * source: Substrate's DEV_PHRASE derived along `//<Name>`), the hotkey its `//hot` child. The same
 * keys polkadot-js's Keyring gives for the SURIs `coldkeySuri(source)` and that SURI + `//hot`.
 */
function derivedKeys (source: Exclude<AccountSource, { kind: 'keys' }>): { seed: Uint8Array, coldkey: Sr25519Keys, hotkey: Sr25519Keys } {
  const seed = mnemonicToMiniSecret(source.kind === 'mnemonic' ? source.mnemonic : DEV_PHRASE)
  const root = sr25519FromSeed(seed)
  const coldkey = source.kind === 'dev' ? sr25519DerivePath(root, coldkeySuri(source)) : root
  return { seed, coldkey, hotkey: sr25519DerivePath(coldkey, HOTKEY_DERIVATION) }
}

/** Derives the sr25519 coldkey and hotkey (ss58 prefix 42). */
export async function deriveAccounts (source: AccountSource): Promise<Accounts> {
  const keys = source.kind === 'keys'
    ? { coldkey: storedKeyMaterial(source.coldkey), hotkey: storedKeyMaterial(source.hotkey) }
    : derivedKeys(source)
  return { coldkey: sr25519Pair(keys.coldkey, SS58_PREFIX), hotkey: sr25519Pair(keys.hotkey, SS58_PREFIX) }
}

/**
 * The secrets of both accounts of a source, for export to another wallet format. The public keys
 * are computed here from the secrets, never taken from anywhere else.
 */
export async function accountSecrets (source: AccountSource): Promise<{ coldkey: KeyMaterial, hotkey: KeyMaterial }> {
  if (source.kind === 'keys') {
    return { coldkey: storedKeyMaterial(source.coldkey), hotkey: storedKeyMaterial(source.hotkey) }
  }
  const { seed, coldkey, hotkey } = derivedKeys(source)
  const cold: KeyMaterial = { publicKey: coldkey.publicKey, secretKey: coldkey.secretKey }
  if (source.kind === 'mnemonic') {
    cold.seed = seed
    cold.mnemonic = source.mnemonic
  }
  return { coldkey: cold, hotkey: { publicKey: hotkey.publicKey, secretKey: hotkey.secretKey } }
}

/** The full key material of a stored key; CORRUPT when it is not a well-formed secret. */
export function storedKeyMaterial (key: StoredKey): KeyMaterial {
  if ('seed' in key) {
    const seed = storedBytes(key.seed, 32)
    if (seed == null) throw new KeystoreError(KeystoreErrorCode.CORRUPT, 'a stored seed is not 32 bytes of hex')
    return { ...sr25519FromSeed(seed), seed }
  }
  const secretKey = storedBytes(key.secretKey, 64)
  if (secretKey == null) throw new KeystoreError(KeystoreErrorCode.CORRUPT, 'a stored secret key is not 64 bytes of hex')
  try {
    return sr25519FromSecret(secretKey)
  } catch (err) {
    throw new KeystoreError(KeystoreErrorCode.CORRUPT, 'a stored secret key is not a valid sr25519 secret', { cause: err })
  }
}

/** `text` as `length` bytes when it is 0x-hex of exactly that length, else undefined */
function storedBytes (text: unknown, length: number): Uint8Array | undefined {
  if (typeof text !== 'string' || !text.startsWith('0x') || text.length !== 2 + 2 * length) return undefined
  try {
    return fromHex(text.slice(2))
  } catch (err) {
    if (err instanceof HexError) return undefined
    throw err
  }
}

/** The stored form of key material: its seed when it has one, else its 64-byte secret. */
export function toStoredKey (m: { seed?: Uint8Array, secretKey: Uint8Array }): StoredKey {
  return m.seed != null ? { seed: toHex0x(m.seed) } : { secretKey: toHex0x(m.secretKey) }
}
