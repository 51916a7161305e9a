import { createDecipheriv, createHmac, pbkdf2, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'
import { ANSIBLE_PBKDF2_ITERATIONS } from './constants.js'
import { WalletError, WalletErrorCode } from './errors.js'

const pbkdf2Async = promisify(pbkdf2)

/**
 * Opens an Ansible Vault 1.1 (or 1.2, the same payload with a vault-id label) AES256 file, the
 * legacy format btcli still reads (Ansible's `VaultAES256`):
 *
 *     $ANSIBLE_VAULT;1.1;AES256
 *     hex( hex(salt) "\n" hex(hmac) "\n" hex(ciphertext) ), in lines of 80 characters
 *
 * PBKDF2-HMAC-SHA256(password, salt, 10000) gives 80 bytes: the AES-256 key, the HMAC-SHA256 key and
 * the 16-byte CTR counter block. The HMAC covers the ciphertext; the plaintext has PKCS#7 padding to
 * 16 bytes although CTR needs none. CORRUPT for a malformed envelope, WRONG_PASSWORD when the HMAC
 * does not verify, UNSUPPORTED_FORMAT for another version or cipher.
 */
export async function ansibleVaultDecrypt (data: Uint8Array, password: string, where: string): Promise<Uint8Array> {
  const corrupt = (why: string): WalletError => new WalletError(WalletErrorCode.CORRUPT, `${where}: ansible-vault file ${why}`)
  const text = Buffer.from(data).toString('latin1')
  const lines = text.split(/\r?\n/)
  const header = lines[0].trim().split(';')
  if (header[0] !== '$ANSIBLE_VAULT' || header.length < 3) throw corrupt('has a malformed header')
  if (!['1.1', '1.2'].includes(header[1]) || header[2] !== 'AES256') {
    throw new WalletError(WalletErrorCode.UNSUPPORTED_FORMAT, `${where}: ansible-vault ${header[1]} ${header[2]} is not supported (only 1.1/1.2 AES256)`)
  }
  const body = lines.slice(1).join('').replace(/\s+/g, '')
  if (body.length === 0 || body.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(body)) throw corrupt('body is not hex (truncated or damaged)')
  const parts = Buffer.from(body, 'hex').toString('latin1').split('\n')
  if (parts.length !== 3 || !parts.every(p => p.length > 0 && p.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(p))) {
    throw corrupt('payload is not salt, HMAC and ciphertext (truncated or damaged)')
  }
  const [salt, mac, ciphertext] = parts.map(p => Buffer.from(p, 'hex'))
  if (mac.length !== 32 || ciphertext.length % 16 !== 0) throw corrupt('payload has the wrong sizes (truncated or damaged)')
  const derived = await pbkdf2Async(Buffer.from(password, 'utf8'), salt, ANSIBLE_PBKDF2_ITERATIONS, 80, 'sha256')
  try {
    const expected = createHmac('sha256', derived.subarray(32, 64)).update(ciphertext).digest()
    // [WRONG_PASSWORD] the HMAC over the ciphertext, compared in constant time
    if (!timingSafeEqual(expected, mac)) {
      throw new WalletError(WalletErrorCode.WRONG_PASSWORD, `${where}: the password does not open this keyfile (wrong password, or the file is damaged)`)
    }
    const d = createDecipheriv('aes-256-ctr', derived.subarray(0, 32), derived.subarray(64, 80))
    const padded = Buffer.concat([d.update(ciphertext), d.final()])
    const pad = padded.length > 0 ? padded[padded.length - 1] : 0
    if (pad < 1 || pad > 16 || pad > padded.length || !padded.subarray(padded.length - pad).every(b => b === pad)) {
      throw corrupt('plaintext padding is invalid')
    }
    return new Uint8Array(padded.subarray(0, padded.length - pad))
  } finally {
    derived.fill(0)
  }
}
