import { mkdir, mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { deriveAccounts } from './keystore/accounts.js'
import { devPeerKey } from './keystore/peer-key.js'
import type { KeyringPair } from '@polkadot/keyring/types'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { BazaarNode } from './bazaar-node.js'
import { defaultConfig } from './config/index.js'
import type { BazaarConfig } from './config/types.js'
import { createLogger, type Logger } from './logger.js'
import { SupplierRole } from './roles/supplier.js'
import { RenterRole, type RentEvent, type RentSummary } from './roles/renter.js'
import { AgreementStore } from '../market/index.js'
import { Arbiter, EmbeddedLedger, EscrowDb, type ChainPort } from '../escrow/index.js'
import { registerArbiterHandler, RemoteArbiter } from '../protocols/arbiter/index.js'
import { loadInventory, processRuntime } from '../jobs/index.js'
import { simulatedGpuProvider, simulatedProvider } from '../tee/index.js'
import type { AttestationPolicy } from '../tee/index.js'
import { TOPIC_OFFERS } from '../protocols/gossip/topics.js'

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
  suppliers: Array<{ name: string, hotkey: string, gpus: string, pricePerGpuHour: string }>
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
export async function devKeys (name: string): Promise<{ coldkey: KeyringPair, hotkey: KeyringPair, peerKey: Ed25519PrivateKey }> {
  const { coldkey, hotkey } = await deriveAccounts({ kind: 'dev', name })
  return { coldkey, hotkey, peerKey: await devPeerKey(name) }
}

/** The running devnet: every node and role, the ledger, and an ordered close. */
export interface DevnetWorld {
  dir: string
  chain: ChainPort
  arbiter: { node: BazaarNode, address: string, hub: string, key: KeyringPair }
  suppliers: Array<{ name: string, node: BazaarNode, role: SupplierRole, escrowDb: EscrowDb, price: bigint, keys: Awaited<ReturnType<typeof devKeys>> }>
  renter: { node: BazaarNode, role: RenterRole, escrowDb: EscrowDb, address: string }
  logger: Logger
  /** builds (again) the supplier role of `name` on its node and stores, as after a restart */
  restartSupplier: (name: string) => Promise<DevnetWorld['suppliers'][number]>
  close: () => Promise<void>
}

export interface DevnetWorldOptions {
  dir?: string
  chain?: ChainPort
  netuid?: number
  tickMs?: number
  graceMs?: number
  logger?: Logger
  /**
   * How long the renter waits for the supplier's approval of the cooperative close. The wait ends
   * as soon as the close is on chain, so a generous bound costs a healthy run nothing; tests that
   * kill the supplier keep the short default (four grace windows).
   */
  settleWaitMs?: number
  say?: (message: string) => void
}

/**
 * Starts a whole local network in one process on 127.0.0.1: an embedded ledger, an arbiter node,
 * three supplier nodes with simulated enclaves and configured GPUs, and a renter node.
 */
export async function startDevnet (opts: DevnetWorldOptions = {}): Promise<DevnetWorld> {
  const dir = opts.dir ?? await mkdtemp(path.join(tmpdir(), 'bazaar-devnet-'))
  await mkdir(dir, { recursive: true })
  const netuid = opts.netuid ?? 1
  const tickMs = opts.tickMs ?? 1000
  const graceMs = opts.graceMs ?? tickMs * 3
  const logger = opts.logger ?? createLogger({ level: 'warn' })
  const say = opts.say ?? (() => {})
  const base = await defaultConfig()
  const config = (over: Partial<BazaarConfig> = {}): BazaarConfig => ({
    ...base,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: [],
    mdns: false,
    chain: { ...base.chain, adapter: 'embedded', netuid },
    market: { ...base.market, republishS: 30, offerTtlS: 300 },
    ...over
  }) as BazaarConfig

  const renterKeys = await devKeys('Dave')
  const arbiterKeys = await devKeys('Ferdie')
  // the ledger: in-process, durable under dir; the renter's hotkey is funded at genesis
  const ownChain = opts.chain == null
  const chain = opts.chain ?? await EmbeddedLedger.open({
    netuid,
    path: path.join(dir, 'ledger'),
    genesis: [{ address: renterKeys.hotkey.address, amount: 1_000_000_000_000n }]
  })
  const closers: Array<() => Promise<void>> = []
  const close = async (): Promise<void> => {
    for (const c of closers.reverse()) await c().catch(() => {})
    closers.length = 0
    if (ownChain) await chain.close()
  }
  try {
    const arbiterNode = await BazaarNode.init({ config: config({ role: 'arbiter' }), identity: arbiterKeys, dbPath: path.join(dir, 'arbiter', 'db'), logger })
    closers.push(async () => { await arbiterNode.close() })
    const arbiterSvc = await registerArbiterHandler(arbiterNode.host, { arbiter: new Arbiter({ chain, key: arbiterKeys.hotkey }) })
    closers.push(async () => { await arbiterSvc.stop() })
    const hub = arbiterNode.host.getMultiaddrs()[0]
    say(`arbiter ${arbiterKeys.hotkey.address} at ${hub.toString()}`)

    const suppliers: DevnetWorld['suppliers'] = []
    const buildRole = async (s: typeof SUPPLIERS[number], node: BazaarNode, escrowDb: EscrowDb, keys: Awaited<ReturnType<typeof devKeys>>): Promise<SupplierRole> => {
      const inventory = await loadInventory({ config: { gpus: s.gpus.map((g) => ({ ...g, pricePerGpuHour: s.price })) }, runNvidiaSmi: async () => ({ absent: true }) })
      const role = new SupplierRole({
        node,
        inventory,
        enclaveKey: await generateKeyPair('Ed25519'),
        provider: simulatedProvider({ clock: node.clock }),
        gpuProvider: simulatedGpuProvider({ clock: node.clock }),
        runtime: processRuntime(),
        workRoot: path.join(dir, s.name, 'jobs'),
        chain,
        escrowDb,
        agreements: new AgreementStore(node.db),
        account: keys.hotkey,
        arbiter: new RemoteArbiter(node.host, hub),
        acceptArbiters: [arbiterKeys.hotkey.address],
        defaultPrice: s.price,
        netuid,
        region: s.region,
        teeKinds: ['simulated'],
        minDurationS: 10,
        maxDurationS: 3600,
        offerTtlS: 300,
        tickMs,
        graceMs,
        logger
      })
      await role.start()
      return role
    }
    for (const s of SUPPLIERS) {
      const keys = await devKeys(s.name)
      const node = await BazaarNode.init({ config: config({ role: 'supplier' }), identity: keys, dbPath: path.join(dir, s.name, 'db'), logger })
      closers.push(async () => { await node.close() })
      await node.dial(hub.toString())
      const escrowDb = await EscrowDb.open(path.join(dir, s.name, 'escrow'))
      closers.push(async () => { await escrowDb.close() })
      const role = await buildRole(s, node, escrowDb, keys)
      const entry = { name: s.name, node, role, escrowDb, price: s.price, keys }
      closers.push(async () => { await entry.role.stop() })
      suppliers.push(entry)
      say(`supplier ${s.name} ${keys.hotkey.address}: ${s.gpus.map((g) => `${g.count}x${g.model}`).join(',')} at ${s.price} rao/GPU-hour, simulated enclave ${role.enclave.peerId.toString()}`)
    }

    const renterNode = await BazaarNode.init({ config: config({ role: 'renter' }), identity: renterKeys, dbPath: path.join(dir, 'Dave', 'db'), logger })
    closers.push(async () => { await renterNode.close() })
    await renterNode.dial(hub.toString())
    const renterEscrow = await EscrowDb.open(path.join(dir, 'Dave', 'escrow'))
    closers.push(async () => { await renterEscrow.close() })
    // the suppliers published before the renter joined: find them through their DHT records
    const deadline = Date.now() + 20_000
    while (renterNode.market.book.offers().length < SUPPLIERS.length && Date.now() < deadline) {
      if (renterNode.host.services.pubsub.getSubscribers(TOPIC_OFFERS).length > 0) {
        await Promise.all(['h100', 'a100'].map(async (c) => await renterNode.market.discover(c, { signal: AbortSignal.timeout(5000) })))
      }
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    say(`renter Dave ${renterKeys.hotkey.address} sees ${renterNode.market.book.offers().length} offers`)

    // devnets accept simulated enclaves, loudly: real networks refuse them (DEFAULT_POLICY)
    // the GPUs prove themselves too (simulated here): the renter requires GPU evidence in the session
    const policy: AttestationPolicy = { kinds: ['simulated'], allowSimulated: true, maxEvidenceAgeMs: 60_000, gpu: { mode: 'required' } }
    logger.warn('devnet: simulated enclaves are accepted; never use this policy on a real network')
    const renter = new RenterRole({
      node: renterNode,
      chain,
      escrowDb: renterEscrow,
      agreements: new AgreementStore(renterNode.db),
      account: renterKeys.hotkey,
      arbiterAddress: arbiterKeys.hotkey.address,
      arbiter: new RemoteArbiter(renterNode.host, hub),
      policy,
      logger,
      settleWaitMs: opts.settleWaitMs ?? graceMs * 4
    })
    const restartSupplier = async (name: string): Promise<DevnetWorld['suppliers'][number]> => {
      const e = suppliers.find((x) => x.name === name)
      if (e == null) throw new Error(`no supplier ${name}`)
      await e.role.stop().catch(() => {})
      e.role = await buildRole(SUPPLIERS.find((x) => x.name === name)!, e.node, e.escrowDb, e.keys)
      return e
    }
    return {
      dir,
      chain,
      arbiter: { node: arbiterNode, address: arbiterKeys.hotkey.address, hub: hub.toString(), key: arbiterKeys.hotkey },
      suppliers,
      renter: { node: renterNode, role: renter, escrowDb: renterEscrow, address: renterKeys.hotkey.address },
      logger,
      restartSupplier,
      close
    }
  } catch (err) {
    await close()
    throw err
  }
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
      suppliers: world.suppliers.map((s) => ({ name: s.name, hotkey: s.keys.hotkey.address, gpus: SUPPLIERS.find((x) => x.name === s.name)!.gpus.map((g) => `${g.count}x${g.model}`).join(','), pricePerGpuHour: s.price.toString() }))
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
