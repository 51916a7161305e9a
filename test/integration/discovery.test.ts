import { afterAll, describe, expect, it } from 'vitest'
import { TestNet } from '../helpers/nodes.js'
import { waitFor } from '../helpers/wait.js'
import { gpuClassCid } from '../../src/protocols/discovery/gpu-records.js'

describe('a renter that joined late finds suppliers through DHT records per GPU class', () => {
  const net = new TestNet()
  afterAll(async () => { await net.close() })

  it('fetches the current offer of a supplier it never heard gossip from', async () => {
    const hub = await net.node('Dave')
    const supplier = await net.node('Alice')
    await supplier.dial(hub.host.getMultiaddrs()[0].toString())
    await waitFor(() => supplier.host.getPeers().length > 0 && hub.host.getPeers().length > 0)
    await supplier.publishOffer({
      id: 'h100s', gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 2 }], teeKinds: ['simulated'], region: 'eu-west',
      pricePerGpuHour: 1_000_000_000n, netuid: 1, minDurationS: 60, maxDurationS: 3600, ttlS: 600
    })
    // the record is provided in the background after publication
    await waitFor(async () => {
      for await (const p of hub.host.contentRouting.findProviders(await gpuClassCid('h100'), { signal: AbortSignal.timeout(2000) })) {
        if (p.id.equals(supplier.peerId)) return true
      }
      return false
    }, 20_000, 'the provider record at the hub')

    const renter = await net.node('Bob')
    await renter.dial(hub.host.getMultiaddrs()[0].toString())
    expect(renter.market.book.offers().length).toBe(0)
    await waitFor(async () => (await renter.market.discover('h100')) > 0 || renter.market.book.offers().length > 0, 20_000, 'offers from discovery')
    const offers = renter.market.book.offers({ gpu: 'h100' })
    expect(offers).toHaveLength(1)
    expect(offers[0].offer.id).toBe('h100s')
    expect(offers[0].meta.source).toBe('fetch')
    expect(offers[0].meta.peer).toBe(supplier.peerId.toString())
  })
})
