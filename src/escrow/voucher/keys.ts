/**
 * Voucher keys are ed25519 through node:crypto (OpenSSL): about 7,000 verifications a second on one
 * core, against about 200 for pure-JS sr25519, so metering at scale is not bound by the signature.
 * The payer's account (sr25519) names the voucher key once, in the escrow terms recorded on chain.
 */
import { randomBytes, sign, type KeyObject } from 'node:crypto'
import { EscrowError } from '../errors.js'
import { isHex32 } from '../hex.js'
import { fromHex, toHex0x } from '../../util/hex.js'
import type { SignedVoucher, Voucher } from '../types.js'
import { voucherBytes } from './bytes.js'
import { ed25519PrivateKeyObject, ed25519PublicKeyObject, ed25519RawPublicKey } from '../../util/ed25519.js'

/** A KeyObject for a raw 32-byte ed25519 public key. */
export function ed25519PublicKey (raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new EscrowError('MALFORMED_VOUCHER', 'ed25519 public key must be 32 bytes')
  return ed25519PublicKeyObject(raw)
}

/** Signs vouchers with the payer's ed25519 voucher key. */
export class VoucherSigner {
  private readonly key: KeyObject
  /** raw 32-byte public key */
  readonly publicKey: Uint8Array
  /** the public key as it appears in the escrow terms (0x-hex) */
  readonly publicKeyHex: string

  private constructor (seed: Uint8Array) {
    this.key = ed25519PrivateKeyObject(seed)
    this.publicKey = ed25519RawPublicKey(this.key)
    this.publicKeyHex = toHex0x(this.publicKey)
  }

  /** From a 32-byte seed (raw bytes or 0x-hex). Keep the seed secret: it spends the escrow. */
  static fromSeed (seed: Uint8Array | string): VoucherSigner {
    if (typeof seed === 'string') {
      if (!isHex32(seed)) throw new EscrowError('MALFORMED_VOUCHER', 'voucher seed must be 32 bytes of 0x-hex')
      seed = fromHex(seed)
    }
    if (seed.length !== 32) throw new EscrowError('MALFORMED_VOUCHER', 'voucher seed must be 32 bytes')
    return new VoucherSigner(seed)
  }

  /** A fresh random key (one per escrow is the intended use). */
  static generate (): VoucherSigner {
    return new VoucherSigner(randomBytes(32))
  }

  /** Signs the canonical bytes of `v`. */
  sign (v: Voucher): SignedVoucher {
    const sig = sign(null, voucherBytes(v), this.key)
    return { escrowId: v.escrowId, cumulative: v.cumulative, sequence: v.sequence, signature: toHex0x(sig) }
  }
}
