import { describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { OrderBook } from '../../../src/market/book/order-book.js'
import { bookRows } from '../../../src/market/book/format.js'
import { bidView, offerView } from '../../../src/node/market-json.js'
import { escrowJson, renterJobView } from '../../../src/node/daemon-routes.js'
import { ManualClock } from '../../../src/util/clock.js'
import { T0, mkBid, mkOffer } from '../market/book-fixtures.js'
import type { Offer } from '../../../src/wire/market.js'

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
const SS58_KEY = /^5[1-9A-HJ-NP-Za-km-z]{47}\/[^/]+$/
const RAO = /^(0|[1-9][0-9]*)$/

describe('JSON shapes: one time format, one offer key, amounts as decimal strings with their unit', () => {
  it('a book row and an offer view of the same offer share key, id, times and amounts', async () => {
    const book = new OrderBook({ clock: new ManualClock(T0) })
    const enclavePeer = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toMultihash().bytes
    const offer = mkOffer({ id: 'h100s', pricePerGpuHour: 1_500_000_000n, enclavePeer, addrs: [] })
    book.upsertOffer(offer)
    const [row] = bookRows(book.offers())
    const view = offerView(offer)
    expect(row.key).toMatch(SS58_KEY)
    expect(row.key).toBe(view.key)
    expect(row.key).toBe(`${row.supplier}/h100s`)
    expect(row.id).toBe(view.id)
    expect(row).not.toHaveProperty('offerId')
    for (const t of [row.createdAt, row.expiresAt, view.createdAt, view.expiresAt]) expect(t).toMatch(ISO)
    expect(row.createdAt).toBe(view.createdAt)
    expect(row.expiresAt).toBe(view.expiresAt)
    expect(row.pricePerGpuHour).toBe('1500000000')
    expect(view.pricePerGpuHour).toMatch(RAO)
    expect(row.unit).toBe('rao')
    expect(view.unit).toBe('rao')
  })

  it('a book row and an offer view state the runtime and images alike; a bid view the image', async () => {
    const enclavePeer = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toMultihash().bytes
    const cases: Array<[Partial<Offer>, { runtime: string, images: string[] }]> = [
      [{}, { runtime: 'process', images: [] }],
      [{ runtime: 'container', images: ['ghcr.io/org/*'] }, { runtime: 'container', images: ['ghcr.io/org/*'] }]
    ]
    for (const [o, want] of cases) {
      const book = new OrderBook({ clock: new ManualClock(T0) })
      const offer = mkOffer({ enclavePeer, addrs: [], ...o })
      book.upsertOffer(offer)
      expect(bookRows(book.offers())[0]).toMatchObject(want)
      expect(offerView(offer)).toMatchObject(want)
    }
    const image = 'docker.io/pytorch/pytorch:2.4'
    expect(bidView(mkBid({ requirements: { gpu: 'h100', minMemoryMib: 0, count: 1, teeKinds: [], regions: [], image } })).requirements.image).toBe(image)
    expect(bidView(mkBid()).requirements).not.toHaveProperty('image')
  })

  it('jobs and escrows carry ISO 8601 times', () => {
    const job = renterJobView({ id: 'j1', role: 'renter', state: 'succeeded', command: 'true', args: [], gpuCount: 1, createdAt: Date.UTC(2026, 0, 2, 3, 4, 5), updatedAt: 0, endedAt: Date.UTC(2026, 0, 2, 3, 5, 0) })
    expect(job.createdAt).toBe('2026-01-02T03:04:05.000Z')
    expect(job.endedAt).toBe('2026-01-02T03:05:00.000Z')
    const escrow = escrowJson({ escrowId: '0x' + '11'.repeat(32), amount: '1000', balance: '1000', expiresAt: Date.UTC(2026, 5, 1) })
    expect(escrow).toEqual({ escrowId: '0x' + '11'.repeat(32), amount: '1000', balance: '1000', expiresAt: '2026-06-01T00:00:00.000Z', unit: 'rao' })
  })

  it('a bid view names the unit of its price', () => {
    const view = bidView(mkBid({ maxPricePerGpuHour: 2_000_000_000n }))
    expect(view.maxPricePerGpuHour).toBe('2000000000')
    expect(view.unit).toBe('rao')
  })
})
