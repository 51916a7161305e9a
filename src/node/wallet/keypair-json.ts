import { getPublicKey as sr25519PublicFromSecret } from '@scure/sr25519'
import { bytesEqual } from '../../util/bytes.js'
import { fromHex, toHex0x } from '../../util/hex.js'
import { isValidMnemonic, mnemonicToMiniSecret } from '../../util/mnemonic.js'
import { sr25519FromSeed } from '../../util/sr25519.js'
import { decodeSs58, encodeSs58 } from '../../util/ss58.js'
import { SS58_PREFIX, type KeyMaterial } from '../keystore/index.js'
import { CRYPTO_SR25519 } from './constants.js'
import { WalletError, WalletErrorCode } from './errors.js'

/**
 * One key of a btcli keyfile. `secret` is absent for a public-only file (`coldkeypub.txt`).
 * Secrets: never log.
 */
export interface BtcliKey {
  publicKey: Uint8Array
  ss58Address: string
  secret?: KeyMaterial
}

/** The order of the group ℓ of Ristretto255 (RFC 9496): a schnorrkel secret scalar is below it. */
const L = 2n ** 252n + 27742317777372353535851937790883648493n

/**
 * schnorrkel's raw 64-byte secret (`SecretKey::to_bytes`: the scalar, little-endian, then the
 * 32-byte nonce), which btwallet writes as `privateKey` (`Pair::to_raw_vec`), to polkadot-js's form,
 * which keeps the scalar multiplied by the cofactor 8 (`SecretKey::to_ed25519_bytes`). The scalar is
 * the same secret either way; reading one as the other gives a different key.
 */
export function schnorrkelToPolkadotSecret (raw: Uint8Array): Uint8Array {
  if (raw.length !== 64) throw new RangeError('a schnorrkel secret has 64 bytes')
  const scalar = leToBigint(raw.subarray(0, 32))
  // schnorrkel's SecretKey::from_bytes accepts only a canonical scalar
  if (scalar >= L) throw new RangeError('the secret scalar is not canonical')
  const out = new Uint8Array(64)
  out.set(bigintToLe(scalar * 8n, 32), 0)
  out.set(raw.subarray(32), 32)
  return out
}

/** The inverse of schnorrkelToPolkadotSecret. */
export function polkadotToSchnorrkelSecret (secretKey: Uint8Array): Uint8Array {
  if (secretKey.length !== 64) throw new RangeError('an sr25519 secret has 64 bytes')
  const out = new Uint8Array(64)
  out.set(bigintToLe(leToBigint(secretKey.subarray(0, 32)) >> 3n, 32), 0)
  out.set(secretKey.subarray(32), 32)
  return out
}

/**
 * Parses the keypair JSON of a btcli keyfile (after decryption): `accountId`, `publicKey`,
 * `privateKey`, `secretPhrase`, `secretSeed`, `ss58Address`, and since btwallet 4.1 `cryptoType`.
 *
 * The secret comes from the same field btwallet uses, in its order: `secretPhrase`, else
 * `secretSeed` (the 32-byte mini secret), else `privateKey` (schnorrkel's raw 64 bytes). The public
 * key is then computed from that secret, and every other field the file has (`publicKey`,
 * `accountId`, `ss58Address`, a `privateKey` beside a seed) must agree with it: ADDRESS_MISMATCH
 * otherwise. A file without any secret is public only (`coldkeypub.txt`).
 */
export async function parseKeypairJson (bytes: Uint8Array, where: string): Promise<BtcliKey> {
  const corrupt = (why: string): WalletError => new WalletError(WalletErrorCode.CORRUPT, `${where}: ${why}`)
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw corrupt('not UTF-8 text (damaged, or encrypted in a format this build does not know)')
  }
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    throw corrupt('not valid keypair JSON (truncated or damaged)')
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw corrupt('keypair JSON is not an object')
  const o = v as Record<string, unknown>
  if (o.cryptoType != null && o.cryptoType !== CRYPTO_SR25519) {
    throw new WalletError(WalletErrorCode.UNSUPPORTED_FORMAT, `${where}: cryptoType ${JSON.stringify(o.cryptoType).slice(0, 20)} is not sr25519 (${CRYPTO_SR25519})`)
  }
  const field = (name: string): string | undefined => {
    const x = o[name]
    if (x == null) return undefined
    if (typeof x !== 'string' || x.length > 1024) throw corrupt(`${name} is not a string`)
    return x
  }
  const hex = (name: string, bytes: number): Uint8Array | undefined => {
    const x = field(name)
    if (x == null) return undefined
    const h = x.startsWith('0x') ? x.slice(2) : x
    if (h.length !== bytes * 2 || !/^[0-9a-fA-F]*$/.test(h)) throw corrupt(`${name} is not ${bytes} bytes of hex`)
    return fromHex(h)
  }
  const phrase = field('secretPhrase')
  const seedField = hex('secretSeed', 32)
  const rawPrivate = hex('privateKey', 64)
  const publicField = hex('publicKey', 32)
  const accountId = hex('accountId', 32)
  const ss58Field = field('ss58Address')

  let secret: KeyMaterial | undefined
  if (phrase != null) {
    const m = phrase.normalize('NFKD').trim().split(/\s+/).join(' ')
    if (!isValidMnemonic(m)) throw corrupt('secretPhrase is not a valid BIP-39 phrase')
    const seed = mnemonicToMiniSecret(m)
    if (seedField != null && !bytesEqual(seed, seedField)) throw mismatch(where, 'secretSeed does not belong to secretPhrase')
    secret = { ...sr25519FromSeed(seed), seed, mnemonic: m }
  } else if (seedField != null) {
    secret = { ...sr25519FromSeed(seedField), seed: seedField }
  } else if (rawPrivate != null) {
    // [CORRUPT] a scalar the curve refuses (zero, say) is not a key, whichever step finds it
    try {
      const secretKey = schnorrkelToPolkadotSecret(rawPrivate)
      secret = { publicKey: sr25519PublicFromSecret(secretKey), secretKey }
    } catch {
      throw corrupt('privateKey is not a valid sr25519 secret')
    }
  }
  // a privateKey beside a phrase or seed must be that key's own (btwallet writes both)
  if (secret != null && rawPrivate != null && !bytesEqual(polkadotToSchnorrkelSecret(secret.secretKey), rawPrivate)) {
    throw mismatch(where, 'privateKey does not belong to the secret phrase or seed')
  }

  let publicKey = secret?.publicKey ?? publicField ?? accountId
  if (publicKey == null && ss58Field != null) publicKey = ss58AccountId(ss58Field, where)
  if (publicKey == null) throw corrupt('holds neither a key nor an address')
  for (const [name, value] of [['publicKey', publicField], ['accountId', accountId]] as const) {
    if (value != null && !bytesEqual(value, publicKey)) throw mismatch(where, `${name} is not the key's public key`)
  }
  const ss58Address = encodeSs58(publicKey, SS58_PREFIX)
  if (ss58Field != null && !bytesEqual(ss58AccountId(ss58Field, where), publicKey)) {
    throw mismatch(where, `ss58Address ${ss58Field} is not the key's address ${ss58Address}`)
  }
  return { publicKey, ss58Address, ...(secret != null ? { secret } : {}) }
}

/**
 * The keypair JSON btwallet writes (`serialized_keypair_to_keyfile_data`): compact, with the fields
 * a key has. `cryptoType` is left out: btwallet 4.0 reads every field as a string and refuses a
 * number, while 4.1 takes a missing `cryptoType` as sr25519.
 */
export function formatKeypairJson (key: { publicKey: Uint8Array, secret?: KeyMaterial }): string {
  const pub = toHex0x(key.publicKey)
  const o: Record<string, string> = { accountId: pub, publicKey: pub }
  if (key.secret != null) {
    o.privateKey = toHex0x(polkadotToSchnorrkelSecret(key.secret.secretKey))
    if (key.secret.mnemonic != null) o.secretPhrase = key.secret.mnemonic
    if (key.secret.seed != null) o.secretSeed = toHex0x(key.secret.seed)
  }
  o.ss58Address = encodeSs58(key.publicKey, SS58_PREFIX)
  return JSON.stringify(o)
}

function ss58AccountId (s: string, where: string): Uint8Array {
  try {
    return decodeSs58(s).accountId
  } catch {
    throw new WalletError(WalletErrorCode.CORRUPT, `${where}: ss58Address ${JSON.stringify(s.slice(0, 60))} is not an ss58 address`)
  }
}

function mismatch (where: string, why: string): WalletError {
  return new WalletError(WalletErrorCode.ADDRESS_MISMATCH, `${where}: ${why}`)
}

function leToBigint (b: Uint8Array): bigint {
  let n = 0n
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i])
  return n
}

function bigintToLe (n: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len)
  for (let i = 0; i < len; i++) {
    out[i] = Number(n & 0xffn)
    n >>= 8n
  }
  return out
}
