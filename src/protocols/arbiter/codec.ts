/**
 * Conversions between the arbiter wire messages (../schema/arbiter.proto) and the escrow's domain
 * types. Decoding validates every field of the untrusted request and throws
 * ArbiterProtocolError('MALFORMED') for anything out of shape; the rules then judge the content.
 */
import type { ChainRecord, RecordKind } from '../../escrow/chain/port.js'
import type { ArbiterRequest } from '../../escrow/arbiter/rules.js'
import type { ArbiterResponse } from '../../escrow/arbiter/service.js'
import { MAX_PAYOUTS } from '../../escrow/constants.js'
import type { EscrowErrorCode } from '../../escrow/errors.js'
import { fromHex, toHex0x } from '../../util/hex.js'
import type { Settlement, SignedVoucher } from '../../escrow/types.js'
import type { ArbiterRequest as WireRequest, ArbiterResponse as WireResponse, ArbiterVoucher } from '../../wire/arbiter.js'
import { ArbiterProtocolError } from './errors.js'

const KINDS = new Set<string>(['cooperative', 'voucher', 'refund'])
const RECORD_KINDS = new Set<string>(['open', 'close', 'refund'])
const MAX_ADDRESS = 64
const MAX_TEXT = 4096

const bytes = (hex: string): Uint8Array<ArrayBuffer> => new Uint8Array(fromHex(hex))

function malformed (what: string): never {
  throw new ArbiterProtocolError('MALFORMED', `bad ${what}`)
}

function id32 (b: Uint8Array, what: string): string {
  if (b.length !== 32) malformed(what)
  return toHex0x(b)
}

function address (s: string, what: string): string {
  if (s.length === 0 || s.length > MAX_ADDRESS) malformed(what)
  return s
}

/** fixed64 fields read back signed (protons-runtime 7): the schema carries 0 <= x < 2^63 only */
function u63 (x: bigint, what: string): bigint {
  if (x < 0n) malformed(what)
  return x
}

function wireVoucher (v: { cumulative: bigint, sequence: bigint, signature: string }): ArbiterVoucher {
  return { cumulative: v.cumulative, sequence: v.sequence, signature: bytes(v.signature) }
}

function domainVoucher (escrowId: string, v: ArbiterVoucher): SignedVoucher {
  if (v.signature.length !== 64) malformed('voucher signature')
  return { escrowId, cumulative: u63(v.cumulative, 'voucher amount'), sequence: u63(v.sequence, 'voucher sequence'), signature: toHex0x(v.signature) }
}

export function requestToWire (r: ArbiterRequest): WireRequest {
  const t = r.terms
  const s = r.settlement
  const settlement: NonNullable<WireRequest['settlement']> = { escrowId: bytes(s.escrowId), kind: s.kind, payouts: s.payouts.map((p) => ({ to: p.to, amount: p.amount })) }
  if (s.voucher != null) settlement.voucher = wireVoucher(s.voucher)
  const w: WireRequest = {
    terms: {
      escrowId: bytes(t.escrowId), agreementHash: bytes(t.agreementHash), payer: t.payer, payee: t.payee, arbiter: t.arbiter,
      amount: t.amount, netuid: t.netuid, voucherKey: bytes(t.voucherKey), expiresAt: BigInt(t.expiresAt)
    },
    settlement,
    signature: r.signature != null ? bytes(r.signature) : new Uint8Array(0)
  }
  if (r.voucher != null) w.voucher = wireVoucher(r.voucher)
  return w
}

export function requestFromWire (w: WireRequest): ArbiterRequest {
  const t = w.terms
  const s = w.settlement
  if (t == null || s == null) malformed('request')
  if (t.expiresAt < 0n || t.expiresAt > BigInt(Number.MAX_SAFE_INTEGER)) malformed('expiry')
  if (!KINDS.has(s.kind)) malformed('settlement kind')
  if (s.payouts.length === 0 || s.payouts.length > MAX_PAYOUTS) malformed('payouts')
  const escrowId = id32(t.escrowId, 'escrow id')
  const settlement: Settlement = {
    escrowId: id32(s.escrowId, 'settlement escrow id'),
    kind: s.kind as Settlement['kind'],
    payouts: s.payouts.map((p) => ({ to: address(p.to, 'payout address'), amount: u63(p.amount, 'payout amount') }))
  }
  if (s.voucher != null) {
    const v = domainVoucher(settlement.escrowId, s.voucher)
    settlement.voucher = { cumulative: v.cumulative, sequence: v.sequence, signature: v.signature }
  }
  const req: ArbiterRequest = {
    terms: {
      escrowId,
      agreementHash: id32(t.agreementHash, 'agreement hash'),
      payer: address(t.payer, 'payer'),
      payee: address(t.payee, 'payee'),
      arbiter: address(t.arbiter, 'arbiter'),
      amount: u63(t.amount, 'amount'),
      netuid: t.netuid,
      voucherKey: id32(t.voucherKey, 'voucher key'),
      expiresAt: Number(t.expiresAt)
    },
    settlement
  }
  if (w.voucher != null) req.voucher = domainVoucher(settlement.escrowId, w.voucher)
  // absent (empty) stays absent: the arbiter refuses it as UNSIGNED_REQUEST, a wrong length as malformed
  if (w.signature.length > 0) {
    if (w.signature.length !== 64) malformed('signature')
    req.signature = toHex0x(w.signature)
  }
  return req
}

export function responseToWire (r: ArbiterResponse): WireResponse {
  if (!r.approved) {
    const w: WireResponse = { approved: false, executed: false, reason: r.reason }
    if (r.voucher != null) w.voucher = wireVoucher(r.voucher)
    return w
  }
  const w: WireResponse = { approved: true, executed: r.executed, reason: '' }
  if (r.record != null) {
    w.record = { kind: r.record.kind, blockNumber: BigInt(r.record.blockNumber), blockHash: r.record.blockHash, txHash: r.record.txHash, remark: r.record.remark }
  }
  return w
}

/** The arbiter's answer; `escrowId` fills in the record (the wire does not repeat it). */
export function responseFromWire (w: WireResponse, escrowId: string): ArbiterResponse {
  if (!w.approved) {
    if (w.reason.length === 0 || w.reason.length > 64 || !/^[A-Z_]+$/.test(w.reason)) malformed('reason')
    const reason = w.reason as EscrowErrorCode
    // the voucher of a pending close comes only with its refusal; the payer checks its signature
    if (w.voucher != null && reason === 'VOUCHER_CLOSE_PENDING') return { approved: false, reason, voucher: domainVoucher(escrowId, w.voucher) }
    return { approved: false, reason }
  }
  if (w.record == null) return { approved: true, executed: w.executed }
  const r = w.record
  if (!RECORD_KINDS.has(r.kind) || r.remark.length > MAX_TEXT || r.blockHash.length > 130 || r.txHash.length > 130 ||
    r.blockNumber < 0n || r.blockNumber > BigInt(Number.MAX_SAFE_INTEGER)) malformed('record')
  const record: ChainRecord = { kind: r.kind as RecordKind, escrowId, blockNumber: Number(r.blockNumber), blockHash: r.blockHash, txHash: r.txHash, remark: r.remark }
  return { approved: true, executed: w.executed, record }
}
