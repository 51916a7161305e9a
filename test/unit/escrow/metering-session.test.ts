import { describe, expect, it } from 'vitest'
import { MeterRenter } from '../../../src/escrow/metering/renter.js'
import { MeterSupplier } from '../../../src/escrow/metering/supplier.js'
import type { VoucherAck } from '../../../src/escrow/metering/types.js'
import { MemoryVoucherStore } from '../../../src/escrow/store/memory.js'
import { encodeMetering } from '../../../src/protocols/metering/codec.js'
import { renterMeteringHook, supplierMeteringHooks, type SupplierMeteringControl } from '../../../src/protocols/metering/session.js'
import { ManualClock } from '../../../src/util/clock.js'
import { parties, signer, T0, terms as mkTerms } from './fixtures.js'

const p = await parties()
const t = mkTerms(p)
const PRICE = 3_600_000_000n

async function pair (): Promise<{ clock: ManualClock, store: MemoryVoucherStore, supplier: ReturnType<typeof supplierMeteringHooks>, renter: ReturnType<typeof renterMeteringHook>, ctl: SupplierMeteringControl, acks: VoucherAck[], stops: string[], errors: string[], toRenter: Uint8Array[] }> {
  const clock = new ManualClock(T0)
  const store = new MemoryVoucherStore()
  const meter = await MeterSupplier.open({ terms: t, pricePerGpuHour: PRICE, gpus: 1, store, clock })
  const renterMeter = new MeterRenter({ terms: t, pricePerGpuHour: PRICE, gpus: 1, signer: signer(), clock })
  renterMeter.start()
  const acks: VoucherAck[] = []
  const stops: string[] = []
  const errors: string[] = []
  const toRenter: Uint8Array[] = []
  const supplier = supplierMeteringHooks(meter, { onError: (e) => errors.push(e.code) })
  const renter = renterMeteringHook(renterMeter, { onAck: (a) => acks.push(a), onError: (e) => errors.push(e.code) })
  const ctl: SupplierMeteringControl = {
    sendMetering: async (b) => { toRenter.push(b) },
    stop: (reason, detail) => { stops.push(`${reason}:${detail}`) }
  }
  return { clock, store, supplier, renter, ctl, acks, stops, errors, toRenter }
}

describe('metering over the job hooks', () => {
  it('reports, vouchers and acks flow as frames; vouchers are stored before the ack', async () => {
    const w = await pair()
    await w.supplier.onUsageTick({}, w.ctl) // starts the meter at T0
    w.toRenter.length = 0
    for (let i = 1; i <= 3; i++) {
      w.clock.advance(10_000)
      await w.supplier.onUsageTick({}, w.ctl)
      const report = w.toRenter.pop()!
      await w.renter(report, { send: async (voucher) => { await w.supplier.onMetering(voucher, w.ctl) } })
      const ack = w.toRenter.pop()!
      await w.renter(ack, { send: async () => { throw new Error('no answer to an ack') } })
    }
    expect(w.acks.map((a) => a.cumulative)).toEqual([10_000_000n, 20_000_000n, 30_000_000n])
    expect((await w.store.latest(t.escrowId))?.cumulative).toBe(30_000_000n)
    expect(w.errors).toEqual([])
  })

  it('never acknowledges junk from the renter, and stops the job when vouchers lag', async () => {
    const w = await pair()
    await w.supplier.onUsageTick({}, w.ctl)
    await w.supplier.onMetering(Uint8Array.from([1, 2, 3]), w.ctl)
    await w.supplier.onMetering(encodeMetering({ kind: 'ack', ack: { escrowId: t.escrowId, sequence: 1n, cumulative: 1n } }), w.ctl)
    await w.supplier.onMetering(encodeMetering({ kind: 'voucher', voucher: signer().sign({ escrowId: t.escrowId, cumulative: 1n, sequence: 1n }) }), w.ctl)
    expect(w.errors).toEqual(['MALFORMED', 'MALFORMED_VOUCHER', 'AMOUNT_MISMATCH'])
    w.toRenter.length = 0
    for (let i = 0; i < 12; i++) { w.clock.advance(10_000); await w.supplier.onUsageTick({}, w.ctl) }
    expect(w.stops).toEqual(['budget:VOUCHERS_LAG'])
  })

  it('the renter signs nothing for a report it refuses', async () => {
    const w = await pair()
    let sent = 0
    const bad = encodeMetering({ kind: 'report', report: { escrowId: t.escrowId, seq: 1n, usedMs: 3_600_000, gpus: 1, amount: PRICE } })
    await w.renter(bad, { send: async () => { sent++ } })
    expect(sent).toBe(0)
    expect(w.errors).toEqual(['REPORT_AHEAD_OF_CLOCK'])
  })
})
