/**
 * `npm run bench:nodes` — memory per market node beside plain gossipsub, in the same run.
 *
 * For each size (default 20 and 40 nodes) and each variant, a fresh process builds that many nodes
 * on 127.0.0.1, connects them in a random connected graph of average degree 3 (mesh D = 3, no DHT),
 * publishes `--offers` distinct signed offers (default 200) from random nodes, and waits until every
 * node holds every one. After gossipsub's message cache rolled over and a GC, it reports the
 * process's RSS.
 * - market: nodes built by `BazaarNode.init` as a daemon's are (LevelDB database, order book, own
 *   messages, timers, link keeper, kept peers, anti-entropy, the gossip validator), with roles
 *   `none`. The nodes of one process share one signature worker pool (`gossip.verifyPool`), as
 *   they share the process's cores; `--pool-per-node` gives each node its own (what a daemon has:
 *   one worker thread on a 2-core machine costs about 9.5 MiB of RSS), `--workers 0` none;
 * - plain: the same libp2p host (StrictNoSign, the same message id), gossipsub subscribed, no
 *   validator, no book, no database.
 * The cost of one added node is the RSS difference between the two sizes over the difference in
 * nodes; the figure of interest is market over plain. Every process runs with the young
 * generation a daemon runs with (`DAEMON_SEMI_SPACE_MIB`, as `bazaar` starts one).
 *
 * Options: --sizes 20,40 --offers 200 --workers N --pool-per-node
 */
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { Keyring } from '@polkadot/keyring'
import { cryptoWaitReady } from '@polkadot/util-crypto'
import type { Message } from '@libp2p/gossipsub'
import { BazaarNode } from '../node/bazaar-node.js'
import { createHost, LOOPBACK_NETWORK, type Host } from '../node/host.js'
import { createLogger } from '../node/logger.js'
import { guardedNetworkOperation } from '../node/process-guard.js'
import { defaultConfig } from '../node/config/index.js'
import { sealOffer } from '../protocols/gossip/envelope.js'
import { TOPIC_OFFERS } from '../protocols/gossip/topics.js'
import { MessageSigner } from '../market/signing/index.js'
import { VerifyPool } from '../protocols/gossip/verify-pool.js'
import { offerTemplate } from './offer-template.js'
import { DAEMON_SEMI_SPACE_MIB } from '../node/daemon-heap.js'
import { memoryReducingGc } from '../node/memory-reducer.js'

const { values: opts } = parseArgs({
  options: {
    sizes: { type: 'string', default: '20,40' },
    offers: { type: 'string', default: '200' },
    workers: { type: 'string' },
    'pool-per-node': { type: 'boolean', default: false },
    // a child's part
    role: { type: 'string' },
    variant: { type: 'string' },
    nodes: { type: 'string' }
  }
})

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
const mib = (b: number): string => `${(b / 1048576).toFixed(1)} MiB`

interface ChildResult { rss: number, heapUsed: number, delivered: number, expected: number, seconds: number }

/** A node of either variant: how to publish on it and how many offers it holds. */
interface BenchNode { host: Host, publish: (data: Uint8Array) => Promise<void>, held: () => number, close: () => Promise<void> }

/** the nodes, and what closes what they share once they are closed */
async function buildNodes (variant: 'market' | 'plain', n: number, dir: string): Promise<{ nodes: BenchNode[], close: () => Promise<void> }> {
  const nodes: BenchNode[] = []
  if (variant === 'plain') {
    for (let i = 0; i < n; i++) {
      const host = await createHost({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], allow: [LOOPBACK_NETWORK], meshDegree: 3, dht: false })
      host.services.pubsub.subscribe(TOPIC_OFFERS)
      const got = new Set<string>()
      host.services.pubsub.addEventListener('message', (evt: CustomEvent<Message>) => { got.add(Buffer.from(evt.detail.data.subarray(-16)).toString('hex')) })
      nodes.push({
        host,
        // plain gossipsub does not deliver our own publication: count it at publish time instead
        publish: async (data) => { got.add(Buffer.from(data.subarray(-16)).toString('hex')); await host.services.pubsub.publish(TOPIC_OFFERS, data) },
        held: () => got.size,
        close: async () => { await host.stop() }
      })
    }
    return { nodes, close: async () => {} }
  }
  const base = await defaultConfig()
  const config = { ...base, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [] }
  const kr = new Keyring({ type: 'sr25519', ss58Format: 42 })
  const workers = opts.workers != null ? Number(opts.workers) : undefined
  const shared = workers !== 0 && opts['pool-per-node'] !== true ? new VerifyPool({ workers }) : undefined
  for (let i = 0; i < n; i++) {
    const node = await BazaarNode.init({
      config,
      identity: { peerKey: await generateKeyPair('Ed25519'), hotkey: kr.addFromUri(`//nodes-${i}//hot`), coldkey: kr.addFromUri(`//nodes-${i}`) },
      dbPath: join(dir, `node-${i}`),
      roles: 'none',
      logger: createLogger({ level: 'error' }),
      network: { meshDegree: 3, dht: false, allow: [LOOPBACK_NETWORK] },
      gossip: shared != null ? { verifyPool: shared } : { verifyWorkers: workers }
    })
    nodes.push({
      host: node.host,
      publish: async (data) => { await node.gossip.publish(TOPIC_OFFERS, data) },
      held: () => node.market.book.offerCount,
      close: async () => { await node.close() }
    })
  }
  return { nodes, close: async () => { await shared?.close() } }
}

async function child (variant: 'market' | 'plain', n: number, offers: number): Promise<void> {
  await cryptoWaitReady()
  const dir = mkdtempSync(join(tmpdir(), 'bazaar-bench-nodes-'))
  const { nodes, close } = await buildNodes(variant, n, dir)
  // a random spanning tree plus random edges up to an average degree of 3
  const edges = new Set<string>()
  const link = async (a: number, b: number): Promise<void> => {
    const k = a < b ? `${a}-${b}` : `${b}-${a}`
    if (a === b || edges.has(k)) return
    const addr = nodes[b].host.getMultiaddrs()[0]
    await guardedNetworkOperation(async (signal) => { await nodes[a].host.dial(addr, { signal }) }, { timeoutMs: 20_000 })
    edges.add(k)
  }
  const order = nodes.map((_, i) => i).sort(() => Math.random() - 0.5)
  for (let i = 1; i < n; i++) await link(order[i], order[Math.floor(Math.random() * i)])
  while (edges.size < Math.round(n * 1.5)) await link(Math.floor(Math.random() * n), Math.floor(Math.random() * n))
  await sleep(3000)

  const kr = new Keyring({ type: 'sr25519', ss58Format: 42 })
  const now = Date.now()
  // 20 suppliers, each with its own offer ids (a book keeps at most 256 offers per supplier)
  const signers = Array.from({ length: 20 }, (_, i) => MessageSigner.create(kr.addFromUri(`//nodes-supplier-${i}`), { now }))
  const templates = await Promise.all(signers.map(async (s) => await offerTemplate(s, 'x', now)))
  const t0 = performance.now()
  for (let k = 0; k < offers; k++) {
    const s = signers[k % signers.length]
    await nodes[Math.floor(Math.random() * n)].publish(sealOffer({ ...templates[k % signers.length], id: `o-${k}` }, s))
    // a steady 200 offers/s: the figure is what the nodes hold, not what a burst leaves behind
    await sleep(5)
  }
  const deadline = performance.now() + 60_000
  while (nodes.some((x) => x.held() < offers) && performance.now() < deadline) await sleep(50)
  const seconds = (performance.now() - t0) / 1000
  const delivered = Math.min(...nodes.map((x) => x.held()))
  // gossipsub's message cache holds the last 5 heartbeats' messages: let it roll over
  await sleep(6000)
  // the collection a resting daemon's MemoryReducer runs: it also gives back what the young
  // generation grew to, which a plain full GC keeps committed (with a daemon's 32 MiB semi-spaces
  // that alone moved RSS by tens of MiB from run to run)
  memoryReducingGc()
  await sleep(200)
  memoryReducingGc()
  const mem = process.memoryUsage()
  const result: ChildResult = { rss: mem.rss, heapUsed: mem.heapUsed, delivered, expected: offers, seconds }
  process.send?.(result)
  await Promise.all(nodes.map(async (x) => { await x.close() }))
  await close()
  rmSync(dir, { recursive: true, force: true })
  process.exit(0)
}

async function run (variant: 'market' | 'plain', n: number, offers: number): Promise<ChildResult> {
  const args = ['--role', 'child', '--variant', variant, '--nodes', String(n), '--offers', String(offers), ...(opts.workers != null ? ['--workers', opts.workers] : [])]
  const c = fork(fileURLToPath(import.meta.url), args, { execArgv: ['--expose-gc', `--max-semi-space-size=${DAEMON_SEMI_SPACE_MIB}`], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return await new Promise<ChildResult>((resolve, reject) => {
    c.on('message', (m: ChildResult) => { resolve(m) })
    c.on('exit', (code) => { reject(new Error(`the ${variant} process of ${n} nodes exited with ${String(code)} before its result`)) })
  })
}

async function main (): Promise<void> {
  const sizes = (opts.sizes ?? '20,40').split(',').map(Number)
  const offers = Number(opts.offers)
  if (sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s < 2) || !(offers > 0)) throw new Error('--sizes needs two or more node counts of at least 2, --offers a positive count')
  const pool = opts.workers === '0' ? 'no signature worker pool' : opts['pool-per-node'] === true ? 'a signature worker pool per market node' : 'one signature worker pool per process'
  console.log(`memory per node: ${sizes.join(' and ')} nodes in one process each (127.0.0.1, random graph of average degree 3, mesh D=3, no DHT), ${offers} offers held everywhere, after a memory-reducing GC (as a resting daemon's MemoryReducer); young generation as a daemon's (${DAEMON_SEMI_SPACE_MIB} MiB per semi-space); ${pool}`)
  const rss: Record<'market' | 'plain', number[]> = { market: [], plain: [] }
  for (const n of sizes) {
    for (const variant of ['plain', 'market'] as const) {
      const r = await run(variant, n, offers)
      rss[variant].push(r.rss)
      console.log(`  ${variant.padEnd(6)} ${String(n).padStart(3)} nodes: RSS ${mib(r.rss)} (${mib(r.rss / n)} per node), heap ${mib(r.heapUsed)}; every node holds ${r.delivered} of ${r.expected} offers, ${r.seconds.toFixed(1)} s`)
    }
  }
  const first = 0
  const last = sizes.length - 1
  const added = (xs: number[]): number => (xs[last] - xs[first]) / (sizes[last] - sizes[first])
  console.log(`each added node, from ${sizes[first]} to ${sizes[last]}: market ${mib(added(rss.market))}, plain gossipsub ${mib(added(rss.plain))}, ratio ${(added(rss.market) / added(rss.plain)).toFixed(2)}`)
}

if (opts.role === 'child') await child(opts.variant === 'plain' ? 'plain' : 'market', Number(opts.nodes), Number(opts.offers))
else await main()
