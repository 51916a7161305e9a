/**
 * The bytes an approver signs for a settlement, and for opening an escrow, on ledgers that verify
 * signatures themselves (the embedded ledger). UTF-8 of the domain tag, a colon, and a JSON object
 * with keys in a fixed order and amounts as decimal strings: one encoding per settlement, readable
 * by a person checking what they sign.
 *
 *   "bazaar-settlement-v1:" {"escrowId","kind","payouts":[{"to","amount"}...],"voucher":{"cumulative","sequence","signature"}?}
 *   "bazaar-open-v1:"       the open record of records.ts
 */
import { blake2b256 } from '../../util/blake2.js'
import { toHex0x } from '../../util/hex.js'
import { OPEN_DOMAIN, SETTLEMENT_DOMAIN } from '../constants.js'
import type { EscrowAsset, EscrowTermsOnChain, Settlement } from './port.js'
import { openRecord } from './records.js'

const enc = new TextEncoder()

export function settlementBytes (s: Settlement): Uint8Array {
  const doc: Record<string, unknown> = {
    escrowId: s.escrowId,
    kind: s.kind,
    payouts: s.payouts.map((p) => ({ to: p.to, amount: p.amount.toString() }))
  }
  if (s.voucher != null) {
    doc.voucher = { cumulative: s.voucher.cumulative.toString(), sequence: s.voucher.sequence.toString(), signature: s.voucher.signature }
  }
  return enc.encode(`${SETTLEMENT_DOMAIN}:${JSON.stringify(doc)}`)
}

/** blake2-256 of the settlement bytes: the identity approvals are counted under. */
export function settlementHash (s: Settlement): string {
  return toHex0x(blake2b256(settlementBytes(s)))
}

export function openBytes (terms: EscrowTermsOnChain, asset: EscrowAsset): Uint8Array {
  return enc.encode(`${OPEN_DOMAIN}:${JSON.stringify(openRecord(terms, asset))}`)
}
