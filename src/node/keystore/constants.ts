/**
 * scrypt cost parameters (RFC 7914). N = 2^17, r = 8, p = 1 needs 128 MiB and takes a few hundred
 * milliseconds, the same order as geth's "standard" keystore (N = 2^18) and well above the 2^15 that
 * RFC 7914 section 2 calls a minimum for interactive logins.
 */
export interface ScryptParams {
  /** CPU/memory cost, a power of two */
  N: number
  /** block size */
  r: number
  /** parallelisation */
  p: number
}

export const DEFAULT_SCRYPT: Readonly<ScryptParams> = Object.freeze({ N: 2 ** 17, r: 8, p: 1 })

/**
 * Bounds a key file may declare. A file is read from disk, not trusted, and the derivation runs
 * before anything authenticates it: a huge N would be a memory bomb, a large p minutes of work. The
 * memory scrypt needs (128·N·r bytes) and its work (N·r·p) are each held to twice the default's
 * (256 MiB, 2^21), whatever the single parameters. The lower bound admits the fast parameters tests use.
 */
export const SCRYPT_BOUNDS = Object.freeze({
  minLog2N: 10,
  maxLog2N: 20,
  maxR: 16,
  maxP: 4,
  maxMemory: 2 * 128 * DEFAULT_SCRYPT.N * DEFAULT_SCRYPT.r,
  maxCost: 2 * DEFAULT_SCRYPT.N * DEFAULT_SCRYPT.r * DEFAULT_SCRYPT.p
})

/** Format version of every sealed key file (`keystore.json`, `enclave-key`, `voucher-keys/*.key`). */
export const SEALED_FILE_VERSION = 1

/** A key file is a few KiB; anything larger is refused before parsing. */
export const MAX_KEY_FILE_BYTES = 64 * 1024

export const KEY_LEN = 32
export const SALT_LEN = 32
/** 96-bit IV: the size NIST SP 800-38D section 8.2 recommends for GCM */
export const IV_LEN = 12
export const TAG_LEN = 16

/** The `kind` of the sealed files, also authenticated, so one file cannot pass for the other. */
export const KEYSTORE_KIND = 'bazaar-keystore'
export const ENCLAVE_KEY_KIND = 'bazaar-enclave-key'
export const VOUCHER_KEY_KIND = 'bazaar-voucher-key'

/** Derivation path of the hotkey below the coldkey's secret (a hard junction, see accounts.ts). */
export const HOTKEY_DERIVATION = '//hot'

/** ss58 prefix of generic Substrate addresses, which Bittensor uses */
export const SS58_PREFIX = 42

/** Bytes of randomness in the control-API bearer token */
export const API_TOKEN_BYTES = 32
