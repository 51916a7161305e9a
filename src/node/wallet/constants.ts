/**
 * Facts of the keyfile format of `bittensor-wallet` (opentensor/btwallet `src/keyfile.rs`,
 * `keypair.rs`, `wallet.rs`; the format on disk is unchanged through 4.1).
 */

/** Prefix of a NaCl-encrypted keyfile: `$NACL` || nonce (24) || secretbox (16-byte MAC || ciphertext). */
export const NACL_PREFIX = '$NACL'

/**
 * The fixed argon2i salt of every NaCl keyfile (`NACL_SALT`, 16 bytes, written in the source as the
 * Python bytes literal `b"\x13q\x83\xdf\xf1Z\t\xbc\x9c\x90\xb5Q\x879\xe9\xb1"`). Being fixed, the key
 * depends on the password alone; the random nonce keeps ciphertexts apart.
 */
export const NACL_SALT = Uint8Array.from([
  0x13, 0x71, 0x83, 0xdf, 0xf1, 0x5a, 0x09, 0xbc, 0x9c, 0x90, 0xb5, 0x51, 0x87, 0x39, 0xe9, 0xb1
])

/** libsodium's crypto_pwhash_argon2i_OPSLIMIT_SENSITIVE and MEMLIMIT_SENSITIVE, which btwallet uses. */
export const ARGON2I_OPSLIMIT_SENSITIVE = 8
export const ARGON2I_MEMLIMIT_SENSITIVE = 512 * 1024 * 1024

/** crypto_secretbox (XSalsa20-Poly1305) sizes */
export const SECRETBOX_NONCE_BYTES = 24
export const SECRETBOX_MAC_BYTES = 16
export const SECRETBOX_KEY_BYTES = 32

/** The ansible-vault 1.1 header btwallet's legacy writer used (`ansible-vault` crate, Python `ansible_vault`). */
export const ANSIBLE_PREFIX = '$ANSIBLE_VAULT'
export const ANSIBLE_HEADER_1_1 = '$ANSIBLE_VAULT;1.1;AES256'
/** Ansible Vault 1.1: PBKDF2-HMAC-SHA256 with 10,000 iterations over a 32-byte salt */
export const ANSIBLE_PBKDF2_ITERATIONS = 10_000

/**
 * Fernet tokens begin with `gAAAAA` (version byte 0x80, base64url). btwallet's own decryptor of this
 * oldest format cannot open them (it uses a random key), so no current btcli reads them either.
 */
export const FERNET_PREFIX = 'gAAAAA'

/** `cryptoType` of sr25519 keys in btwallet 4.1 (`CRYPTO_SR25519`); absent before 4.1. */
export const CRYPTO_SR25519 = 1

/** A keyfile is well under 1 KiB; anything larger is refused before it is read whole. */
export const MAX_KEYFILE_BYTES = 16 * 1024

/** Where btcli keeps wallets by default. */
export const DEFAULT_WALLETS_DIR = '~/.bittensor/wallets'

/** btcli writes keyfiles readable by the owner only. */
export const KEYFILE_MODE = 0o600
export const WALLET_DIR_MODE = 0o700
