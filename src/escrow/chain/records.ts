/**
 * The escrow records written on chain with `system.remarkWithEvent` (subtensor) or into the
 * embedded ledger. One JSON object, keys in a fixed order, amounts as decimal strings, so that a
 * record can be read back and compared by anyone with a chain explorer.
 */
import type { EscrowAsset, EscrowTermsOnChain, Settlement } from './port.js'

export const RECORD_PREFIX = 'bazaar-escrow-v1:'

export interface OpenRecord {
  v: 1
  kind: 'open'
  escrowId: string
  agreementHash: string
  payer: string
  payee: string
  arbiter: string
  amount: string
  asset: 'alpha' | 'tao'
  netuid: number
  voucherKey: string
  expiresAt: number
}

export interface CloseRecord {
  v: 1
  kind: 'close' | 'refund'
  escrowId: string
  settlement: Settlement['kind']
  payouts: Array<{ to: string, amount: string }>
  voucherCumulative?: string
  voucherSequence?: string
  /**
   * What the chain moves where it differs from `payouts` (subtensor alpha escrows): the payer's
   * payout also returns what the escrow holds over its amount, and a payee share too small to move
   * as stake is carried into the refund (`carried`, rao).
   */
  moved?: Array<{ to: string, amount: string }>
  carried?: string
}

export type EscrowRecordDoc = OpenRecord | CloseRecord

export function openRecord (terms: EscrowTermsOnChain, asset: EscrowAsset): OpenRecord {
  return {
    v: 1,
    kind: 'open',
    escrowId: terms.escrowId,
    agreementHash: terms.agreementHash,
    payer: terms.payer,
    payee: terms.payee,
    arbiter: terms.arbiter,
    amount: terms.amount.toString(),
    asset: asset.kind,
    netuid: terms.netuid,
    voucherKey: terms.voucherKey,
    expiresAt: terms.expiresAt
  }
}

export function closeRecord (s: Settlement): CloseRecord {
  const rec: CloseRecord = {
    v: 1,
    kind: s.kind === 'refund' ? 'refund' : 'close',
    escrowId: s.escrowId,
    settlement: s.kind,
    payouts: s.payouts.map((p) => ({ to: p.to, amount: p.amount.toString() }))
  }
  if (s.voucher != null) {
    rec.voucherCumulative = s.voucher.cumulative.toString()
    rec.voucherSequence = s.voucher.sequence.toString()
  }
  return rec
}

/** The remark text: a fixed prefix and the JSON document. */
export function encodeRecord (doc: EscrowRecordDoc): string {
  return RECORD_PREFIX + JSON.stringify(doc)
}

/**
 * The settlement a close or refund record was written for, as far as the record holds it: a record
 * keeps a voucher's cumulative amount and sequence, not its signature ('' here). Undefined for a
 * record whose fields do not read as a settlement (records are public).
 */
export function settlementOfClose (doc: CloseRecord): Settlement | undefined {
  if (!Array.isArray(doc.payouts) || typeof doc.settlement !== 'string') return undefined
  try {
    const s: Settlement = { escrowId: doc.escrowId, kind: doc.settlement, payouts: doc.payouts.map((p) => ({ to: String(p.to), amount: BigInt(p.amount) })) }
    if (doc.voucherCumulative != null && doc.voucherSequence != null) {
      s.voucher = { cumulative: BigInt(doc.voucherCumulative), sequence: BigInt(doc.voucherSequence), signature: '' }
    }
    return s
  } catch {
    return undefined
  }
}

/** Parses a remark written by `encodeRecord`; undefined for anything else (remarks are public). */
export function decodeRecord (remark: string): EscrowRecordDoc | undefined {
  if (!remark.startsWith(RECORD_PREFIX) || remark.length > 4096) return undefined
  try {
    const doc = JSON.parse(remark.slice(RECORD_PREFIX.length)) as EscrowRecordDoc
    if (doc?.v !== 1 || typeof doc.escrowId !== 'string') return undefined
    if (doc.kind !== 'open' && doc.kind !== 'close' && doc.kind !== 'refund') return undefined
    return doc
  } catch {
    return undefined
  }
}
