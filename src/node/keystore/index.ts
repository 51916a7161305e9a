/**
 * Identities of a node home: the libp2p peer key, the sr25519 coldkey and hotkey, the simulated
 * enclave's key and the control-API token, sealed at rest with a passphrase (scrypt + AES-256-GCM).
 */
export { initHome, openKeystore, readKeystorePublic, isInitialized, replaceAccounts } from './keystore.js'
export { resolvePassphrase, readPassphraseFile, promptHidden, type ResolvePassphraseOptions, type PassphraseTty } from './passphrase.js'
export { loadOrCreateEnclaveKey, loadEnclaveKey, type EnclaveKey, type EnclaveKeyOptions } from './enclave.js'
export { VoucherKeyVault, MAX_VOUCHER_KEYS, type VoucherKeyVaultOptions } from './voucher-keys.js'
export { readApiToken, readOrCreateApiToken, readOrCreateMetricsToken, bearerMatches } from './api-token.js'
export { writeSecretFile, readSmallFile } from './files.js'
export { KeystoreError, KeystoreErrorCode } from './errors.js'
export { DEFAULT_SCRYPT, HOTKEY_DERIVATION, SS58_PREFIX, type ScryptParams } from './constants.js'
export { normalizeMnemonic, toStoredKey } from './accounts.js'
export type { AccountSource, KeyMaterial, StoredKey } from './accounts.js'
export type { Identity, InitOptions, InitResult, OpenOptions } from './types.js'
