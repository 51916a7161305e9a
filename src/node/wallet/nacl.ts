import type sodiumType from 'libsodium-wrappers-sumo'
import {
  ARGON2I_MEMLIMIT_SENSITIVE, ARGON2I_OPSLIMIT_SENSITIVE, NACL_PREFIX, NACL_SALT,
  SECRETBOX_KEY_BYTES, SECRETBOX_MAC_BYTES, SECRETBOX_NONCE_BYTES
} from './constants.js'
import { WalletError, WalletErrorCode } from './errors.js'

/**
 * argon2i cost. btcli always uses the SENSITIVE limits and does not record them in the file, so a
 * file is only readable with these values; tests of the error paths lower them (their files are
 * then readable only with the lowered values, never by btcli).
 */
export interface Argon2Limits {
  opslimit: number
  memlimit: number
}

export const BTCLI_ARGON2_LIMITS: Readonly<Argon2Limits> = Object.freeze({
  opslimit: ARGON2I_OPSLIMIT_SENSITIVE,
  memlimit: ARGON2I_MEMLIMIT_SENSITIVE
})

const PREFIX = new TextEncoder().encode(NACL_PREFIX)

type Sodium = typeof sodiumType
let loaded: Promise<Sodium> | undefined
/** libsodium (wasm), loaded on first use: most commands never open a keyfile. */
async function libsodium (): Promise<Sodium> {
  loaded ??= import('libsodium-wrappers-sumo').then(async (m) => { await m.default.ready; return m.default })
  return await loaded
}

/** Whether keyfile bytes are btcli's NaCl format. */
export function isNaclKeyfile (data: Uint8Array): boolean {
  return startsWith(data, PREFIX)
}

/**
 * Opens a `$NACL` keyfile: key = argon2i13(password, NACL_SALT, limits) of 32 bytes, then
 * crypto_secretbox_open over the bytes after the 24-byte nonce (libsodium's "easy" layout:
 * MAC then ciphertext, as sodiumoxide's `secretbox::seal` writes it). CORRUPT when the file is
 * too short to hold a nonce and a MAC; WRONG_PASSWORD when the MAC does not verify (a wrong
 * password, or a file damaged past its header: the two cannot be told apart).
 */
export async function naclDecrypt (data: Uint8Array, password: string, where: string, limits: Argon2Limits = BTCLI_ARGON2_LIMITS): Promise<Uint8Array> {
  // [CORRUPT] shorter than prefix + nonce + MAC: checked before the expensive key derivation
  if (data.length < PREFIX.length + SECRETBOX_NONCE_BYTES + SECRETBOX_MAC_BYTES) {
    throw new WalletError(WalletErrorCode.CORRUPT, `${where}: NaCl keyfile is truncated (${data.length} bytes)`)
  }
  const sodium = await libsodium()
  const nonce = data.subarray(PREFIX.length, PREFIX.length + SECRETBOX_NONCE_BYTES)
  const box = data.subarray(PREFIX.length + SECRETBOX_NONCE_BYTES)
  const key = deriveKey(sodium, password, limits)
  try {
    return sodium.crypto_secretbox_open_easy(box, nonce, key)
  } catch {
    throw new WalletError(WalletErrorCode.WRONG_PASSWORD, `${where}: the password does not open this keyfile (wrong password, or the file is damaged)`)
  } finally {
    sodium.memzero(key)
  }
}

/** Seals keyfile bytes in btcli's NaCl format with a fresh random nonce. */
export async function naclEncrypt (plaintext: Uint8Array, password: string, limits: Argon2Limits = BTCLI_ARGON2_LIMITS): Promise<Uint8Array> {
  const sodium = await libsodium()
  const key = deriveKey(sodium, password, limits)
  try {
    const nonce = sodium.randombytes_buf(SECRETBOX_NONCE_BYTES)
    const box = sodium.crypto_secretbox_easy(plaintext, nonce, key)
    const out = new Uint8Array(PREFIX.length + nonce.length + box.length)
    out.set(PREFIX, 0)
    out.set(nonce, PREFIX.length)
    out.set(box, PREFIX.length + nonce.length)
    return out
  } finally {
    sodium.memzero(key)
  }
}

function deriveKey (sodium: Sodium, password: string, limits: Argon2Limits): Uint8Array {
  return sodium.crypto_pwhash(SECRETBOX_KEY_BYTES, new TextEncoder().encode(password), NACL_SALT,
    limits.opslimit, limits.memlimit, sodium.crypto_pwhash_ALG_ARGON2I13)
}

export function startsWith (data: Uint8Array, prefix: Uint8Array): boolean {
  if (data.length < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (data[i] !== prefix[i]) return false
  return true
}
