import { describe, expect, it } from 'vitest'
import { decodeAddress } from '@polkadot/util-crypto'
import { checkAgreementEscrow, escrowIdOfAgreement, type AgreedEscrowTerms, type AgreementEscrowCode } from '../../../src/escrow/rules/agreement.js'
import type { EscrowOnChain } from '../../../src/escrow/chain/port.js'
import { HOUR, parties, T0, terms as mkTerms } from './fixtures.js'

const p = await parties()
const HASH = 'ab'.repeat(32)
const EXPIRES = T0 + 2 * HOUR
const agreed: AgreedEscrowTerms = { budget: 1_000_000_000n, netuid: 7, escrow: { arbiter: new Uint8Array(decodeAddress(p.arbiter.address)), expiresAt: BigInt(EXPIRES) } }

/** the escrow the renter should have opened for the agreement above */
const onChain = (): EscrowOnChain => ({
  terms: mkTerms(p, { escrowId: escrowIdOfAgreement(HASH), agreementHash: escrowIdOfAgreement(HASH), amount: agreed.budget, netuid: agreed.netuid, expiresAt: EXPIRES }),
  asset: { kind: 'alpha', netuid: 7 },
  account: p.other.address,
  status: 'open',
  balance: agreed.budget,
  records: []
})

describe('an escrow backs an agreement', () => {
  it('accepts the escrow the agreement names, one that locks more than the budget, and one that expires later', () => {
    expect(checkAgreementEscrow(onChain(), HASH, agreed, p.payee.address)).toBeUndefined()
    const more = onChain()
    more.terms.amount += 1n
    more.balance += 1n
    expect(checkAgreementEscrow(more, HASH, agreed, p.payee.address)).toBeUndefined()
    const later = onChain()
    later.terms.expiresAt += HOUR
    expect(checkAgreementEscrow(later, HASH, agreed, p.payee.address)).toBeUndefined()
  })

  it.each<[string, (e: EscrowOnChain) => EscrowOnChain | undefined, AgreementEscrowCode, { terms?: AgreedEscrowTerms, payee?: string }?]>([
    ['no escrow on chain', () => undefined, 'ESCROW_MISSING'],
    ['closed', (e) => ({ ...e, status: 'closed' }), 'ESCROW_NOT_OPEN'],
    ['refunded', (e) => ({ ...e, status: 'refunded' }), 'ESCROW_NOT_OPEN'],
    ['records another agreement', (e) => ({ ...e, terms: { ...e.terms, agreementHash: '0x' + 'cd'.repeat(32) } }), 'ESCROW_AGREEMENT_MISMATCH'],
    ['records the hash without its 0x', (e) => ({ ...e, terms: { ...e.terms, agreementHash: HASH } }), 'ESCROW_AGREEMENT_MISMATCH'],
    ['pays someone else', (e) => ({ ...e, terms: { ...e.terms, payee: p.other.address } }), 'ESCROW_PAYEE_MISMATCH'],
    ['we are not the payee', (e) => e, 'ESCROW_PAYEE_MISMATCH', { payee: p.payer.address }],
    ['names another arbiter', (e) => ({ ...e, terms: { ...e.terms, arbiter: p.other.address } }), 'ESCROW_ARBITER_MISMATCH'],
    ['terms without an arbiter', (e) => e, 'ESCROW_ARBITER_MISMATCH', { terms: { budget: agreed.budget, netuid: agreed.netuid } }],
    ['locks less than the budget', (e) => ({ ...e, terms: { ...e.terms, amount: agreed.budget - 1n } }), 'ESCROW_AMOUNT_MISMATCH'],
    ['locks alpha of another subnet', (e) => ({ ...e, terms: { ...e.terms, netuid: 8 } }), 'ESCROW_AMOUNT_MISMATCH'],
    ['holds less than it locks', (e) => ({ ...e, balance: e.terms.amount - 1n }), 'ESCROW_UNFUNDED'],
    ['holds nothing (its funding failed)', (e) => ({ ...e, balance: 0n }), 'ESCROW_UNFUNDED'],
    ['expires a millisecond before the agreed time', (e) => ({ ...e, terms: { ...e.terms, expiresAt: EXPIRES - 1 } }), 'ESCROW_EXPIRY_MISMATCH'],
    ['expires at once', (e) => ({ ...e, terms: { ...e.terms, expiresAt: T0 + 1000 } }), 'ESCROW_EXPIRY_MISMATCH'],
    // the first wrong thing names the refusal
    ['closed and paying someone else', (e) => ({ ...e, status: 'closed', terms: { ...e.terms, payee: p.other.address } }), 'ESCROW_NOT_OPEN']
  ])('refuses an escrow that %s', (_name, change, code, over = {}) => {
    expect(checkAgreementEscrow(change(onChain()), HASH, over.terms ?? agreed, over.payee ?? p.payee.address)).toBe(code)
  })
})
