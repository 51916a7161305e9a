/**
 * Bittensor (btcli) wallets: the keyfile formats of `bittensor-wallet` (NaCl, ansible-vault and plain
 * JSON; the keypair JSON with schnorrkel's raw secret), the btcli password variable, and reading and
 * writing the `<wallets>/<name>/{coldkey,coldkeypub.txt,hotkeys/<hotkey>}` layout.
 *
 * The chain side (balances, staking, the rent quote) lives in `chain.ts` and `rent-quote.ts` and is
 * imported from there, on use: it pulls in `@polkadot/api`, which every CLI command would otherwise
 * load at start.
 */
export { readBtcliWallet, writeBtcliWallet, btcliWalletPaths, checkExportTarget, expandHome, type BtcliWallet, type BtcliWalletLocation, type BtcliWalletPaths, type KeyfileFormat, type PasswordSource, type ReadBtcliWalletOptions, type WriteBtcliWalletOptions } from './btcli.js'
export { parseKeypairJson, formatKeypairJson, schnorrkelToPolkadotSecret, polkadotToSchnorrkelSecret, type BtcliKey } from './keypair-json.js'
export { naclDecrypt, naclEncrypt, isNaclKeyfile, BTCLI_ARGON2_LIMITS, type Argon2Limits } from './nacl.js'
export { ansibleVaultDecrypt } from './ansible.js'
export { btcliPasswordVariable, decodeBtcliPasswordVariable, encodeBtcliPasswordVariable } from './password.js'
export { WalletError, WalletErrorCode } from './errors.js'
export * from './constants.js'
