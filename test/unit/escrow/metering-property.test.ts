import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { amountFor } from '../../../src/escrow/metering/price.js'
import { MeterRenter } from '../../../src/escrow/metering/renter.js'
import { MeterSupplier } from '../../../src/escrow/metering/supplier.js'
import { MemoryVoucherStore } from '../../../src/escrow/store/memory.js'
import { REPORT_BURST, REPORT_REFILL_MS } from '../../../src/escrow/constants.js'
import { EscrowError } from '../../../src/escrow/errors.js'
import { ManualClock } from '../../../src/util/clock.js'
import { parties, signer, T0, terms as mkTerms } from './fixtures.js'

const p = await parties()

describe('metering invariants under random tick timing and lost messages', () => {
  it('the renter never pays beyond reported time, elapsed time or the budget; the supplier keeps the last ack', async () => {
    await fc.assert(fc.asyncProperty(
      fc.bigInt({ min: 1n, max: 10n ** 10n }),
      fc.integer({ min: 1, max: 8 }),
      fc.bigInt({ min: 1n, max: 10n ** 9n }),
      fc.array(fc.record({ dt: fc.oneof(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 40_000 })), lostReport: fc.boolean(), lostVoucher: fc.boolean() }), { maxLength: 30 }),
      async (price, gpus, amount, steps) => {
        const t = mkTerms(p, { amount })
        const clock = new ManualClock(T0)
        const store = new MemoryVoucherStore()
        const supplier = await MeterSupplier.open({ terms: t, pricePerGpuHour: price, gpus, store, clock })
        const renter = new MeterRenter({ terms: t, pricePerGpuHour: price, gpus, signer: signer(), clock })
        supplier.start()
        renter.start()
        let acked = 0n
        const answeredAt: number[] = []
        for (const s of steps) {
          clock.advance(s.dt)
          const r = supplier.tick()
          if (r == null || s.lostReport) continue
          const v = await renter.onReport(r).catch((err: unknown) => {
            // a report faster than the metering period is refused, and only then: the last
            // REPORT_BURST answers came within (REPORT_BURST + 1) refills, the last one less than a
            // refill ago. The supplier goes on as after a lost report.
            expect(err).toBeInstanceOf(EscrowError)
            expect((err as EscrowError).code).toBe('RATE_LIMITED')
            const recent = answeredAt.filter((at) => at >= clock.now() - (REPORT_BURST + 1) * REPORT_REFILL_MS)
            expect(recent.length).toBeGreaterThanOrEqual(REPORT_BURST)
            expect(clock.now() - (answeredAt.at(-1) ?? -Infinity)).toBeLessThan(REPORT_REFILL_MS)
            return undefined
          })
          if (v == null) continue
          answeredAt.push(clock.now())
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
