import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { deriveAccounts } from './keystore/accounts.js'
import { devPeerKey } from './keystore/peer-key.js'
import type { AccountPair } from '../util/sr25519.js'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { BazaarNode, type BazaarNodeInit } from './bazaar-node.js'
import { defaultConfig } from './config/index.js'
import type { BazaarConfig } from './config/types.js'
import { createLogger, type Logger } from './logger.js'
import type { SupplierRole } from './roles/supplier.js'
import { DEFAULT_SUPPLIER_SETTLE_WAIT_MS } from './roles/supplier/settlement.js'
import type { RenterRole, RentEvent, RentSummary } from './roles/renter.js'
import { EmbeddedLedger, type ChainPort, type EscrowDb } from '../escrow/index.js'
import { systemClock, type Clock } from '../util/clock.js'
import { TOPIC_OFFERS } from '../protocols/gossip/topics.js'
import { AMOUNT_UNIT, type AmountUnit } from '../util/units.js'
import { LOOPBACK_NETWORK } from './host.js'
import { makeDirs } from '../util/fs.js'

/** What `bazaar devnet` runs: three suppliers, one renter, one arbiter, one ledger. */
export interface DevnetOptions {
  /** state directory (a fresh temp dir by default) */
  dir?: string
  /** a Substrate endpoint to use instead of the embedded ledger (not yet wired: see README) */
  chain?: ChainPort
  /** the job's command; default a script that computes primes and writes result.txt */
  command?: { command: string, args: string[] }
  jobSeconds?: number
  tickMs?: number
  netuid?: number
  logger?: Logger
  onEvent?: (e: RentEvent | { type: 'devnet', message: string }) => void
  signal?: AbortSignal
}

export interface DevnetResult extends RentSummary {
  dir: string
  outputsDir: string
  suppliers: Array<{ name: string, hotkey: string, gpus: string, pricePerGpuHour: string, unit: AmountUnit }>
}

/** The supplier fleet of the devnet: configured GPUs, no nvidia-smi needed. */
export const SUPPLIERS = [
  { name: 'Alice', gpus: [{ model: 'h100-80gb', memoryMib: 81_920, count: 2 }], price: 2_000_000_000n, region: 'eu-west' },
  { name: 'Bob', gpus: [{ model: 'h100-80gb', memoryMib: 81_920, count: 1 }], price: 1_500_000_000n, region: 'us-east' },
  { name: 'Charlie', gpus: [{ model: 'a100-40gb', memoryMib: 40_960, count: 4 }], price: 900_000_000n, region: 'eu-west' }
] as const

/** a job that does real work: counts primes below a bound, reports progress, writes its result */
function defaultJob (seconds: number): { command: string, args: string[] } {
  const script = `
const fs = require('node:fs')
const until = Date.now() + ${seconds * 1000}
let n = 2, found = 0, last = 0
while (Date.now() < until) {
  let p = true
  for (let d = 2; d * d <= n; d++) if (n % d === 0) { p = false; break }
  if (p) found++
  n++
  if (Date.now() - last > 1000) { last = Date.now(); console.log('progress: ' + found + ' primes below ' + n) }
}
fs.writeFileSync('result.txt', 'primes below ' + n + ': ' + found + '\\n')
console.log('done: ' + found + ' primes below ' + n)
`
  return { command: process.execPath, args: ['-e', script] }
}

/** The devnet's dev identities: suppliers, the renter and the arbiter (hotkeys are `//<Name>//hot`). */
export const DEVNET_ACCOUNTS = { suppliers: SUPPLIERS.map((s) => s.name), renter: 'Dave', arbiter: 'Ferdie' } as const

/**
 * The keys of a devnet identity, exactly those of `bazaar init --dev <name>`: coldkey `//<Name>`,
 * hotkey `//<Name>//hot`, and the well-known peer key derived from the name.
 */
export async function devKeys (name: string): Promise<{ coldkey: AccountPair, hotkey: AccountPair, peerKey: Ed25519PrivateKey }> {
  const { coldkey, hotkey } = await deriveAccounts({ kind: 'dev', name })
  return { coldkey, hotkey, peerKey: await devPeerKey(name) }
}

/** One supplier of the devnet as the world shows it: its node, its running role and stores. */
export interface DevnetSupplier {
  name: string
  node: BazaarNode
  /** the supplier role running now (a new one after `restartSupplier`) */
  readonly role: SupplierRole
  escrowDb: EscrowDb
  price: bigint
  keys: Awaited<ReturnType<typeof devKeys>>
}

/** The running devnet: every node and role, the ledger, and an ordered close. */
export interface DevnetWorld {
  dir: string
  chain: ChainPort
  arbiter: { node: BazaarNode, address: string, hub: string, key: AccountPair }
  suppliers: DevnetSupplier[]
  renter: { node: BazaarNode, role: RenterRole, escrowDb: EscrowDb, address: string }
  logger: Logger
  /** stops the supplier service of `name` and starts it again on the same node and stores, as after a restart */
  restartSupplier: (name: string) => Promise<DevnetSupplier>
  close: () => Promise<void>
}

export interface DevnetWorldOptions {
  dir?: string
  chain?: ChainPort
  netuid?: number
  tickMs?: number
  graceMs?: number
  logger?: Logger
  clock?: Clock
  /**
   * How long the renter waits for the supplier's approval of the cooperative close. The wait ends
   * as soon as the close is on chain, so a generous bound costs a healthy run nothing. Default:
   * the supplier's own wait before it closes with the arbiter, plus four grace windows.
   */
  settleWaitMs?: number
  say?: (message: string) => void
}

/** One node of the devnet: who it is, where its home is, and its config. */
export interface DevnetNodeConfig {
  /** the dev identity (`bazaar init --dev <name>`) and the home's directory name */
  name: string
  config: BazaarConfig
}

/** What every devnet node's config is made from. */
export interface DevnetParams {
  netuid: number
  tickMs: number
  graceMs: number
  /** the arbiter's hotkey (ss58) */
  arbiter: string
  /** where the arbiter's node listens (a multiaddr with /p2p/) */
  hub: string
}

/** A devnet node's config: loopback only, no mDNS, the embedded ledger, short timers. */
async function baseConfig (netuid: number): Promise<BazaarConfig> {
  const base = await defaultConfig()
  return {
    ...base,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: [],
    mdns: false,
    chain: { ...base.chain, adapter: 'embedded', netuid },
    market: { ...base.market, republishS: 30, offerTtlS: 300 }
  }
}

/** The devnet's arbiter node (Ferdie). */
export async function devnetArbiterConfig (netuid: number): Promise<DevnetNodeConfig> {
  return { name: 'arbiter', config: { ...await baseConfig(netuid), role: 'arbiter' } }
}

/**
 * The devnet's other nodes, once the arbiter listens: the three suppliers of SUPPLIERS (configured
 * GPUs, simulated enclaves and GPU evidence, each its own price and region) and the renter Dave,
 * whose policy accepts simulated enclaves and requires GPU evidence (devnets only).
 */
export async function devnetConfigs (p: DevnetParams): Promise<DevnetNodeConfig[]> {
  const base = await baseConfig(p.netuid)
  const chain = { ...base.chain, arbiter: p.arbiter, arbiterPeer: p.hub }
  const metering = { ...base.metering, tickS: p.tickMs / 1000, graceS: p.graceMs / 1000 }
  const suppliers = SUPPLIERS.map((s): DevnetNodeConfig => ({
    name: s.name,
    config: {
      ...base,
      role: 'supplier',
      chain,
      metering,
      gpus: s.gpus.map((g) => ({ ...g, pricePerGpuHour: s.price.toString() })),
      market: { ...base.market, region: s.region, pricePerGpuHour: s.price.toString(), minDurationS: 10, maxDurationS: 3600 },
      tee: { ...base.tee, provider: 'simulated', gpuProvider: 'simulated-gpu' }
    }
  }))
  const renter: DevnetNodeConfig = {
    name: DEVNET_ACCOUNTS.renter,
    config: {
      ...base,
      role: 'renter',
      chain,
      metering,
      market: { ...base.market, teeKinds: ['simulated'] },
      // devnets accept simulated enclaves, loudly: real networks refuse them (DEFAULT_POLICY); the
      // GPUs prove themselves too (simulated here): the renter requires GPU evidence in the session
      tee: { ...base.tee, allowSimulated: true, maxEvidenceAgeS: 60, gpu: 'required' }
    }
  }
  return [...suppliers, renter]
}

/**
 * Starts a whole local network in one process on 127.0.0.1: an embedded ledger, an arbiter node,
 * three supplier nodes with simulated enclaves and configured GPUs, and a renter node. Every node
 * is a BazaarNode built from its config (devnetArbiterConfig, devnetConfigs) by the same root as
 * a daemon, over the one ledger.
 */
export async function startDevnet (opts: DevnetWorldOptions = {}): Promise<DevnetWorld> {
  const dir = opts.dir ?? await mkdtemp(path.join(tmpdir(), 'bazaar-devnet-'))
  await makeDirs(dir)
  const netuid = opts.netuid ?? 1
  const tickMs = opts.tickMs ?? 1000
  const graceMs = opts.graceMs ?? tickMs * 3
  const logger = opts.logger ?? createLogger({ level: 'warn' })
  const clock = opts.clock ?? systemClock
  const say = opts.say ?? (() => {})
  const renterKeys = await devKeys(DEVNET_ACCOUNTS.renter)
  const arbiterKeys = await devKeys(DEVNET_ACCOUNTS.arbiter)
  // the ledger: in-process, durable under dir; the renter's hotkey is funded at genesis
  const ownChain = opts.chain == null
  const chain = opts.chain ?? await EmbeddedLedger.open({
    netuid,
    path: path.join(dir, 'ledger'),
    genesis: [{ address: renterKeys.hotkey.address, amount: 1_000_000_000_000n }],
    // escrow terms are checked against the time every node of the devnet keeps
    clock
  })
  const nodes: BazaarNode[] = []
  const close = async (): Promise<void> => {
    for (const n of nodes.splice(0).reverse()) await n.close().catch(() => {})
    if (ownChain) await chain.close()
  }
  const build = async (n: DevnetNodeConfig, keys: Awaited<ReturnType<typeof devKeys>>, extra: Partial<BazaarNodeInit> = {}): Promise<BazaarNode> => {
    const node = await BazaarNode.init({
      config: n.config,
      identity: keys,
      home: path.join(dir, n.name),
      chain,
      clock,
      logger,
      // the devnet's GPUs are the configured ones, whatever this machine has
      runNvidiaSmi: async () => ({ absent: true }),
      // every devnet node listens on 127.0.0.1: libp2p's inbound limits per IP (5 connections a
      // second) would refuse the devnet's own dials to its hub
      network: { allow: [LOOPBACK_NETWORK] },
      ...extra
    })
    nodes.push(node)
    return node
  }
  try {
    const arbiterNode = await build(await devnetArbiterConfig(netuid), arbiterKeys)
    const hub = arbiterNode.host.getMultiaddrs()[0]
    say(`arbiter ${arbiterKeys.hotkey.address} at ${hub.toString()}`)

    logger.warn('devnet: simulated enclaves are accepted; never use this policy on a real network')
    const suppliers: DevnetSupplier[] = []
    let renterNode: BazaarNode | undefined
    for (const n of await devnetConfigs({ netuid, tickMs, graceMs, arbiter: arbiterKeys.hotkey.address, hub: hub.toString() })) {
      const keys = await devKeys(n.name)
      if (n.config.role === 'renter') {
        // the supplier turns to the arbiter DEFAULT_SUPPLIER_SETTLE_WAIT_MS after a job when the two
        // approvals differ (a cancel that lost the last voucher's ack on the way): the renter waits
        // past that, so it reports the close the supplier makes rather than an escrow still open
        renterNode = await build(n, keys, { settleWaitMs: opts.settleWaitMs ?? DEFAULT_SUPPLIER_SETTLE_WAIT_MS + graceMs * 4 })
        await renterNode.dial(hub.toString())
        continue
      }
      const privateKey = await generateKeyPair('Ed25519')
      const node = await build(n, keys, { enclaveKey: { privateKey, peerId: peerIdFromPrivateKey(privateKey), created: true } })
      await node.dial(hub.toString())
      const spec = SUPPLIERS.find((x) => x.name === n.name)!
      const entry: DevnetSupplier = {
        name: n.name,
        node,
        get role () { return supplierOf(node) },
        escrowDb: node.escrowDb!,
        price: spec.price,
        keys
      }
      suppliers.push(entry)
      say(`supplier ${n.name} ${keys.hotkey.address}: ${spec.gpus.map((g) => `${g.count}x${g.model}`).join(',')} at ${spec.price} rao/GPU-hour, simulated enclave ${entry.role.enclave.peerId.toString()}`)
    }
    if (renterNode == null) throw new Error('the devnet has no renter')
    const renter = renterNode
    // the suppliers published before the renter joined: find them through their DHT records. This
    // waits on the network (gossip, DHT lookups), so on wall time whatever the nodes' clock: under a
    // test's stopped clock a protocol-time wait would never end
    const deadline = systemClock.now() + 20_000
    while (renter.market.book.offers().length < SUPPLIERS.length && systemClock.now() < deadline) {
      if (renter.host.services.pubsub.getSubscribers(TOPIC_OFFERS).length > 0) {
        await Promise.all(['h100', 'a100'].map(async (c) => await renter.market.discover(c, { signal: AbortSignal.any([renter.signal, AbortSignal.timeout(5000)]) })))
      }
      await systemClock.sleep(250, { signal: renter.signal })
    }
    say(`renter ${DEVNET_ACCOUNTS.renter} ${renterKeys.hotkey.address} sees ${renter.market.book.offers().length} offers`)

    const restartSupplier = async (name: string): Promise<DevnetSupplier> => {
      const e = suppliers.find((x) => x.name === name)
      if (e == null) throw new Error(`no supplier ${name}`)
      await e.node.services.supplier?.restart()
      return e
    }
    return {
      dir,
      chain,
      arbiter: { node: arbiterNode, address: arbiterKeys.hotkey.address, hub: hub.toString(), key: arbiterKeys.hotkey },
      suppliers,
      renter: { node: renter, role: renter.renter!, escrowDb: renter.escrowDb!, address: renterKeys.hotkey.address },
      logger,
      restartSupplier,
      close
    }
  } catch (err) {
    await close()
    throw err
  }
}

function supplierOf (node: BazaarNode): SupplierRole {
  const role = node.supplier
  if (role == null) throw new Error('this devnet node runs no supplier role')
  return role
}

/**
 * `bazaar devnet`: starts the devnet and has the renter run one real job end to end (bid → match →
 * agreement → escrow → attested session → metered job → settlement).
 */
export async function runDevnet (opts: DevnetOptions = {}): Promise<DevnetResult> {
  const world = await startDevnet({
    dir: opts.dir,
    chain: opts.chain,
    netuid: opts.netuid,
    tickMs: opts.tickMs,
    logger: opts.logger,
    // a user's run: wait for the supplier's approval as long as a busy machine needs (on a chain
    // with 12 s blocks too), rather than report an escrow the supplier was about to close as open
    settleWaitMs: 120_000,
    say: (message) => { opts.onEvent?.({ type: 'devnet', message }) }
  })
  try {
    const outputsDir = path.join(world.dir, 'outputs')
    const job = opts.command ?? defaultJob(opts.jobSeconds ?? 5)
    const summary = await world.renter.role.rent({
      gpu: 'h100',
      count: 1,
      maxPricePerGpuHour: 3_000_000_000n,
      durationS: 600,
      teeKinds: ['simulated'],
      regions: [],
      spec: { command: job.command, args: job.args, outputs: ['result.txt'], limits: { maxDurationMs: 120_000 } },
      outputDir: outputsDir
    }, { signal: opts.signal, onEvent: opts.onEvent })
    return {
      ...summary,
      dir: world.dir,
      outputsDir,
      suppliers: world.suppliers.map((s) => ({ name: s.name, hotkey: s.keys.hotkey.address, gpus: SUPPLIERS.find((x) => x.name === s.name)!.gpus.map((g) => `${g.count}x${g.model}`).join(','), pricePerGpuHour: s.price.toString(), unit: AMOUNT_UNIT }))
    }
  } finally {
    await world.close()
  }
}

export { defaultJob }

/** reads an output file of a devnet run (tests and the CLI's summary) */
export async function readOutput (result: DevnetResult, name: string): Promise<string> {
  return await readFile(path.join(result.outputsDir, name), 'utf8')
}
