/**
 * `npm run bench:sync`: how long a node that joins late takes to hold the whole current book
 * through anti-entropy (a script that prints, never a test).
 *
 * `--nodes` market nodes (default 10, one process, 127.0.0.1, connected in a line) hold the same
 * book: `--offers` signed offers (default 5,000, from suppliers of 250 offers each) of which
 * `--cancelled` (default 500) were cancelled since, each offer and cancel having reached every node
 * (handed to its gossip validator, as if heard before the joiner came). Then, `--rounds` times
 * (default 3), a fresh node starts and dials one of them picked in turn: the time from the dial
 * until its book holds exactly the same offers (key and sequence) and the same number of signed
 * cancels. The joiner validates every envelope as gossip, so
 * the figure includes the signature and certificate checks. `--latency MS`: the joiner's link goes
 * through a relay that delays it MS ms each way (`delay-relay.ts`), as a peer across a network.
 * `--joiner-process`: the joiner is a daemon as an operator starts it (`bazaar node start`, a
 * process of its own, its embedded defaults), bootstrapping from one of the nodes; its book is
 * read from its /metrics.
 *
 * After the rounds, the last joiner pulls the whole book once more from its peer, as the periodic
 * pull of a node already in step does: with bucket digests first (the default) nearly nothing
 * travels; then once more after its peer took `--diverged` (default 100) offers of other
 * suppliers that nobody else holds, as after a partition. `--no-digests` runs every exchange as a
 * node from before digests does.
 *
 * Without anti-entropy a joiner waits for each supplier's next re-publication (`market.republishS`,
 * 120 s by default, with offers living `market.offerTtlS`, 300 s): that figure is the configured
 * interval, not a measurement.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { Keyring } from '@polkadot/keyring'
import { cryptoWaitReady } from '@polkadot/util-crypto'
import { BazaarNode } from '../node/bazaar-node.js'
import { defaultConfig } from '../node/config/index.js'
import type { BazaarConfig } from '../node/config/types.js'
import { silentLogger } from '../node/logger.js'
import { installNetworkErrorGuard } from '../node/process-guard.js'
import { delayRelay } from './delay-relay.js'
import { counterBy, daemonMetrics, initHome, startDaemon, stopDaemon } from './daemon-process.js'
import { MessageSigner } from '../market/signing/index.js'
import { sealOffer } from '../protocols/gossip/envelope.js'
import { TOPIC_OFFERS } from '../protocols/gossip/topics.js'
import type { Offer } from '../wire/market.js'

function arg (name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? def : Number(process.argv[i + 1])
}

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

const PER_SUPPLIER = 250

/**
 * The signed envelopes of the book: every offer (sequence 1), then the cancels (sequence 2); and
 * `extra` offers of other suppliers, which only one node will hold.
 */
async function bookEnvelopes (offers: number, cancelled: number, extra: number): Promise<{ book: Uint8Array[], extra: Uint8Array[] }> {
  const book = await suppliersEnvelopes('sync-bench', offers, cancelled)
  return { book, extra: extra > 0 ? await suppliersEnvelopes('sync-bench-extra', extra, 0) : [] }
}

async function suppliersEnvelopes (name: string, offers: number, cancelled: number): Promise<Uint8Array[]> {
  await cryptoWaitReady()
  const kr = new Keyring({ type: 'sr25519', ss58Format: 42 })
  const now = Date.now()
  const suppliers = Math.ceil(offers / PER_SUPPLIER)
  const signers = Array.from({ length: suppliers }, (_, i) => MessageSigner.create(kr.addFromUri(`//${name}-${i}`), { now }))
  const enclaves = await Promise.all(signers.map(async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))))
  const out: Uint8Array[] = []
  const offer = (k: number): Offer => {
    const s = signers[k % suppliers]
    return {
      version: 1,
      id: `gpu-${Math.floor(k / suppliers)}`,
      supplier: s.hotkey,
      enclavePeer: new Uint8Array(enclaves[k % suppliers].toMultihash().bytes),
      gpus: [{ model: k % 3 === 0 ? 'a100-80gb' : 'h100-80gb', memoryMib: 81920, count: 1 + (k % 8) }],
      teeKinds: ['tdx', 'sev-snp'],
      region: 'eu-west',
      pricePerGpuHour: 2_000_000_000n + BigInt(k * 7919 % 1_000_000_000),
      netuid: 1,
      minDurationS: 60,
      maxDurationS: 86400,
      createdAt: BigInt(now),
      expiresAt: BigInt(now + 3_600_000),
      sequence: 1n,
      cancelled: false,
      addrs: [multiaddr(`/ip4/10.0.0.1/tcp/4001/p2p/${enclaves[k % suppliers].toString()}`).bytes],
      images: []
    }
  }
  for (let k = 0; k < offers; k++) out.push(sealOffer(offer(k), signers[k % suppliers]))
  // a cancel keeps only its slot (as a node builds one)
  for (let k = 0; k < cancelled; k++) {
    const o = offer(k * Math.floor(offers / cancelled))
    out.push(sealOffer({
      ...o, enclavePeer: new Uint8Array(0), gpus: [], teeKinds: [], region: '', pricePerGpuHour: 0n, netuid: 0, minDurationS: 0, maxDurationS: 0, sequence: 2n, cancelled: true, addrs: []
    }, signers[(k * Math.floor(offers / cancelled)) % suppliers]))
  }
  return out
}

/**
 * A joiner as an operator runs one (`--joiner-process`): `bazaar init`, then `bazaar node start`
 * with the embedded defaults in a process of its own, bootstrapping from `peerAddr`. Polls its
 * /metrics until its book holds `offers` offers and its anti-entropy applied `offers + cancels`
 * envelopes. Returns the time from the daemon's "control API" line (its bootstrap dial is under
 * way by then) and from its start, and its CPU (user and system, from /proc).
 */
async function daemonJoiner (home: string, peerAddr: string, offers: number, cancels: number): Promise<{ ms: number, fromSpawnMs: number, cpuMs: number }> {
  initHome(home)
  const spawnedAt = performance.now()
  const d = await startDaemon(home, { bootstrap: peerAddr })
  try {
    const up = performance.now()
    // polled: the bench waits for the book to be complete, it asserts nothing on time
    for (;;) {
      const text = await daemonMetrics(d)
      const held = counterBy(text, 'bazaar_book_offers').get('') ?? 0
      if (held === offers && (counterBy(text, 'bazaar_book_sync_entries_total', 'verdict').get('applied') ?? 0) >= offers + cancels) break
      if (performance.now() - up > 120_000) throw new Error(`the joiner holds ${held} offers after 120 s`)
      await sleep(20)
    }
    const done = performance.now()
    const stat = readFileSync(`/proc/${String(d.proc.pid)}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { ms: done - up, fromSpawnMs: done - spawnedAt, cpuMs: (Number(f[11]) + Number(f[12])) * 10 }
  } finally {
    await stopDaemon(d)
  }
}

/** what a book holds, comparably: each offer's key and sequence, and the number of signed cancels */
function bookOf (n: BazaarNode): string {
  const keys = n.market.book.offers().map((e) => `${e.key}#${e.sequence}`).sort()
  return `${keys.join(',')} cancels ${n.market.book.cancelCount}`
}

async function main (): Promise<void> {
  const nNodes = arg('nodes', 10)
  const nOffers = arg('offers', 5000)
  const nCancelled = arg('cancelled', 500)
  const rounds = arg('rounds', 3)
  const latency = arg('latency', 0)
  const noDigests = process.argv.includes('--no-digests')
  const diverged = arg('diverged', 100)
  const joinerProcess = process.argv.includes('--joiner-process')
  if (joinerProcess && (latency > 0 || noDigests)) throw new Error('--joiner-process runs the joiner as bazaar starts it: not with --latency or --no-digests')
  const dir = mkdtempSync(join(tmpdir(), 'bazaar-bench-sync-'))
  const base = await defaultConfig()
  // no timer pulls and no re-publication: only the pull on a new connection can fill the joiner's book
  const config: BazaarConfig = { ...base, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], market: { ...base.market, bookSyncS: 0 } }
  const kr = new Keyring({ type: 'sr25519', ss58Format: 42 })
  let made = 0
  const node = async (): Promise<BazaarNode> => {
    const i = made++
    return await BazaarNode.init({
      config,
      identity: { peerKey: await generateKeyPair('Ed25519'), hotkey: kr.addFromUri(`//sync-node-${i}//hot`), coldkey: kr.addFromUri(`//sync-node-${i}`) },
      dbPath: join(dir, `node-${i}`),
      roles: 'none',
      logger: silentLogger,
      bookSync: { digests: !noDigests }
    })
  }
  const nodes: BazaarNode[] = []
  try {
    const t0 = performance.now()
    const { book: envelopes, extra } = await bookEnvelopes(nOffers, nCancelled, diverged)
    for (let i = 0; i < nNodes; i++) nodes.push(await node())
    for (let i = 1; i < nNodes; i++) await nodes[i].dial(nodes[i - 1].host.getMultiaddrs()[0].toString())
    for (const n of nodes) {
      for (const env of envelopes) n.market.apply(n.gossip.validator.validate(TOPIC_OFFERS, env), 'gossip')
    }
    const want = bookOf(nodes[0])
    if (!nodes.every((n) => bookOf(n) === want)) throw new Error('the nodes do not hold the same book')
    console.log(`node ${process.version}: ${nNodes} nodes in a line (one process, 127.0.0.1), each holding ${fmt(nodes[0].market.book.offerCount)} offers and ${fmt(nodes[0].market.book.cancelCount)} signed cancels (set up in ${fmt((performance.now() - t0) / 1000, 1)} s)`)

    const full: number[] = []
    const cpuMs: number[] = []
    const relays: Array<{ close: () => void }> = []
    let lastPair: [BazaarNode, BazaarNode] | undefined
    for (let r = 0; r < rounds; r++) {
      if (joinerProcess) {
        const peer = nodes[(r * 3) % nNodes]
        const j = await daemonJoiner(join(dir, `joiner-${r}`), peer.host.getMultiaddrs()[0].toString(), peer.market.book.offerCount, peer.market.book.cancelCount)
        full.push(j.ms)
        cpuMs.push(j.cpuMs)
        console.log(`  round ${r + 1}: a joiner daemon of its own holds the full book (${fmt(peer.market.book.offerCount)} offers, ${fmt(peer.market.book.cancelCount)} cancels) ${fmt(j.ms)} ms after it came up (${fmt(j.fromSpawnMs)} ms after its process started); its CPU ${fmt(j.cpuMs)} ms, its start included`)
        continue
      }
      const joiner = await node()
      const peer = nodes[(r * 3) % nodes.length]
      const cpu0 = process.cpuUsage()
      const start = performance.now()
      const relay = latency > 0 ? await delayRelay(Number(peer.host.getMultiaddrs()[0].getComponents().find((c) => c.name === 'tcp')?.value), latency) : undefined
      if (relay != null) relays.push(relay)
      await joiner.dial(relay == null ? peer.host.getMultiaddrs()[0].toString() : `/ip4/127.0.0.1/tcp/${relay.port}/p2p/${peer.host.peerId.toString()}`)
      // polled: the bench waits for the book to be complete, it asserts nothing on time
      for (;;) {
        if (joiner.market.book.offerCount === peer.market.book.offerCount && bookOf(joiner) === want) break
        if (performance.now() - start > 120_000) throw new Error(`round ${r + 1}: the joiner holds ${joiner.market.book.offerCount} offers after 120 s`)
        await sleep(5)
      }
      const ms = performance.now() - start
      const cpu = process.cpuUsage(cpu0)
      full.push(ms)
      cpuMs.push((cpu.user + cpu.system) / 1000)
      console.log(`  round ${r + 1}: full book (${fmt(joiner.market.book.offerCount)} offers, ${fmt(joiner.market.book.cancelCount)} cancels) after ${fmt(ms)} ms (${fmt(cpuMs[r])} ms of CPU in this process, every node's part included)`)
      nodes.push(joiner)
      lastPair = [joiner, peer]
    }
    // the steady state: the periodic pull (market.bookSyncS) of a book this node already holds,
    // then of one that gained offers this node never heard (a healed partition's)
    // the last joiner and the peer it dialled; with the joiners in processes of their own, the
    // last two nodes of the line
    const [last, peer] = lastPair ?? [nodes[nNodes - 1], nodes[nNodes - 2]]
    const repeat = async (what: string): Promise<void> => {
      const cpu0 = process.cpuUsage()
      const start = performance.now()
      const r = await last.bookSync.pull(peer.peerId)
      const cpu = process.cpuUsage(cpu0)
      console.log(`  ${what}: ${fmt(performance.now() - start)} ms, ${fmt((cpu.user + cpu.system) / 1000)} ms of CPU (both sides), ${r.differing === undefined ? 'no digests' : `${fmt(r.differing)} buckets differing`}, ${fmt(r.received)} envelopes in ${r.pages} pages, ${fmt(r.applied)} applied`)
    }
    await repeat('a repeat pull of the whole book, every envelope already held')
    await repeat('once more, each side holding its ids from the pull before')
    if (extra.length > 0) {
      for (const env of extra) peer.market.apply(peer.gossip.validator.validate(TOPIC_OFFERS, env), 'gossip')
      await repeat(`the same, the peer holding ${fmt(extra.length)} offers more (of other suppliers, never gossiped)`)
      if (last.market.book.offerCount !== peer.market.book.offerCount) throw new Error(`the puller holds ${last.market.book.offerCount} offers, its peer ${peer.market.book.offerCount}`)
    }
    for (const r of relays) r.close()
    console.log(`late joiner${latency > 0 ? ` over a link delayed ${latency} ms each way` : ''}, dial to full book: median ${fmt(median(full))} ms (${fmt(Math.min(...full))}–${fmt(Math.max(...full))}), ${rounds} rounds; CPU median ${fmt(median(cpuMs))} ms; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
    console.log(`by re-publication alone it would wait up to market.republishS (${base.market.republishS} s by default) for each supplier's next offer`)
  } finally {
    await Promise.all(nodes.map(async (n) => { await n.close().catch(() => {}) }))
    rmSync(dir, { recursive: true, force: true })
  }
}

installNetworkErrorGuard(silentLogger)
await main()
process.exit(0)
