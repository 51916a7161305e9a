import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto'
import {
  DEFAULT_SCRYPT, IV_LEN, KEY_LEN, MAX_KEY_FILE_BYTES, SALT_LEN, SCRYPT_BOUNDS, SEALED_FILE_VERSION, TAG_LEN,
  type ScryptParams
} from './constants.js'
import { KeystoreError, KeystoreErrorCode } from './errors.js'

/**
 * A file sealed with a passphrase: scrypt (RFC 7914) derives a 256-bit key from the passphrase and a
 * random salt, AES-256-GCM (NIST SP 800-38D) encrypts the payload. Every field outside the ciphertext
 * (version, kind, KDF parameters, the public summary) is bound as additional authenticated data, so
 * editing any of them makes the file fail to open rather than lie.
 *
 * Binary fields are base64. On disk:
 * `{ version, kind, kdf: { name: 'scrypt', N, r, p, dkLen }, salt, cipher: 'aes-256-gcm', iv, tag,
 *    ciphertext, public }`
 */
export interface SealedFile {
  version: typeof SEALED_FILE_VERSION
  kind: string
  kdf: { name: 'scrypt', N: number, r: number, p: number, dkLen: number }
  salt: string
  cipher: 'aes-256-gcm'
  iv: string
  tag: string
  ciphertext: string
  /** non-secret facts shown without the passphrase (addresses, peer id); authenticated */
  public: Record<string, string>
}

export interface SealOptions {
  /** scrypt cost; defaults to DEFAULT_SCRYPT. Lower it only in tests. */
  scrypt?: ScryptParams
  public?: Record<string, string>
}

/** Encrypts `plaintext` under `passphrase`. */
export async function seal (kind: string, plaintext: Uint8Array, passphrase: string, opts: SealOptions = {}): Promise<SealedFile> {
  const params = opts.scrypt ?? DEFAULT_SCRYPT
  checkScrypt(params, KeystoreErrorCode.INVALID_OPTIONS)
  const salt = randomBytes(SALT_LEN)
  const iv = randomBytes(IV_LEN)
  const head: Omit<SealedFile, 'iv' | 'tag' | 'ciphertext'> = {
    version: SEALED_FILE_VERSION,
    kind,
    kdf: { name: 'scrypt', N: params.N, r: params.r, p: params.p, dkLen: KEY_LEN },
    salt: salt.toString('base64'),
    cipher: 'aes-256-gcm',
    public: { ...(opts.public ?? {}) }
  }
  const key = await deriveKey(passphrase, salt, params)
  try {
    const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LEN })
    c.setAAD(associatedData(head))
    const ct = Buffer.concat([c.update(plaintext), c.final()])
    return { ...head, iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64'), ciphertext: ct.toString('base64') }
  } finally {
    key.fill(0)
  }
}

/**
 * Decrypts a sealed file. A wrong passphrase and a tampered file are indistinguishable by design
 * (both fail GCM authentication) and both raise WRONG_PASSPHRASE. `where` names the file in the message.
 */
export async function unseal (file: SealedFile, passphrase: string, where: string): Promise<Uint8Array> {
  const key = await deriveKey(passphrase, Buffer.from(file.salt, 'base64'), file.kdf)
  try {
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(file.iv, 'base64'), { authTagLength: TAG_LEN })
    d.setAAD(associatedData(file))
    d.setAuthTag(Buffer.from(file.tag, 'base64'))
    const pt = d.update(Buffer.from(file.ciphertext, 'base64'))
    try {
      return new Uint8Array(Buffer.concat([pt, d.final()]))
    } catch (err) {
      pt.fill(0)
      throw new KeystoreError(KeystoreErrorCode.WRONG_PASSPHRASE, `wrong passphrase for ${where} (or the file was altered)`, { cause: err })
    }
  } finally {
    key.fill(0)
  }
}

/**
 * Parses and validates the text of a sealed file of the expected `kind`: size cap, JSON, then every
 * field's type and bounds. `where` names the file in error messages.
 */
export function parseSealedFile (text: string, kind: string, where: string): SealedFile {
  const corrupt = (why: string): KeystoreError => new KeystoreError(KeystoreErrorCode.CORRUPT, `${where}: ${why}`)
  if (Buffer.byteLength(text) > MAX_KEY_FILE_BYTES) throw corrupt(`larger than ${MAX_KEY_FILE_BYTES} bytes`)
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    throw corrupt('not valid JSON')
  }
  if (!isRecord(v)) throw corrupt('not a JSON object')
  if (v.version !== SEALED_FILE_VERSION) {
    throw new KeystoreError(KeystoreErrorCode.UNSUPPORTED_VERSION, `${where}: format version ${String(v.version)} is not supported (expected ${SEALED_FILE_VERSION})`)
  }
  if (v.kind !== kind) throw corrupt(`kind is ${JSON.stringify(v.kind)}, expected ${JSON.stringify(kind)}`)
  if (v.cipher !== 'aes-256-gcm') throw corrupt('cipher must be aes-256-gcm')
  const kdf = v.kdf
  if (!isRecord(kdf) || kdf.name !== 'scrypt') throw corrupt('kdf.name must be scrypt')
  if (kdf.dkLen !== KEY_LEN) throw corrupt(`kdf.dkLen must be ${KEY_LEN}`)
  const params = { N: kdf.N, r: kdf.r, p: kdf.p }
  checkScrypt(params, KeystoreErrorCode.CORRUPT, where)
  const salt = b64Field(v, 'salt', where, (n) => n >= 16 && n <= 64)
  const iv = b64Field(v, 'iv', where, (n) => n === IV_LEN)
  const tag = b64Field(v, 'tag', where, (n) => n === TAG_LEN)
  const ciphertext = b64Field(v, 'ciphertext', where, (n) => n > 0)
  const pub = v.public ?? {}
  if (!isRecord(pub) || !Object.values(pub).every((x) => typeof x === 'string')) throw corrupt('public must map names to strings')
  return {
    version: SEALED_FILE_VERSION,
    kind,
    kdf: { name: 'scrypt', N: params.N as number, r: params.r as number, p: params.p as number, dkLen: KEY_LEN },
    salt,
    cipher: 'aes-256-gcm',
    iv,
    tag,
    ciphertext,
    public: pub as Record<string, string>
  }
}

/** Serialises a sealed file for disk (stable key order, trailing newline). */
export function formatSealedFile (f: SealedFile): string {
  return JSON.stringify({
    version: f.version,
    kind: f.kind,
    kdf: f.kdf,
    salt: f.salt,
    cipher: f.cipher,
    iv: f.iv,
    tag: f.tag,
    ciphertext: f.ciphertext,
    public: f.public
  }, null, 2) + '\n'
}

/** The bytes bound into GCM's tag besides the ciphertext: every header field, in a fixed order. */
function associatedData (f: Pick<SealedFile, 'version' | 'kind' | 'kdf' | 'salt' | 'cipher' | 'public'>): Buffer {
  const pub = Object.keys(f.public).sort().map((k) => [k, f.public[k]])
  return Buffer.from(JSON.stringify([f.version, f.kind, f.kdf.name, f.kdf.N, f.kdf.r, f.kdf.p, f.kdf.dkLen, f.salt, f.cipher, pub]))
}

async function deriveKey (passphrase: string, salt: Buffer, params: { N: number, r: number, p: number }): Promise<Buffer> {
  // NFKC as in BIP-39 section "From mnemonic to seed": the same passphrase typed on another system
  // (composed vs decomposed accents) must open the file.
  const pw = Buffer.from(passphrase.normalize('NFKC'), 'utf8')
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      // scrypt needs 128 * N * r bytes; leave headroom above it (Node's default cap is 32 MiB).
      scrypt(pw, salt, KEY_LEN, { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 }, (err, key) => {
        if (err != null) reject(err)
        else resolve(key)
      })
    })
  } finally {
    pw.fill(0)
  }
}

function checkScrypt (p: { N: unknown, r: unknown, p: unknown }, code: KeystoreErrorCode, where = 'scrypt'): void {
  const b = SCRYPT_BOUNDS
  const okN = Number.isSafeInteger(p.N) && (p.N as number) >= 2 ** b.minLog2N && (p.N as number) <= 2 ** b.maxLog2N &&
    ((p.N as number) & ((p.N as number) - 1)) === 0
  const okR = Number.isSafeInteger(p.r) && (p.r as number) >= 1 && (p.r as number) <= b.maxR
  const okP = Number.isSafeInteger(p.p) && (p.p as number) >= 1 && (p.p as number) <= b.maxP
  if (!okN || !okR || !okP) {
    throw new KeystoreError(code, `${where}: scrypt parameters out of bounds (N a power of two in 2^${b.minLog2N}..2^${b.maxLog2N}, r 1..${b.maxR}, p 1..${b.maxP})`)
  }
  const { N, r, p: par } = p as ScryptParams
  if (128 * N * r > b.maxMemory || N * r * par > b.maxCost) {
    throw new KeystoreError(code, `${where}: scrypt parameters too costly (128·N·r at most ${b.maxMemory / 2 ** 20} MiB, N·r·p at most ${b.maxCost})`)
  }
}

function b64Field (v: Record<string, unknown>, name: string, where: string, okLen: (n: number) => boolean): string {
  const s = v[name]
  if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) {
    throw new KeystoreError(KeystoreErrorCode.CORRUPT, `${where}: ${name} must be base64`)
  }
  if (!okLen(Buffer.from(s, 'base64').length)) throw new KeystoreError(KeystoreErrorCode.CORRUPT, `${where}: ${name} has a bad length`)
  return s
}

function isRecord (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
