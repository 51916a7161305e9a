import { afterEach, describe, expect, it } from 'vitest'
import { EscrowError } from '../../../src/escrow/errors.js'
import { MeterRenter } from '../../../src/escrow/metering/renter.js'
import { MeterSupplier } from '../../../src/escrow/metering/supplier.js'
import { amountFor } from '../../../src/escrow/metering/price.js'
import type { UsageReport } from '../../../src/escrow/metering/types.js'
import { EscrowDb } from '../../../src/escrow/store/db.js'
import { MemoryVoucherStore } from '../../../src/escrow/store/memory.js'
import { payerScope, type VoucherStore } from '../../../src/escrow/store/vouchers.js'
import type { SignedVoucher } from '../../../src/escrow/types.js'
import { VoucherSigner } from '../../../src/escrow/voucher/keys.js'
import { ManualClock } from '../../../src/util/clock.js'
import { parties, signer, T0, tempDir, terms as mkTerms } from './fixtures.js'

const p = await parties()
const t = mkTerms(p)
// 3.6e9 base units per GPU-hour = 1,000,000 per GPU-second
const PRICE = 3_600_000_000n
const GPUS = 2
const TICK = 10_000
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0)) await c() })

async function setup (opts: { store?: VoucherStore, amount?: bigint } = {}): Promise<{ clock: ManualClock, supplier: MeterSupplier, renter: MeterRenter, store: VoucherStore }> {
  const clock = new ManualClock(T0)
  let store = opts.store
  if (store == null) {
    const dir = await tempDir()
    const db = await EscrowDb.open(dir.path)
    cleanups.push(async () => { await db.close(); await dir.cleanup() })
    store = db.vouchers
  }
  const terms = opts.amount != null ? { ...t, amount: opts.amount } : t
  const supplier = await MeterSupplier.open({ terms, pricePerGpuHour: PRICE, gpus: GPUS, store, clock, tickMs: TICK, graceMs: 30_000, stopAfterMs: 60_000 })
  const renter = new MeterRenter({ terms, pricePerGpuHour: PRICE, gpus: GPUS, signer: signer(), clock, toleranceMs: 2_000 })
  supplier.start()
  renter.start()
  return { clock, supplier, renter, store }
}

async function code (fn: () => Promise<unknown>): Promise<string | undefined> {
  try { await fn() } catch (e) { if (e instanceof EscrowError) return e.code; throw e }
  return undefined
}

describe('price', () => {
  it.each([
    [PRICE, 1, 1000, 10n ** 12n, 1_000_000n],
    [PRICE, 2, 10_000, 10n ** 12n, 20_000_000n],
    [7n, 1, 1, 10n ** 12n, 0n], // 7 × 1 / 3.6e6 rounds down to 0
    [3_600_001n, 1, 1000, 10n ** 12n, 1000n], // 1000.0002… rounds down
    [PRICE, 8, 3_600_000, 5n, 5n] // capped at the locked amount
  ])('amountFor(%s, %s gpus, %s ms, cap %s) = %s', (price, gpus, ms, locked, want) => {
    expect(amountFor(price, gpus, ms, locked)).toBe(want)
  })
})

describe('metering, supplier and renter together', () => {
  it('reports each tick, the renter pays exactly price × gpus × reported time, the supplier stores and acks', async () => {
    const { clock, supplier, renter, store } = await setup()
    for (let i = 1; i <= 5; i++) {
      clock.advance(TICK)
      const r = supplier.tick()!
      expect(r).toMatchObject({ seq: BigInt(i), usedMs: i * TICK, gpus: GPUS, amount: BigInt(i) * 20_000_000n })
      const v = await renter.onReport(r)
      const ack = await supplier.acceptVoucher(v)
      expect(ack).toEqual({ escrowId: t.escrowId, sequence: BigInt(i), cumulative: BigInt(i) * 20_000_000n })
      expect(await store.latest(t.escrowId)).toEqual(v)
    }
    expect(supplier.state).toBe('running')
  })

  it("bills the end of the job's last tick: a final report up to the exit, none when nothing accrued since", async () => {
    const { clock, supplier, renter } = await setup()
    clock.advance(TICK)
    await supplier.acceptVoucher(await renter.onReport(supplier.tick()!))
    // the job exits 3.5 s into its next tick; the meter hears of it 200 ms later
    const exitedAt = clock.now() + 3_500
    clock.advance(3_700)
    const last = supplier.finalTick(exitedAt)!
    expect(last).toMatchObject({ seq: 2n, usedMs: TICK + 3_500, amount: amountFor(PRICE, GPUS, TICK + 3_500, t.amount) })
    const paid = supplier.paid(last.seq, TICK)
    await supplier.acceptVoucher(await renter.onReport(last))
    expect(await paid).toBe(true)
    // nothing accrued up to the exit since: no report
    expect(supplier.finalTick(exitedAt)).toBeUndefined()
    expect(supplier.finalTick(exitedAt - 1_000)).toBeUndefined()
    expect(await supplier.paid(last.seq, TICK)).toBe(true)
  })

  it('waits for the final voucher at most its bound, and not past a stop', async () => {
    const { clock, supplier } = await setup()
    clock.advance(4_000)
    const last = supplier.finalTick()!
    expect(last.usedMs).toBe(4_000)
    const unanswered = supplier.paid(last.seq, 5_000)
    await clock.advanceAsync(4_999)
    let settled = false
    void unanswered.then(() => { settled = true })
    await Promise.resolve()
    expect(settled).toBe(false)
    await clock.advanceAsync(1)
    expect(await unanswered).toBe(false)
    const stopped = supplier.paid(last.seq, 60_000)
    supplier.stop()
    expect(await stopped).toBe(false)
    // a stopped meter reports nothing more
    clock.advance(TICK)
    expect(supplier.finalTick()).toBeUndefined()
  })

  it('answers reports no faster than a tick could come: a flood of reports gets RATE_LIMITED, an honest pace never does', async () => {
    const { clock, renter } = await setup()
    clock.advance(10_000)
    const report = (seq: bigint): UsageReport => ({ escrowId: t.escrowId, seq, usedMs: 10_000, gpus: GPUS, amount: amountFor(PRICE, GPUS, 10_000, t.amount) })
    const codes: Array<string | undefined> = []
    for (let seq = 1n; seq <= 6n; seq++) codes.push(await code(async () => await renter.onReport(report(seq))))
    // a burst of four (a tick and the exit's final report fit in it), then nothing until it refills
    expect(codes).toEqual([undefined, undefined, undefined, undefined, 'RATE_LIMITED', 'RATE_LIMITED'])
    clock.advance(500)
    expect(await code(async () => await renter.onReport(report(7n)))).toBeUndefined()
    expect(await code(async () => await renter.onReport(report(8n)))).toBe('RATE_LIMITED')
    // one report a second, the shortest metering period, for a minute: every one answered
    for (let seq = 9n; seq < 69n; seq++) {
      clock.advance(1_000)
      expect(await code(async () => await renter.onReport({ ...report(seq), usedMs: 10_000 }))).toBeUndefined()
    }
  })

  it('persists the voucher before it acknowledges', async () => {
    const inner = new MemoryVoucherStore()
    let release!: () => void
    const gate = new Promise<void>((resolve) => { release = resolve })
    const events: string[] = []
    let putStarted!: () => void
    const writing = new Promise<void>((resolve) => { putStarted = resolve })
    const slow: VoucherStore = {
      put: async (v) => { events.push('put-start'); putStarted(); await gate; await inner.put(v); events.push('put-done') },
      latest: async (id) => await inner.latest(id)
    }
    const { clock, supplier, renter } = await setup({ store: slow })
    clock.advance(TICK)
    const v = await renter.onReport(supplier.tick()!)
    const acked = supplier.acceptVoucher(v).then(() => { events.push('ack') })
    // the write has begun; everything that could run before it ends has run once the queue drains
    await writing
    await new Promise((resolve) => setImmediate(resolve))
    expect(events).toEqual(['put-start'])
    release()
    await acked
    expect(events).toEqual(['put-start', 'put-done', 'ack'])
  })

  it('re-acknowledges a retransmitted voucher without a second write', async () => {
    const { clock, supplier, renter } = await setup()
    clock.advance(TICK)
    const v = await renter.onReport(supplier.tick()!)
    const a = await supplier.acceptVoucher(v)
    expect(await supplier.acceptVoucher(v)).toEqual(a)
  })

  it.each<[string, (v: SignedVoucher, r: UsageReport) => SignedVoucher, string]>([
    ['an amount other than the report', (v) => signer().sign({ ...v, cumulative: v.cumulative - 1n }), 'AMOUNT_MISMATCH'],
    ['an amount above the report', (v) => signer().sign({ ...v, cumulative: v.cumulative + 1n }), 'AMOUNT_MISMATCH'],
    ['no report with that sequence', (v) => signer().sign({ ...v, sequence: 99n }), 'UNKNOWN_REPORT'],
    ['another key', (v) => VoucherSigner.generate().sign(v), 'BAD_SIGNATURE'],
    ['above the locked amount', (v) => signer().sign({ ...v, cumulative: t.amount + 1n }), 'AMOUNT_MISMATCH'],
    ['a forged signature on the right amount', (v) => ({ ...v, signature: signer().sign({ ...v, sequence: v.sequence + 1n }).signature }), 'BAD_SIGNATURE'],
    ['another escrow', (v) => signer().sign({ ...v, escrowId: '0x' + '22'.repeat(32) }), 'WRONG_ESCROW']
  ])('refuses a voucher with %s and stores nothing', async (_n, make, want) => {
    const { clock, supplier, renter, store } = await setup()
    clock.advance(TICK)
    const r = supplier.tick()!
    const v = await renter.onReport(r)
    expect(await code(async () => await supplier.acceptVoucher(make(v, r)))).toBe(want)
    expect(await store.latest(t.escrowId)).toBeUndefined()
  })

  it('refuses a voucher with a lower sequence or a lower cumulative than the last acknowledged', async () => {
    const { clock, supplier, renter } = await setup()
    clock.advance(TICK)
    const r1 = supplier.tick()!
    clock.advance(TICK)
    const r2 = supplier.tick()!
    const v1 = await renter.onReport(r1)
    const v2 = await renter.onReport(r2)
    await supplier.acceptVoucher(v2)
    expect(await code(async () => await supplier.acceptVoucher(v1))).toBe('SEQUENCE_NOT_INCREASING')
  })

  it('pauses when vouchers lag past the grace window, stops after the second window, and accrues nothing while paused', async () => {
    const { clock, supplier } = await setup()
    const seen: string[] = []
    supplier.on('pause', () => seen.push('pause'))
    supplier.on('stop', ({ reason }) => seen.push(`stop:${reason}`))
    // the renter never answers; the first unanswered report is at 10 s
    for (let i = 0; i < 4; i++) { clock.advance(TICK); supplier.tick() }
    expect(supplier.state).toBe('running') // lag 30 s = grace, not past it
    clock.advance(TICK)
    const r5 = supplier.tick()!
    expect(supplier.state).toBe('paused')
    expect(seen).toEqual(['pause'])
    expect(r5.usedMs).toBe(50_000)
    clock.advance(TICK)
    expect(supplier.tick()!.usedMs).toBe(50_000) // paused: no usage accrues
    for (let i = 0; i < 5; i++) { clock.advance(TICK); supplier.tick() }
    expect(supplier.state).toBe('stopped')
    expect(seen).toEqual(['pause', 'stop:unpaid'])
    expect(supplier.tick()).toBeUndefined()
  })

  it('a renter away: the job pauses but is not stopped; back on a new session, the renter gets a fresh grace window and pays on', async () => {
    const { clock, supplier } = await setup()
    const seen: string[] = []
    supplier.on('pause', () => seen.push('pause'))
    supplier.on('resume', () => seen.push('resume'))
    supplier.on('stop', ({ reason }) => seen.push(`stop:${reason}`))
    supplier.away()
    // far past both windows, unanswered: paused once, never stopped, nothing accrues while paused
    for (let i = 0; i < 30; i++) { clock.advance(TICK); supplier.tick() }
    expect(supplier.state).toBe('paused')
    expect(seen).toEqual(['pause'])
    supplier.back()
    // the renter's new meter checks usage against the job's start on its own clock
    const renter = new MeterRenter({ terms: t, pricePerGpuHour: PRICE, gpus: GPUS, signer: signer(), clock, toleranceMs: 2_000 })
    renter.start(T0)
    // the first report after the return is within the fresh grace window: no stop
    clock.advance(TICK)
    const r = supplier.tick()!
    expect(supplier.state).toBe('paused')
    expect(r.usedMs).toBe(50_000)
    await supplier.acceptVoucher(await renter.onReport(r))
    expect(supplier.state).toBe('running')
    expect(seen).toEqual(['pause', 'resume'])
    clock.advance(TICK)
    expect(supplier.tick()!.usedMs).toBe(60_000)
  })

  it('a renter that never comes back after away/back is stopped by the windows as usual', async () => {
    const { clock, supplier } = await setup()
    supplier.away()
    for (let i = 0; i < 10; i++) { clock.advance(TICK); supplier.tick() }
    supplier.back()
    // the fresh window from the return: grace, then the stop window
    for (let i = 0; i < 9 && supplier.state !== 'stopped'; i++) { clock.advance(TICK); supplier.tick() }
    expect(supplier.state).toBe('paused')
    for (let i = 0; i < 3 && supplier.state !== 'stopped'; i++) { clock.advance(TICK); supplier.tick() }
    expect(supplier.state).toBe('stopped')
  })

  it('a renter re-attaching again and again without paying gets no unpaid running time and no endless hold: the first return\'s window stops it', async () => {
    const { clock, supplier } = await setup()
    const seen: string[] = []
    supplier.on('pause', () => seen.push('pause'))
    supplier.on('resume', () => seen.push('resume'))
    supplier.on('stop', ({ reason }) => seen.push(`stop:${reason}`))
    // unanswered from 10 s on: the job pauses past the grace window (40 s used, then nothing accrues)
    for (let i = 0; i < 5; i++) { clock.advance(TICK); supplier.tick() }
    expect(supplier.state).toBe('paused')
    const used = supplier.usedMs
    // a session drops and comes back every 20 s, never paying; the first return grants grace + stop from then
    let firstBack: number | undefined
    for (let round = 0; round < 10 && supplier.state !== 'stopped'; round++) {
      supplier.away()
      clock.advance(TICK)
      supplier.tick()
      supplier.back()
      firstBack ??= clock.now()
      clock.advance(TICK)
      supplier.tick()
    }
    expect(supplier.state).toBe('stopped')
    expect(seen).toEqual(['pause', 'stop:unpaid'])
    expect(supplier.usedMs).toBe(used)
    // stopped at the first tick after the return's one window: grace (30 s) + stop (60 s), at a
    // tick of the renter's present half (every 20 s here)
    expect(clock.now() - firstBack!).toBeGreaterThan(30_000 + 60_000)
    expect(clock.now() - firstBack!).toBeLessThanOrEqual(30_000 + 60_000 + 2 * TICK)
  })

  it('a back without an away changes nothing: an unpaid job pauses and stops by its windows', async () => {
    const { clock, supplier } = await setup()
    for (let i = 0; i < 12 && supplier.state !== 'stopped'; i++) {
      clock.advance(TICK)
      supplier.tick()
      supplier.back()
    }
    // first report at 10 s: paused past 40 s, stopped past 100 s
    expect(supplier.state).toBe('stopped')
    expect(clock.now()).toBe(T0 + 110_000)
    expect(supplier.usedMs).toBe(50_000)
  })

  it('resumes when a voucher catches up during the pause', async () => {
    const { clock, supplier, renter } = await setup()
    const reports: UsageReport[] = []
    for (let i = 0; i < 5; i++) { clock.advance(TICK); reports.push(supplier.tick()!) }
    expect(supplier.state).toBe('paused')
    const v = await renter.onReport(reports[4])
    let resumed = false
    supplier.on('resume', () => { resumed = true })
    await supplier.acceptVoucher(v)
    expect(resumed).toBe(true)
    expect(supplier.state).toBe('running')
    clock.advance(TICK)
    expect(supplier.tick()!.usedMs).toBe(60_000)
  })

  it('stops at the budget: the renter never pays beyond the locked amount', async () => {
    const { clock, supplier, renter } = await setup({ amount: 45_000_000n }) // 2.25 ticks of budget
    let stopped = ''
    supplier.on('stop', ({ reason }) => { stopped = reason })
    const paid: bigint[] = []
    for (let i = 0; i < 3; i++) {
      clock.advance(TICK)
      const v = await renter.onReport(supplier.tick()!)
      paid.push((await supplier.acceptVoucher(v)).cumulative)
    }
    expect(paid).toEqual([20_000_000n, 40_000_000n, 45_000_000n])
    expect(stopped).toBe('budget')
    expect(supplier.tick()).toBeUndefined()
  })
})

describe('supplier ticks on its clock', () => {
  it('reports every tick of the clock with autoTick, and stops its timer when the session ends', async () => {
    const clock = new ManualClock(T0)
    const dir = await tempDir()
    const db = await EscrowDb.open(dir.path)
    cleanups.push(async () => { await db.close(); await dir.cleanup() })
    const supplier = await MeterSupplier.open({ terms: t, pricePerGpuHour: PRICE, gpus: GPUS, store: db.vouchers, clock, tickMs: TICK, graceMs: 30_000, stopAfterMs: 60_000 })
    const reports: UsageReport[] = []
    supplier.on('report', (r: UsageReport) => { reports.push(r) })
    supplier.start({ autoTick: true })
    clock.advance(TICK - 1)
    expect(reports).toEqual([])
    clock.advance(1)
    expect(reports.map((r) => r.usedMs)).toEqual([TICK])
    clock.advance(2 * TICK)
    expect(reports.map((r) => r.usedMs)).toEqual([TICK, 2 * TICK, 3 * TICK])
    supplier.stop()
    expect(clock.pending).toBe(0)
  })
})

describe('renter checks of usage reports', () => {
  const base = (over: Partial<UsageReport> = {}): UsageReport => ({ escrowId: t.escrowId, seq: 1n, usedMs: 10_000, gpus: GPUS, amount: 20_000_000n, ...over })
  it.each<[string, Partial<UsageReport>, string]>([
    ['another escrow', { escrowId: '0x' + '33'.repeat(32) }, 'WRONG_ESCROW'],
    ['other gpus', { gpus: 3, amount: 30_000_000n }, 'REPORT_INVALID'],
    ['usage beyond elapsed time + tolerance', { usedMs: 12_001, amount: 24_002_000n }, 'REPORT_AHEAD_OF_CLOCK'],
    ['a claimed amount above price × time', { amount: 20_000_001n }, 'AMOUNT_MISMATCH'],
    ['a fractional usedMs', { usedMs: 9_999.5 }, 'REPORT_INVALID'],
    ['sequence zero', { seq: 0n }, 'SEQUENCE_NOT_INCREASING']
  ])('refuses %s', async (_n, over, want) => {
    const { clock, renter } = await setup()
    clock.advance(TICK)
    expect(await code(async () => await renter.onReport(base(over)))).toBe(want)
  })

  it('accepts usage within the tolerance and refuses replays and shrinking usage', async () => {
    const { clock, renter } = await setup()
    clock.advance(TICK)
    await renter.onReport(base({ usedMs: 12_000, amount: 24_000_000n }))
    expect(await code(async () => await renter.onReport(base({ seq: 1n, usedMs: 12_000, amount: 24_000_000n })))).toBe('SEQUENCE_NOT_INCREASING')
    expect(await code(async () => await renter.onReport(base({ seq: 2n, usedMs: 11_000, amount: 22_000_000n })))).toBe('REPORT_INVALID')
    expect(renter.latest()?.cumulative).toBe(24_000_000n)
  })

  it('a renter that restarted goes on from the vouchers it stored: a lower sequence or a smaller amount is refused, so every voucher sent is stored', async () => {
    const store = new MemoryVoucherStore()
    await store.put(signer().sign({ escrowId: t.escrowId, cumulative: 20_000_000n, sequence: 40n }))
    const clock = new ManualClock(T0)
    const renter = new MeterRenter({ terms: t, pricePerGpuHour: PRICE, gpus: GPUS, signer: signer(), clock, toleranceMs: 2_000, store })
    // the job started a tick before the restart, on this clock
    renter.start(T0 - TICK)
    clock.advance(TICK)
    expect(await code(async () => await renter.onReport(base({ seq: 5n, usedMs: 20_000, amount: 40_000_000n })))).toBe('SEQUENCE_NOT_INCREASING')
    expect(await code(async () => await renter.onReport(base({ seq: 41n, usedMs: 5_000, amount: 10_000_000n })))).toBe('CUMULATIVE_DECREASED')
    const v = await renter.onReport(base({ seq: 41n, usedMs: 20_000, amount: 40_000_000n }))
    expect(await store.latest(t.escrowId)).toEqual(v)
  })

  it('refuses a signer that is not the voucher key of the terms', () => {
    expect(() => new MeterRenter({ terms: t, pricePerGpuHour: PRICE, gpus: GPUS, signer: VoucherSigner.generate() })).toThrow(EscrowError)
  })
})

describe('the voucher store\'s scopes', () => {
  it('keeps a scope\'s vouchers apart from the id\'s own and from another scope\'s, durably, and refuses a malformed scope', async () => {
    const dir = await tempDir()
    let db = await EscrowDb.open(dir.path)
    cleanups.push(async () => { await db.close(); await dir.cleanup() })
    const alice = payerScope(p.payer.address)
    const dave = payerScope(p.other.address)
    await db.vouchers.put(signer().sign({ escrowId: t.escrowId, cumulative: 10n, sequence: 9n }), { scope: dave })
    await db.vouchers.put(signer().sign({ escrowId: t.escrowId, cumulative: 5n, sequence: 3n }), { scope: alice })
    await db.vouchers.put(signer().sign({ escrowId: t.escrowId, cumulative: 1n, sequence: 1n }))
    await db.close()
    db = await EscrowDb.open(dir.path)
    expect((await db.vouchers.latest(t.escrowId, { scope: alice }))?.sequence).toBe(3n)
    expect((await db.vouchers.latest(t.escrowId, { scope: dave }))?.sequence).toBe(9n)
    expect((await db.vouchers.latest(t.escrowId))?.sequence).toBe(1n)
    // the unscoped listing is the parties' own vouchers only
    const all: bigint[] = []
    for await (const x of db.vouchers.all()) all.push(x.sequence)
    expect(all).toEqual([1n])
    expect(await code(async () => { await db.vouchers.latest(t.escrowId, { scope: '../x' }) })).toBe('MALFORMED_VOUCHER')
  })
})
