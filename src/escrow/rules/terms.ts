import { decodeSs58 } from '../../util/ss58.js'
import { MAX_AMOUNT } from '../constants.js'
import type { EscrowErrorCode } from '../errors.js'
import { isHex32 } from '../hex.js'
import { bytesEqual } from '../../util/bytes.js'
import type { EscrowTerms } from '../types.js'

/** true for a well-formed ss58 address (checksum included). */
export function isAddress (s: unknown): s is string {
  if (typeof s !== 'string' || s.length > 64) return false
  try {
    return decodeSs58(s).accountId.length === 32
  } catch {
    return false
  }
}

/**
 * Why the terms cannot open an escrow, or undefined when they can. `now` is only used to refuse
 * an expiry already past.
 */
export function checkTerms (t: EscrowTerms, now: number): EscrowErrorCode | undefined {
  // [REJECT] ids are 32 bytes of lowercase 0x-hex
  if (!isHex32(t.escrowId) || !isHex32(t.agreementHash) || !isHex32(t.voucherKey)) return 'INVALID_TERMS'
  // [REJECT] the three signatories are valid and distinct accounts
  if (!isAddress(t.payer) || !isAddress(t.payee) || !isAddress(t.arbiter)) return 'INVALID_TERMS'
  const keys = new Set([t.payer, t.payee, t.arbiter].map((a) => decodeSs58(a).accountId.join(',')))
  if (keys.size !== 3) return 'INVALID_TERMS'
  // [REJECT] a positive amount the wire formats can carry
  if (typeof t.amount !== 'bigint' || t.amount <= 0n || t.amount > MAX_AMOUNT) return 'INVALID_TERMS'
  if (!Number.isSafeInteger(t.netuid) || t.netuid < 0 || t.netuid > 0xffff) return 'INVALID_TERMS'
  // [REJECT] the expiry is in the future
  if (!Number.isSafeInteger(t.expiresAt) || t.expiresAt <= now) return 'INVALID_TERMS'
  return undefined
}

/** true when two sets of terms are the same in every field. */
export function termsEqual (a: EscrowTerms, b: EscrowTerms): boolean {
  return a.escrowId === b.escrowId && a.agreementHash === b.agreementHash && a.payer === b.payer &&
    a.payee === b.payee && a.arbiter === b.arbiter && a.amount === b.amount && a.netuid === b.netuid &&
    a.voucherKey === b.voucherKey && a.expiresAt === b.expiresAt
}

/** true when two ss58 addresses name the same account (whatever their prefix). */
export function sameAccount (a: string, b: string): boolean {
  if (!isAddress(a) || !isAddress(b)) return false
  const x = decodeSs58(a).accountId
  const y = decodeSs58(b).accountId
  return bytesEqual(x, y)
}
