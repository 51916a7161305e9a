import { describe, expect, it } from 'vitest'
import { CapacityLedger } from '../../../../src/jobs/capacity.js'
import { loadInventory } from '../../../../src/jobs/index.js'
import { OfferPublisher, type OfferPublisherInit } from '../../../../src/node/roles/supplier/offers.js'
import type { OfferInput } from '../../../../src/node/market-input.js'
import { silentLogger } from '../../../../src/node/logger.js'
import { ManualClock } from '../../../../src/util/clock.js'

async function publisher (init: Partial<OfferPublisherInit> = {}): Promise<{ ledger: CapacityLedger, offers: OfferPublisher, log: string[], inputs: OfferInput[] }> {
  const inventory = await loadInventory({
    config: { gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 2, pricePerGpuHour: 7n }, { model: 'a100-40gb', memoryMib: 40960, count: 1 }] },
    runNvidiaSmi: async () => ({ absent: true })
  })
  const ledger = new CapacityLedger(inventory.devices.map((d) => ({ index: d.index, model: d.model })), { clock: new ManualClock() })
  const log: string[] = []
  const inputs: OfferInput[] = []
  const node = {
    publishOffer: async (o: OfferInput) => { inputs.push(o); log.push(`publish ${o.id} x${o.gpus[0].count} at ${o.pricePerGpuHour} via ${o.enclavePeer} ${o.extraAddrs?.join(',') ?? ''}`); return undefined as never },
    cancelOffer: async (id: string) => { log.push(`cancel ${id}`) }
  }
  const enclave = { peerId: { toString: () => 'enclave' }, getMultiaddrs: () => [{ toString: () => '/ip4/127.0.0.1/tcp/1' }] }
  const offers = new OfferPublisher({ node, ledger, inventory, enclave: () => enclave, logger: silentLogger }, {
    defaultPrice: 5n, netuid: 1, region: 'eu', teeKinds: ['simulated'], gpuCc: false, minDurationS: 10, maxDurationS: 3600, offerTtlS: 300, ...init
  })
  return { ledger, offers, log, inputs }
}

describe('offer publisher', () => {
  it('publishes one offer per GPU class with its free GPUs and its price (or the default)', async () => {
    const { offers, log } = await publisher()
    await offers.publish()
    expect(log.sort()).toEqual([
      'publish a100-40gb x1 at 5 via enclave /ip4/127.0.0.1/tcp/1',
      'publish h100-80gb x2 at 7 via enclave /ip4/127.0.0.1/tcp/1'
    ])
  })

  it('a supplier whose jobs run in containers states it and its images in every offer; one that runs processes states no runtime', async () => {
    const containers = await publisher({ images: ['docker.io/pytorch/pytorch:*'] })
    await containers.offers.publish()
    expect(containers.inputs.map((i) => i.images)).toEqual([['docker.io/pytorch/pytorch:*'], ['docker.io/pytorch/pytorch:*']])
    const any = await publisher({ images: [] })
    await any.offers.publish()
    expect(any.inputs.map((i) => i.images)).toEqual([[], []])
    const processes = await publisher()
    await processes.offers.publish()
    expect(processes.inputs.map((i) => 'images' in i)).toEqual([false, false])
  })

  it('follows the free capacity: fewer GPUs, then withdrawn once (not again), then back', async () => {
    const { ledger, offers, log } = await publisher()
    ledger.hold('a', 'h100-80gb', 1, 60_000)
    await offers.publish()
    expect(log.filter((l) => l.includes('h100'))).toEqual(['publish h100-80gb x1 at 7 via enclave /ip4/127.0.0.1/tcp/1'])
    log.length = 0
    ledger.hold('b', 'h100-80gb', 1, 60_000)
    await offers.publish()
    await offers.publish()
    expect(log.filter((l) => l.includes('h100'))).toEqual(['cancel h100-80gb'])
    log.length = 0
    ledger.release('a')
    await offers.publish()
    expect(log.filter((l) => l.includes('h100'))).toEqual(['publish h100-80gb x1 at 7 via enclave /ip4/127.0.0.1/tcp/1'])
  })

  it('stop withdraws every class, and nothing is published after it', async () => {
    const { offers, log } = await publisher()
    await offers.publish()
    log.length = 0
    await offers.stop()
    expect(log.sort()).toEqual(['cancel a100-40gb', 'cancel h100-80gb'])
    log.length = 0
    await offers.publish()
    offers.refresh()
    await offers.stop()
    expect(log).toEqual([])
  })
})
