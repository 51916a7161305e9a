/**
 * Closes of one escrow that race in one node: the control API (`bazaar escrow close`, run twice or
 * while the daemon settles the same escrow) and the roles share one EscrowService, which runs one
 * settling operation per escrow at a time and hands a repeated request the outcome of the one in
 * flight. Money is checked on the ledger: what was locked is paid plus refunded exactly, one close
 * record, the escrow account empty.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { ArbiterClient } from '../../src/escrow/arbiter/service.js'
import { EmbeddedLedger } from '../../src/escrow/chain/embedded/ledger.js'
import { MeterRenter } from '../../src/escrow/metering/renter.js'
import { MeterSupplier } from '../../src/escrow/metering/supplier.js'
import { EscrowService } from '../../src/escrow/service.js'
import { ledgerWorld, parties, signer, terms as mkTerms } from '../unit/escrow/fixtures.js'

const p = await parties()
const t = mkTerms(p)
const FUNDS = 5_000_000_000n
const PRICE = 3_600_000_000n
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

/**
 * what reached the arbiter and the chain's approve, and how many of them were in flight at once;
 * `beforeApprove` runs once before the next approval reaches the chain
 */
interface Probe { arbiterRequests: number, approvals: number, inFlight: number, maxInFlight: number, beforeApprove?: () => Promise<void> }

/**
 * A renter and a supplier on a persisted ledger, with `ticks` vouchers exchanged. The supplier's
 * arbiter client and chain are probed; `gate` holds its arbiter requests until it resolves.
 */
async function world (opts: { ticks?: number, gate?: Promise<void> } = {}) {
  const { clock, ledger, supplierDb, renterDb, arbiter } = await ledgerWorld(p, FUNDS, cleanups)
  const probe: Probe = { arbiterRequests: 0, approvals: 0, inFlight: 0, maxInFlight: 0 }
  const tracked = async <T>(fn: () => Promise<T>): Promise<T> => {
    probe.maxInFlight = Math.max(probe.maxInFlight, ++probe.inFlight)
    try { return await fn() } finally { probe.inFlight-- }
  }
  const probedArbiter: ArbiterClient = {
    request: async (req, o) => await tracked(async () => {
      probe.arbiterRequests++
      await opts.gate
      return await arbiter.request(req, o)
    })
  }
  const chain = Object.create(ledger) as EmbeddedLedger
  chain.approve = async (s, a, o) => {
    const before = probe.beforeApprove
    probe.beforeApprove = undefined
    await before?.()
    return await tracked(async () => { probe.approvals++; return await ledger.approve(s, a, o) })
  }
  const supplierSvc = new EscrowService({ chain, escrows: supplierDb.escrows, vouchers: supplierDb.vouchers, account: p.payee, arbiter: probedArbiter, clock })
  const renterSvc = new EscrowService({ chain, escrows: renterDb.escrows, vouchers: renterDb.vouchers, account: p.payer, arbiter, clock })
  await renterSvc.open(t)
  await supplierSvc.track(t)
  const supplier = await MeterSupplier.open({ terms: t, pricePerGpuHour: PRICE, gpus: 1, store: supplierDb.vouchers, clock })
  const renter = new MeterRenter({ terms: t, pricePerGpuHour: PRICE, gpus: 1, signer: signer(), clock, store: renterDb.vouchers })
  supplier.start()
  renter.start()
  let paid = 0n
  for (let i = 0; i < (opts.ticks ?? 3); i++) {
    clock.advance(10_000)
    paid = (await supplier.acceptVoucher(await renter.onReport(supplier.tick()!))).cumulative
  }
  supplier.stop()
  return { clock, ledger, supplierSvc, renterSvc, probe, paid }
}

/** the escrow settled once: the payee got `paid`, the payer the rest, nothing left in its account */
async function expectSettledOnce (w: Awaited<ReturnType<typeof world>>): Promise<void> {
  const e = (await w.ledger.get(t.escrowId))!
  expect(e.status).toBe('closed')
  expect(e.records.map((r) => r.kind)).toEqual(['open', 'close'])
  expect(e.balance).toBe(0n)
  expect(await w.ledger.balance(e.account)).toBe(0n)
  const payee = await w.ledger.balance(p.payee.address)
  const refunded = await w.ledger.balance(p.payer.address) - (FUNDS - t.amount)
  expect(payee).toBe(w.paid)
  expect(payee + refunded).toBe(t.amount)
  expect(await w.ledger.pending(t.escrowId)).toEqual([])
}

describe('concurrent closes of one escrow', () => {
  it('two closes with the arbiter at once: the arbiter is asked once, one approval, both callers learn it executed', async () => {
    const w = await world()
    const [a, b] = await Promise.all([
      w.supplierSvc.close(t.escrowId, { mode: 'arbiter' }),
      w.supplierSvc.close(t.escrowId, { mode: 'arbiter' })
    ])
    expect(a.executed).toBe(true)
    expect(b).toEqual(a)
    expect(a.record?.kind).toBe('close')
    expect(w.probe.arbiterRequests).toBe(1)
    expect(w.probe.approvals).toBe(1)
    await expectSettledOnce(w)
  })

  it('two cooperative closes at once: one approval, both callers get it, and the other party\'s approval executes it', async () => {
    const w = await world()
    const [a, b] = await Promise.all([w.supplierSvc.close(t.escrowId), w.supplierSvc.close(t.escrowId)])
    expect(a.executed).toBe(false)
    expect(b).toEqual(a)
    expect(w.probe.approvals).toBe(1)
    expect((await w.ledger.pending(t.escrowId)).map((x) => x.approvals.length)).toEqual([1])
    expect((await w.renterSvc.close(t.escrowId)).executed).toBe(true)
    await expectSettledOnce(w)
  })

  it('a cooperative close racing a close with the arbiter: one after the other, never both at the chain or the arbiter at once', async () => {
    const w = await world()
    const [coop, arb] = await Promise.all([
      w.supplierSvc.close(t.escrowId),
      w.supplierSvc.close(t.escrowId, { mode: 'arbiter' })
    ])
    expect(coop.executed).toBe(false)
    expect(arb.executed).toBe(true)
    expect(w.probe.maxInFlight).toBe(1)
    await expectSettledOnce(w)
    // the escrow is settled now: a later close is refused, not joined to the one that ended
    await expect(w.supplierSvc.close(t.escrowId, { mode: 'arbiter' })).rejects.toMatchObject({ code: 'ESCROW_NOT_OPEN' })
  })

  it('a caller that gives up is answered ABORTED; the close goes on for the caller still waiting', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => { release = resolve })
    const w = await world({ gate })
    const quitter = new AbortController()
    const first = w.supplierSvc.close(t.escrowId, { mode: 'arbiter', signal: quitter.signal })
    const second = w.supplierSvc.close(t.escrowId, { mode: 'arbiter', signal: new AbortController().signal })
    quitter.abort()
    await expect(first).rejects.toMatchObject({ code: 'ABORTED' })
    release()
    expect((await second).executed).toBe(true)
    expect(w.probe.arbiterRequests).toBe(1)
    await expectSettledOnce(w)
  })
})

describe('a close asked for again after the first left this party\'s approval pending', () => {
  it('answers with the pending approval, not ALREADY_APPROVED; once the other party approved, how the escrow closed', async () => {
    const w = await world()
    const first = await w.supplierSvc.close(t.escrowId)
    expect(first.executed).toBe(false)
    expect(first.already).toBeUndefined()
    // the same answer as the first, saying the approval was given before: nothing new on chain
    const again = await w.supplierSvc.close(t.escrowId)
    expect(again).toEqual({ ...first, already: 'approved' })
    expect((await w.ledger.pending(t.escrowId)).map((x) => x.approvals.length)).toEqual([1])
    // the renter approves the same close: it executes
    const renters = await w.renterSvc.close(t.escrowId)
    expect(renters.executed).toBe(true)
    await expectSettledOnce(w)
    // asked once more: how it closed, as its record says
    const after = await w.supplierSvc.close(t.escrowId)
    expect(after).toMatchObject({ executed: false, already: 'settled', record: { kind: 'close', blockNumber: renters.record!.blockNumber, txHash: renters.record!.txHash } })
    // as its record states it: the voucher's amount and sequence, not its signature
    expect(after.settlement).toEqual({ ...first.settlement, voucher: { ...first.settlement.voucher!, signature: '' } })
    // the renter's side asks too: the same answer
    expect(await w.renterSvc.close(t.escrowId)).toMatchObject({ executed: false, already: 'settled', settlement: after.settlement })
    // a close with the arbiter of a settled escrow is still refused: there is nothing to ask it for
    await expect(w.supplierSvc.close(t.escrowId, { mode: 'arbiter' })).rejects.toMatchObject({ code: 'ESCROW_NOT_OPEN' })
    await expectSettledOnce(w)
  })

  it('an escrow the other party\'s approval executes between the read and this approval: how it closed', async () => {
    const w = await world()
    expect((await w.supplierSvc.close(t.escrowId)).executed).toBe(false)
    // the renter's approval lands after this close read the escrow open, before its approval
    w.probe.beforeApprove = async () => { expect((await w.ledger.approve((await w.ledger.pending(t.escrowId))[0]!.settlement, p.payer, { payer: t.payer })).executed).toBe(true) }
    const r = await w.supplierSvc.close(t.escrowId)
    expect(r).toMatchObject({ executed: false, already: 'settled', settlement: { kind: 'cooperative' }, record: { kind: 'close' } })
    await expectSettledOnce(w)
  })

  it('a refunded escrow: a cooperative close says it was refunded', async () => {
    const w = await world()
    expect((await w.supplierSvc.close(t.escrowId)).executed).toBe(false)
    // past the expiry the arbiter co-signs the renter's refund
    w.clock.set(t.expiresAt + 1)
    expect((await w.renterSvc.refund(t.escrowId)).executed).toBe(true)
    const r = await w.supplierSvc.close(t.escrowId)
    expect(r).toMatchObject({ executed: false, already: 'settled', settlement: { kind: 'refund' }, record: { kind: 'refund' } })
    expect(r.settlement.payouts.map((x) => x.to)).toEqual([t.payer])
  })
})
