import { pbkdf2Sync } from 'node:crypto'
import { generateMnemonic as bip39Generate, mnemonicToEntropy, validateMnemonic } from '@scure/bip39'
import { wordlist } from '@scure/bip39/wordlists/english.js'

/**
 * BIP-39 phrases (English word list) as Substrate reads them. Unlike BIP-39's own seed, Substrate's
 * mini secret is derived from the phrase's entropy, not its text: PBKDF2-HMAC-SHA512 of the
 * entropy, salt "mnemonic" ‖ password, 2,048 rounds, the first 32 bytes. So a phrase made by
 * polkadot-js, btcli or subkey gives the same keys here.
 */

/** Substrate's development phrase: `//Alice`, `//Bob`, ... are its hard-derived children. Public: devnets only. */
export const DEV_PHRASE = 'bottom drive obey lake curtain smoke basket hold race lonely fit walk'

/** a fresh phrase of `words` words (12, 15, 18, 21 or 24) */
export function generateMnemonic (words: 12 | 15 | 18 | 21 | 24 = 12): string {
  return bip39Generate(wordlist, (words / 3) * 32)
}

/** whether `phrase` (normalised: lowercase, single spaces) is a BIP-39 phrase with a valid checksum */
export function isValidMnemonic (phrase: string): boolean {
  return validateMnemonic(phrase, wordlist)
}

/** the 32-byte mini secret of a valid phrase; throws on an invalid one */
export function mnemonicToMiniSecret (phrase: string, password = ''): Uint8Array {
  const entropy = mnemonicToEntropy(phrase, wordlist)
  return new Uint8Array(pbkdf2Sync(entropy, `mnemonic${password}`, 2048, 64, 'sha512').subarray(0, 32))
}
