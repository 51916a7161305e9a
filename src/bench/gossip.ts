/**
 * `npm run bench:gossip` — gossip figures, each beside plain gossipsub measured the same way in
 * the same run.
 *
 * 1. Propagation: N nodes (default 20) on 127.0.0.1 in one process, a random connected graph of
 *    average degree about 3 and none above 6 (mesh D = 3, D_high 6, no DHT, so the graph is the
 *    one built and every link stays in the mesh: `randomGraph`); 200 offers
 *    published from random nodes, one at a time; the time until every other node delivered each
 *    (validated). The same graph, each offer published from the same node, with plain gossipsub
 *    (the same host: StrictNoSign and the same message id, no market validator). Prints p50/p99
 *    of both and their ratio. `--latency MS` delays every link MS ms each way (`delayRelay`).
 *    `--processes` runs each node in an OS process of its own, as daemons run (each market node
 *    with its own signature worker pool), and times each offer on the machine's monotonic clock
 *    from its publication to its last delivery.
 * 2. Throughput and memory of one node: a receiver node in its own process, flooded by a publisher
 *    in another process, so one node's capacity is what is measured. The publisher keeps at most
 *    `--window` messages ahead of what the receiver delivered (progress relayed through this
 *    process), so nothing is dropped in buffers. The market receiver validates each message
 *    (signatures in its worker pool) and keeps every accepted offer in an order book as a node
 *    does; the plain receiver only counts gossipsub deliveries. Prints validated messages/s,
 *    CPU per message (all threads of the receiver), how many signatures the market receiver sent
 *    to its worker pool and in how many batches, and RSS growth with the offers held (after a
 *    GC, once gossipsub's message cache has rolled over). `--flood` distinct offers (default
 *    100,000, from 400 signers with 250 offer ids each: the node's book limits) per run; `--runs`
 *    rounds (default 3), plain and market going first in turn; medians and spread.
 * 3. The validator alone, on one thread: `--validator` distinct signed offers (default 20,000, from
 *    80 signers whose certificates are verified once, before the clock starts) through
 *    `MarketMessageValidator.validate`, every check including the ed25519 signature inline, no
 *    network and no book. Prints validations/s and µs each, median of `--runs` rounds (a fresh
 *    validator each round, so no message is a duplicate), and the part of it the protobuf decode
 *    (envelope, then offer) takes on the same messages.
 *
 *    Both receivers run with the young generation a daemon runs with (`DAEMON_SEMI_SPACE_MIB`,
 *    src/node/daemon-heap.ts); `--semi-space N` sets another, `--semi-space 0` leaves Node's
 *    default (up to 64 MiB per semi-space on Node 24).
 *
 * Options: --nodes N --offers M --flood K --runs R --window W --workers X --validator V
 *          --latency MS (propagation: every link through a relay that delays each direction MS ms)
 *          --processes (propagation: each node in an OS process of its own, as daemons run)
 *          --prop-runs N (propagation: N rounds on the same graph, plain and market taking turns
 *          going first, each printed, then the median ratios)
 *          --semi-space MiB --skip-propagation --prof DIR (the receivers write CPU profiles there)
 *          --rate R (the publisher sends R messages/s instead of as fast as the window allows: the
 *          receivers' CPU per message at a steady market rate, one message per frame)
 *          --rest S (each receiver is then left alone S seconds and its RSS read again: what a
 *          daemon holds at rest after the burst; 150 or more outlasts gossipsub's 2-minute seen
 *          and delivery caches. Both receivers run a daemon's MemoryReducer, which collects once
 *          their loop is quiet, within 60 s of the burst)
 */
import { fork, type ChildProcess } from 'node:child_process'
import { writeFileSync, readFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { Keyring } from '@polkadot/keyring'
import { cryptoWaitReady } from '@polkadot/util-crypto'
import type { Message } from '@libp2p/gossipsub'
import { createHost, LOOPBACK_NETWORK, type Host } from '../node/host.js'
import { createLogger } from '../node/logger.js'
import { guardedNetworkOperation, installNetworkErrorGuard } from '../node/process-guard.js'
import { MarketService } from '../node/market-service.js'
import { MemoryReducer } from '../node/memory-reducer.js'
import { Registry } from '../node/metrics.js'
import { MarketGossip } from '../protocols/gossip/service.js'
import { MarketMessageValidator } from '../protocols/gossip/validate.js'
import { VerifyPool } from '../protocols/gossip/verify-pool.js'
import { createGossipMetrics } from '../protocols/gossip/metrics.js'
import { sealOffer } from '../protocols/gossip/envelope.js'
import { TOPIC_OFFERS } from '../protocols/gossip/topics.js'
import { CertCache, MessageSigner } from '../market/signing/index.js'
import { systemClock } from '../util/clock.js'
import { offerTemplate } from './offer-template.js'
import { delayRelay } from './delay-relay.js'
import { DAEMON_SEMI_SPACE_MIB } from '../node/daemon-heap.js'
import { Envelope, Offer } from '../wire/market.js'

function arg (name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? def : Number(process.argv[i + 1])
}
function sarg (name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? undefined : process.argv[i + 1]
}

const tcpPort = (ma: ReturnType<typeof multiaddr>): number => Number(ma.getComponents().find((c) => c.name === 'tcp')?.value)
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
const pct = (xs: number[], p: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] }
/** the middle value; for an even count, the mean of the two middle ones */
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}
const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
const mib = (b: number): string => `${fmt(b / 1048576, 0)} MiB`

async function signers (n: number, tag = 'bench'): Promise<MessageSigner[]> {
  await cryptoWaitReady()
  const kr = new Keyring({ type: 'sr25519', ss58Format: 42 })
  return Array.from({ length: n }, (_, i) => MessageSigner.create(kr.addFromUri(`//${tag}-${i}`), { now: Date.now() }))
}

// ---------------------------------------------------------------- propagation

/** gossipsub's mesh degree D in the propagation graph (D_high is twice it) */
const MESH_D = 3

/**
 * A random connected graph: `n` nodes, `m` edges (fewer if the cap leaves no room), no node with
 * more than `maxDegree` links. A random spanning tree first, then random extra edges. The cap is
 * gossipsub's D_high: a node with more links prunes its mesh down to D, and a node whose only
 * link was pruned that way may not graft again for the prune backoff (a minute), with no other
 * peer to graft: it then gets every message by IHAVE/IWANT at the next heartbeat, about 1 s
 * later. A run with such a node (one in three before the cap, in both variants) measured the
 * graph, not the gossip.
 */
function randomGraph (n: number, m: number, maxDegree: number): Array<[number, number]> {
  const order = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[order[i], order[j]] = [order[j], order[i]]
  }
  const degree = new Array<number>(n).fill(0)
  const edges: Array<[number, number]> = []
  const seen = new Set<string>()
  const add = (a: number, b: number): boolean => {
    const k = a < b ? `${a}-${b}` : `${b}-${a}`
    if (a === b || seen.has(k) || degree[a] >= maxDegree || degree[b] >= maxDegree) return false
    seen.add(k)
    degree[a]++
    degree[b]++
    edges.push([a, b])
    return true
  }
  for (let i = 1; i < n; i++) {
    // a tree on i nodes always has one below the cap (for a cap of 2 or more)
    const open = order.slice(0, i).filter((v) => degree[v] < maxDegree)
    add(order[i], open[Math.floor(Math.random() * open.length)])
  }
  for (let tries = 0; edges.length < m && tries < 100 * m; tries++) add(Math.floor(Math.random() * n), Math.floor(Math.random() * n))
  return edges
}

/** one network for both variants: its links, and the node each offer is published from */
interface PropagationPlan { edges: Array<[number, number]>, from: number[] }

function propagationPlan (n: number, offers: number): PropagationPlan {
  return {
    edges: randomGraph(n, Math.round(n * 1.5), 2 * MESH_D),
    from: Array.from({ length: offers }, () => Math.floor(Math.random() * n))
  }
}

/** a dial of the bench's graph: bounded, failed by a socket error that escapes libp2p (a reset connect) as a node's dials are, three tries */
async function dialWithRetries (host: Host, addr: ReturnType<typeof multiaddr>, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (process.env.BENCH_TRACE != null) process.stderr.write(`dial ${name} attempt ${attempt} at ${new Date().toISOString()}\n`)
      await guardedNetworkOperation(async (signal) => { await host.dial(addr, { signal }) }, { timeoutMs: 10_000, target: { host: '127.0.0.1', port: tcpPort(addr) } })
      return
    } catch (err) {
      if (process.env.BENCH_TRACE != null) process.stderr.write(`dial ${name} attempt ${attempt} failed at ${new Date().toISOString()}: ${(err as Error).name} ${(err as Error).message}\n`)
      if (attempt === 3) throw err
      await sleep(200)
    }
  }
}

/** one variant's propagation: p50 and p99 of the time an offer took to reach every node */
interface PropagationResult { p50: number, p99: number, links: number, incomplete: number }

async function propagation (n: number, plan: PropagationPlan, plain: boolean, pool: VerifyPool): Promise<PropagationResult> {
  const offers = plan.from.length
  const hosts: Host[] = []
  const gossips: MarketGossip[] = []
  const seenAt = new Map<string, number[]>()
  // the offer being timed: resolved by its n-th sighting, so the figure carries no polling interval
  let waiting: { id: string, done: () => void } | undefined
  const seen = (id: string): void => {
    const l = seenAt.get(id) ?? []
    l.push(performance.now())
    seenAt.set(id, l)
    if (waiting?.id === id && l.length >= n) waiting.done()
  }
  for (let i = 0; i < n; i++) {
    const h = await createHost({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], allow: [LOOPBACK_NETWORK], meshDegree: MESH_D, dht: false })
    if (plain) {
      h.services.pubsub.subscribe(TOPIC_OFFERS)
      // plain gossipsub does not deliver our own publication: count it at publish time instead.
      // A delivery is counted after gossipsub forwarded the message, as MarketGossip delivers
      h.services.pubsub.addEventListener('message', (evt: CustomEvent<Message>) => { queueMicrotask(() => { seen(Buffer.from(evt.detail.data.subarray(-16)).toString('hex')) }) })
    } else {
      const g = new MarketGossip({ pubsub: h.services.pubsub, clock: systemClock, verifyPool: pool }, {
        perPeerRate: 1e6,
        perPeerBurst: 1e6,
        onMessage: (m) => { seen(Buffer.from(m.data.subarray(-16)).toString('hex')) }
      })
      g.start()
      gossips.push(g)
    }
    hosts.push(h)
  }
  if (process.env.BENCH_TRACE != null) process.stderr.write(`[${plain ? 'plain' : 'market'}] ${hosts.length} hosts\n`)
  const latency = arg('latency', 0)
  const relays: Array<{ close: () => void }> = []
  const link = async (a: number, b: number): Promise<void> => {
    let addr = hosts[b].getMultiaddrs()[0]
    if (latency > 0) {
      const relay = await delayRelay(tcpPort(addr), latency)
      relays.push(relay)
      addr = multiaddr(`/ip4/127.0.0.1/tcp/${relay.port}/p2p/${hosts[b].peerId.toString()}`)
    }
    await dialWithRetries(hosts[a], addr, `${a}->${b}`)
  }
  const edges = plan.edges
  for (const [a, b] of edges) await link(a, b)
  if (process.env.BENCH_TRACE != null) process.stderr.write(`[${plain ? 'plain' : 'market'}] ${edges.length} links\n`)
  await sleep(3000)

  const trace = (m: string): void => { if (process.env.BENCH_TRACE != null) process.stderr.write(`[${plain ? 'plain' : 'market'}] ${m} at ${new Date().toISOString()}\n`) }
  trace('signing')
  const [s] = await signers(1, plain ? 'prop-plain' : 'prop-market')
  const base = await offerTemplate(s, 'o-0', Date.now())
  trace('publishing')
  const t100: number[] = []
  let incomplete = 0
  for (let k = 0; k < offers; k++) {
    const from = plan.from[k]
    const data = sealOffer({ ...base, id: `o-${k}`, createdAt: BigInt(Date.now()), sequence: BigInt(k + 1) }, s)
    // the signature's last 16 bytes name the message in both variants
    const id = Buffer.from(data.subarray(-16)).toString('hex')
    let timer: NodeJS.Timeout | undefined
    const everywhere = new Promise<void>((resolve) => {
      waiting = { id, done: resolve }
      timer = setTimeout(resolve, 5000)
    })
    const t0 = performance.now()
    if (k < 3) trace(`offer ${k} from ${from}`)
    if (plain) { seen(id); await hosts[from].services.pubsub.publish(TOPIC_OFFERS, data) } else await gossips[from].publish(TOPIC_OFFERS, data)
    if (k < 3) trace(`offer ${k} published`)
    await everywhere
    clearTimeout(timer)
    waiting = undefined
    const times = (seenAt.get(id) ?? []).map((t) => t - t0).sort((a, b) => a - b)
    if (times.length < n) {
      incomplete++
      if (process.env.BENCH_TRACE != null) process.stderr.write(`offer ${k} reached ${times.length} of ${n} nodes in 5 s; connections per node ${hosts.map((h) => h.getConnections().length).join(',')}\n`)
      // a network that stopped delivering would otherwise cost 5 s per offer left: report it as it is
      if (incomplete >= 10) break
      continue
    }
    t100.push(times[n - 1])
  }
  for (const g of gossips) g.stop()
  if (process.env.BENCH_TRACE != null) process.stderr.write(`[${plain ? 'plain' : 'market'}] published ${offers}, stopping\n`)
  const stopped = new Set<number>()
  const all = Promise.all(hosts.map(async (h, i) => { await h.stop(); stopped.add(i) }))
  let timer: NodeJS.Timeout | undefined
  await Promise.race([all, new Promise<void>((resolve) => { timer = setTimeout(() => {
    process.stderr.write(`[${plain ? 'plain' : 'market'}] hosts not stopped after 15 s: ${hosts.map((_, i) => i).filter((i) => !stopped.has(i)).join(',')}; resources ${JSON.stringify(process.getActiveResourcesInfo().reduce<Record<string, number>>((a, r) => { a[r] = (a[r] ?? 0) + 1; return a }, {}))}\n`)
    for (const [i, h] of hosts.entries()) if (!stopped.has(i)) process.stderr.write(`  host ${i}: status ${h.status}, connections ${h.getConnections().length} ${h.getConnections().map((c) => `${c.direction}:${c.status}:${c.streams.length}`).join(' ')}\n`)
    resolve()
  }, 15_000) })])
  clearTimeout(timer)
  for (const r of relays) r.close()
  return { p50: pct(t100, 50), p99: pct(t100, 99), links: edges.length, incomplete }
}

// ---------------------------------------------------------------- propagation, one node per process

/** ms on the machine's monotonic clock (CLOCK_MONOTONIC): the same clock in every process */
const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6

/** the name both variants give a message: the last 16 bytes of its data (the signature's) */
const nameOf = (data: Uint8Array): string => Buffer.from(data.subarray(-16)).toString('hex')

/**
 * `--processes`: one propagation node in this process, as a daemon runs one (its own event loop and,
 * for the market variant, its own signature worker pool). Driven by the parent over IPC: `dial`
 * the given addresses, `publish` the given bytes, `stop`. Every delivery is reported with the
 * monotonic time it happened at, and a publication with the time it started.
 */
async function propagationNode (variant: 'market' | 'plain'): Promise<void> {
  const send = (m: unknown): void => { process.send?.(m) }
  await cryptoWaitReady()
  const h = await createHost({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], allow: [LOOPBACK_NETWORK], meshDegree: MESH_D, dht: false })
  const seen = (data: Uint8Array): void => { send({ type: 'seen', id: nameOf(data), t: monoMs() }) }
  let gossip: MarketGossip | undefined
  if (variant === 'plain') {
    h.services.pubsub.subscribe(TOPIC_OFFERS)
    // counted after gossipsub forwarded the message, as MarketGossip delivers
    h.services.pubsub.addEventListener('message', (evt: CustomEvent<Message>) => { queueMicrotask(() => { seen(evt.detail.data) }) })
  } else {
    gossip = new MarketGossip({ pubsub: h.services.pubsub, clock: systemClock }, { perPeerRate: 1e6, perPeerBurst: 1e6, onMessage: (m) => { seen(m.data) } })
    gossip.start()
  }
  process.on('message', (m: { type: string, addrs?: string[], data?: string }) => {
    void (async () => {
      if (m.type === 'dial') {
        for (const a of m.addrs ?? []) await dialWithRetries(h, multiaddr(a), a)
        send({ type: 'dialed' })
      } else if (m.type === 'publish' && m.data != null) {
        const data = new Uint8Array(Buffer.from(m.data, 'base64'))
        const t0 = monoMs()
        // plain gossipsub does not deliver our own publication: count it at publish time instead
        if (gossip == null) { seen(data); await h.services.pubsub.publish(TOPIC_OFFERS, data) } else await gossip.publish(TOPIC_OFFERS, data)
        send({ type: 'published', id: nameOf(data), t0 })
      } else if (m.type === 'stop') {
        gossip?.stop()
        await h.stop()
        process.exit(0)
      }
    })().catch((err: unknown) => { process.stderr.write(`propagation node: ${(err as Error).message}\n`); process.exit(1) })
  })
  send({ type: 'ready', addr: h.getMultiaddrs()[0].toString() })
}

/**
 * Propagation as `propagation` measures it, with each node in an OS process of its own, as daemons
 * run: the validations of one offer by its 19 receivers no longer queue on one event loop. Each
 * offer's time is its last delivery less its publication, both read from the machine's monotonic
 * clock in the processes where they happened.
 */
async function propagationProcesses (n: number, plan: PropagationPlan, plain: boolean): Promise<PropagationResult> {
  const procs = Array.from({ length: n }, () => child(['--role', 'propagation-node', '--variant', plain ? 'plain' : 'market'], SEMI_SPACE_MIB))
  const seenAt = new Map<string, number[]>()
  const published = new Map<string, number>()
  let waiting: { id: string, check: () => void } | undefined
  const addrs = await Promise.all(procs.map(async (p) => await new Promise<string>((resolve, reject) => {
    p.on('message', (m: { type: string, addr?: string, id?: string, t?: number, t0?: number }) => {
      if (m.type === 'ready' && m.addr != null) resolve(m.addr)
      else if (m.type === 'seen' && m.id != null && m.t != null) { const l = seenAt.get(m.id) ?? []; l.push(m.t); seenAt.set(m.id, l) } else if (m.type === 'published' && m.id != null && m.t0 != null) published.set(m.id, m.t0)
      if (m.type === 'seen' || m.type === 'published') waiting?.check()
    })
    p.on('exit', (code) => { reject(new Error(`propagation node exited with ${String(code)}`)) })
  })))
  await Promise.all(procs.map(async (p, a) => {
    const targets = plan.edges.filter(([x]) => x === a).map(([, b]) => addrs[b])
    await new Promise<void>((resolve) => {
      const done = (m: { type: string }): void => { if (m.type === 'dialed') { p.off('message', done); resolve() } }
      p.on('message', done)
      p.send({ type: 'dial', addrs: targets })
    })
  }))
  await sleep(3000)
  const [s] = await signers(1, plain ? 'procs-plain' : 'procs-market')
  const base = await offerTemplate(s, 'o-0', Date.now())
  const t100: number[] = []
  let incomplete = 0
  for (let k = 0; k < plan.from.length; k++) {
    const data = sealOffer({ ...base, id: `o-${k}`, createdAt: BigInt(Date.now()), sequence: BigInt(k + 1) }, s)
    const id = nameOf(data)
    let timer: NodeJS.Timeout | undefined
    await new Promise<void>((resolve) => {
      waiting = { id, check: () => { if (published.has(id) && (seenAt.get(id)?.length ?? 0) >= n) resolve() } }
      timer = setTimeout(resolve, 5000)
      procs[plan.from[k]].send({ type: 'publish', data: Buffer.from(data).toString('base64') })
    })
    clearTimeout(timer)
    waiting = undefined
    const t0 = published.get(id)
    const times = (seenAt.get(id) ?? []).sort((a, b) => a - b)
    if (t0 == null || times.length < n) {
      incomplete++
      if (incomplete >= 10) break
      continue
    }
    t100.push(times[n - 1] - t0)
  }
  await Promise.all(procs.map(async (p) => await new Promise<void>((resolve) => {
    const kill = setTimeout(() => { p.kill('SIGKILL') }, 15_000)
    p.once('exit', () => { clearTimeout(kill); resolve() })
    p.send({ type: 'stop' })
  })))
  return { p50: pct(t100, 50), p99: pct(t100, 99), links: plan.edges.length, incomplete }
}

// ---------------------------------------------------------------- flood: receiver and publisher processes

interface ReceiverResult { delivered: number, seconds: number, cpuMsPerMsg: number, rssStart: number, rssEnd: number, rssPeak: number, rssRest: number, book: number, heapEnd: number, heldGrowth: number, heapTotalGrowth: number, externalGrowth: number, refused: string[], peers: number, batches: number, jobs: number, reductions: number }

const gc = (): void => { try { (runInNewContext('gc') as () => void)() } catch {} }

async function receiver (variant: 'market' | 'plain', expected: number, workers: number | undefined, restS: number): Promise<void> {
  const send = (m: unknown): void => { process.send?.(m) }
  // as a daemon's keystore does at start: certificates are then checked by the wasm sr25519 verifier
  await cryptoWaitReady()
  const host = await createHost({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], allow: [LOOPBACK_NETWORK], dht: false })
  let delivered = 0
  let first = 0
  let last = 0
  let cpu0 = process.cpuUsage()
  const count = (): void => {
    if (delivered === 0) { first = performance.now(); cpu0 = process.cpuUsage() }
    delivered++
    last = performance.now()
  }
  let gossip: MarketGossip | undefined
  let market: MarketService | undefined
  const registry = new Registry()
  if (variant === 'plain') {
    host.services.pubsub.subscribe(TOPIC_OFFERS)
    host.services.pubsub.addEventListener('message', count)
  } else {
    gossip = new MarketGossip({ pubsub: host.services.pubsub, clock: systemClock, metrics: createGossipMetrics(registry) }, {
      perPeerRate: 1e9,
      perPeerBurst: 1e9,
      verifyWorkers: workers,
      // into the order book exactly as a node's gossip messages go
      onMessage: (m) => { market?.apply(m, 'gossip'); count() }
    })
    market = new MarketService({ host, clock: systemClock, logger: createLogger({ level: 'warn' }), validator: gossip.validator, metrics: registry })
    gossip.start()
  }
  // as `bazaar node start` runs a daemon: memory given back once a burst is over (both variants)
  const reducer = new MemoryReducer({ clock: systemClock }).start()
  await sleep(500)
  gc()
  const mem0 = process.memoryUsage()
  const rssStart = mem0.rss
  let rssPeak = rssStart
  send({ type: 'ready', addr: host.getMultiaddrs()[0].toString() })
  let lastProgress = -1
  let idleSince = performance.now()
  // progress to the publisher's window, until every message arrived or none came for 30 s (the
  // publisher's start, on a busy machine, may take longer: up to 3 minutes before the first one)
  while (delivered < expected) {
    await sleep(20)
    if (delivered !== lastProgress) { lastProgress = delivered; idleSince = performance.now(); send({ type: 'progress', delivered }) }
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss())
    if (performance.now() - idleSince > (delivered === 0 ? 180_000 : 30_000)) break
  }
  const cpu = process.cpuUsage(cpu0)
  send({ type: 'progress', delivered })
  // gossipsub's message cache holds the last 5 heartbeats' messages: let it roll over before measuring
  await sleep(6000)
  gc()
  const mem = process.memoryUsage()
  // --rest: the node left alone past gossipsub's 2-minute caches, as an operator's daemon sits
  // after a burst: its MemoryReducer (and V8's own) hand back what they do
  let rssRest = 0
  if (restS > 0) { await sleep(restS * 1000); rssRest = process.memoryUsage.rss() }
  reducer.stop()
  const result: ReceiverResult = {
    reductions: reducer.collections,
    delivered,
    seconds: (last - first) / 1000,
    cpuMsPerMsg: delivered > 0 ? (cpu.user + cpu.system) / 1000 / delivered : 0,
    rssStart,
    rssEnd: mem.rss,
    rssPeak,
    rssRest,
    book: market?.book.offerCount ?? 0,
    heapEnd: mem.heapUsed,
    heldGrowth: mem.heapUsed + mem.arrayBuffers - mem0.heapUsed - mem0.arrayBuffers,
    heapTotalGrowth: mem.heapTotal - mem0.heapTotal,
    externalGrowth: mem.external - mem0.external,
    // every verdict but an accept, as /metrics shows them
    refused: registry.render().split('\n').filter((l) => l.startsWith('bazaar_gossip_validation_total{') && !l.includes('result="accept"')),
    peers: host.services.pubsub.getSubscribers(TOPIC_OFFERS).length,
    batches: gossip?.verifySent.batches ?? 0,
    jobs: gossip?.verifySent.jobs ?? 0
  }
  send({ type: 'result', result })
  gossip?.stop()
  await host.stop()
  process.exit(0)
}

async function publisher (file: string, target: string, window: number, rate: number): Promise<void> {
  const raw = readFileSync(file)
  const msgs: Uint8Array[] = []
  for (let at = 0; at < raw.byteLength;) {
    const len = raw.readUInt32LE(at)
    msgs.push(new Uint8Array(raw.buffer, raw.byteOffset + at + 4, len))
    at += 4 + len
  }
  let delivered = 0
  process.on('message', (m: { type: string, delivered: number }) => { if (m.type === 'progress') delivered = m.delivered })
  const host = await createHost({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], allow: [LOOPBACK_NETWORK], dht: false })
  host.services.pubsub.subscribe(TOPIC_OFFERS)
  const ma = multiaddr(target)
  await guardedNetworkOperation(async (signal) => { await host.dial(ma, { signal }) }, { timeoutMs: 30_000, target: { host: '127.0.0.1', port: tcpPort(ma) } })
  // wait until the receiver's subscription is known, so the first message has somewhere to go
  while (host.services.pubsub.getSubscribers(TOPIC_OFFERS).length === 0) await sleep(50)
  await sleep(1500)
  process.send?.({ type: 'started' })
  const t0 = performance.now()
  for (let k = 0; k < msgs.length; k++) {
    while (k - delivered >= window) await sleep(2)
    // --rate: one message every 1/rate s, as a market's steady traffic arrives (no batching in frames)
    if (rate > 0) { const due = t0 + (k * 1000) / rate - performance.now(); if (due > 0) await sleep(due) }
    await host.services.pubsub.publish(TOPIC_OFFERS, msgs[k])
    if (k % 200 === 199) await new Promise((resolve) => setImmediate(resolve))
  }
  process.send?.({ type: 'sent' })
  // stay connected until the parent ends us
  await new Promise(() => {})
}

async function messagesFile (count: number): Promise<string> {
  const nSigners = arg('signers', Math.max(1, Math.ceil(count / 250)))
  const ss = await signers(nSigners, 'flood')
  const now = Date.now()
  const base = await Promise.all(ss.map(async (s) => await offerTemplate(s, 'x', now)))
  const parts: Buffer[] = []
  for (let k = 0; k < count; k++) {
    const i = k % nSigners
    const data = sealOffer({ ...base[i], id: `slot-${Math.floor(k / nSigners)}` }, ss[i])
    const head = Buffer.alloc(4)
    head.writeUInt32LE(data.byteLength)
    parts.push(head, Buffer.from(data))
  }
  const dir = mkdtempSync(join(tmpdir(), 'bazaar-bench-gossip-'))
  const file = join(dir, 'flood.bin')
  writeFileSync(file, Buffer.concat(parts))
  return file
}

function child (args: string[], semiSpaceMiB = 0): ChildProcess {
  const prof = sarg('prof')
  const execArgv = ['--expose-gc', ...(semiSpaceMiB > 0 ? [`--max-semi-space-size=${semiSpaceMiB}`] : []), ...(prof != null && args.includes('receiver') ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [])]
  return fork(fileURLToPath(import.meta.url), args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
}

/** the young generation of the receivers, in MiB per semi-space: a daemon's (bin/bazaar.js) unless told */
const SEMI_SPACE_MIB = arg('semi-space', DAEMON_SEMI_SPACE_MIB)

async function flood (variant: 'market' | 'plain', file: string, count: number, window: number, workers: number): Promise<ReceiverResult> {
  const rx = child(['--role', 'receiver', '--variant', variant, '--expected', String(count), '--workers', String(workers), '--rest', String(arg('rest', 0))], SEMI_SPACE_MIB)
  const addr = await new Promise<string>((resolve, reject) => {
    rx.on('message', (m: { type: string, addr: string }) => { if (m.type === 'ready') resolve(m.addr) })
    rx.on('exit', (code) => { reject(new Error(`receiver exited with ${String(code)}`)) })
  })
  const tx = child(['--role', 'publisher', '--file', file, '--target', addr, '--window', String(window), '--rate', String(arg('rate', 0))])
  const result = await new Promise<ReceiverResult>((resolve, reject) => {
    rx.on('message', (m: { type: string, delivered?: number, result?: ReceiverResult }) => {
      if (m.type === 'progress' && tx.connected) tx.send(m)
      if (m.type === 'result' && m.result != null) resolve(m.result)
    })
    rx.on('exit', (code) => { reject(new Error(`receiver exited with ${String(code)}`)) })
  })
  tx.kill()
  return result
}

// ---------------------------------------------------------------- the validator alone

async function validatorAlone (count: number, runs: number): Promise<{ perSecond: number[], usEach: number[], cpuUsEach: number[], decodeUs: number[] }> {
  const now = Date.now()
  const ss = await signers(80, 'validator')
  const templates = await Promise.all(ss.map(async (s, i) => await offerTemplate(s, `o-${i}`, now)))
  // distinct messages: each signer's offers differ by id
  const msgs = Array.from({ length: count }, (_, i) => sealOffer({ ...templates[i % ss.length], id: `o-${i}` }, ss[i % ss.length]))
  // the certificates' sr25519 checks (milliseconds each, once per signer) stay out of the figure
  const certCache = new CertCache()
  for (const s of ss) certCache.check(s.cert, now)
  const perSecond: number[] = []
  const usEach: number[] = []
  // CPU time as well as wall time: on a machine shared with other work, the CPU per check is the
  // steadier figure
  const cpuUsEach: number[] = []
  for (let r = 0; r < runs; r++) {
    const v = new MarketMessageValidator({ clock: systemClock, certCache })
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    for (const m of msgs) v.validate(TOPIC_OFFERS, m)
    const ms = performance.now() - t0
    const cpu = process.cpuUsage(cpu0)
    perSecond.push(count / (ms / 1000))
    usEach.push((ms * 1000) / count)
    cpuUsEach.push((cpu.user + cpu.system) / count)
  }
  // the protobuf decode alone (envelope, then the offer in it), on the same messages
  const decodeUs: number[] = []
  let sink = 0
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now()
    for (const m of msgs) sink += Offer.decode(Envelope.decode(m).body).id.length
    decodeUs.push(((performance.now() - t0) * 1000) / count)
  }
  if (sink === 0) throw new Error('nothing decoded')
  return { perSecond, usEach, cpuUsEach, decodeUs }
}

// ---------------------------------------------------------------- main

async function main (): Promise<void> {
  const nodes = arg('nodes', 20)
  const offers = arg('offers', 200)
  const count = arg('flood', 100_000)
  const runs = arg('runs', 3)
  const window = arg('window', 500)
  const workers = arg('workers', -1)

  if (!process.argv.includes('--skip-propagation')) {
    const pool = new VerifyPool()
    // the same graph and the same publishers for both: with delayed links, the hops an offer takes
    // are most of its time
    const plan = propagationPlan(nodes, offers)
    const separate = process.argv.includes('--processes')
    if (separate && arg('latency', 0) > 0) throw new Error('--latency delays links inside one process; it does not combine with --processes')
    const propRuns = Math.max(1, arg('prop-runs', 1))
    const once = async (plainVariant: boolean): Promise<PropagationResult> => separate ? await propagationProcesses(nodes, plan, plainVariant) : await propagation(nodes, plan, plainVariant, pool)
    const rounds: Array<{ plain: PropagationResult, market: PropagationResult }> = []
    for (let r = 0; r < propRuns; r++) {
      // with several rounds the two variants take turns going first, as in the flood
      if (r % 2 === 0) {
        const plain = await once(true)
        rounds.push({ plain, market: await once(false) })
      } else {
        const market = await once(false)
        rounds.push({ plain: await once(true), market })
      }
    }
    // each offer is checked by every node but its publisher; the rest were verified on the event loop
    const pooled = pool.sent
    await pool.close()
    const { market: first } = rounds[0]
    console.log(`propagation to all of ${nodes} nodes (${separate ? 'one OS process each' : 'one process'}, mesh D=3, random graph of average degree ${(2 * first.links / nodes).toFixed(1)}, ${offers} offers, no DHT${arg('latency', 0) > 0 ? `, every link delayed ${arg('latency', 0)} ms each way` : ''}${propRuns > 1 ? `, ${propRuns} rounds, plain first in odd ones` : ''}):`)
    for (const [r, { market, plain }] of rounds.entries()) {
      if (propRuns > 1) console.log(`  round ${r + 1}:`)
      console.log(`  market gossip (validated): p50 ${market.p50.toFixed(1)} ms, p99 ${market.p99.toFixed(1)} ms${market.incomplete > 0 ? ` (${market.incomplete} not everywhere within 5 s)` : ''}`)
      console.log(`  plain gossipsub:           p50 ${plain.p50.toFixed(1)} ms, p99 ${plain.p99.toFixed(1)} ms${plain.incomplete > 0 ? ` (${plain.incomplete} not everywhere within 5 s)` : ''}`)
      console.log(`  ratio market/plain:        p50 ${(market.p50 / plain.p50).toFixed(2)}x, p99 ${(market.p99 / plain.p99).toFixed(2)}x`)
    }
    if (propRuns > 1) {
      const r50 = rounds.map((x) => x.market.p50 / x.plain.p50)
      const r99 = rounds.map((x) => x.market.p99 / x.plain.p99)
      console.log(`  ratio market/plain over ${propRuns} rounds: p50 median ${median(r50).toFixed(2)}x (${Math.min(...r50).toFixed(2)}x–${Math.max(...r50).toFixed(2)}x), p99 median ${median(r99).toFixed(2)}x (${Math.min(...r99).toFixed(2)}x–${Math.max(...r99).toFixed(2)}x)`)
    }
    if (!separate) console.log(`  market signatures verified in the worker pool: ${fmt(pooled.jobs)} of ${fmt(offers * (nodes - 1) * propRuns)} (batches of ${(pooled.batches > 0 ? pooled.jobs / pooled.batches : 0).toFixed(1)} at the mean), the rest on the event loop`)
  }

  if (count > 0 && runs > 0) {
    const file = await messagesFile(count)
    const m: ReceiverResult[] = []
    const p: ReceiverResult[] = []
    console.log(`flood: ${fmt(count)} distinct signed offers (${arg('signers', Math.ceil(count / 250))} signers) from a publisher process into one receiver process, window ${window}${arg('rate', 0) > 0 ? `, paced at ${arg('rate', 0)} messages/s` : ''}, ${runs} rounds; receivers' young generation ${SEMI_SPACE_MIB > 0 ? `--max-semi-space-size=${SEMI_SPACE_MIB}${SEMI_SPACE_MIB === DAEMON_SEMI_SPACE_MIB ? ' (as bazaar runs a daemon)' : ''}` : "Node's default"}`)
    for (let r = 0; r < runs; r++) {
      // the two variants take turns going first: the machine's speed drifts within a round, and
      // a fixed order would hand that drift to one of them every time
      let pr: ReceiverResult
      let mr: ReceiverResult
      if (r % 2 === 0) {
        pr = await flood('plain', file, count, window, workers)
        mr = await flood('market', file, count, window, workers)
      } else {
        mr = await flood('market', file, count, window, workers)
        pr = await flood('plain', file, count, window, workers)
      }
      p.push(pr); m.push(mr)
      const rate = (x: ReceiverResult): number => x.delivered / x.seconds
      console.log(`  round ${r + 1}: market ${fmt(rate(mr))}/s (${fmt(mr.delivered)} delivered, ${fmt(mr.book)} in the book, ${mr.cpuMsPerMsg.toFixed(3)} ms CPU each), plain ${fmt(rate(pr))}/s (${fmt(pr.delivered)} delivered, ${pr.cpuMsPerMsg.toFixed(3)} ms CPU each), ratio ${(rate(mr) / rate(pr)).toFixed(2)}; ` +
        `RSS market ${mib(mr.rssStart)} → ${mib(mr.rssEnd)} (peak ${mib(mr.rssPeak)}), plain ${mib(pr.rssStart)} → ${mib(pr.rssEnd)}`)
      console.log(`    market receiver: ${fmt(mr.jobs)} signatures verified in the worker pool in ${fmt(mr.batches)} batches (mean ${(mr.batches > 0 ? mr.jobs / mr.batches : 0).toFixed(1)}), the rest on the event loop`)
      if (mr.refused.length > 0 || mr.peers === 0) console.log(`    market receiver: refused ${mr.refused.join(', ') || 'none'}; subscribed peers at the end ${mr.peers}`)
    }
    rmSync(join(file, '..'), { recursive: true, force: true })
    const rates = (xs: ReceiverResult[]): number[] => xs.map((x) => x.delivered / x.seconds)
    const ratios = m.map((x, i) => (x.delivered / x.seconds) / (p[i].delivered / p[i].seconds))
    const growth = m.map((x) => x.rssEnd - x.rssStart)
    console.log(`validated messages/s, one node flooded from another process: median ${fmt(median(rates(m)))} (${fmt(Math.min(...rates(m)))}–${fmt(Math.max(...rates(m)))})`)
    console.log(`plain gossipsub StrictNoSign, same flood:                    median ${fmt(median(rates(p)))} (${fmt(Math.min(...rates(p)))}–${fmt(Math.max(...rates(p)))})`)
    console.log(`ratio market/plain: median ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`)
    console.log(`receiver CPU per validated offer (all threads, book included): median ${median(m.map((x) => x.cpuMsPerMsg)).toFixed(3)} ms; plain gossipsub per message ${median(p.map((x) => x.cpuMsPerMsg)).toFixed(3)} ms`)
    console.log(`RSS growth with ${fmt(median(m.map((x) => x.book)))} offers held (after GC): median ${mib(median(growth))} (${mib(Math.min(...growth))}–${mib(Math.max(...growth))}); plain gossipsub after the same flood: ${mib(median(p.map((x) => x.rssEnd - x.rssStart)))}`)
    console.log(`  of which live in the event loop's heap and buffers: market ${mib(median(m.map((x) => x.heldGrowth)))}, plain ${mib(median(p.map((x) => x.heldGrowth)))}; ` +
      `V8 heap reserved grew by market ${mib(median(m.map((x) => x.heapTotalGrowth)))}, plain ${mib(median(p.map((x) => x.heapTotalGrowth)))}; external memory by market ${mib(median(m.map((x) => x.externalGrowth)))}, plain ${mib(median(p.map((x) => x.externalGrowth)))}`)
    if (arg('rest', 0) > 0) {
      const rest = (xs: ReceiverResult[]): number[] => xs.map((x) => x.rssRest - x.rssStart)
      console.log(`RSS growth ${arg('rest', 0)} s later, left at rest (no forced GC but the MemoryReducer's): market ${rest(m).map(mib).join(', ')}; plain gossipsub ${rest(p).map(mib).join(', ')}; ` +
        `the offers' own cost (market less plain, round by round): ${m.map((x, i) => mib((x.rssRest - x.rssStart) - (p[i].rssRest - p[i].rssStart))).join(', ')}; ` +
        `memory reductions run by the market receivers ${m.map((x) => x.reductions).join(', ')}, by plain ${p.map((x) => x.reductions).join(', ')}`)
    }
  }

  const alone = arg('validator', 20_000)
  if (alone > 0 && runs > 0) {
    const v = await validatorAlone(alone, runs)
    console.log(`validator alone (one thread, ${fmt(alone)} distinct signed offers, ed25519 inline, certificates cached): median ${fmt(median(v.perSecond))}/s (${fmt(Math.min(...v.perSecond))}–${fmt(Math.max(...v.perSecond))}), ${median(v.usEach).toFixed(1)} µs each, ${median(v.cpuUsEach).toFixed(1)} µs of CPU each, ${runs} rounds; of which the envelope and offer decode ${median(v.decodeUs).toFixed(1)} µs`)
  }
}

setFlagsFromString('--expose-gc')
installNetworkErrorGuard(createLogger({ level: 'warn' }))
const role = sarg('role')
if (role === 'receiver') await receiver(sarg('variant') === 'plain' ? 'plain' : 'market', arg('expected', 0), arg('workers', -1) < 0 ? undefined : arg('workers', -1), arg('rest', 0))
else if (role === 'propagation-node') await propagationNode(sarg('variant') === 'plain' ? 'plain' : 'market')
else if (role === 'publisher') await publisher(sarg('file') ?? '', sarg('target') ?? '', arg('window', 500), arg('rate', 0))
else {
  await main()
  process.exit(0)
}
