import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BazaarNode } from '../../src/node/bazaar-node.js'
import { TOPIC_OFFERS } from '../../src/protocols/gossip/topics.js'
import { sealOffer } from '../../src/protocols/gossip/envelope.js'
import type { ValidatedMessage } from '../../src/protocols/gossip/validate.js'
import { MessageSigner } from '../../src/market/signing/index.js'
import { devPair } from '../helpers/keys.js'
import { makeOffer } from '../helpers/market.js'
import { TestNet } from '../helpers/nodes.js'
import { waitFor } from '../helpers/wait.js'

const N = 10

describe(`gossip of signed offers across ${N} nodes on 127.0.0.1`, () => {
  const net = new TestNet()
  const nodes: BazaarNode[] = []
  const received: ValidatedMessage[][] = []

  beforeAll(async () => {
    for (let i = 0; i < N; i++) {
      const node = await net.node(`mesh-${i}`, {}, { init: { network: { meshDegree: 4 } } })
      const got: ValidatedMessage[] = []
      node.onMarketMessage((m) => { got.push(m) })
      nodes.push(node); received.push(got)
    }
    // a line with a few chords: every node is at least two hops from some other node
    const addr = (i: number): string => nodes[i].host.getMultiaddrs()[0].toString()
    for (let i = 1; i < N; i++) await nodes[i].dial(addr(i - 1))
    for (let i = 3; i < N; i += 3) await nodes[i].dial(addr(i - 3))
    await waitFor(() => nodes.every((n) => n.host.services.pubsub.getSubscribers(TOPIC_OFFERS).length > 0), 15_000)
  })

  afterAll(async () => { await net.close() })

  it('an offer published on one node reaches every other node, validated', async () => {
    const signer = MessageSigner.create(await devPair('Alice'), { now: Date.now() })
    const offer = await makeOffer(signer, Date.now())
    await nodes[0].gossip.publish(TOPIC_OFFERS, sealOffer(offer, signer))
    await waitFor(() => received.every((r) => r.length === 1), 15_000)
    for (const r of received) {
      expect(r[0].kind).toBe('offer')
      expect(r[0].signer).toBe(signer.address)
      expect(r[0].key).toBe(`${signer.address}/gpu-0`)
    }
  })

  it('a node forwards an accepted message before its own work on it (book, events) runs', async () => {
    // node 1 sits between node 0 and node 2 on the line
    const order: string[] = []
    const pubsub = nodes[1].host.services.pubsub as unknown as { forwardMessage: (...a: unknown[]) => void }
    const forward = pubsub.forwardMessage
    pubsub.forwardMessage = function (this: unknown, ...a: unknown[]) { order.push('forward'); forward.apply(this, a) }
    nodes[1].onMarketMessage(() => { order.push('deliver') })
    try {
      const signer = MessageSigner.create(await devPair('Bob'), { now: Date.now() })
      await nodes[0].gossip.publish(TOPIC_OFFERS, sealOffer(await makeOffer(signer, Date.now()), signer))
      await waitFor(() => received[2].length === 2 && received[1].length === 2, 15_000)
      // gossipsub hands the message to its listeners, then forwards it, in one turn: the node's
      // own work on it waits for the forward
      expect(order.slice(0, 2)).toEqual(['forward', 'deliver'])
      expect(received[1][1].signer).toBe(signer.address)
      expect(nodes[1].market.book.offerCount).toBe(2)
    } finally {
      pubsub.forwardMessage = forward
    }
  })
})
