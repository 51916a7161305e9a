/**
 * Canonical voucher bytes, the only bytes a voucher key ever signs (73 bytes):
 *
 * | offset | size | field                                              |
 * | ------ | ---- | -------------------------------------------------- |
 * | 0      | 17   | ASCII domain tag "bazaar-voucher-v1" (no length)   |
 * | 17     | 32   | escrow id                                          |
 * | 49     | 16   | cumulative amount, u128 big-endian (base units)    |
 * | 65     | 8    | sequence, u64 big-endian                           |
 *
 * The domain tag keeps a voucher signature from ever being valid for another message type signed
 * by the same key; the fixed layout leaves exactly one encoding per voucher. The amount field is a
 * u128 like Substrate's `Balance`.
 */
import { VOUCHER_DOMAIN, MAX_AMOUNT, MAX_SEQUENCE } from '../constants.js'
import { EscrowError } from '../errors.js'
import { isHex32 } from '../hex.js'
import { fromHex } from '../../util/hex.js'
import type { Voucher } from '../types.js'

const DOMAIN = new TextEncoder().encode(VOUCHER_DOMAIN)
export const VOUCHER_BYTES_LENGTH = DOMAIN.length + 32 + 16 + 8

/** The canonical bytes of a voucher; throws MALFORMED_VOUCHER for out-of-range fields. */
export function voucherBytes (v: Voucher): Uint8Array {
  if (!isHex32(v.escrowId)) throw new EscrowError('MALFORMED_VOUCHER', 'escrow id must be 32 bytes of 0x-hex')
  if (typeof v.cumulative !== 'bigint' || v.cumulative < 0n || v.cumulative > MAX_AMOUNT) {
    throw new EscrowError('MALFORMED_VOUCHER', 'cumulative out of range')
  }
  if (typeof v.sequence !== 'bigint' || v.sequence < 1n || v.sequence > MAX_SEQUENCE) {
    throw new EscrowError('MALFORMED_VOUCHER', 'sequence out of range')
  }
  const out = new Uint8Array(VOUCHER_BYTES_LENGTH)
  out.set(DOMAIN, 0)
  out.set(fromHex(v.escrowId), DOMAIN.length)
  const view = new DataView(out.buffer)
  const at = DOMAIN.length + 32
  view.setBigUint64(at, v.cumulative >> 64n)
  view.setBigUint64(at + 8, v.cumulative & 0xffff_ffff_ffff_ffffn)
  view.setBigUint64(at + 16, v.sequence)
  return out
}
