import { Keyring } from '@polkadot/keyring'
import type { KeyringPair } from '@polkadot/keyring/types'
import { cryptoWaitReady, mnemonicGenerate, mnemonicValidate } from '@polkadot/util-crypto'
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
 */
export type AccountSource =
  | { kind: 'mnemonic', mnemonic: string }
  | { kind: 'dev', name: string }

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

/** The SURI of the coldkey for a source (secret: never log it). */
export function coldkeySuri (source: AccountSource): string {
  return source.kind === 'mnemonic' ? source.mnemonic : `//${source.name}`
}

/** Derives the sr25519 coldkey and hotkey (ss58 prefix 42). */
export async function deriveAccounts (source: AccountSource): Promise<Accounts> {
  await cryptoWaitReady()
  const keyring = new Keyring({ type: 'sr25519', ss58Format: SS58_PREFIX })
  const suri = coldkeySuri(source)
  return {
    coldkey: keyring.addFromUri(suri, { name: 'coldkey' }),
    hotkey: keyring.addFromUri(suri + HOTKEY_DERIVATION, { name: 'hotkey' })
  }
}
