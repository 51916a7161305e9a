import { afterAll, describe, expect, it } from 'vitest'
import { TestNet } from '../helpers/nodes.js'
import type { OfferInput, BidInput } from '../../src/node/market-input.js'
import { DEFAULT_MAX_BIDS_PER_RENTER, DEFAULT_MAX_OFFERS_PER_SUPPLIER } from '../../src/market/constants.js'
import { OWN_PUBLISH_BURST, OWN_PUBLISH_RATE_PER_S } from '../../src/node/own-messages.js'
import { ManualClock } from '../../src/util/clock.js'
import { waitFor } from '../helpers/wait.js'

const offer = (id: string): OfferInput => ({
  id, gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 1 }], teeKinds: ['simulated'], region: 'eu-west',
  pricePerGpuHour: 2_000_000_000n, netuid: 1, minDurationS: 60, maxDurationS: 3600, ttlS: 3000
})
const bid = (id: string): BidInput => ({
  id, gpu: 'h100-80gb', minMemoryMib: 40960, count: 1, teeKinds: ['simulated'], regions: [], maxPricePerGpuHour: 3_000_000_000n, netuid: 1, durationS: 600, ttlS: 3000
})

async function refusal (p: Promise<unknown>): Promise<{ status?: number, code?: string }> {
  try {
    await p
  } catch (err) {
    return err as { status?: number, code?: string }
  }
  throw new Error('expected a refusal')
}

/**
 * Every book keeps at most 256 offers per supplier and 64 bids per renter. A node refuses to sign
 * and gossip one more of its own, which no book would hold, and says so; a replacement of a
 * standing id, or a new id after a cancel, still goes out. The count survives a restart.
 */
describe('a node publishes no more of its own messages than a book keeps per party', () => {
  const net = new TestNet()
  afterAll(async () => { await net.close() }, 30_000)

  it('refuses the offer past the limit with OFFER_LIMIT; a replacement, and a new id after a cancel, still publish', async () => {
    const node = await net.node('Alice', {}, { dbName: 'alice' })
    for (let i = 0; i < DEFAULT_MAX_OFFERS_PER_SUPPLIER; i++) await node.publishOffer(offer(`o-${i}`))
    expect(node.market.book.offerCount).toBe(DEFAULT_MAX_OFFERS_PER_SUPPLIER)

    const over = await refusal(node.publishOffer(offer('one-more')))
    expect(over.status).toBe(409)
    expect(over.code).toBe('OFFER_LIMIT')
    expect(node.market.book.offers().some((e) => e.id === 'one-more')).toBe(false)

    // the same id again replaces the standing offer
    await node.publishOffer({ ...offer('o-0'), pricePerGpuHour: 2_100_000_000n })
    expect(node.market.book.offers().find((e) => e.id === 'o-0')?.offer.pricePerGpuHour).toBe(2_100_000_000n)

    await node.cancelOffer('o-1')
    await node.publishOffer(offer('after-cancel'))
    expect(node.market.book.offers().some((e) => e.id === 'after-cancel')).toBe(true)
    expect((await refusal(node.publishOffer(offer('still-over')))).code).toBe('OFFER_LIMIT')
  }, 120_000)

  it('counts what stands in the database after a restart, and limits bids the same way', async () => {
    const first = await net.node('Bob', {}, { dbName: 'bob' })
    for (let i = 0; i < DEFAULT_MAX_BIDS_PER_RENTER; i++) await first.publishBid(bid(`b-${i}`))
    expect((await refusal(first.publishBid(bid('one-more')))).code).toBe('BID_LIMIT')
    await first.close()

    const again = await net.node('Bob', {}, { dbName: 'bob' })
    expect((await refusal(again.publishBid(bid('one-more')))).code).toBe('BID_LIMIT')
    await again.cancelBid('b-0')
    await again.publishBid(bid('one-more'))
  }, 120_000)

  it('counts no cancelled id that a refused publication named again: bids and offers alike', async () => {
    const node = await net.node('Dave', {}, { dbName: 'dave' })
    // each id stands, is cancelled, then published again with terms no node accepts (a zero price)
    for (let i = 0; i < DEFAULT_MAX_BIDS_PER_RENTER; i++) {
      await node.publishBid(bid(`c-${i}`))
      await node.cancelBid(`c-${i}`)
      expect((await refusal(node.publishBid({ ...bid(`c-${i}`), maxPricePerGpuHour: 0n }))).code).toBe('BAD_FIELD')
    }
    // none stands, so the next bid goes out, and the cancelled ones still count for nothing
    await node.publishBid(bid('fresh'))
    expect(node.market.book.bids().some((e) => e.bid.id === 'fresh')).toBe(true)
    // one short of the limit, two new ids at once: one goes out, the other is refused
    for (let i = 1; i < DEFAULT_MAX_BIDS_PER_RENTER - 1; i++) await node.publishBid(bid(`n-${i}`))
    const both = await Promise.allSettled([node.publishBid(bid('x')), node.publishBid(bid('y'))])
    expect(both.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected'])
    expect((both.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({ code: 'BID_LIMIT' })
    await node.publishOffer(offer('co'))
    await node.cancelOffer('co')
    expect((await refusal(node.publishOffer({ ...offer('co'), pricePerGpuHour: 0n }))).code).toBe('BAD_FIELD')
    for (let i = 0; i < DEFAULT_MAX_OFFERS_PER_SUPPLIER; i++) await node.publishOffer(offer(`o-${i}`))
    expect((await refusal(node.publishOffer(offer('one-more')))).code).toBe('OFFER_LIMIT')
  }, 120_000)

  it('paces its own publications under what a neighbour accepts from one link: a burst at once, then on the clock', async () => {
    const clock = new ManualClock(Date.now())
    // the pacer's waits are sleeps on the node's clock: counted, so that the clock moves only once
    // all three publications below have taken their turns (each first persists its offer, on the
    // database's own thread, which a busy machine can make slow)
    let sleeping = 0
    const clockSleep = clock.sleep.bind(clock)
    clock.sleep = async (ms, opts) => { sleeping++; await clockSleep(ms, opts) }
    const node = await net.node('Charlie', {}, { dbName: 'charlie', init: { clock } })
    for (let i = 0; i < OWN_PUBLISH_BURST; i++) await node.publishOffer(offer(`p-${i}`))
    expect(sleeping).toBe(0)
    let done = 0
    const next = [0, 1, 2].map(async (i) => { await node.publishOffer(offer(`late-${i}`)); done++ })
    // the next three wait for their turns: nothing goes out while the clock stands still
    await waitFor(() => sleeping === 3, 10_000, 'three publications waiting for their turns')
    expect(done).toBe(0)
    expect(node.market.book.offers().some((e) => e.id.startsWith('late-'))).toBe(false)
    const interval = 1000 / OWN_PUBLISH_RATE_PER_S
    // one interval later, the first turn (whichever publication took it) comes, and only it
    clock.advance(interval)
    await Promise.race(next)
    expect(done).toBe(1)
    clock.advance(2 * interval)
    await Promise.all(next)
    expect(node.market.book.offers().filter((e) => e.id.startsWith('late-')).length).toBe(3)
  }, 60_000)
})
