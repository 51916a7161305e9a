import { afterEach, describe, expect, it } from 'vitest'
import { EmbeddedLedger, escrowAccount } from '../../../src/escrow/chain/embedded/ledger.js'
import { decodeRecord } from '../../../src/escrow/chain/records.js'
import { settlementBytes } from '../../../src/escrow/chain/settlement-bytes.js'
import { EscrowError } from '../../../src/escrow/errors.js'
import { closeSettlement, refundSettlement } from '../../../src/escrow/rules/settlement.js'
import type { Settlement } from '../../../src/escrow/types.js'
import { ManualClock } from '../../../src/util/clock.js'
import { escrowId, NETUID, parties, signer, T0, tempDir, terms as mkTerms } from './fixtures.js'

const p = await parties()
const FUNDS = 10_000_000_000n
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0)) await c() })

async function ledger (path?: string): Promise<EmbeddedLedger> {
  const l = await EmbeddedLedger.open({ netuid: NETUID, clock: new ManualClock(T0), genesis: [{ address: p.payer.address, amount: FUNDS }], ...(path != null ? { path } : {}) })
  cleanups.push(async () => { await l.close() })
  return l
}

async function code (fn: () => Promise<unknown>): Promise<string | undefined> {
  try { await fn() } catch (e) { if (e instanceof EscrowError) return e.code; throw e }
  return undefined
}

describe('embedded ledger', () => {
  it('opens: moves the amount from the payer into the escrow account and records the open', async () => {
    const l = await ledger()
    const t = mkTerms(p)
    const before = l.head().number
    const e = await l.open(t, p.payer)
    expect(e.status).toBe('open')
    expect(e.account).toBe(escrowAccount(t))
    expect(await l.balance(p.payer.address)).toBe(FUNDS - t.amount)
    expect(await l.balance(e.account)).toBe(t.amount)
    expect(e.records).toHaveLength(1)
    const rec = e.records[0]
    expect(rec.blockNumber).toBe(before + 1)
    expect(rec.blockHash).toBe(l.head().hash)
    expect(decodeRecord(rec.remark)).toMatchObject({ kind: 'open', escrowId: t.escrowId, amount: t.amount.toString(), asset: 'alpha', netuid: NETUID })
    expect((await l.info()).asset).toEqual({ kind: 'alpha', netuid: NETUID })
  })

  it('gives each escrow between the same parties its own account', async () => {
    expect(escrowAccount(mkTerms(p))).not.toBe(escrowAccount(mkTerms(p, { escrowId: escrowId(2) })))
  })

  it.each<[string, (l: EmbeddedLedger) => Promise<unknown>, string]>([
    ['a payer without funds', async (l) => await l.open(mkTerms(p, { payer: p.other.address }), p.other), 'INSUFFICIENT_BALANCE'],
    ['someone else opening for the payer', async (l) => await l.open(mkTerms(p), p.payee), 'NOT_SIGNATORY'],
    ['another netuid', async (l) => await l.open(mkTerms(p, { netuid: NETUID + 1 }), p.payer), 'WRONG_NETUID'],
    ['invalid terms', async (l) => await l.open(mkTerms(p, { amount: 0n }), p.payer), 'INVALID_TERMS'],
    ['an escrow id used before', async (l) => { await l.open(mkTerms(p), p.payer); return await l.open(mkTerms(p), p.payer) }, 'ESCROW_EXISTS'],
    ['a forged open signature', async (l) => await l.submitOpen(mkTerms(p), p.payer.address, new Uint8Array(64)), 'BAD_SIGNATURE']
  ])('refuses %s', async (_n, fn, want) => {
    const l = await ledger()
    expect(await code(async () => await fn(l))).toBe(want)
  })

  it('executes on the second distinct approval of the same settlement, pays out and records', async () => {
    const l = await ledger()
    const t = mkTerms(p)
    const e = await l.open(t, p.payer)
    const s = closeSettlement(t, signer().sign({ escrowId: t.escrowId, cumulative: 300_000_000n, sequence: 4n }), 'voucher')
    const first = await l.approve(s, p.payee)
    expect(first).toEqual({ executed: false })
    expect(await l.pending(t.escrowId)).toHaveLength(1)
    expect(await code(async () => await l.approve(s, p.payee))).toBe('ALREADY_APPROVED')
    const second = await l.approve(s, p.arbiter)
    expect(second.executed).toBe(true)
    expect(await l.balance(p.payee.address)).toBe(300_000_000n)
    expect(await l.balance(p.payer.address)).toBe(FUNDS - 300_000_000n)
    expect(await l.balance(e.account)).toBe(0n)
    const after = await l.get(t.escrowId)
    expect(after?.status).toBe('closed')
    expect(decodeRecord(second.record!.remark)).toMatchObject({ kind: 'close', settlement: 'voucher', voucherCumulative: '300000000', voucherSequence: '4' })
    expect(after?.records.map((r) => r.kind)).toEqual(['open', 'close'])
    // a second close of the same escrow
    expect(await code(async () => await l.approve(refundSettlement(t), p.payer))).toBe('ESCROW_NOT_OPEN')
  })

  it('counts approvals per settlement: two different settlements never combine', async () => {
    const l = await ledger()
    const t = mkTerms(p)
    await l.open(t, p.payer)
    expect((await l.approve(refundSettlement(t), p.payer)).executed).toBe(false)
    expect((await l.approve(closeSettlement(t, undefined, 'cooperative'), p.payee)).executed).toBe(false)
    expect((await l.get(t.escrowId))?.status).toBe('open')
    expect((await l.approve(refundSettlement(t), p.arbiter)).executed).toBe(true)
    expect((await l.get(t.escrowId))?.status).toBe('refunded')
    expect(await l.balance(p.payer.address)).toBe(FUNDS)
  })

  it.each<[string, (s: Settlement) => Settlement, string]>([
    ['payouts above the locked amount', (s) => ({ ...s, payouts: [{ to: s.payouts[0].to, amount: s.payouts[0].amount + 1n }] }), 'PAYOUTS_MISMATCH'],
    ['payouts below the locked amount', (s) => ({ ...s, payouts: [{ to: s.payouts[0].to, amount: s.payouts[0].amount - 1n }] }), 'PAYOUTS_MISMATCH'],
    ['an unknown escrow', (s) => ({ ...s, escrowId: escrowId(99) }), 'UNKNOWN_ESCROW'],
    ['a payout to a bad address', (s) => ({ ...s, payouts: [{ to: 'nope', amount: s.payouts[0].amount }] }), 'MALFORMED_SETTLEMENT']
  ])('refuses an approval with %s', async (_n, change, want) => {
    const l = await ledger()
    const t = mkTerms(p)
    await l.open(t, p.payer)
    expect(await code(async () => await l.approve(change(refundSettlement(t)), p.payer))).toBe(want)
  })

  it('refuses approvals by non-signatories and forged signatures', async () => {
    const l = await ledger()
    const t = mkTerms(p)
    await l.open(t, p.payer)
    const s = refundSettlement(t)
    expect(await code(async () => await l.approve(s, p.other))).toBe('NOT_SIGNATORY')
    // the arbiter's address with a signature made by someone else
    expect(await code(async () => await l.submitApproval(s, p.arbiter.address, p.payee.sign(settlementBytes(s))))).toBe('BAD_SIGNATURE')
    // a valid signature over other bytes
    expect(await code(async () => await l.submitApproval(s, p.arbiter.address, p.arbiter.sign(settlementBytes(closeSettlement(t, undefined, 'cooperative')))))).toBe('BAD_SIGNATURE')
    expect(await l.pending(t.escrowId)).toHaveLength(0)
    // and an honest signature through the raw entry point works
    expect((await l.submitApproval(s, p.arbiter.address, p.arbiter.sign(settlementBytes(s)))).executed).toBe(false)
  })

  it('increments the block number per state change and chains hashes', async () => {
    const l = await ledger()
    const h0 = l.head()
    await l.mint(p.other.address, 5n)
    const h1 = l.head()
    expect(h1.number).toBe(h0.number + 1)
    expect(h1.hash).not.toBe(h0.hash)
    expect(await l.balance(p.other.address)).toBe(5n)
  })

  it('persists: a reopened ledger finds the same balances, escrows, pending approvals and head', async () => {
    const dir = await tempDir()
    cleanups.push(dir.cleanup)
    const t = mkTerms(p)
    const a = await EmbeddedLedger.open({ netuid: NETUID, path: dir.path, clock: new ManualClock(T0), genesis: [{ address: p.payer.address, amount: FUNDS }] })
    await a.open(t, p.payer)
    await a.approve(refundSettlement(t), p.payer)
    const head = a.head()
    await a.close()
    const b = await EmbeddedLedger.open({ netuid: NETUID, path: dir.path, clock: new ManualClock(T0), genesis: [{ address: p.payer.address, amount: FUNDS }] })
    cleanups.push(async () => { await b.close() })
    expect(b.head()).toEqual(head)
    expect(await b.balance(p.payer.address)).toBe(FUNDS - t.amount)
    expect((await b.get(t.escrowId))?.status).toBe('open')
    expect(await b.pending(t.escrowId)).toHaveLength(1)
    expect((await b.approve(refundSettlement(t), p.arbiter)).executed).toBe(true)
    expect(await b.balance(p.payer.address)).toBe(FUNDS)
  })

  it('runs concurrent approvals one at a time: exactly one executes', async () => {
    const l = await ledger()
    const t = mkTerms(p)
    await l.open(t, p.payer)
    const s = refundSettlement(t)
    const results = await Promise.allSettled([l.approve(s, p.payer), l.approve(s, p.arbiter), l.approve(s, p.payee)])
    const executed = results.filter((r) => r.status === 'fulfilled' && r.value.executed)
    expect(executed).toHaveLength(1)
    const refused = results.filter((r) => r.status === 'rejected').map((r) => ((r as PromiseRejectedResult).reason as EscrowError).code)
    expect(refused).toEqual(['ESCROW_NOT_OPEN'])
    expect(await l.balance(p.payer.address)).toBe(FUNDS)
  })
})
