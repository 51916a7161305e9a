import { randomBytes } from 'node:crypto'
import { readdir, unlink } from 'node:fs/promises'
import path from 'node:path'
import { VoucherSigner } from '../../escrow/index.js'
import { isHex32 } from '../../escrow/hex.js'
import { DIR_MODE, ensureHome, homePaths } from '../home.js'
import { MAX_KEY_FILE_BYTES, VOUCHER_KEY_KIND, type ScryptParams } from './constants.js'
import { KeystoreError, KeystoreErrorCode } from './errors.js'
import { readSmallFile, writeSecretFile } from './files.js'
import { formatSealedFile, parseSealedFile, seal, unseal } from './sealed.js'
import { makeDirs } from '../../util/fs.js'

/** Most voucher key files a home may hold that `list` reads; a renter has a few open escrows at once. */
export const MAX_VOUCHER_KEYS = 10_000

const FILE_SUFFIX = '.key'

export interface VoucherKeyVaultOptions {
  /** internal: scrypt cost, lowered by tests; defaults to DEFAULT_SCRYPT */
  scrypt?: ScryptParams
}

/**
 * The renter's per-escrow voucher keys, sealed at rest like the keystore (same passphrase, kind
 * `bazaar-voucher-key`) in `<home>/voucher-keys/<escrow id>.key`.
 *
 * The escrow's terms name the voucher key, and only that key's vouchers pay the supplier. A key
 * that lived only in memory would die with the renter's process: a restarted renter could not sign
 * for its own escrow any more. So the key is written (fsync, atomically) before the escrow that
 * names it is opened, and removed once the escrow has settled on chain. The escrow id and the
 * public key are in the authenticated public part, so one escrow's file cannot pass for another's.
 */
export class VoucherKeyVault {
  private readonly dir: string
  constructor (private readonly home: string, private readonly passphrase: string, private readonly opts: VoucherKeyVaultOptions = {}) {
    this.dir = homePaths(home).voucherKeys
  }

  /**
   * Generates the voucher key of `escrowId` and stores it durably before returning it. An escrow id
   * that already has a key is refused (KEY_EXISTS): a second key would make the first one's
   * vouchers unverifiable against terms that name it.
   */
  async create (escrowId: string): Promise<VoucherSigner> {
    const file = this.file(escrowId)
    await ensureHome(this.home)
    await makeDirs(this.dir, DIR_MODE)
    const seed = randomBytes(32)
    try {
      const signer = VoucherSigner.fromSeed(seed)
      const sealed = await seal(VOUCHER_KEY_KIND, seed, this.passphrase, {
        scrypt: this.opts.scrypt,
        public: { escrowId: escrowId.toLowerCase(), voucherKey: signer.publicKeyHex }
      })
      if (!await writeSecretFile(file, formatSealedFile(sealed), { exclusive: true })) {
        throw new KeystoreError(KeystoreErrorCode.ALREADY_INITIALIZED, `${file}: escrow ${escrowId} already has a voucher key`)
      }
      return signer
    } finally {
      seed.fill(0)
    }
  }

  /**
   * The voucher key of `escrowId`; undefined when none is stored. WRONG_PASSPHRASE when the home's
   * passphrase does not open it, CORRUPT for a damaged file or one of another escrow.
   */
  async load (escrowId: string): Promise<VoucherSigner | undefined> {
    const where = this.file(escrowId)
    const text = await readSmallFile(where, MAX_KEY_FILE_BYTES,
      (why) => new KeystoreError(KeystoreErrorCode.CORRUPT, `${where}: ${why}`))
    if (text == null) return undefined
    const sealed = parseSealedFile(text, VOUCHER_KEY_KIND, where)
    // [refuse] a file renamed from another escrow: its id is authenticated with the ciphertext
    if (sealed.public.escrowId !== escrowId.toLowerCase()) {
      throw new KeystoreError(KeystoreErrorCode.CORRUPT, `${where}: holds the key of another escrow`)
    }
    const seed = await unseal(sealed, this.passphrase, where)
    try {
      if (seed.length !== 32) throw new KeystoreError(KeystoreErrorCode.CORRUPT, `${where}: the key is not 32 bytes`)
      const signer = VoucherSigner.fromSeed(seed)
      if (signer.publicKeyHex !== sealed.public.voucherKey) throw new KeystoreError(KeystoreErrorCode.CORRUPT, `${where}: the key does not match its public key`)
      return signer
    } finally {
      seed.fill(0)
    }
  }

  /** Forgets the key of a settled escrow; nothing happens when there is none. */
  async remove (escrowId: string): Promise<void> {
    await unlink(this.file(escrowId)).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err })
  }

  /** Escrow ids that have a stored key (at most MAX_VOUCHER_KEYS; other files are ignored). */
  async list (): Promise<string[]> {
    let names: string[]
    try {
      names = await readdir(this.dir)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
    const out: string[] = []
    for (const n of names) {
      if (out.length >= MAX_VOUCHER_KEYS) break
      if (!n.endsWith(FILE_SUFFIX)) continue
      const id = '0x' + n.slice(0, -FILE_SUFFIX.length)
      if (isHex32(id)) out.push(id)
    }
    return out.sort()
  }

  /** The file of an escrow id; anything but 32 bytes of hex is refused before it becomes a path. */
  private file (escrowId: string): string {
    if (!isHex32(escrowId)) throw new KeystoreError(KeystoreErrorCode.INVALID_OPTIONS, `escrow id ${JSON.stringify(String(escrowId).slice(0, 80))} is not 32 bytes of 0x-hex`)
    return path.join(this.dir, escrowId.slice(2).toLowerCase() + FILE_SUFFIX)
  }
}
