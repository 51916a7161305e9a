/**
 * A supplier whose close with the arbiter fails (the arbiter unreachable, the chain timing out)
 * while its daemon runs: SupplierSettlement makes it again with a back-off on the role's clock until
 * it lands, until the chain shows the escrow settled by someone else, or until the role stops (the
 * recovery after the restart then closes it, and makes its own failed close again the same way). The real EscrowService over the embedded ledger with
 * a real arbiter; money is checked on the ledger.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { ArbiterClient } from '../../src/escrow/arbiter/service.js'
import { EscrowError } from '../../src/escrow/errors.js'
import { MeterRenter } from '../../src/escrow/metering/renter.js'
import { MeterSupplier } from '../../src/escrow/metering/supplier.js'
import { EscrowService } from '../../src/escrow/service.js'
import { Registry } from '../../src/node/metrics.js'
import { roleMetrics } from '../../src/node/roles/metrics.js'
import { SupplierRecovery } from '../../src/node/roles/supplier/recovery.js'
import { SETTLE_RETRY_FIRST_MS, SETTLE_RETRY_MAX_MS, SupplierSettlement } from '../../src/node/roles/supplier/settlement.js'
import type { SupplierJobRecord } from '../../src/node/roles/supplier/types.js'
import { silentLogger } from '../../src/node/logger.js'
import { recordingLogger } from '../helpers/nodes.js'
import { waitFor } from '../helpers/wait.js'
import { ledgerWorld, parties, signer, T0, terms as mkTerms } from '../unit/escrow/fixtures.js'

const p = await parties()
const t = mkTerms(p)
const FUNDS = 5_000_000_000n
const PRICE = 3_600_000_000n
const SETTLE_WAIT_MS = 1_000
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

/**
 * A renter and a supplier on a persisted ledger with three vouchers exchanged. The supplier's
 * arbiter fails its first `failures` requests as an unreachable arbiter does, then answers.
 * `lost`: the renter signs and stores a fourth voucher that never reaches the supplier (`lostPaid`).
 */
async function world (failures: number, opts: { lost?: boolean } = {}) {
  const { clock, ledger, supplierDb, renterDb, arbiter } = await ledgerWorld(p, FUNDS, cleanups)
  const asked = { requests: 0, failures }
  const flaky: ArbiterClient = {
    request: async (req, o) => {
      asked.requests++
      if (asked.requests <= asked.failures) throw new EscrowError('ARBITER_UNAVAILABLE', 'no arbiter answered')
      return await arbiter.request(req, o)
    }
  }
  const supplierSvc = new EscrowService({ chain: ledger, escrows: supplierDb.escrows, vouchers: supplierDb.vouchers, account: p.payee, arbiter: flaky, clock })
  const renterSvc = new EscrowService({ chain: ledger, escrows: renterDb.escrows, vouchers: renterDb.vouchers, account: p.payer, arbiter, clock })
  await renterSvc.open(t)
  await supplierSvc.track(t)
  const supplier = await MeterSupplier.open({ terms: t, pricePerGpuHour: PRICE, gpus: 1, store: supplierDb.vouchers, clock })
  const renter = new MeterRenter({ terms: t, pricePerGpuHour: PRICE, gpus: 1, signer: signer(), clock, store: renterDb.vouchers })
  supplier.start()
  renter.start()
  let paid = 0n
  for (let i = 0; i < 3; i++) {
    clock.advance(10_000)
    paid = (await supplier.acceptVoucher(await renter.onReport(supplier.tick()!))).cumulative
  }
  let lostPaid: bigint | undefined
  if (opts.lost === true) {
    clock.advance(10_000)
    lostPaid = (await renter.onReport(supplier.tick()!)).cumulative
  }
  supplier.stop()
  const metrics = roleMetrics(new Registry())
  const { logger, records } = recordingLogger((r) => r.level === 'warn')
  const settlement = new SupplierSettlement({ escrow: supplierSvc, chain: ledger, vouchers: supplierDb.vouchers, clock, metrics, logger }, { settleWaitMs: SETTLE_WAIT_MS })
  const record: SupplierJobRecord = { agreementId: t.escrowId.slice(2) }
  return { clock, ledger, supplierDb, renterDb, supplierSvc, renterSvc, arbiter, asked, paid, lostPaid, metrics, warnings: records, settlement, record }
}

type World = Awaited<ReturnType<typeof world>>

/** fires the clock's timers one at a time, each once the settlement waits on it, until `until` holds */
async function driveUntil (w: World, until: () => boolean): Promise<void> {
  for (;;) {
    await waitFor(() => until() || w.clock.pending > 0, 10_000, 'a timer of the settlement or its end')
    if (until()) return
    await w.clock.runNext()
  }
}

/** drives the clock while `settle` runs, until it returns */
async function drive (w: World, settling: Promise<void>): Promise<void> {
  let done = false
  void settling.finally(() => { done = true })
  await driveUntil(w, () => done)
  await settling
}

/** the escrow settled once: the payee got `paid`, the payer the rest, nothing left in its account */
async function expectSettled (w: World, kind: 'close' | 'refund', paid = w.paid): Promise<void> {
  const e = (await w.ledger.get(t.escrowId))!
  expect(e.status).toBe(kind === 'close' ? 'closed' : 'refunded')
  expect(e.records.map((r) => r.kind)).toEqual(['open', kind])
  expect(e.balance).toBe(0n)
  expect(await w.ledger.balance(e.account)).toBe(0n)
  const payee = await w.ledger.balance(p.payee.address)
  const refunded = await w.ledger.balance(p.payer.address) - (FUNDS - t.amount)
  expect(payee).toBe(kind === 'close' ? paid : 0n)
  expect(payee + refunded).toBe(t.amount)
  expect(await w.ledger.pending(t.escrowId)).toEqual([])
}

const event = (w: World, e: string): number => w.metrics.escrows.get({ role: 'payee', event: e })

describe('a supplier\'s failed settlement while the daemon runs', () => {
  it('an arbiter that fails three times and then answers: the escrow closes on the voucher while the role runs, after a doubling back-off', async () => {
    const w = await world(3)
    const settling = w.settlement.settle(t.escrowId, w.record, { signal: new AbortController().signal, payer: t.payer })
    await drive(w, settling)
    expect(w.asked.requests).toBe(4)
    expect(w.record).toMatchObject({ settledBy: 'arbiter', paid: w.paid.toString(), vouchers: 3 })
    await expectSettled(w, 'close')
    // the renter's approval never came: its wait, then the arbiter at once, then 30 s, 60 s, 120 s
    expect(w.clock.now() - T0 - 30_000).toBe(SETTLE_WAIT_MS + SETTLE_RETRY_FIRST_MS * (1 + 2 + 4))
    expect(event(w, 'arbiter-close-failed')).toBe(3)
    expect(event(w, 'arbiter-close-retry')).toBe(3)
    expect(event(w, 'arbiter-close')).toBe(1)
    // one warning per failed attempt, each naming it
    expect(w.warnings.filter((r) => r.msg.startsWith('settlement failed')).map((r) => r.fields.attempt)).toEqual([1, 2, 3])
    expect(w.clock.pending).toBe(0)
  })

  it('the back-off doubles up to its cap', async () => {
    const w = await world(7)
    await drive(w, w.settlement.settle(t.escrowId, w.record, { payer: t.payer }))
    expect(w.record.settledBy).toBe('arbiter')
    // 30, 60, 120, 240 s, then 300 s (the cap) for the rest
    expect(w.clock.now() - T0 - 30_000).toBe(SETTLE_WAIT_MS + 30_000 + 60_000 + 120_000 + 240_000 + 3 * SETTLE_RETRY_MAX_MS)
    await expectSettled(w, 'close')
  })

  it('an escrow the renter settled meanwhile ends the retries: the record says how it closed, the arbiter is not asked again', async () => {
    const w = await world(Infinity)
    const settling = w.settlement.settle(t.escrowId, w.record, { payer: t.payer })
    // the first close with the arbiter failed: the settlement waits out its back-off
    await driveUntil(w, () => w.asked.requests === 1 && w.clock.pending > 0)
    // the renter's cooperative approval lands late (the supplier's own is pending): it executes
    expect((await w.renterSvc.close(t.escrowId)).executed).toBe(true)
    await drive(w, settling)
    expect(w.asked.requests).toBe(1)
    expect(w.record).toMatchObject({ settledBy: 'cooperative', paid: w.paid.toString() })
    await expectSettled(w, 'close')
    expect(w.clock.pending).toBe(0)
  })

  it('a stop mid-back-off returns at once with no timer left, and the recovery after the restart closes the escrow on the voucher', async () => {
    const w = await world(Infinity)
    const controller = new AbortController()
    const settling = w.settlement.settle(t.escrowId, w.record, { signal: controller.signal, payer: t.payer })
    await driveUntil(w, () => w.asked.requests === 2 && w.clock.pending > 0)
    const waitingAt = w.clock.now()
    controller.abort()
    await settling
    expect(w.clock.now()).toBe(waitingAt)
    expect(w.clock.pending).toBe(0)
    expect(w.record.settledBy).toBeUndefined()
    expect((await w.ledger.get(t.escrowId))?.status).toBe('open')
    // the restarted daemon: what recovery keys on (the escrow tracked as payee, its voucher) is in
    // the supplier's database, and the arbiter answers now
    w.asked.failures = 0
    const recovery = new SupplierRecovery({ escrow: w.supplierSvc, chain: w.ledger, escrowDb: w.supplierDb, metrics: w.metrics, logger: silentLogger, live: () => false, now: () => w.clock.now() })
    await recovery.run(new AbortController().signal)
    expect(recovery.recovered).toEqual([{ escrowId: t.escrowId, paid: w.paid.toString() }])
    await expectSettled(w, 'close')
  })

  it('the recovery after a restart makes a failed close with the arbiter again while the role runs: it lands after the back-off, and the job record says how', async () => {
    const w = await world(2)
    const settled: Array<{ id: string, settlement: unknown }> = []
    const jobStore = {
      list: async () => [{ id: 'job-1', role: 'supplier' as const, state: 'failed' as const, agreementId: t.escrowId.slice(2), command: '', args: [], gpuCount: 1, createdAt: T0, updatedAt: T0 }],
      settled: async (_role: string, id: string, settlement: unknown) => { settled.push({ id, settlement }) }
    }
    const recovery = new SupplierRecovery({ escrow: w.supplierSvc, chain: w.ledger, escrowDb: w.supplierDb, metrics: w.metrics, logger: silentLogger, live: () => false, now: () => w.clock.now(), settlement: w.settlement, jobStore: jobStore as never })
    await drive(w, recovery.run(new AbortController().signal))
    expect(w.asked.requests).toBe(3)
    expect(recovery.recovered).toEqual([{ escrowId: t.escrowId, paid: w.paid.toString() }])
    await expectSettled(w, 'close')
    expect(settled).toEqual([{ id: 'job-1', settlement: { paid: w.paid.toString(), refunded: (t.amount - w.paid).toString(), settledBy: 'arbiter' } }])
    // the first attempt after the settle wait for the renter's approval, then 30 s and 60 s later
    expect(w.clock.now() - T0 - 30_000).toBe(SETTLE_WAIT_MS + SETTLE_RETRY_FIRST_MS * (1 + 2))
    expect(event(w, 'arbiter-close-retry')).toBe(2)
    expect(w.clock.pending).toBe(0)
  })

  it('the recovery executes the renter\'s cooperative approval already on chain: the escrow closes with the arbiter down, and the job record says so', async () => {
    const w = await world(Infinity)
    // the renter's job ended and it approved the close on the last voucher; the supplier restarted
    // before its own close
    expect((await w.renterSvc.close(t.escrowId)).executed).toBe(false)
    const settled: Array<{ id: string, settlement: unknown }> = []
    const jobStore = {
      list: async () => [{ id: 'job-1', role: 'supplier' as const, state: 'failed' as const, agreementId: t.escrowId.slice(2), command: '', args: [], gpuCount: 1, createdAt: T0, updatedAt: T0 }],
      settled: async (_role: string, id: string, settlement: unknown) => { settled.push({ id, settlement }) }
    }
    const recovery = new SupplierRecovery({ escrow: w.supplierSvc, chain: w.ledger, escrowDb: w.supplierDb, metrics: w.metrics, logger: silentLogger, live: () => false, now: () => w.clock.now(), jobStore: jobStore as never })
    await recovery.run(new AbortController().signal)
    expect(w.asked.requests).toBe(0)
    await expectSettled(w, 'close')
    expect(recovery.recovered).toEqual([{ escrowId: t.escrowId, paid: w.paid.toString() }])
    expect(settled).toEqual([{ id: 'job-1', settlement: { paid: w.paid.toString(), refunded: (t.amount - w.paid).toString(), settledBy: 'cooperative' } }])
    expect(event(w, 'close')).toBe(1)
    expect(w.clock.pending).toBe(0)
  })

  it('a renter\'s approval that lands while the recovery waits to ask the arbiter again is executed at the next attempt, without the arbiter', async () => {
    const w = await world(Infinity)
    const controller = new AbortController()
    const recovery = new SupplierRecovery({ escrow: w.supplierSvc, chain: w.ledger, escrowDb: w.supplierDb, metrics: w.metrics, logger: silentLogger, live: () => false, now: () => w.clock.now(), settlement: w.settlement })
    let done = false
    const running = recovery.run(controller.signal).finally(() => { done = true })
    try {
      await driveUntil(w, () => w.asked.requests === 1 && w.clock.pending > 0)
      // no approval of the supplier's is pending (the recovery never approved cooperatively): the
      // renter's is the first
      expect((await w.renterSvc.close(t.escrowId)).executed).toBe(false)
      await driveUntil(w, () => done || w.asked.requests > 1)
      expect(w.asked.requests).toBe(1)
      await running
      await expectSettled(w, 'close')
      expect(event(w, 'arbiter-close-retry')).toBe(1)
      expect(w.clock.pending).toBe(0)
    } finally {
      controller.abort()
      await running
    }
  })

  it('a recovery whose role stops while it waits to close again returns at once and leaves the escrow to the next start', async () => {
    const w = await world(Infinity)
    const controller = new AbortController()
    const recovery = new SupplierRecovery({ escrow: w.supplierSvc, chain: w.ledger, escrowDb: w.supplierDb, metrics: w.metrics, logger: silentLogger, live: () => false, now: () => w.clock.now(), settlement: w.settlement })
    const running = recovery.run(controller.signal)
    await driveUntil(w, () => w.asked.requests === 2 && w.clock.pending > 0)
    controller.abort()
    await running
    expect(w.clock.pending).toBe(0)
    expect(recovery.recovered).toEqual([])
    expect((await w.ledger.get(t.escrowId))?.status).toBe('open')
  })
})

describe('a voucher the renter signed and stored that never reached the supplier', () => {
  const job = (): { jobStore: never, settled: Array<{ id: string, settlement: unknown }> } => {
    const settled: Array<{ id: string, settlement: unknown }> = []
    const jobStore = {
      list: async () => [{ id: 'job-1', role: 'supplier' as const, state: 'failed' as const, agreementId: t.escrowId.slice(2), command: '', args: [], gpuCount: 1, createdAt: T0, updatedAt: T0 }],
      settled: async (_role: string, id: string, settlement: unknown) => { settled.push({ id, settlement }) }
    }
    return { jobStore: jobStore as never, settled }
  }

  it('the supplier\'s close executes the renter\'s approval of a close on it, without the arbiter: the supplier is paid that voucher', async () => {
    const w = await world(Infinity, { lost: true })
    expect(w.lostPaid!).toBeGreaterThan(w.paid)
    // the renter's job ended: it approved the close on its own latest voucher
    expect((await w.renterSvc.close(t.escrowId)).executed).toBe(false)
    await drive(w, w.settlement.settle(t.escrowId, w.record, { payer: t.payer }))
    expect(w.asked.requests).toBe(0)
    expect(w.record).toMatchObject({ settledBy: 'cooperative', paid: w.lostPaid!.toString() })
    await expectSettled(w, 'close', w.lostPaid)
    expect(w.clock.pending).toBe(0)
  })

  it('the renter\'s approval landing after the supplier\'s own, while the supplier waits to ask the arbiter again, is executed at the next attempt', async () => {
    const w = await world(Infinity, { lost: true })
    const settling = w.settlement.settle(t.escrowId, w.record, { payer: t.payer })
    await driveUntil(w, () => w.asked.requests === 1 && w.clock.pending > 0)
    // the supplier's approval of the close on its voucher is pending; the renter approves its own
    expect((await w.renterSvc.close(t.escrowId)).executed).toBe(false)
    expect((await w.ledger.pending(t.escrowId)).length).toBe(2)
    await drive(w, settling)
    expect(w.asked.requests).toBe(1)
    expect(w.record).toMatchObject({ settledBy: 'cooperative', paid: w.lostPaid!.toString() })
    await expectSettled(w, 'close', w.lostPaid)
  })

  it('the recovery after a restart executes it, and the job record says what was paid', async () => {
    const w = await world(Infinity, { lost: true })
    expect((await w.renterSvc.close(t.escrowId)).executed).toBe(false)
    const { jobStore, settled } = job()
    const recovery = new SupplierRecovery({ escrow: w.supplierSvc, chain: w.ledger, escrowDb: w.supplierDb, metrics: w.metrics, logger: silentLogger, live: () => false, now: () => w.clock.now(), jobStore })
    await recovery.run(new AbortController().signal)
    expect(w.asked.requests).toBe(0)
    await expectSettled(w, 'close', w.lostPaid)
    expect(recovery.recovered).toEqual([{ escrowId: t.escrowId, paid: w.lostPaid!.toString() }])
    expect(settled).toEqual([{ id: 'job-1', settlement: { paid: w.lostPaid!.toString(), refunded: (t.amount - w.lostPaid!).toString(), settledBy: 'cooperative' } }])
  })

  it('the recovery gives the renter\'s approval the settle wait before it asks the arbiter: one that lands during it is executed, and the arbiter is never asked', async () => {
    const w = await world(0, { lost: true })
    const { jobStore, settled } = job()
    const recovery = new SupplierRecovery({ escrow: w.supplierSvc, chain: w.ledger, escrowDb: w.supplierDb, metrics: w.metrics, logger: silentLogger, live: () => false, now: () => w.clock.now(), settlement: w.settlement, jobStore })
    const from = w.clock.now()
    let done = false
    const running = recovery.run(new AbortController().signal).finally(() => { done = true })
    // nothing approved yet: the recovery waits
    await waitFor(() => w.clock.pending > 0, 10_000, 'the settle wait')
    expect(done).toBe(false)
    // the renter's session was refused: it approves the close on its latest voucher
    expect((await w.renterSvc.close(t.escrowId)).executed).toBe(false)
    await driveUntil(w, () => done)
    await running
    expect(w.asked.requests).toBe(0)
    await expectSettled(w, 'close', w.lostPaid)
    expect(recovery.recovered).toEqual([{ escrowId: t.escrowId, paid: w.lostPaid!.toString() }])
    expect(settled).toEqual([{ id: 'job-1', settlement: { paid: w.lostPaid!.toString(), refunded: (t.amount - w.lostPaid!).toString(), settledBy: 'cooperative' } }])
    expect(w.clock.now() - from).toBe(SETTLE_WAIT_MS)
  })

  it('a renter\'s approval of a close paying the supplier less than its own voucher is not executed: the supplier closes with the arbiter on its voucher', async () => {
    const w = await world(0)
    const less = { escrowId: t.escrowId, kind: 'cooperative' as const, payouts: [{ to: t.payee, amount: w.paid - 1n }, { to: t.payer, amount: t.amount - w.paid + 1n }] }
    expect((await w.ledger.approve(less, p.payer, { payer: t.payer })).executed).toBe(false)
    expect((await w.supplierSvc.close(t.escrowId, { ifApproved: true })).executed).toBe(false)
    expect((await w.ledger.get(t.escrowId))?.status).toBe('open')
    await drive(w, w.settlement.settle(t.escrowId, w.record, { payer: t.payer }))
    expect(w.asked.requests).toBe(1)
    expect(w.record).toMatchObject({ settledBy: 'arbiter', paid: w.paid.toString() })
    await expectSettled(w, 'close')
  })
})
