// One OS process of the gossip scale test: it runs several market nodes (BazaarNode.init with the
// market layer only: host without kad-dht, gossip with the market validator, the order book, the
// link keeper, anti-entropy) and answers the parent's requests over the IPC channel. Requests and
// answers are JSON objects with the request's `id`.
import { rmSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { BazaarNode } from '../../src/node/bazaar-node.js'
import { TOPIC_BIDS, TOPIC_OFFERS } from '../../src/protocols/gossip/topics.js'
import { sealBid, sealOffer } from '../../src/protocols/gossip/envelope.js'
import { linkState } from '../../src/node/gossip-links.js'
import { CertCache, MessageSigner } from '../../src/market/signing/index.js'
import { defaultConfig } from '../../src/node/config/index.js'
import { devPair } from '../helpers/keys.js'
import { makeBid, makeOffer } from '../helpers/market.js'
import { TestNet, recordingLogger, type LogRecord } from '../helpers/nodes.js'

interface Node {
  node: BazaarNode
  /** ids of accepted messages from peers and ourselves */
  got: Set<string>
  /** RPC frames read: count over 8 KiB, largest, IHAVE and IWANT ids */
  frames: { over8k: number, largest: number, ihaveIds: number, iwantIds: number }
  /** the gossip links the node's link keeper logged as lost, with their reasons */
  drops: LogRecord[]
  /** connections that closed, with the error that aborted them where one did */
  closed: string[]
}

const net = new TestNet()
/** how long this process's event loop stalled: a starved loop is what times out streams and pings */
const loopDelay = monitorEventLoopDelay({ resolution: 20 })
loopDelay.enable()
const nodes: Node[] = []
/**
 * One certificate cache for the nodes of this process: a certificate's verdict depends only on its
 * bytes and the time, and an sr25519 check costs tens of milliseconds on a busy 2-core machine. Every
 * node still runs every other check on every message.
 */
const certs = new CertCache()
/** signers of the suppliers and renters this process publishes for, by global index */
const suppliers = new Map<number, { signer: MessageSigner, node: number }>()
const renters = new Map<number, { signer: MessageSigner, node: number }>()

interface RpcView { control?: { ihave?: Array<{ messageIDs?: unknown[] }>, iwant?: Array<{ messageIDs?: unknown[] }> } }

async function start (count: number, meshDegree: number): Promise<unknown> {
  const base = await defaultConfig()
  for (let i = 0; i < count; i++) {
    const got = new Set<string>()
    const { logger, records: drops } = recordingLogger((r) => r.msg === 'gossip link to peer lost')
    // a node as a daemon builds it, shaped for many nodes on one loopback address: no kad-dht (its
    // refresh would dial every peer and undo the sparse graph), loopback exempt from inbound
    // limits, signatures checked on the event loop (one worker pool per node would be a dozen)
    const node = await net.node(`scale-${process.pid}-${i}`, { market: { ...base.market, bookSyncS: 10 } }, {
      init: {
        logger,
        network: { meshDegree, dht: false, allow: ['/ip4/127.0.0.1/ipcidr/8'] },
        gossip: { certCache: certs, verifyWorkers: 0 },
        links: { auditIntervalMs: 2_000 }
      }
    })
    node.onMarketMessage((m) => { got.add(m.msgId) })
    const frames = { over8k: 0, largest: 0, ihaveIds: 0, iwantIds: 0 }
    // observe every RPC frame read (size and gossip control) before gossipsub handles it
    const ps = node.host.services.pubsub as unknown as { decodeRpc: (b: Uint8Array) => RpcView }
    const decode = ps.decodeRpc.bind(ps)
    ps.decodeRpc = (b) => {
      if (b.byteLength > 8192) frames.over8k++
      frames.largest = Math.max(frames.largest, b.byteLength)
      const rpc = decode(b)
      for (const h of rpc.control?.ihave ?? []) frames.ihaveIds += h.messageIDs?.length ?? 0
      for (const w of rpc.control?.iwant ?? []) frames.iwantIds += w.messageIDs?.length ?? 0
      return rpc
    }
    const closed: string[] = []
    node.host.addEventListener('connection:open', ({ detail: conn }) => {
      const abort = conn.abort.bind(conn)
      conn.abort = (err: Error) => { closed.push(`${conn.remotePeer.toString().slice(-6)} aborted: ${err?.name ?? ''} ${err?.message ?? ''}`.slice(0, 200)); abort(err) }
    })
    node.host.addEventListener('connection:close', ({ detail: conn }) => { closed.push(`${conn.remotePeer.toString().slice(-6)} closed (${conn.direction})`) })
    nodes.push({ node, got, frames, drops, closed })
  }
  return { addrs: nodes.map((n) => n.node.host.getMultiaddrs()[0].toString()), peers: nodes.map((n) => n.node.peerId.toString()) }
}

/**
 * Dials the edges one by one. A listener refuses more than a few connections a second from one IP
 * (libp2p's inbound threshold), and here every node is 127.0.0.1: a refused dial is retried.
 */
async function connect (edges: Array<[number, string]>): Promise<unknown> {
  let retries = 0
  for (const [local, addr] of edges) {
    for (let attempt = 1; ; attempt++) {
      try {
        // as a daemon dials its bootstrap peers: the peer is kept, and dialled again if the connection drops
        await nodes[local].node.dial(addr, { signal: AbortSignal.timeout(20_000) })
        break
      } catch (err) {
        if (attempt >= 8) throw err
        retries++
        await new Promise((resolve) => setTimeout(resolve, 250 * attempt))
      }
    }
  }
  return { retries }
}

/** every connection of every node, with the state of its gossip link seen from this side */
function links (): unknown {
  return nodes.map((n) => {
    const ps = n.node.host.services.pubsub
    const offers = new Set(ps.getSubscribers(TOPIC_OFFERS).map((p) => p.toString()))
    return n.node.host.getConnections().filter((c) => c.status === 'open').map((c) => {
      const peer = c.remotePeer.toString()
      return { peer, ...linkState(ps, peer), subscribed: offers.has(peer) }
    })
  })
}

async function signers (supplierIdx: Array<[number, number]>, renterIdx: Array<[number, number]>): Promise<unknown> {
  const now = Date.now()
  for (const [g, node] of supplierIdx) suppliers.set(g, { signer: MessageSigner.create(await devPair(`scale-supplier-${g}`), { now }), node })
  for (const [g, node] of renterIdx) renters.set(g, { signer: MessageSigner.create(await devPair(`scale-renter-${g}`), { now }), node })
  // what matters is the loop during the waves, not the nodes' start or the signers' sr25519 keys
  loopDelay.reset()
  return {}
}

/**
 * One wave of re-publication: every supplier of this process re-publishes its offer with a higher
 * sequence and every renter its bid, spread evenly over `spreadMs`.
 */
async function wave (n: number, spreadMs: number, offersEach: number, bidsEach: number): Promise<unknown> {
  const jobs: Array<{ node: number, topic: typeof TOPIC_OFFERS | typeof TOPIC_BIDS, data: () => Promise<Uint8Array> }> = []
  // interleaved, so that each supplier's offers are spread over the wave
  for (let k = 0; k < Math.max(offersEach, bidsEach); k++) {
    if (k < offersEach) {
      for (const [g, s] of suppliers) {
        jobs.push({ node: s.node, topic: TOPIC_OFFERS, data: async () => sealOffer(await makeOffer(s.signer, Date.now(), { id: `offer-${g}-${k}`, sequence: BigInt(n + 1), pricePerGpuHour: BigInt(1_000_000_000 + g * 1000 + k * 10 + n) }), s.signer) })
      }
    }
    if (k < bidsEach) {
      for (const [g, r] of renters) {
        jobs.push({ node: r.node, topic: TOPIC_BIDS, data: async () => sealBid(makeBid(r.signer, Date.now(), { id: `bid-${g}-${k}`, sequence: BigInt(n + 1) }), r.signer) })
      }
    }
  }
  const ids: string[] = []
  const gap = jobs.length > 0 ? spreadMs / jobs.length : 0
  const t0 = Date.now()
  for (let i = 0; i < jobs.length; i++) {
    const wait = t0 + i * gap - Date.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    const j = jobs[i]
    const { message } = await nodes[j.node].node.gossip.publish(j.topic, await j.data())
    ids.push(message.msgId)
  }
  return { ids }
}

function state (): unknown {
  const mem = process.memoryUsage()
  return {
    got: nodes.map((n) => [...n.got]),
    frames: nodes.map((n) => n.frames),
    dropped: nodes.map((n) => n.drops.map((r) => `${r.msg} ${JSON.stringify(r.fields)}`)),
    refused: nodes.map((n) => n.node.metrics.render().split('\n').filter((l) => l.startsWith('bazaar_gossip_validation_total{') && !l.includes('result="accept"'))),
    linkCounters: nodes.map((n) => n.node.metrics.render().split('\n').filter((l) => /^bazaar_gossip_(peer_dropped|link_repairs)_total\{/.test(l))),
    closed: nodes.map((n) => n.closed),
    routerPeers: nodes.map((n) => n.node.host.services.pubsub.getPeers().length),
    rss: mem.rss,
    loopDelayMs: { p99: Math.round(loopDelay.percentile(99) / 1e6), max: Math.round(loopDelay.max / 1e6) },
    heapUsed: mem.heapUsed
  }
}

async function stop (): Promise<unknown> {
  // each node closes in its own order (gossip, anti-entropy, link keeper, host, database)
  await net.close()
  return {}
}

type Request = { id: number, op: 'start', count: number, meshDegree: number } | { id: number, op: 'connect', edges: Array<[number, string]> } |
{ id: number, op: 'links' } | { id: number, op: 'signers', suppliers: Array<[number, number]>, renters: Array<[number, number]> } |
{ id: number, op: 'wave', n: number, spreadMs: number, offersEach: number, bidsEach: number } | { id: number, op: 'state' } | { id: number, op: 'counts' } | { id: number, op: 'stop' }

process.on('message', (req: Request) => {
  const run = async (): Promise<unknown> => {
    switch (req.op) {
      case 'start': return await start(req.count, req.meshDegree)
      case 'connect': return await connect(req.edges)
      case 'links': return links()
      case 'signers': return await signers(req.suppliers, req.renters)
      case 'wave': return await wave(req.n, req.spreadMs, req.offersEach, req.bidsEach)
      case 'state': return state()
      case 'counts': return nodes.map((n) => n.got.size)
      case 'stop': return await stop()
    }
  }
  run().then((result) => { process.send?.({ id: req.id, result }) }, (err: unknown) => { process.send?.({ id: req.id, error: String((err as Error)?.stack ?? err) }) })
})
// the nodes' databases go with the process, however it ends
process.on('exit', () => { rmSync(net.dir, { recursive: true, force: true }) })
process.on('disconnect', () => { process.exit(0) })
