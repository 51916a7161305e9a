import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { amountFor } from '../../../src/escrow/metering/price.js'
import { MeterRenter } from '../../../src/escrow/metering/renter.js'
import { MeterSupplier } from '../../../src/escrow/metering/supplier.js'
import { MemoryVoucherStore } from '../../../src/escrow/store/memory.js'
import { ManualClock } from '../../../src/util/clock.js'
import { parties, signer, T0, terms as mkTerms } from './fixtures.js'

const p = await parties()

describe('metering invariants under random tick timing and lost messages', () => {
  it('the renter never pays beyond reported time, elapsed time or the budget; the supplier keeps the last ack', async () => {
    await fc.assert(fc.asyncProperty(
      fc.bigInt({ min: 1n, max: 10n ** 10n }),
      fc.integer({ min: 1, max: 8 }),
      fc.bigInt({ min: 1n, max: 10n ** 9n }),
      fc.array(fc.record({ dt: fc.integer({ min: 0, max: 40_000 }), lostReport: fc.boolean(), lostVoucher: fc.boolean() }), { maxLength: 30 }),
      async (price, gpus, amount, steps) => {
        const t = mkTerms(p, { amount })
        const clock = new ManualClock(T0)
        const store = new MemoryVoucherStore()
        const supplier = await MeterSupplier.open({ terms: t, pricePerGpuHour: price, gpus, store, clock })
        const renter = new MeterRenter({ terms: t, pricePerGpuHour: price, gpus, signer: signer(), clock })
        supplier.start()
        renter.start()
        let acked = 0n
        for (const s of steps) {
          clock.advance(s.dt)
          const r = supplier.tick()
          if (r == null || s.lostReport) continue
          const v = await renter.onReport(r)
          const elapsed = clock.now() - T0
          expect(v.cumulative).toBe(amountFor(price, gpus, r.usedMs, amount))
          expect(v.cumulative).toBeLessThanOrEqual(amount)
          expect(v.cumulative).toBeLessThanOrEqual(amountFor(price, gpus, elapsed, amount))
          if (s.lostVoucher) continue
          acked = (await supplier.acceptVoucher(v)).cumulative
          expect((await store.latest(t.escrowId))?.cumulative ?? 0n).toBe(acked)
        }
        supplier.stop()
      }), { numRuns: 80 })
  })
})
