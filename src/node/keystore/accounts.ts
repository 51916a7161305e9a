import { DEV_PHRASE, Keyring } from '@polkadot/keyring'
import type { KeyringPair } from '@polkadot/keyring/types'
import { hexToU8a, isHex, u8aToHex } from '@polkadot/util'
import { cryptoWaitReady, keyExtractSuri, keyFromPath, mnemonicGenerate, mnemonicToMiniSecret, mnemonicValidate, sr25519PairFromSeed } from '@polkadot/util-crypto'
import { getPublicKey as sr25519PublicFromSecret } from '@scure/sr25519'
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
  coldkey: KeyringPair
  hotkey: KeyringPair
}

/** A fresh 12-word BIP-39 mnemonic. */
export async function generateMnemonic (): Promise<string> {
  await cryptoWaitReady()
  return mnemonicGenerate(12)
}

/**
 * Normalises and checks a user-supplied mnemonic (case, spacing); throws INVALID_MNEMONIC.
 * The phrase is never echoed in the error.
 */
export async function normalizeMnemonic (input: string): Promise<string> {
  await cryptoWaitReady()
  const m = input.normalize('NFKD').trim().toLowerCase().split(/\s+/).join(' ')
  const words = m.split(' ').length
  if (![12, 15, 18, 21, 24].includes(words) || !mnemonicValidate(m)) {
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

/** Derives the sr25519 coldkey and hotkey (ss58 prefix 42). */
export async function deriveAccounts (source: AccountSource): Promise<Accounts> {
  await cryptoWaitReady()
  const keyring = new Keyring({ type: 'sr25519', ss58Format: SS58_PREFIX })
  if (source.kind === 'keys') {
    const cold = storedKeyMaterial(source.coldkey)
    const hot = storedKeyMaterial(source.hotkey)
    return {
      coldkey: keyring.addFromPair({ publicKey: cold.publicKey, secretKey: cold.secretKey }, { name: 'coldkey' }),
      hotkey: keyring.addFromPair({ publicKey: hot.publicKey, secretKey: hot.secretKey }, { name: 'hotkey' })
    }
  }
  const suri = coldkeySuri(source)
  return {
    coldkey: keyring.addFromUri(suri, { name: 'coldkey' }),
    hotkey: keyring.addFromUri(suri + HOTKEY_DERIVATION, { name: 'hotkey' })
  }
}

/**
 * The secrets of both accounts of a source, for export to another wallet format. The public keys
 * are computed here from the secrets, never taken from anywhere else.
 */
export async function accountSecrets (source: AccountSource): Promise<{ coldkey: KeyMaterial, hotkey: KeyMaterial }> {
  await cryptoWaitReady()
  if (source.kind === 'keys') {
    return { coldkey: storedKeyMaterial(source.coldkey), hotkey: storedKeyMaterial(source.hotkey) }
  }
  // a dev SURI (`//Alice`) stands for Substrate's DEV_PHRASE with that path, as Keyring reads it
  const suri = source.kind === 'dev' ? `${DEV_PHRASE}${coldkeySuri(source)}` : coldkeySuri(source)
  const { phrase, path } = keyExtractSuri(suri)
  const seed = mnemonicToMiniSecret(phrase)
  const root = sr25519PairFromSeed(seed)
  const coldPair = path.length > 0 ? keyFromPath(root, path, 'sr25519') : root
  const hotPair = keyFromPath(coldPair, keyExtractSuri(suri + HOTKEY_DERIVATION).path.slice(path.length), 'sr25519')
  const coldkey: KeyMaterial = { publicKey: coldPair.publicKey, secretKey: coldPair.secretKey }
  if (source.kind === 'mnemonic') {
    coldkey.seed = seed
    coldkey.mnemonic = source.mnemonic
  }
  return { coldkey, hotkey: { publicKey: hotPair.publicKey, secretKey: hotPair.secretKey } }
}

/** The full key material of a stored key; CORRUPT when it is not a well-formed secret. */
export function storedKeyMaterial (key: StoredKey): KeyMaterial {
  if ('seed' in key) {
    if (!isHex(key.seed, 256)) throw new KeystoreError(KeystoreErrorCode.CORRUPT, 'a stored seed is not 32 bytes of hex')
    const seed = hexToU8a(key.seed)
    const pair = sr25519PairFromSeed(seed)
    return { publicKey: pair.publicKey, secretKey: pair.secretKey, seed }
  }
  if (!isHex(key.secretKey, 512)) throw new KeystoreError(KeystoreErrorCode.CORRUPT, 'a stored secret key is not 64 bytes of hex')
  const secretKey = hexToU8a(key.secretKey)
  let publicKey: Uint8Array
  try {
    publicKey = sr25519PublicFromSecret(secretKey)
  } catch (err) {
    throw new KeystoreError(KeystoreErrorCode.CORRUPT, 'a stored secret key is not a valid sr25519 secret', { cause: err })
  }
  return { publicKey, secretKey }
}

/** The stored form of key material: its seed when it has one, else its 64-byte secret. */
export function toStoredKey (m: { seed?: Uint8Array, secretKey: Uint8Array }): StoredKey {
  return m.seed != null ? { seed: u8aToHex(m.seed) } : { secretKey: u8aToHex(m.secretKey) }
}
