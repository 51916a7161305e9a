import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createHost, type Host } from '../../src/node/host.js'
import { MarketGossip } from '../../src/protocols/gossip/service.js'
import { TOPIC_OFFERS } from '../../src/protocols/gossip/topics.js'
import { sealOffer } from '../../src/protocols/gossip/envelope.js'
import type { ValidatedMessage } from '../../src/protocols/gossip/validate.js'
import { MessageSigner } from '../../src/market/signing/index.js'
import { systemClock } from '../../src/util/clock.js'
import { devPair } from '../helpers/keys.js'
import { makeOffer } from '../helpers/market.js'
import { waitFor } from '../helpers/wait.js'

const N = 10

describe(`gossip of signed offers across ${N} nodes on 127.0.0.1`, () => {
  const hosts: Host[] = []
  const gossips: MarketGossip[] = []
  const received: ValidatedMessage[][] = []

  beforeAll(async () => {
    for (let i = 0; i < N; i++) {
      const host = await createHost({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], meshDegree: 4 })
      const got: ValidatedMessage[] = []
      const g = new MarketGossip({ pubsub: host.services.pubsub, clock: systemClock }, { onMessage: (m) => got.push(m) })
      g.start()
      hosts.push(host); gossips.push(g); received.push(got)
    }
    // a line with a few chords: every node is at least two hops from some other node
    for (let i = 1; i < N; i++) await hosts[i].dial(hosts[i - 1].getMultiaddrs()[0])
    for (let i = 3; i < N; i += 3) await hosts[i].dial(hosts[i - 3].getMultiaddrs()[0])
    await waitFor(() => hosts.every((h) => h.services.pubsub.getSubscribers(TOPIC_OFFERS).length > 0), 15_000)
  })

  afterAll(async () => {
    gossips.forEach((g) => { g.stop() })
    await Promise.all(hosts.map(async (h) => { await h.stop() }))
  })

  it('an offer published on one node reaches every other node, validated', async () => {
    const signer = MessageSigner.create(await devPair('Alice'), { now: Date.now() })
    const offer = await makeOffer(signer, Date.now())
    await gossips[0].publish(TOPIC_OFFERS, sealOffer(offer, signer))
    await waitFor(() => received.every((r) => r.length === 1), 15_000)
    for (const r of received) {
      expect(r[0].kind).toBe('offer')
      expect(r[0].signer).toBe(signer.address)
      expect(r[0].key).toBe(`${signer.address}/gpu-0`)
    }
  })
})
