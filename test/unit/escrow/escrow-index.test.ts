import { describe, expect, it } from 'vitest'
import { EscrowIndex, type IndexedEscrow } from '../../../src/escrow/chain/subtensor/escrow-index.js'
import { escrowId, parties } from './fixtures.js'

const p = await parties()
const entry = (id: number, payer: string, account: string, status: IndexedEscrow['status'] = 'open'): IndexedEscrow => ({ terms: { escrowId: escrowId(id), payer }, status, sigs: { account } })

describe('the subtensor adapter\'s escrow index', () => {
  it('keeps each payer\'s first open of an id; finds by payer, by first seen, and by escrow account', () => {
    const ix = new EscrowIndex<IndexedEscrow>(10)
    const first = entry(1, p.other.address, p.arbiter.address)
    const renter = entry(1, p.payer.address, p.payee.address)
    expect(ix.add(first)).toBe(true)
    expect(ix.add(renter)).toBe(true)
    // the same payer's second open of the id does not count
    expect(ix.add(entry(1, p.payer.address, p.other.address))).toBe(false)
    expect(ix.size).toBe(2)
    expect(ix.find(escrowId(1))).toBe(first)
    expect(ix.find(escrowId(1), p.payer.address)).toBe(renter)
    expect(ix.find(escrowId(1), p.payee.address)).toBeUndefined()
    expect(ix.find(escrowId(1), 'not an address')).toBeUndefined()
    expect(ix.byAccount(escrowId(1), p.payee.address)).toBe(renter)
    expect(ix.withId(escrowId(2))).toEqual([])
  })

  it('at its bound forgets a settled escrow first, else the oldest', () => {
    const ix = new EscrowIndex<IndexedEscrow>(2)
    const a = entry(1, p.payer.address, p.payee.address)
    const b = entry(2, p.payer.address, p.payee.address, 'closed')
    ix.add(a)
    ix.add(b)
    ix.add(entry(3, p.payer.address, p.payee.address))
    expect([...ix.entries()].map((e) => e.terms.escrowId)).toEqual([escrowId(1), escrowId(3)])
    ix.add(entry(4, p.payer.address, p.payee.address))
    expect([...ix.entries()].map((e) => e.terms.escrowId)).toEqual([escrowId(3), escrowId(4)])
    expect(ix.size).toBe(2)
  })
})
