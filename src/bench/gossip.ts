/**
 * `npm run bench:gossip` — gossip propagation and validation figures.
 *
 * 1. Propagation: N nodes (default 20) on 127.0.0.1 in one process, a random connected graph of
 *    degree about 3; 200 offers published from random nodes, one at a time; for each, the time until
 *    95% and 100% of the other nodes delivered it (validated). Prints median and p99.
 * 2. Validation throughput on one core: the full validation pipeline (decode, canonical check,
 *    schema, seen-cache, expiry, sequence, cached certificate, ed25519 signature) over distinct
 *    signed offers from 100 signers, in one thread; and the same through a real gossipsub link
 *    (a peer floods one node). Prints messages/s and the node's memory.
 *
 * Options: --nodes N --offers M --validate K
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { Keyring } from '@polkadot/keyring'
import { cryptoWaitReady } from '@polkadot/util-crypto'
import { createHost, type Host } from '../node/host.js'
import { createLogger } from '../node/logger.js'
import { installNetworkErrorGuard } from '../node/process-guard.js'
import { MarketGossip } from '../protocols/gossip/service.js'
import { MarketMessageValidator } from '../protocols/gossip/validate.js'
import { sealOffer } from '../protocols/gossip/envelope.js'
import { TOPIC_OFFERS } from '../protocols/gossip/topics.js'
import { MessageSigner } from '../market/signing/index.js'
import { systemClock } from '../util/clock.js'
import type { Offer } from '../protocols/schema/market.js'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'

function arg (name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? def : Number(process.argv[i + 1])
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
const pct = (xs: number[], p: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] }
const mib = (b: number): string => `${(b / 1048576).toFixed(0)} MiB`

async function signers (n: number): Promise<MessageSigner[]> {
  await cryptoWaitReady()
  const kr = new Keyring({ type: 'sr25519', ss58Format: 42 })
  return Array.from({ length: n }, (_, i) => MessageSigner.create(kr.addFromUri(`//bench-${i}`), { now: Date.now() }))
}

async function offerTemplate (s: MessageSigner, id: string, now: number): Promise<Offer> {
  return {
    version: 1,
    id,
    supplier: s.hotkey,
    enclavePeer: new Uint8Array(peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toMultihash().bytes),
    gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 8 }],
    teeKinds: ['tdx', 'sev-snp'],
    region: 'eu-west',
    pricePerGpuHour: 2_500_000_000n,
    netuid: 1,
    minDurationS: 60,
    maxDurationS: 86400,
    createdAt: BigInt(now),
    expiresAt: BigInt(now + 3600_000),
    sequence: 1n,
    cancelled: false,
    addrs: []
  }
}

async function propagation (n: number, offers: number): Promise<void> {
  const hosts: Host[] = []
  const gossips: MarketGossip[] = []
  const seenAt = new Map<string, number[]>()
  for (let i = 0; i < n; i++) {
    const h = await createHost({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], meshDegree: 3 })
    const g = new MarketGossip({ pubsub: h.services.pubsub, clock: systemClock }, {
      perPeerRate: 1e6,
      perPeerBurst: 1e6,
      onMessage: (m) => {
        if (m.kind !== 'offer') return
        const l = seenAt.get(m.offer.id) ?? []
        l.push(performance.now())
        seenAt.set(m.offer.id, l)
      }
    })
    g.start()
    hosts.push(h); gossips.push(g)
  }
  // random connected graph: a random spanning tree plus extra edges up to an average degree of ~3
  const order = hosts.map((_, i) => i).sort(() => Math.random() - 0.5)
  const edges = new Set<string>()
  const link = async (a: number, b: number): Promise<void> => {
    const k = a < b ? `${a}-${b}` : `${b}-${a}`
    if (a === b || edges.has(k)) return
    for (let attempt = 1; ; attempt++) {
      try {
        await hosts[a].dial(hosts[b].getMultiaddrs()[0])
        break
      } catch (err) {
        if (attempt === 3) throw err
        await sleep(200)
      }
    }
    edges.add(k)
  }
  for (let i = 1; i < n; i++) await link(order[i], order[Math.floor(Math.random() * i)])
  while (edges.size < Math.round(n * 1.5)) await link(Math.floor(Math.random() * n), Math.floor(Math.random() * n))
  await sleep(3000)

  const [s] = await signers(1)
  const t95: number[] = []
  const t100: number[] = []
  let incomplete = 0
  for (let k = 0; k < offers; k++) {
    const id = `o-${k}`
    const from = Math.floor(Math.random() * n)
    const offer = await offerTemplate(s, id, Date.now())
    offer.sequence = BigInt(k + 1)
    const data = sealOffer(offer, s)
    const t0 = performance.now()
    await gossips[from].publish(TOPIC_OFFERS, data)
    const deadline = t0 + 5000
    // every node delivers it once, the publisher first (at ~0 ms): 95% of 20 nodes is 19 of them
    while ((seenAt.get(id)?.length ?? 0) < n && performance.now() < deadline) await sleep(1)
    const times = (seenAt.get(id) ?? []).map((t) => t - t0).sort((a, b) => a - b)
    if (times.length < n) { incomplete++; continue }
    t95.push(times[Math.ceil(0.95 * n) - 1])
    t100.push(times[n - 1])
  }
  console.log(`propagation: ${n} nodes, ${edges.size} links (average degree ${(2 * edges.size / n).toFixed(1)}), ${offers} offers`)
  console.log(`  time to 95% of nodes:  median ${pct(t95, 50).toFixed(1)} ms, p99 ${pct(t95, 99).toFixed(1)} ms`)
  console.log(`  time to 100% of nodes: median ${pct(t100, 50).toFixed(1)} ms, p99 ${pct(t100, 99).toFixed(1)} ms`)
  if (incomplete > 0) console.log(`  ${incomplete} offers did not reach every node within 5 s`)
  for (const g of gossips) g.stop()
  await Promise.all(hosts.map(async (h) => { await h.stop() }))
}

async function validation (count: number): Promise<void> {
  const ss = await signers(100)
  const now = Date.now()
  const msgs: Uint8Array[] = []
  const base = await Promise.all(ss.map(async (s, i) => await offerTemplate(s, `slot-${i}`, now)))
  for (let k = 0; k < count; k++) {
    const i = k % ss.length
    msgs.push(sealOffer({ ...base[i], sequence: BigInt(k + 1) }, ss[i]))
  }
  const v = new MarketMessageValidator({ clock: systemClock })
  // certificates are verified once each (sr25519); count that apart from the steady state
  const tc = performance.now()
  for (let i = 0; i < ss.length; i++) v.validate(TOPIC_OFFERS, msgs[i])
  const certMs = performance.now() - tc
  const t0 = performance.now()
  for (let k = ss.length; k < msgs.length; k++) v.validate(TOPIC_OFFERS, msgs[k])
  const s = (performance.now() - t0) / 1000
  console.log(`validation pipeline, one thread: ${Math.round((msgs.length - ss.length) / s)} messages/s over ${msgs.length - ss.length} distinct offers from ${ss.length} signers (first message per signer, with the sr25519 certificate check: ${(certMs / ss.length).toFixed(2)} ms)`)

  // through gossipsub: a peer floods one node; the node validates on its one event-loop thread
  const a = await createHost({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  const b = await createHost({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  a.services.pubsub.subscribe(TOPIC_OFFERS)
  let got = 0
  const gb = new MarketGossip({ pubsub: b.services.pubsub, clock: systemClock }, { perPeerRate: 1e9, perPeerBurst: 1e9, onMessage: () => { got++ } })
  gb.start()
  await b.dial(a.getMultiaddrs()[0])
  await sleep(2000)
  const flood = msgs.slice(0, Math.min(20_000, msgs.length)).map((_, k) => sealOffer({ ...base[k % ss.length], id: `f-${k % ss.length}`, sequence: BigInt(10_000_000 + k) }, ss[k % ss.length]))
  const rssBefore = process.memoryUsage().rss
  const t1 = performance.now()
  for (let k = 0; k < flood.length; k++) {
    await a.services.pubsub.publish(TOPIC_OFFERS, flood[k])
    if (k % 500 === 499) await sleep(0)
  }
  const deadline = performance.now() + 60_000
  while (got < flood.length && performance.now() < deadline) await sleep(5)
  const s2 = (performance.now() - t1) / 1000
  console.log(`through gossipsub (one peer floods one node, both in this process): ${Math.round(got / s2)} validated messages/s (${got}/${flood.length} delivered), rss ${mib(process.memoryUsage().rss)} (was ${mib(rssBefore)})`)
  gb.stop()
  await Promise.all([a.stop(), b.stop()])
}

installNetworkErrorGuard(createLogger({ level: 'warn' }))
await propagation(arg('nodes', 20), arg('offers', 200))
await validation(arg('validate', 20_000))
process.exit(0)
