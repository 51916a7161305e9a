import { afterAll, describe, expect, it } from 'vitest'
import { TestNet } from '../helpers/nodes.js'
import { waitFor } from '../helpers/wait.js'
import type { BazaarNode } from '../../src/node/bazaar-node.js'
import type { OfferInput } from '../../src/node/market-input.js'

const offer = (id: string, price: bigint): OfferInput => ({
  id, gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 2 }], teeKinds: ['simulated'], region: 'eu-west',
  pricePerGpuHour: price, netuid: 1, minDurationS: 60, maxDurationS: 3600, ttlS: 3000
})

/** what a node's book holds, in a comparable form: every offer and bid with its sequence */
function bookOf (n: BazaarNode): string[] {
  return [
    ...n.market.book.offers().map((e) => `offer ${e.key} #${e.offer.sequence} ${e.offer.pricePerGpuHour}`),
    ...n.market.book.bids().map((e) => `bid ${e.key} #${e.bid.sequence}`)
  ].sort()
}

/** gossipsub's message cache of every node is empty: gossip (IHAVE/IWANT) can no longer carry old messages */
function gossipForgot (nodes: BazaarNode[]): boolean {
  return nodes.every((n) => (n.host.services.pubsub as unknown as { mcache: { msgs: Map<string, unknown> } }).mcache.msgs.size === 0)
}

function applied (n: BazaarNode): number {
  const m = /^bazaar_book_sync_entries_total\{verdict="applied"\} (\d+)$/m.exec(n.metrics.render())
  return m == null ? 0 : Number(m[1])
}

/**
 * Two halves of three nodes each, never connected, diverge: each half has its own suppliers and a
 * renter, one supplier replaces its offer, and one cancels an offer that both halves hold (heard
 * before the partition: its signed envelope is handed to the other half's validators). Re-publication
 * is far away and gossipsub has forgotten the messages, so only anti-entropy on the new connection
 * can bring the halves together, the cancel included.
 */
describe('anti-entropy: a healed partition ends with equal books', () => {
  const net = new TestNet()
  afterAll(async () => { await net.close() }, 30_000)

  it('the halves diverge, one link heals them, and every book is the same', async () => {
    const over = { market: { ...(await import('../../src/node/config/index.js').then(async (m) => (await m.defaultConfig()).market)), offerTtlS: 3600, republishS: 3000, bookSyncS: 0 } }
    const names = ['Alice', 'Bob', 'Charlie', 'Dave', 'Eve', 'Ferdie']
    const nodes: BazaarNode[] = []
    for (const name of names) nodes.push(await net.node(name, over))
    const left = nodes.slice(0, 3)
    const right = nodes.slice(3)
    // a line inside each half
    for (const half of [left, right]) {
      for (let i = 1; i < half.length; i++) await half[i].dial(half[i - 1].host.getMultiaddrs()[0].toString())
    }
    await waitFor(() => nodes.every((n) => n.host.services.pubsub.getSubscribers('/bazaar/offers/1').length > 0), 15_000, 'gossip within each half')

    // an offer both halves hold: the right half heard it before the partition
    await left[0].publishOffer(offer('x1', 2_500_000_000n))
    await waitFor(() => left.every((n) => n.market.book.offers().some((e) => e.id === 'x1')), 15_000, 'x1 across the left half')
    const x1 = left[0].market.book.offers().find((e) => e.id === 'x1')?.meta.envelope
    if (x1 == null) throw new Error('x1 has no envelope')
    for (const n of right) n.market.apply(n.gossip.validator.validate('/bazaar/offers/1', x1), 'gossip')
    expect(right.every((n) => n.market.book.offers().some((e) => e.id === 'x1'))).toBe(true)

    await left[0].publishOffer(offer('a1', 2_000_000_000n))
    await left[1].publishOffer(offer('b1', 2_100_000_000n))
    await right[0].publishOffer(offer('d1', 1_900_000_000n))
    await right[1].publishOffer(offer('e1', 2_200_000_000n))
    await right[2].publishBid({ id: 'job', gpu: 'h100', minMemoryMib: 0, count: 1, teeKinds: ['simulated'], regions: [], maxPricePerGpuHour: 3_000_000_000n, netuid: 1, durationS: 600, ttlS: 3000 })
    // a replacement inside the left half: the right half never saw either version
    await left[0].publishOffer(offer('a1', 1_800_000_000n))
    // a cancel inside the left half, of an offer the right half still holds
    await left[0].cancelOffer('x1')

    const same = (half: BazaarNode[], size: number): boolean => half.every((n) => JSON.stringify(bookOf(n)) === JSON.stringify(bookOf(half[0])) && bookOf(n).length === size)
    await waitFor(() => same(left, 2) && bookOf(left[0]).some((l) => l.endsWith(' 1800000000')) && same(right, 4), 15_000, 'each half agreeing within itself')
    expect(left.every((n) => n.market.book.offerCancels().length === 1)).toBe(true)
    expect(right.every((n) => n.market.book.offers().some((e) => e.id === 'x1'))).toBe(true)
    expect(bookOf(left[0])).not.toEqual(bookOf(right[0]))
    await waitFor(() => gossipForgot(nodes), 20_000, 'gossipsub forgetting the messages')

    // heal: one connection between the halves
    await left[2].dial(right[0].host.getMultiaddrs()[0].toString())
    await waitFor(() => nodes.every((n) => bookOf(n).length === 5), 20_000, 'every book holding both halves')
    // the cancel crossed too: x1 is gone from the right half, and every node holds its signed cancel
    await waitFor(() => nodes.every((n) => !n.market.book.offers().some((e) => e.id === 'x1')), 20_000, 'the cancel of x1 reaching the right half')
    const expected = bookOf(nodes[0])
    for (const n of nodes) expect(bookOf(n)).toEqual(expected)
    await waitFor(() => nodes.every((n) => n.market.book.offerCancels().length === 1), 20_000, 'every node holding the signed cancel')
    // the replaced offer arrived in its latest version only, and through the exchange
    expect(expected.filter((l) => l.includes('/a1 '))).toHaveLength(1)
    expect(expected.find((l) => l.includes('/a1 '))).toContain(' 1800000000')
    // the right end of the link applied the cancel through the exchange (and a1, b1 besides)
    expect(applied(right[0])).toBeGreaterThanOrEqual(3)
    expect(applied(left[2]) + applied(right[0])).toBeGreaterThanOrEqual(6)
  }, 90_000)
})
