import type { Ed25519PrivateKey, PeerId } from '@libp2p/interface'
import type { AccountPair } from '../../util/sr25519.js'
import type { KeyMaterial, StoredKey } from './accounts.js'
import type { ScryptParams } from './constants.js'

/** The unlocked identities of a node. Secrets: never log any field. */
export interface Identity {
  /** the libp2p peer key (ed25519); pass as `privateKey` to createLibp2p */
  peerKey: Ed25519PrivateKey
  peerId: PeerId
  /** sr25519, ss58 prefix 42: holds funds, opens escrows */
  coldkey: AccountPair
  /** sr25519, ss58 prefix 42: signs market messages (certifies fast signing keys) */
  hotkey: AccountPair
  /**
   * `mnemonic` for a generated or restored phrase, `dev` for a well-known dev seed (insecure),
   * `keys` for an independent coldkey and hotkey (imported from a btcli wallet)
   */
  source: 'mnemonic' | 'dev' | 'keys'
  /** the dev name (`Alice`) when `source` is `dev` */
  devName?: string
  /** the BIP-39 phrase, present only when opened with `revealMnemonic: true` */
  mnemonic?: string
  /** the secrets of both accounts, present only when opened with `revealSecrets: true` (export) */
  secrets?: { coldkey: KeyMaterial, hotkey: KeyMaterial }
}

/** What `initHome` creates. */
export interface InitOptions {
  /** the node home (created 0700 if missing) */
  home: string
  /** encrypts the keystore (and the enclave key) */
  passphrase: string
  /** replace existing keys (the config file is kept) */
  force?: boolean
  /** restore the accounts from this BIP-39 phrase instead of generating one */
  mnemonic?: string
  /** use the well-known dev seed `//<Name>` instead of a mnemonic (insecure, devnets only) */
  dev?: string
  /** use these keys (an independent coldkey and hotkey, e.g. from a btcli wallet) */
  keys?: { coldkey: StoredKey, hotkey: StoredKey }
  /** also create the simulated enclave's peer key (`enclave-key`) */
  supplier?: boolean
  /** content of a newly written config.json; default `{}` (all defaults). Never overwrites one. */
  config?: Record<string, unknown>
  /** internal: scrypt cost, lowered by tests; defaults to DEFAULT_SCRYPT */
  scrypt?: ScryptParams
  signal?: AbortSignal
}

/** What `initHome` made; the mnemonic only when it was generated now (show it once). */
export interface InitResult {
  home: string
  peerId: string
  coldkey: string
  hotkey: string
  source: 'mnemonic' | 'dev' | 'keys'
  /** the dev name (`Alice`) when `source` is `dev` */
  devName?: string
  mnemonic?: string
  /** peer id of the simulated enclave, when `supplier` was set */
  enclavePeerId?: string
  /** whether config.json was written now (false: an existing one was kept) */
  configWritten: boolean
}

export interface OpenOptions {
  /** include the mnemonic in the result (`bazaar keys show --mnemonic`) */
  revealMnemonic?: boolean
  /** include the accounts' secrets in the result (`bazaar wallet export`) */
  revealSecrets?: boolean
  signal?: AbortSignal
}
