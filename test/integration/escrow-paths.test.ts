/**
 * Every settlement path on a persisted embedded ledger, driven through the EscrowService the CLI and
 * control API use: cooperative close, the renter gone (the supplier closes with the arbiter and the
 * latest voucher), the supplier gone (the renter refunds with the arbiter after expiry), and the
 * refusals on the way (early refund, second close).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Arbiter, type ArbiterClient } from '../../src/escrow/arbiter/service.js'
import { EmbeddedLedger } from '../../src/escrow/chain/embedded/ledger.js'
import type { ChainPort, EscrowTermsOnChain } from '../../src/escrow/chain/port.js'
import { EscrowError } from '../../src/escrow/errors.js'
import { closeSettlement, refundSettlement } from '../../src/escrow/rules/settlement.js'
import { signArbiterRequest } from '../../src/escrow/arbiter/request-signature.js'
import { VoucherSigner } from '../../src/escrow/voucher/keys.js'
import { MeterRenter } from '../../src/escrow/metering/renter.js'
import { MeterSupplier } from '../../src/escrow/metering/supplier.js'
import { EscrowService } from '../../src/escrow/service.js'
import { EscrowDb } from '../../src/escrow/store/db.js'
import { ManualClock } from '../../src/util/clock.js'
import { ledgerWorld, parties, signer, T0, terms as mkTerms } from '../unit/escrow/fixtures.js'

const p = await parties()
const t = mkTerms(p)
const FUNDS = 5_000_000_000n
const PRICE = 3_600_000_000n
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

/** `arbiter`: the renter's arbiter client in place of the real one (which remembers vouchers it co-signs) */
async function world (opts: { renterArbiter?: ArbiterClient } = {}): Promise<{ clock: ManualClock, ledger: EmbeddedLedger, arbiter: Arbiter, supplierSvc: EscrowService, renterSvc: EscrowService, supplierDb: EscrowDb, renterDb: EscrowDb }> {
  const { clock, ledger, supplierDb, renterDb, arbiter } = await ledgerWorld(p, FUNDS, cleanups)
  const supplierSvc = new EscrowService({ chain: ledger, escrows: supplierDb.escrows, vouchers: supplierDb.vouchers, account: p.payee, arbiter, clock })
  const renterSvc = new EscrowService({ chain: ledger, escrows: renterDb.escrows, vouchers: renterDb.vouchers, account: p.payer, arbiter: opts.renterArbiter ?? arbiter, clock })
  await renterSvc.open(t)
  await supplierSvc.track(t)
  return { clock, ledger, arbiter, supplierSvc, renterSvc, supplierDb, renterDb }
}

/** n ticks of metering; the renter keeps what it signed, the supplier what it acknowledged. */
async function meter (w: Awaited<ReturnType<typeof world>>, n: number): Promise<bigint> {
  const supplier = await MeterSupplier.open({ terms: t, pricePerGpuHour: PRICE, gpus: 1, store: w.supplierDb.vouchers, clock: w.clock })
  const renter = new MeterRenter({ terms: t, pricePerGpuHour: PRICE, gpus: 1, signer: signer(), clock: w.clock, store: w.renterDb.vouchers })
  supplier.start()
  renter.start()
  let paid = 0n
  for (let i = 0; i < n; i++) {
    w.clock.advance(10_000)
    paid = (await supplier.acceptVoucher(await renter.onReport(supplier.tick()!))).cumulative
  }
  supplier.stop()
  return paid
}

async function code (fn: () => Promise<unknown>): Promise<string | undefined> {
  try { await fn() } catch (e) { if (e instanceof EscrowError) return e.code; throw e }
  return undefined
}

describe('escrow paths on the embedded ledger', () => {
  it('cooperative close: both parties approve the latest voucher', async () => {
    const w = await world()
    const paid = await meter(w, 5)
    expect((await w.renterSvc.close(t.escrowId)).executed).toBe(false)
    const r = await w.supplierSvc.close(t.escrowId)
    expect(r.executed).toBe(true)
    expect(r.record?.kind).toBe('close')
    expect(await w.ledger.balance(p.payee.address)).toBe(paid)
    expect(await w.ledger.balance(p.payer.address)).toBe(FUNDS - paid)
    // a second close of the same escrow is refused
    expect(await code(async () => await w.supplierSvc.close(t.escrowId, { mode: 'arbiter' }))).toBe('ESCROW_NOT_OPEN')
  })

  it('renter gone: the supplier closes with the arbiter using the latest voucher', async () => {
    const w = await world()
    const paid = await meter(w, 7)
    const r = await w.supplierSvc.close(t.escrowId, { mode: 'arbiter' })
    expect(r.executed).toBe(true)
    expect(r.settlement.voucher?.cumulative).toBe(paid)
    expect(await w.ledger.balance(p.payee.address)).toBe(70_000_000n)
    expect(await w.ledger.balance(p.payer.address)).toBe(FUNDS - 70_000_000n)
    const shown = await w.supplierSvc.show(t.escrowId)
    expect(shown).toMatchObject({ status: 'closed', role: 'payee', amount: t.amount.toString(), balance: '0', latestVoucher: { cumulative: '70000000', sequence: '7' } })
    expect(shown.records.map((x) => x.kind)).toEqual(['open', 'close'])
  })

  it('supplier gone: the renter refunds with the arbiter, only after expiry', async () => {
    const w = await world()
    await meter(w, 2)
    const err = await w.renterSvc.refund(t.escrowId).catch((e: EscrowError) => e)
    expect(err).toBeInstanceOf(EscrowError)
    expect((err as EscrowError).code).toBe('ARBITER_REFUSED')
    expect((err as EscrowError).detail).toEqual({ reason: 'NOT_EXPIRED' })
    w.clock.set(t.expiresAt)
    const r = await w.renterSvc.refund(t.escrowId)
    expect(r.executed).toBe(true)
    expect(r.record?.kind).toBe('refund')
    expect(await w.ledger.balance(p.payer.address)).toBe(FUNDS)
    expect(await w.ledger.balance(p.payee.address)).toBe(0n)
    expect((await w.renterSvc.list()).map((e) => e.status)).toEqual(['refunded'])
  })

  it('a retried arbiter close converges whichever approval survived the crash', async () => {
    for (const first of ['arbiter', 'payee'] as const) {
      const w = await world()
      const paid = await meter(w, 2)
      const latest = (await w.supplierDb.vouchers.latest(t.escrowId))!
      const settlement = closeSettlement(t, latest, 'voucher')
      // the previous attempt got one approval in before the process died
      if (first === 'arbiter') expect(await w.arbiter.request(signArbiterRequest({ terms: t, settlement, voucher: latest }, p.payee))).toEqual({ approved: true, executed: false })
      else expect((await w.ledger.approve(settlement, p.payee)).executed).toBe(false)
      const r = await w.supplierSvc.close(t.escrowId, { mode: 'arbiter' })
      expect(r.executed).toBe(true)
      expect(await w.ledger.balance(p.payee.address)).toBe(paid)
      for (const c of cleanups.splice(0).reverse()) await c()
    }
  })

  it('payee gone after the arbiter co-signed its close: the payer\'s refund after expiry approves that close instead, and the payee is paid', async () => {
    const w = await world()
    const paid = await meter(w, 3)
    const latest = (await w.supplierDb.vouchers.latest(t.escrowId))!
    // the payee's close with the arbiter got the arbiter's approval, then the payee's process died
    expect(await w.arbiter.request(signArbiterRequest({ terms: t, settlement: closeSettlement(t, latest, 'voucher'), voucher: latest }, p.payee))).toEqual({ approved: true, executed: false })
    w.clock.set(t.expiresAt)
    // the arbiter co-signs no refund beside that close: it names the voucher instead
    const refused = await w.arbiter.request(signArbiterRequest({ terms: t, settlement: refundSettlement(t) }, p.payer))
    expect(refused).toEqual({ approved: false, reason: 'VOUCHER_CLOSE_PENDING', voucher: latest })
    const r = await w.renterSvc.refund(t.escrowId)
    expect(r).toMatchObject({ executed: true, settlement: { kind: 'voucher', voucher: { cumulative: paid } }, record: { kind: 'close' } })
    expect(await w.ledger.balance(p.payee.address)).toBe(paid)
    expect(await w.ledger.balance(p.payer.address)).toBe(FUNDS - paid)
    expect((await w.ledger.get(t.escrowId))?.balance).toBe(0n)
  })

  it('an arbiter\'s word is checked: a pending close on a voucher the escrow\'s key did not sign is not approved, and an "executed" that did not happen is approved as a first approval', async () => {
    const forged = VoucherSigner.generate().sign({ escrowId: t.escrowId, cumulative: t.amount, sequence: 1n })
    const lying: ArbiterClient = { request: async () => ({ approved: false, reason: 'VOUCHER_CLOSE_PENDING', voucher: forged }) }
    const w = await world({ renterArbiter: lying })
    w.clock.set(t.expiresAt)
    const err = await w.renterSvc.refund(t.escrowId).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'ARBITER_REFUSED', detail: { reason: 'VOUCHER_CLOSE_PENDING' } })
    expect(await w.ledger.pending(t.escrowId)).toEqual([])
    expect((await w.ledger.get(t.escrowId))?.status).toBe('open')

    const boasting: ArbiterClient = { request: async () => ({ approved: true, executed: true }) }
    const w2 = await world({ renterArbiter: boasting })
    w2.clock.set(t.expiresAt)
    const r = await w2.renterSvc.refund(t.escrowId)
    // the escrow was still open on chain: the payer approved the refund itself, which waits for a second approval
    expect(r.executed).toBe(false)
    expect((await w2.ledger.get(t.escrowId))?.status).toBe('open')
    expect((await w2.ledger.pending(t.escrowId)).map((x) => x.settlement.kind)).toEqual(['refund'])
  })

  it('every operation names the payer it means: a copy of the escrow id under another payer, found first, misleads none of them', async () => {
    const w = await world()
    const paid = await meter(w, 2)
    // the chain as a subtensor node sees it after a copy landed first: asked without a payer, it
    // answers with the copy; an approval that names no payer would go to the copy's account
    const real = w.ledger
    const copy = { ...(await real.get(t.escrowId))!, terms: { ...t, payer: p.other.address }, account: 'the copy' }
    const chain = Object.create(real) as EmbeddedLedger
    chain.get = async (id, opts) => opts?.payer == null ? copy : await real.get(id, opts)
    chain.approve = async (s, a, opts) => {
      if (opts?.payer == null) throw new Error('an approval that names no payer')
      return await real.approve(s, a, opts)
    }
    const svc = (db: EscrowDb, account: typeof p.payer): EscrowService => new EscrowService({ chain, escrows: db.escrows, vouchers: db.vouchers, account, arbiter: w.arbiter, clock: w.clock })
    const renter = svc(w.renterDb, p.payer)
    const supplier = svc(w.supplierDb, p.payee)
    expect((await renter.show(t.escrowId)).payer).toBe(p.payer.address)
    expect((await renter.close(t.escrowId)).executed).toBe(false)
    expect((await supplier.close(t.escrowId)).executed).toBe(true)
    expect(await real.balance(p.payee.address)).toBe(paid)
    expect((await renter.list()).map((e) => e.status)).toEqual(['closed'])
  })

  it('refuses roles that do not match: the payee cannot refund, the payer cannot close with the arbiter', async () => {
    const w = await world()
    await meter(w, 1)
    expect(await code(async () => await w.supplierSvc.refund(t.escrowId))).toBe('NOT_A_PARTY')
    expect(await code(async () => await w.renterSvc.close(t.escrowId, { mode: 'arbiter' }))).toBe('NOT_A_PARTY')
    expect(await code(async () => await w.supplierSvc.show('0x' + '99'.repeat(32)))).toBe('UNKNOWN_ESCROW')
  })

  it('a sweep hands the chain port the terms of the escrows in its database (their blocks may predate its scan)', async () => {
    const w = await world()
    let known: readonly EscrowTermsOnChain[] | undefined
    const chain = { sweep: async (_owner: unknown, opts?: { known?: readonly EscrowTermsOnChain[] }) => { known = opts?.known; return [] } } as unknown as ChainPort
    const svc = new EscrowService({ chain, escrows: w.renterDb.escrows, vouchers: w.renterDb.vouchers, account: p.payer })
    expect(await svc.sweep()).toEqual([])
    expect(known?.map((k) => [k.escrowId, k.amount])).toEqual([[t.escrowId, t.amount]])
  })

  it('a sweep goes through the whole database, a page of 1000 escrows per chain sweep', async () => {
    const w = await world()
    for (let i = 1; i < 2_500; i++) {
      await w.renterDb.escrows.put({ terms: { ...t, escrowId: '0xab' + i.toString(16).padStart(62, '0') }, role: 'payer', createdAt: T0 })
    }
    const pages: string[][] = []
    const chain = {
      sweep: async (_owner: unknown, opts?: { known?: readonly EscrowTermsOnChain[] }) => {
        pages.push((opts?.known ?? []).map((k) => k.escrowId))
        return [{ op: 'cancel', account: p.payer.address, fee: 1n }]
      }
    } as unknown as ChainPort
    const svc = new EscrowService({ chain, escrows: w.renterDb.escrows, vouchers: w.renterDb.vouchers, account: p.payer })
    const fees = await svc.sweep()
    expect(pages.map((x) => x.length)).toEqual([1000, 1000, 500])
    expect(new Set(pages.flat()).size).toBe(2_500)
    expect(pages.flat()).toContain(t.escrowId)
    expect(fees).toHaveLength(3)
    // what recovery and resume read: every escrow, past any page
    const all: string[] = []
    for await (const e of w.renterDb.escrows.all()) all.push(e.terms.escrowId)
    expect(all).toEqual(pages.flat())
  })

  it('lists escrows with decimal-string amounts', async () => {
    const w = await world()
    await meter(w, 3)
    const [e] = await w.supplierSvc.list()
    expect(e).toMatchObject({ escrowId: t.escrowId, role: 'payee', status: 'open', amount: '1000000000', balance: '1000000000', latestVoucher: { cumulative: '30000000', sequence: '3' } })
    expect(JSON.parse(JSON.stringify(e))).toEqual(e)
  })
})
