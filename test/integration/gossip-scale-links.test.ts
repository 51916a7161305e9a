import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createHost, type Host } from '../../src/node/host.js'
import { MarketGossip } from '../../src/protocols/gossip/service.js'
import { createGossipMetrics } from '../../src/protocols/gossip/metrics.js'
import { TOPIC_OFFERS } from '../../src/protocols/gossip/topics.js'
import { sealOffer } from '../../src/protocols/gossip/envelope.js'
import type { ValidatedMessage } from '../../src/protocols/gossip/validate.js'
import { MessageSigner } from '../../src/market/signing/index.js'
import { MAX_ENVELOPE_BYTES } from '../../src/market/validation/constants.js'
import { GossipLinkKeeper, createGossipLinkMetrics, linkState, peerProtocols } from '../../src/node/gossip-links.js'
import { peerScores, registerScoreMetrics } from '../../src/node/gossip-scores.js'
import { Registry } from '../../src/node/metrics.js'
import { systemClock } from '../../src/util/clock.js'
import { devPair } from '../helpers/keys.js'
import { makeOffer } from '../helpers/market.js'
import { waitFor } from '../helpers/wait.js'

interface Side {
  host: Host
  gossip: MarketGossip
  keeper: GossipLinkKeeper
  registry: Registry
  gossipMetrics: ReturnType<typeof createGossipMetrics>
  linkMetrics: ReturnType<typeof createGossipLinkMetrics>
  got: ValidatedMessage[]
  logs: Array<{ msg: string, fields: Record<string, unknown> }>
}

async function side (): Promise<Side> {
  const host = await createHost({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], dht: false })
  const registry = new Registry()
  const gossipMetrics = createGossipMetrics(registry)
  const linkMetrics = createGossipLinkMetrics(registry)
  const got: ValidatedMessage[] = []
  const logs: Side['logs'] = []
  const gossip = new MarketGossip({ pubsub: host.services.pubsub, clock: systemClock, metrics: gossipMetrics }, { onMessage: (m) => got.push(m) })
  // the audit runs when the test calls it, so each step is explicit
  const keeper = new GossipLinkKeeper({
    pubsub: host.services.pubsub,
    connections: () => host.getConnections(),
    protocols: peerProtocols(host),
    log: (level, msg, fields) => { if (level === 'info') logs.push({ msg, fields }) },
    metrics: linkMetrics
  }, { auditIntervalMs: 3_600_000 })
  registerScoreMetrics(registry, host.services.pubsub)
  keeper.start()
  gossip.start()
  return { host, gossip, keeper, registry, gossipMetrics, linkMetrics, got, logs }
}

function bothWays (x: Side, y: Side): boolean {
  const a = linkState(x.host.services.pubsub, y.host.peerId.toString())
  const b = linkState(y.host.services.pubsub, x.host.peerId.toString())
  return a.inbound && a.outbound && b.inbound && b.outbound
}

function droppedTotal (s: Side): number {
  const text = s.registry.render()
  return [...text.matchAll(/^bazaar_gossip_peer_dropped_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0)
}

/**
 * Two market nodes. Frames and messages are bounded apart: a market message over the 8 KiB cap is a
 * TOO_LARGE verdict of the validator (the frame that carries it is legal), and the link stays. A
 * link that a transport error breaks is logged, counted and restored on the same connection.
 */
describe('gossip links: frames bounded apart from messages, lost links logged and restored', () => {
  let a: Side, b: Side
  let alice: MessageSigner

  beforeAll(async () => {
    a = await side()
    b = await side()
    alice = MessageSigner.create(await devPair('Alice'), { now: Date.now() })
    await b.host.dial(a.host.getMultiaddrs()[0])
    await waitFor(() => bothWays(a, b) && b.host.services.pubsub.getSubscribers(TOPIC_OFFERS).length > 0, 15_000, 'the gossip link both ways')
  })

  afterAll(async () => {
    for (const s of [a, b]) { s.gossip.stop(); s.keeper.stop() }
    await Promise.all([a.host.stop(), b.host.stop()])
  })

  it('an oversized market message is refused as TOO_LARGE and costs the sender score, not the link', async () => {
    const big = new Uint8Array(MAX_ENVELOPE_BYTES + 1024).fill(7)
    // published raw, past the sender's own validator, as a faulty or hostile peer would
    await a.host.services.pubsub.publish(TOPIC_OFFERS, big)
    const now = Date.now()
    await a.gossip.publish(TOPIC_OFFERS, sealOffer(await makeOffer(alice, now, { id: 'after-big' }), alice))
    await waitFor(() => b.got.some((m) => m.kind === 'offer' && m.offer.id === 'after-big'), 10_000, 'the offer sent after the oversized one')
    expect(b.gossipMetrics.validated.get({ topic: TOPIC_OFFERS, result: 'reject', code: 'TOO_LARGE' })).toBe(1)
    expect(bothWays(a, b)).toBe(true)
    expect(droppedTotal(a) + droppedTotal(b)).toBe(0)

    // the REJECT shows in the score's P4 part, in /v1/peers terms and in the /metrics histogram
    await waitFor(() => (peerScores(b.host.services.pubsub).get(a.host.peerId.toString())?.score ?? 0) < 0, 10_000, 'a negative score of the sender')
    const view = peerScores(b.host.services.pubsub).get(a.host.peerId.toString())
    expect(view?.invalidMessageDeliveries).toBeLessThan(-50)
    expect(view?.meshTopics.length).toBeGreaterThanOrEqual(0)
    const text = b.registry.render()
    expect(text).toMatch(/^bazaar_gossip_peer_score_count 1$/m)
    expect(text).toMatch(/^bazaar_gossip_peer_score_bucket\{le="-10"\} 1$/m)
    expect(text).toMatch(/^bazaar_gossip_peer_score_bucket\{le="-2500"\} 0$/m)
  })

  it('a link reset under a live connection is logged with its reason, counted and restored both ways', async () => {
    const aId = a.host.peerId.toString()
    const bId = b.host.peerId.toString()
    const conns = a.host.getConnections(b.host.peerId).length
    // A's stream to B fails: B's read ends with a stream reset and gossipsub drops A from its router
    const out = (a.host.services.pubsub as unknown as { streamsOutbound: Map<string, { rawStream: { abort: (e: Error) => void } }> }).streamsOutbound.get(bId)
    expect(out).toBeDefined()
    out?.rawStream.abort(new Error('injected failure'))
    await waitFor(() => !b.host.services.pubsub.getPeers().some((p) => p.toString() === aId), 10_000, 'B dropping A from its router')
    expect(b.logs.some((l) => l.msg === 'gossip link to peer lost' && l.fields.peer === aId && l.fields.direction === 'inbound' && l.fields.reason === 'StreamResetError')).toBe(true)
    expect(b.linkMetrics.dropped.get({ direction: 'inbound', reason: 'StreamResetError' })).toBe(1)
    // the connection itself stayed up; without the keeper the link would stay lost
    expect(a.host.getConnections(b.host.peerId).length).toBe(conns)

    await waitFor(async () => { await a.keeper.audit(); await b.keeper.audit(); return bothWays(a, b) }, 20_000, 'the link restored both ways')
    expect(b.linkMetrics.repaired.get({ kind: 'readd' }) + a.linkMetrics.repaired.get({ kind: 'outbound' })).toBeGreaterThan(0)

    // and messages flow again, in both directions
    const bob = MessageSigner.create(await devPair('Bob'), { now: Date.now() })
    await waitFor(() => b.host.services.pubsub.getSubscribers(TOPIC_OFFERS).some((p) => p.toString() === aId) &&
      a.host.services.pubsub.getSubscribers(TOPIC_OFFERS).some((p) => p.toString() === bId), 10_000, 'subscriptions exchanged again')
    await a.gossip.publish(TOPIC_OFFERS, sealOffer(await makeOffer(alice, Date.now(), { id: 'after-repair' }), alice))
    await b.gossip.publish(TOPIC_OFFERS, sealOffer(await makeOffer(bob, Date.now(), { id: 'from-b' }), bob))
    await waitFor(() => b.got.some((m) => m.kind === 'offer' && m.offer.id === 'after-repair'), 10_000, 'A to B after the repair')
    await waitFor(() => a.got.some((m) => m.kind === 'offer' && m.offer.id === 'from-b'), 10_000, 'B to A after the repair')
  })
})
