import { describe, expect, it } from 'vitest'
import { closeSettlement, refundSettlement } from '../../../src/escrow/rules/settlement.js'
import { signArbiterRequest } from '../../../src/escrow/arbiter/request-signature.js'
import { requestFromWire, requestToWire, responseFromWire, responseToWire } from '../../../src/protocols/arbiter/codec.js'
import { ArbiterProtocolError } from '../../../src/protocols/arbiter/errors.js'
import { ArbiterRequest, ArbiterResponse } from '../../../src/wire/arbiter.js'
import { parties, signer, terms as mkTerms } from './fixtures.js'

const p = await parties()
const t = mkTerms(p)
const v = signer().sign({ escrowId: t.escrowId, cumulative: 5n, sequence: 2n })
const req = signArbiterRequest({ terms: t, settlement: closeSettlement(t, v, 'voucher'), voucher: v }, p.payee)

function code (fn: () => unknown): string | undefined {
  try { fn() } catch (e) { if (e instanceof ArbiterProtocolError) return e.code; throw e }
  return undefined
}

describe('arbiter wire codec', () => {
  it('round-trips requests through protobuf bytes', () => {
    expect(requestFromWire(ArbiterRequest.decode(ArbiterRequest.encode(requestToWire(req))))).toEqual(req)
    const refund = { terms: t, settlement: refundSettlement(t) }
    // unsigned stays unsigned: the arbiter refuses it by its code, not the codec
    expect(requestFromWire(ArbiterRequest.decode(ArbiterRequest.encode(requestToWire(refund))))).toEqual(refund)
  })

  it('round-trips responses', () => {
    const approved = { approved: true as const, executed: true, record: { kind: 'close' as const, escrowId: t.escrowId, blockNumber: 9, blockHash: '0x01', txHash: '0x02', remark: 'r' } }
    expect(responseFromWire(ArbiterResponse.decode(ArbiterResponse.encode(responseToWire(approved))), t.escrowId)).toEqual(approved)
    const refused = { approved: false as const, reason: 'NOT_EXPIRED' as const }
    expect(responseFromWire(ArbiterResponse.decode(ArbiterResponse.encode(responseToWire(refused))), t.escrowId)).toEqual(refused)
    // a refused refund names the voucher of the close the arbiter co-signed
    const pending = { approved: false as const, reason: 'VOUCHER_CLOSE_PENDING' as const, voucher: v }
    expect(responseFromWire(ArbiterResponse.decode(ArbiterResponse.encode(responseToWire(pending))), t.escrowId)).toEqual(pending)
  })

  it('reads a voucher in a refusal only with VOUCHER_CLOSE_PENDING, and refuses a malformed one', () => {
    const wire = { approved: false, executed: false, reason: 'NOT_EXPIRED', voucher: { cumulative: 5n, sequence: 2n, signature: new Uint8Array(64) } }
    expect(responseFromWire(wire, t.escrowId)).toEqual({ approved: false, reason: 'NOT_EXPIRED' })
    expect(code(() => responseFromWire({ ...wire, reason: 'VOUCHER_CLOSE_PENDING', voucher: { ...wire.voucher, signature: new Uint8Array(3) } }, t.escrowId))).toBe('MALFORMED')
    expect(code(() => responseFromWire({ ...wire, reason: 'VOUCHER_CLOSE_PENDING', voucher: { ...wire.voucher, cumulative: -1n } }, t.escrowId))).toBe('MALFORMED')
  })

  const good = (): ReturnType<typeof requestToWire> => requestToWire(req)
  it.each<[string, (w: ReturnType<typeof requestToWire>) => void]>([
    ['no terms', (w) => { delete w.terms }],
    ['no settlement', (w) => { delete w.settlement }],
    ['a short escrow id', (w) => { w.terms!.escrowId = new Uint8Array(31) }],
    ['a short voucher key', (w) => { w.terms!.voucherKey = new Uint8Array(16) }],
    ['an unknown settlement kind', (w) => { w.settlement!.kind = 'gift' }],
    ['three payouts', (w) => { w.settlement!.payouts.push({ to: t.payer, amount: 1n }, { to: t.payer, amount: 1n }) }],
    ['no payouts', (w) => { w.settlement!.payouts = [] }],
    ['an over-long address', (w) => { w.settlement!.payouts[0].to = 'x'.repeat(65) }],
    ['a short voucher signature', (w) => { w.voucher!.signature = new Uint8Array(10) }],
    ['a short request signature', (w) => { w.signature = new Uint8Array(63) }],
    ['an expiry beyond 2^53', (w) => { w.terms!.expiresAt = 1n << 60n }],
    ['a negative amount', (w) => { w.terms!.amount = -1n }],
    ['a negative payout', (w) => { w.settlement!.payouts[0].amount = -1n }],
    ['a negative voucher sequence', (w) => { w.voucher!.sequence = -1n }]
  ])('refuses a request with %s', (_n, spoil) => {
    const w = good()
    spoil(w)
    expect(code(() => requestFromWire(w))).toBe('MALFORMED')
  })

  it('refuses a refusal without a code-shaped reason', () => {
    expect(code(() => responseFromWire({ approved: false, executed: false, reason: 'not a code' }, t.escrowId))).toBe('MALFORMED')
  })
})
