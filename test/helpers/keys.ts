import { Keyring } from '@polkadot/keyring'
import { cryptoWaitReady } from '@polkadot/util-crypto'
import type { KeyringPair } from '@polkadot/keyring/types'

/** Well-known dev keys (`//Alice`, `//Bob`, ...), sr25519, ss58 prefix 42. Insecure: tests only. */
export async function devPair (name: string): Promise<KeyringPair> {
  await cryptoWaitReady()
  return new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri(`//${name}`)
}
