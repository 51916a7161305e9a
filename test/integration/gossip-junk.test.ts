import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createHost, type Host } from '../../src/node/host.js'
import type { BazaarNode } from '../../src/node/bazaar-node.js'
import { TOPIC_BIDS, TOPIC_OFFERS } from '../../src/protocols/gossip/topics.js'
import { sealOffer } from '../../src/protocols/gossip/envelope.js'
import type { ValidatedMessage } from '../../src/protocols/gossip/validate.js'
import { DOMAIN, MessageSigner } from '../../src/market/signing/index.js'
import { Envelope, Offer } from '../../src/wire/market.js'
import { devPair } from '../helpers/keys.js'
import { makeOffer } from '../helpers/market.js'
import { TestNet, metricValue } from '../helpers/nodes.js'
import { waitFor } from '../helpers/wait.js'

/**
 * A line A - B - C. A is a hostile peer running plain gossipsub (no market validation) and pushes
 * junk (a bare libp2p host, not a node); B and C are market nodes and validate. Nothing refused by B
 * may reach C, and B's score of A must fall.
 */
describe('junk gossip is refused at the first hop', () => {
  const net = new TestNet()
  let a: Host, nb: BazaarNode, nc: BazaarNode, b: Host, c: Host
  const atC: ValidatedMessage[] = []

  beforeAll(async () => {
    a = await createHost({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    nb = await net.node('junk-b')
    nc = await net.node('junk-c')
    b = nb.host
    c = nc.host
    a.services.pubsub.subscribe(TOPIC_OFFERS)
    a.services.pubsub.subscribe(TOPIC_BIDS)
    nc.onMarketMessage((m) => { atC.push(m) })
    await nb.dial(a.getMultiaddrs()[0].toString())
    await nc.dial(b.getMultiaddrs()[0].toString())
    await waitFor(() => a.services.pubsub.getSubscribers(TOPIC_OFFERS).length > 0 && c.services.pubsub.getSubscribers(TOPIC_OFFERS).length > 0, 15_000)
    // the meshes form at a gossipsub heartbeat (its own timer): wait for the line A - B - C in them
    // (the router's mesh is outside the GossipSub interface the host types)
    const inMesh = (h: Host, peer: Host): boolean => (h.services.pubsub as unknown as { getMeshPeers: (topic: string) => string[] }).getMeshPeers(TOPIC_OFFERS).includes(peer.peerId.toString())
    await waitFor(() => inMesh(a, b) && inMesh(b, a) && inMesh(b, c) && inMesh(c, b), 15_000, 'the offers mesh A - B - C')
  })

  afterAll(async () => {
    await a.stop()
    await net.close()
  })

  it('refuses each kind of junk with its code and forwards only the good message', async () => {
    const now = Date.now()
    const alice = MessageSigner.create(await devPair('Alice'), { now })
    const bob = MessageSigner.create(await devPair('Bob'), { now })
    const good = await makeOffer(alice, now, { id: 'good' })
    const body = Offer.encode(await makeOffer(alice, now, { id: 'forged' })).slice()
    const junk: Array<[string, Uint8Array]> = [
      ['MALFORMED', sealOffer(good, alice).subarray(0, 40)],
      ['BAD_SIGNATURE', Envelope.encode({ body, signer: alice.cert, signature: bob.sign(DOMAIN.offer, body) })],
      ['SIGNER_MISMATCH', sealOffer({ ...good, id: 'claimed', supplier: bob.hotkey }, alice)],
      ['EXPIRED', sealOffer({ ...good, id: 'old', createdAt: BigInt(now - 100_000), expiresAt: BigInt(now - 50_000) }, alice)],
      ['FUTURE_DATED', sealOffer({ ...good, id: 'future', createdAt: BigInt(now + 600_000), expiresAt: BigInt(now + 900_000) }, alice)],
      ['BAD_FIELD', sealOffer({ ...good, id: 'free', pricePerGpuHour: 0n }, alice)]
    ]
    for (const [, data] of junk) await a.services.pubsub.publish(TOPIC_OFFERS, data)
    // a good message last: once C has it, everything A sent before it has been through B
    await a.services.pubsub.publish(TOPIC_OFFERS, sealOffer(good, alice))
    await waitFor(() => atC.length > 0, 10_000, 'the good offer at C')
    // signatures are checked off the main thread, so a junk verdict at B may come after the good
    // offer went on: wait for B's verdict on each (B forwards nothing it refused)
    const refusedAtB = (code: string): number => metricValue(nb.metrics, 'bazaar_gossip_validation_total', { topic: TOPIC_OFFERS, result: code === 'EXPIRED' || code === 'FUTURE_DATED' ? 'ignore' : 'reject', code })
    await waitFor(() => junk.every(([code]) => refusedAtB(code) >= 1), 10_000, 'B\'s verdict on every junk message')
    expect(atC.map((m) => m.kind === 'offer' ? m.offer.id : '')).toEqual(['good'])
    for (const [code] of junk) expect(refusedAtB(code), code).toBe(1)
    // gossipsub peer scoring: B penalises A for the rejected deliveries (scores are cached between
    // heartbeats, so poll)
    const score = (): number => (b.services.pubsub as unknown as { score: { score: (id: string) => number } }).score.score(a.peerId.toString())
    await waitFor(() => score() < 0, 10_000, 'a negative score of the junk sender')
    expect(score()).toBeLessThan(-100)
  })
})
