import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { step, checkClosingVoucher, type EscrowEvent } from '../../../src/escrow/rules/machine.js'
import { checkVoucher } from '../../../src/escrow/rules/voucher.js'
import { checkTerms } from '../../../src/escrow/rules/terms.js'
import { checkSettlementShape, closeSettlement, refundSettlement, settlementsEqual } from '../../../src/escrow/rules/settlement.js'
import { VoucherSigner } from '../../../src/escrow/voucher/keys.js'
import type { EscrowState, EscrowTerms, SignedVoucher } from '../../../src/escrow/types.js'
import { escrowId, parties, signer, T0, terms as mkTerms, type Parties } from './fixtures.js'

const p: Parties = await parties()
const t: EscrowTerms = mkTerms(p)
const s = signer()
const v = (cumulative: bigint, sequence: bigint, id?: string): SignedVoucher => s.sign({ escrowId: id ?? t.escrowId, cumulative, sequence })

describe('terms', () => {
  it('accepts well-formed terms', () => {
    expect(checkTerms(t, T0)).toBeUndefined()
  })
  it.each<[string, (t: EscrowTerms) => Partial<EscrowTerms>]>([
    ['short escrow id', () => ({ escrowId: '0x12' })],
    ['bad agreement hash', () => ({ agreementHash: 'ab'.repeat(32) })],
    ['bad voucher key', () => ({ voucherKey: '0x' + 'zz'.repeat(32) })],
    ['payer not an address', () => ({ payer: '5Fake' })],
    ['payer equals payee', (x) => ({ payee: x.payer })],
    ['arbiter equals payer', (x) => ({ arbiter: x.payer })],
    ['zero amount', () => ({ amount: 0n })],
    ['amount over u64', () => ({ amount: 1n << 64n })],
    ['amount at 2^63', () => ({ amount: 1n << 63n })],
    ['negative netuid', () => ({ netuid: -1 })],
    ['expiry in the past', () => ({ expiresAt: T0 - 1 })],
    ['expiry now', () => ({ expiresAt: T0 })]
  ])('refuses %s with INVALID_TERMS', (_name, change) => {
    expect(checkTerms({ ...t, ...change(t) }, T0)).toBe('INVALID_TERMS')
  })
})

describe('voucher acceptance', () => {
  const open = (best?: SignedVoucher): EscrowState => best != null ? { terms: t, status: 'open', best } : { terms: t, status: 'open' }
  it('accepts the first voucher and a higher one', () => {
    expect(checkVoucher(open(), v(10n, 1n))).toBeUndefined()
    expect(checkVoucher(open(v(10n, 1n)), v(10n, 2n))).toBeUndefined()
    expect(checkVoucher(open(v(10n, 1n)), v(t.amount, 9n))).toBeUndefined()
  })
  it.each<[string, () => [EscrowState, SignedVoucher], string]>([
    ['another escrow', () => [open(), v(1n, 1n, escrowId(2))], 'WRONG_ESCROW'],
    ['above the locked amount', () => [open(), v(t.amount + 1n, 1n)], 'ABOVE_LOCKED'],
    ['a lower sequence', () => [open(v(10n, 5n)), v(20n, 4n)], 'SEQUENCE_NOT_INCREASING'],
    ['the same sequence', () => [open(v(10n, 5n)), v(20n, 5n)], 'SEQUENCE_NOT_INCREASING'],
    ['a lower cumulative', () => [open(v(10n, 5n)), v(9n, 6n)], 'CUMULATIVE_DECREASED'],
    ['after close', () => [{ terms: t, status: 'closed' }, v(1n, 1n)], 'ESCROW_NOT_OPEN'],
    ['after refund', () => [{ terms: t, status: 'refunded' }, v(1n, 1n)], 'ESCROW_NOT_OPEN'],
    ['another key', () => [open(), VoucherSigner.generate().sign({ escrowId: t.escrowId, cumulative: 1n, sequence: 1n })], 'BAD_SIGNATURE'],
    ['a forged amount', () => [open(), { ...v(1n, 1n), cumulative: 2n }], 'BAD_SIGNATURE'],
    ['sequence zero', () => [open(), { ...v(1n, 1n), sequence: 0n }], 'MALFORMED_VOUCHER']
  ])('refuses %s', (_name, make, code) => {
    const [state, voucher] = make()
    expect(checkVoucher(state, voucher)).toBe(code)
    // the state machine refuses it with the same code and leaves the state as it was
    expect(step(state, { type: 'voucher', voucher })).toEqual({ ok: false, code })
  })
})

describe('state machine: every event in every state', () => {
  const best = (): SignedVoucher => v(300n, 3n)
  const states = (): Array<[string, EscrowState]> => [
    ['open, no voucher', { terms: t, status: 'open' }],
    ['open, best voucher', { terms: t, status: 'open', best: best() }],
    ['closed', { terms: t, status: 'closed', best: best() }],
    ['refunded', { terms: t, status: 'refunded' }]
  ]
  const events = (): Array<[string, EscrowEvent]> => [
    ['higher voucher', { type: 'voucher', voucher: v(400n, 4n) }],
    ['cooperative close with the best voucher', { type: 'cooperative-close', voucher: best() }],
    ['cooperative close without voucher', { type: 'cooperative-close' }],
    ['arbiter close with the best voucher', { type: 'arbiter-close', voucher: best() }],
    ['arbiter close with a stale voucher', { type: 'arbiter-close', voucher: v(200n, 2n) }],
    ['arbiter close with a higher voucher', { type: 'arbiter-close', voucher: v(500n, 5n) }],
    ['refund before expiry', { type: 'refund', now: t.expiresAt - 1 }],
    ['refund at expiry', { type: 'refund', now: t.expiresAt }]
  ]
  // expected outcome per [state][event]: a next status, or an error code
  const expected: Record<string, Record<string, string>> = {
    'open, no voucher': {
      'higher voucher': 'open',
      'cooperative close with the best voucher': 'closed',
      'cooperative close without voucher': 'closed',
      'arbiter close with the best voucher': 'closed',
      'arbiter close with a stale voucher': 'closed',
      'arbiter close with a higher voucher': 'closed',
      'refund before expiry': 'NOT_EXPIRED',
      'refund at expiry': 'refunded'
    },
    'open, best voucher': {
      'higher voucher': 'open',
      'cooperative close with the best voucher': 'closed',
      'cooperative close without voucher': 'STALE_VOUCHER',
      'arbiter close with the best voucher': 'closed',
      'arbiter close with a stale voucher': 'STALE_VOUCHER',
      'arbiter close with a higher voucher': 'closed',
      'refund before expiry': 'NOT_EXPIRED',
      'refund at expiry': 'refunded'
    },
    closed: Object.fromEntries(events().map(([n]) => [n, 'ESCROW_NOT_OPEN'])),
    refunded: Object.fromEntries(events().map(([n]) => [n, 'ESCROW_NOT_OPEN']))
  }

  for (const [sn] of [['open, no voucher'], ['open, best voucher'], ['closed'], ['refunded']] as Array<[string]>) {
    for (const [en] of [['higher voucher'], ['cooperative close with the best voucher'], ['cooperative close without voucher'],
      ['arbiter close with the best voucher'], ['arbiter close with a stale voucher'], ['arbiter close with a higher voucher'],
      ['refund before expiry'], ['refund at expiry']] as Array<[string]>) {
      it(`${sn} × ${en} → ${expected[sn][en]}`, () => {
        const st = states().find(([n]) => n === sn)![1]
        const ev = events().find(([n]) => n === en)![1]
        const r = step(st, ev)
        const want = expected[sn][en]
        if (want === 'open' || want === 'closed' || want === 'refunded') {
          expect(r.ok).toBe(true)
          if (!r.ok) return
          expect(r.state.status).toBe(want)
          if (r.settlement != null) {
            expect(checkSettlementShape(r.settlement, t.amount)).toBeUndefined()
            const paid = ev.type !== 'refund' && ev.type !== 'voucher' ? (ev.voucher?.cumulative ?? 0n) : 0n
            expect(r.settlement.payouts.find((x) => x.to === t.payee)?.amount ?? 0n).toBe(paid)
          }
        } else {
          expect(r).toEqual({ ok: false, code: want })
        }
      })
    }
  }

  it('refuses an arbiter close without a voucher', () => {
    expect(step({ terms: t, status: 'open' }, { type: 'arbiter-close' } as unknown as EscrowEvent)).toEqual({ ok: false, code: 'NO_VOUCHER' })
  })

  it('a second close of the same escrow is refused', () => {
    const first = step({ terms: t, status: 'open' }, { type: 'arbiter-close', voucher: v(5n, 1n) })
    expect(first.ok).toBe(true)
    if (!first.ok) return
    expect(step(first.state, { type: 'arbiter-close', voucher: v(5n, 1n) })).toEqual({ ok: false, code: 'ESCROW_NOT_OPEN' })
    expect(step(first.state, { type: 'refund', now: t.expiresAt + 1 })).toEqual({ ok: false, code: 'ESCROW_NOT_OPEN' })
  })

  it('closing voucher may equal the best but not fall below it', () => {
    const st: EscrowState = { terms: t, status: 'open', best: v(300n, 3n) }
    expect(checkClosingVoucher(st, v(300n, 3n))).toBeUndefined()
    expect(checkClosingVoucher(st, v(300n, 2n))).toBe('STALE_VOUCHER')
  })
})

describe('settlements', () => {
  it('pays the voucher to the payee and the rest to the payer, leaving out zero payouts', () => {
    expect(closeSettlement(t, v(250n, 1n), 'voucher').payouts).toEqual([{ to: t.payee, amount: 250n }, { to: t.payer, amount: t.amount - 250n }])
    expect(closeSettlement(t, v(t.amount, 1n), 'voucher').payouts).toEqual([{ to: t.payee, amount: t.amount }])
    expect(closeSettlement(t, undefined, 'cooperative').payouts).toEqual([{ to: t.payer, amount: t.amount }])
    expect(refundSettlement(t).payouts).toEqual([{ to: t.payer, amount: t.amount }])
  })

  it.each([
    ['payouts short of the locked amount', { escrowId: escrowId(1), kind: 'refund' as const, payouts: [{ to: 'x', amount: 1n }] }, 'PAYOUTS_MISMATCH'],
    ['no payouts', { escrowId: escrowId(1), kind: 'refund' as const, payouts: [] }, 'MALFORMED_SETTLEMENT'],
    ['three payouts', { escrowId: escrowId(1), kind: 'refund' as const, payouts: [{ to: 'a', amount: 1n }, { to: 'b', amount: 1n }, { to: 'c', amount: 1n }] }, 'MALFORMED_SETTLEMENT'],
    ['a zero payout', { escrowId: escrowId(1), kind: 'refund' as const, payouts: [{ to: 'a', amount: 0n }, { to: 'b', amount: 1000n }] }, 'MALFORMED_SETTLEMENT'],
    ['a voucher close without voucher', { escrowId: escrowId(1), kind: 'voucher' as const, payouts: [{ to: 'a', amount: 1000n }] }, 'NO_VOUCHER'],
    ['an unknown kind', { escrowId: escrowId(1), kind: 'gift' as 'refund', payouts: [{ to: 'a', amount: 1000n }] }, 'MALFORMED_SETTLEMENT']
  ])('shape check refuses %s', (_n, settlement, code) => {
    expect(checkSettlementShape(settlement, 1000n)).toBe(code)
  })

  it('property: any accepted voucher chain closes with payouts summing to the locked amount, never below the best', () => {
    fc.assert(fc.property(
      fc.bigInt({ min: 1n, max: 10n ** 15n }),
      fc.array(fc.record({ cum: fc.bigInt({ min: 0n, max: 10n ** 15n }), seq: fc.bigInt({ min: 1n, max: 1000n }) }), { maxLength: 12 }),
      (amount, vouchers) => {
        const tt = { ...t, amount }
        let st: EscrowState = { terms: tt, status: 'open' }
        for (const x of vouchers) {
          const r = step(st, { type: 'voucher', voucher: s.sign({ escrowId: tt.escrowId, cumulative: x.cum, sequence: x.seq }) })
          if (r.ok) {
            expect(r.state.best!.cumulative).toBeGreaterThanOrEqual(st.best?.cumulative ?? 0n)
            expect(r.state.best!.cumulative).toBeLessThanOrEqual(amount)
            st = r.state
          }
        }
        const closed = step(st, st.best != null ? { type: 'arbiter-close', voucher: st.best } : { type: 'cooperative-close' })
        expect(closed.ok).toBe(true)
        if (!closed.ok) return
        expect(closed.settlement!.payouts.reduce((a, x) => a + x.amount, 0n)).toBe(amount)
        expect(settlementsEqual(closed.settlement!, closeSettlement(tt, st.best, st.best != null ? 'voucher' : 'cooperative'))).toBe(true)
      }), { numRuns: 60 })
  })
})
