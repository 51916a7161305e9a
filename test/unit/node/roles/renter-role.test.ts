import { describe, expect, it } from 'vitest'
import { OrderBook, type OfferEntry } from '../../../../src/market/index.js'
import { RenterRole } from '../../../../src/node/roles/renter/role.js'
import { RentError } from '../../../../src/node/roles/renter/errors.js'
import type { RentRequest } from '../../../../src/node/roles/renter/types.js'
import { Registry } from '../../../../src/node/metrics.js'
import { silentLogger } from '../../../../src/node/logger.js'
import { ManualClock } from '../../../../src/util/clock.js'
import { T0, mkBid, party } from '../../market/book-fixtures.js'

/** a renter whose node has an empty book: a rental waits for a match until the clock's deadline */
function renter (): { clock: ManualClock, role: RenterRole, cancelled: string[], bids: Array<{ id: string, image?: string }>, listeners: Set<(e: OfferEntry) => void> } {
  const clock = new ManualClock(T0)
  const listeners = new Set<(e: OfferEntry) => void>()
  const cancelled: string[] = []
  const bids: Array<{ id: string, image?: string }> = []
  const node = {
    clock,
    metrics: new Registry(),
    signer: { hotkey: party(101) },
    config: { chain: { netuid: 1 } },
    market: {
      book: new OrderBook({ clock }),
      onOffer: (fn: (e: OfferEntry) => void) => { listeners.add(fn); return () => { listeners.delete(fn) } },
      discover: async () => 0
    },
    publishBid: async (input: { id: string, image?: string }) => { bids.push(input); return { bid: mkBid({ id: input.id }) } },
    cancelBid: async (id: string) => { cancelled.push(id) }
  }
  const role = new RenterRole({
    node: node as never,
    chain: {} as never,
    escrowDb: { escrows: {}, vouchers: {} } as never,
    agreements: {} as never,
    account: { address: '' } as never,
    arbiterAddress: '',
    policy: {} as never,
    logger: silentLogger,
    matchTimeoutMs: 30_000
  })
  return { clock, role, cancelled, bids, listeners }
}

const request: RentRequest = { gpu: '', count: 1, maxPricePerGpuHour: 1n, durationS: 60, teeKinds: [], regions: [], spec: { command: 'true', limits: { maxDurationMs: 1_000 } }, outputDir: '/nonexistent' }
const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => await p.then(() => undefined, (e: unknown) => e instanceof RentError ? e.code : `UNTYPED ${String(e)}`)

describe('the renter role as a service', () => {
  it('a rental with no compatible offer ends with NO_MATCH at the deadline on the clock, and its bid is withdrawn', async () => {
    const r = renter()
    const rent = codeOf(r.role.rent(request))
    await r.clock.advanceAsync(29_999)
    expect(r.listeners.size).toBe(1)
    await r.clock.advanceAsync(1)
    expect(await rent).toBe('NO_MATCH')
    expect(r.cancelled).toHaveLength(1)
    expect(r.listeners.size).toBe(0)
  })

  it('the job\'s image goes into the bid, so that it matches only suppliers that run it; a job without one bids without', async () => {
    const r = renter()
    const image = 'docker.io/pytorch/pytorch:2.4'
    const withImage = codeOf(r.role.rent({ ...request, spec: { ...request.spec, image } }))
    const without = codeOf(r.role.rent(request))
    await r.clock.advanceAsync(30_000)
    expect(await withImage).toBe('NO_MATCH')
    expect(await without).toBe('NO_MATCH')
    expect(r.bids.map((b) => b.image)).toEqual([image, undefined])
  })

  it('stop cancels a rental in flight (ABORTED, bid withdrawn), waits for it, and refuses new ones', async () => {
    const r = renter()
    const events: string[] = []
    const rent = codeOf(r.role.rent(request, { onEvent: (e) => events.push(e.type) }))
    await r.clock.advanceAsync(1_000)
    expect(events).toEqual(['bid'])
    await r.role.stop()
    expect(await rent).toBe('ABORTED')
    expect(r.cancelled).toHaveLength(1)
    expect(r.clock.pending).toBe(0)
    expect(await codeOf(r.role.rent(request))).toBe('ABORTED')
    // a second stop is the first one
    await r.role.stop()
  })

  it('the caller\'s signal cancels one rental, not the role', async () => {
    const r = renter()
    const controller = new AbortController()
    const first = codeOf(r.role.rent(request, { signal: controller.signal }))
    const second = codeOf(r.role.rent(request))
    await r.clock.advanceAsync(1)
    controller.abort()
    expect(await first).toBe('ABORTED')
    await r.clock.advanceAsync(30_000)
    expect(await second).toBe('NO_MATCH')
  })
})
