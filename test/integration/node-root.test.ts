/**
 * The composition root (BazaarNode.init) as the daemon, the devnet and the tests use it: the
 * roles of the config as services on stores opened once, every route answering as soon as init
 * resolves, a failed start that closes all it opened, and a close that leaves no timer of the
 * node's clock running. The clock is a ManualClock that nobody advances: a start or a close that
 * waited on a timer would never end.
 */
import { createServer, type Server } from 'node:net'
import { createServer as createHttpServer } from 'node:http'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { BazaarNode, NodeStatus, type BazaarNodeInit } from '../../src/node/bazaar-node.js'
import { defaultConfig } from '../../src/node/config/index.js'
import type { BazaarConfig, Role } from '../../src/node/config/types.js'
import { silentLogger } from '../../src/node/logger.js'
import { loadOrCreateEnclaveKey } from '../../src/node/keystore/index.js'
import { EmbeddedLedger } from '../../src/escrow/index.js'
import type { ChainConnectionEvent } from '../../src/escrow/chain/port.js'
import { ManualClock } from '../../src/util/clock.js'
import { StartupErrorCode } from '../../src/node/startup-errors.js'
import { devPair } from '../helpers/keys.js'
import { metricValue, recordingLogger } from '../helpers/nodes.js'
import { parseRentBody } from '../../src/node/rent-input.js'
import { UserError } from '../../src/util/errors.js'
import { COOLDOWN_SUBLEVEL } from '../../src/market/negotiation/cooldown-store.js'
import { JOB_RETENTION_MS, JOBS_PAGE } from '../../src/jobs/page.js'

const TOKEN = 'c'.repeat(64)

describe('BazaarNode.init: one root for a whole node', () => {
  let dir = ''
  let ledger: EmbeddedLedger
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'bazaar-root-'))
    ledger = await EmbeddedLedger.open({ netuid: 1 })
  })
  afterAll(async () => {
    await ledger?.close()
    await rm(dir, { recursive: true, force: true })
  })

  async function config (role: Role, port = 0): Promise<BazaarConfig> {
    const base = await defaultConfig()
    return { ...base, role, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], api: { ...base.api, host: '127.0.0.1', port } }
  }
  const identity = async (name: string): Promise<BazaarNodeInit['identity']> =>
    ({ peerKey: await generateKeyPair('Ed25519'), hotkey: await devPair(`${name}//hot`), coldkey: await devPair(name) })
  const get = async (node: BazaarNode, route: string): Promise<Response> =>
    await fetch(`http://127.0.0.1:${node.apiAddress!.port}${route}`, { headers: { authorization: `Bearer ${TOKEN}` } })

  it('lists the latest jobs of each role first, a page of them, and sums every job it ran, those whose records were pruned too', async () => {
    const clock = new ManualClock()
    const node = await BazaarNode.init({ config: await config('renter'), identity: await identity('Dave'), home: path.join(dir, 'jobs-page'), apiToken: TOKEN, chain: ledger, clock, logger: silentLogger })
    try {
      const n = JOBS_PAGE + 5
      const t0 = clock.now()
      for (let i = 0; i < n; i++) {
        // ids in the reverse of their times: a page by id would be the oldest jobs
        await node.jobs.put({ id: `job-${String(n - i).padStart(5, '0')}`, role: 'renter', state: 'succeeded', command: 'true', args: [], gpuCount: 1, createdAt: t0 + i, updatedAt: t0 + i, endedAt: t0 + i, agreementId: 'ab'.repeat(32), settlement: { paid: '1000', refunded: '9000', settledBy: 'cooperative' } })
      }
      const listed = await (await get(node, '/v1/jobs')).json() as Array<{ id: string }>
      expect(listed).toHaveLength(JOBS_PAGE)
      expect(listed.slice(0, 2).map((j) => j.id)).toEqual(['job-00001', 'job-00002'])
      expect(listed.at(-1)!.id).toBe(`job-${String(JOBS_PAGE).padStart(5, '0')}`)
      expect(await (await get(node, '/v1/jobs/totals')).json()).toEqual({ renter: { jobs: n, paid: String(1000 * n), refunded: String(9000 * n), carried: '0' }, unit: 'rao' })

      // past the retention of the oldest ten: their records go, their amounts stay in the totals
      clock.set(t0 + JOB_RETENTION_MS + 10)
      expect(await node.pruneRecords()).toEqual({ agreements: 0, jobs: 10, escrows: 0 })
      expect(metricValue(node.metrics, 'bazaar_records_pruned_total', { kind: 'jobs' })).toBe(10)
      const left = await (await get(node, '/v1/jobs')).json() as Array<{ id: string }>
      expect(left).toHaveLength(n - 10)
      expect(left.at(-1)!.id).toBe(`job-${String(n - 10).padStart(5, '0')}`)
      expect(await (await get(node, '/v1/jobs/totals')).json()).toEqual({ renter: { jobs: n, paid: String(1000 * n), refunded: String(9000 * n), carried: '0', pruned: 10 }, unit: 'rao' })
    } finally {
      await node.close()
    }
  })

  it('answers every route, node and role alike, as soon as init resolves; close stops every timer of its clock', async () => {
    const clock = new ManualClock()
    const node = await BazaarNode.init({ config: await config('arbiter'), identity: await identity('Ferdie'), home: path.join(dir, 'arbiter'), apiToken: TOKEN, chain: ledger, clock, logger: silentLogger })
    expect(node.status).toBe(NodeStatus.Running)
    expect(node.services.arbiter).toBeDefined()
    expect(node.services.supplier).toBeUndefined()
    expect(node.services.renter).toBeUndefined()
    expect((await get(node, '/v1/status')).status).toBe(200)
    // what the node's hotkey account can spend on escrows, as the ledger holds it
    await ledger.mint(node.identity.hotkey.address, 1_234_567n)
    const chainView = await (await get(node, '/v1/chain')).json() as { funds?: string }
    expect(chainView).toMatchObject({ adapter: 'embedded', netuid: 1, account: node.identity.hotkey.address })
    expect(chainView.funds).toBe((await ledger.balance(node.identity.hotkey.address)).toString())
    expect(BigInt(chainView.funds!)).toBeGreaterThanOrEqual(1_234_567n)
    expect(await (await get(node, '/v1/escrows')).json()).toEqual([])
    expect(node.rentRefusal()?.code).toBe('WRONG_ROLE')
    // pruning, republication, link keeping: the node's timers run on its clock
    expect(clock.pending).toBeGreaterThan(0)
    const port = node.apiAddress!.port
    await node.close()
    expect(node.status).toBe(NodeStatus.Stopped)
    expect(clock.pending).toBe(0)
    await expect(fetch(`http://127.0.0.1:${port}/v1/status`)).rejects.toThrow()
  }, 60_000)

  it('reads the subnet\'s registered hotkeys from its chain for the book\'s standings, and stops reading at close', async () => {
    const clock = new ManualClock()
    const registered = (await devPair('Alice//hot')).publicKey
    const reads: number[] = []
    // the embedded ledger has no subnets: this one answers as a subtensor chain would
    const chain = Object.assign(Object.create(ledger) as EmbeddedLedger, {
      info: async () => ({ ...await ledger.info(), genesis: '0x0102' }),
      registeredHotkeys: async (netuid: number) => { reads.push(netuid); return new Set([Buffer.from(registered).toString('hex')]) }
    })
    const id = await identity('Grace')
    const node = await BazaarNode.init({ config: await config('renter'), identity: id, home: path.join(dir, 'registry'), chain, clock, logger: silentLogger })
    // the start's own read runs in the background: a refresh joins it where it still runs, and the
    // one after it reads again
    await node.registry.refresh()
    await node.registry.refresh()
    expect(reads.length).toBeGreaterThanOrEqual(2)
    expect(reads.every((n) => n === 1)).toBe(true)
    expect(node.services.registry).toBe(node.registry)
    const of = (key: Uint8Array): number => node.registry.standingOf(key, Buffer.from(key).toString('hex'))
    expect([of(id.hotkey.publicKey), of(registered), of((await devPair('Bob//hot')).publicKey)]).toEqual([2, 1, 0])
    await node.close()
    expect(clock.pending).toBe(0)

    // restarted on the same home and chain, whose read does not answer: the set the last run kept
    // ranks the book meanwhile
    const silent = Object.assign(Object.create(ledger) as EmbeddedLedger, {
      info: chain.info,
      registeredHotkeys: async (_netuid: number, opts: { signal?: AbortSignal } = {}) => await new Promise<ReadonlySet<string>>((_resolve, reject) => {
        opts.signal?.addEventListener('abort', () => { reject(opts.signal?.reason) }, { once: true })
      })
    })
    const again = await BazaarNode.init({ config: await config('renter'), identity: id, home: path.join(dir, 'registry'), chain: silent, clock, logger: silentLogger })
    expect(again.registry.standingOf(registered, Buffer.from(registered).toString('hex'))).toBe(1)
    await again.close()
  }, 60_000)

  it('says once, with its reason, that the chain endpoint serves another chain (a daemon stops on it), and logs it', async () => {
    const clock = new ManualClock()
    let emit: (e: ChainConnectionEvent) => void = () => {}
    const chain = Object.assign(Object.create(ledger) as EmbeddedLedger, {
      onConnection: (fn: (e: ChainConnectionEvent) => void) => { emit = fn; return () => { emit = () => {} } }
    })
    const { logger, records } = recordingLogger((r) => r.level === 'error')
    const node = await BazaarNode.init({ config: await config('renter'), identity: await identity('Heidi'), home: path.join(dir, 'changed'), chain, clock, logger })
    try {
      let said: string | undefined
      void node.chainChanged.then((line) => { said = line })
      emit({ kind: 'lost' })
      emit({ kind: 'restored' })
      await Promise.resolve()
      expect(said).toBeUndefined()
      emit({ kind: 'changed', genesis: '0x0102', was: '0x0102', block: 9, blockHash: '', blockWas: '0x0909' })
      expect(await node.chainChanged).toMatch(/^the chain endpoint now serves another chain \(.*block #9.*\)$/)
      expect(records.filter((r) => r.msg.startsWith('the chain endpoint now serves another chain'))).toHaveLength(1)
    } finally {
      await node.close()
    }
  }, 60_000)

  it('a socket the adapter dropped because its node stopped answering: one warning naming the endpoint, counted in bazaar_chain_unresponsive_total', async () => {
    const clock = new ManualClock()
    let emit: (e: ChainConnectionEvent) => void = () => {}
    const chain = Object.assign(Object.create(ledger) as EmbeddedLedger, {
      onConnection: (fn: (e: ChainConnectionEvent) => void) => { emit = fn; return () => { emit = () => {} } }
    })
    const { logger, records } = recordingLogger((r) => r.level === 'warn' && r.msg.startsWith('chain '))
    const base = await config('renter')
    const cfg = { ...base, chain: { ...base.chain, endpoint: 'ws://127.0.0.1:41999' } }
    const node = await BazaarNode.init({ config: cfg, identity: await identity('Ivan'), home: path.join(dir, 'unresponsive'), chain, clock, logger })
    try {
      emit({ kind: 'lost', unresponsive: true })
      emit({ kind: 'restored' })
      expect(records.map((r) => [r.msg, r.fields?.endpoint])).toEqual([['chain node stopped answering on an open socket (no answer to its health checks): socket dropped; reconnecting', 'ws://127.0.0.1:41999']])
      expect(node.metrics.render()).toMatch(/^bazaar_chain_unresponsive_total 1$/m)
    } finally {
      await node.close()
    }
  }, 60_000)

  it('close waits for a re-publication in flight before the database closes under it', async () => {
    const clock = new ManualClock()
    const cfg = await config('renter')
    const node = await BazaarNode.init({ config: cfg, identity: await identity('Eve'), home: path.join(dir, 'republish'), chain: ledger, clock, logger: silentLogger })
    for (const id of ['a', 'b', 'c', 'd']) {
      await node.publishBid({ id: `bid-${id}`, gpu: 'h100', minMemoryMib: 0, count: 1, teeKinds: ['simulated'], regions: [], maxPricePerGpuHour: 1_000_000_000n, netuid: 1, durationS: 600, ttlS: 300 })
    }
    // the republication timer fires; the node closes while it reads its bids and signs them again
    clock.advance(Math.max(5, cfg.market.republishS) * 1000)
    await node.close()
    expect(node.status).toBe(NodeStatus.Stopped)
    expect(clock.pending).toBe(0)
  }, 60_000)

  it('role both without GPUs runs the renter only, and its roles share the one escrow service', async () => {
    const clock = new ManualClock()
    const node = await BazaarNode.init({
      config: await config('both'), identity: await identity('Dave'), home: path.join(dir, 'both'), chain: ledger, clock, logger: silentLogger,
      runNvidiaSmi: async () => ({ absent: true })
    })
    try {
      expect(node.supplier).toBeUndefined()
      expect(node.services.renter).toBeDefined()
      expect(node.escrow).toBeDefined()
      expect(node.renter?.escrow).toBe(node.escrow)
      expect(await node.resumed).toEqual([])
      // a shared chain, but no chain.arbiter in the config
      expect(node.rentRefusal()?.code).toBe('NO_ARBITER')
    } finally {
      await node.close()
    }
    expect(clock.pending).toBe(0)
  }, 60_000)

  it('a supplier removes at start the job directories a crashed run left, and those it was removing, so that no job id stays taken', async () => {
    const home = path.join(dir, 'supplier-left')
    await mkdir(path.join(home, 'jobs', 'job-1', 'sub'), { recursive: true })
    await writeFile(path.join(home, 'jobs', 'job-1', 'sub', 'scratch'), 'x'.repeat(4096))
    await writeFile(path.join(home, 'jobs', 'stray'), '')
    // a finished job's directory whose removal in the background the crash cut short
    await mkdir(path.join(home, 'jobs', '.removing-job-0-0123456789ab', 'many'), { recursive: true })
    await writeFile(path.join(home, 'jobs', '.removing-job-0-0123456789ab', 'many', 'f'), 'x')
    const clock = new ManualClock()
    const node = await BazaarNode.init({
      config: { ...await config('supplier'), gpus: [{ model: 'H100 80GB HBM3', memoryMib: 81559, count: 1 }] },
      identity: await identity('Eve'), home, chain: ledger, clock, logger: silentLogger,
      enclaveKey: await loadOrCreateEnclaveKey(home, 'pw', { scrypt: { N: 2 ** 10, r: 8, p: 1 } })
    })
    try {
      expect(node.supplier).toBeDefined()
      expect(await readdir(path.join(home, 'jobs'))).toEqual([])
    } finally {
      await node.close()
    }
  }, 60_000)

  it('a supplier reads back at start the renter cooldowns its database kept, and skips a damaged one with one warn line', async () => {
    const home = path.join(dir, 'supplier-cooldown')
    const cfg = { ...await config('supplier'), gpus: [{ model: 'H100 80GB HBM3', memoryMib: 81559, count: 1 }] }
    const enclaveKey = await loadOrCreateEnclaveKey(home, 'pw', { scrypt: { N: 2 ** 10, r: 8, p: 1 } })
    const clock = new ManualClock()
    const first = await BazaarNode.init({ config: cfg, identity: await identity('Eve'), home, chain: ledger, clock, logger: silentLogger, enclaveKey })
    // what a run leaves: one renter's two lapses, and an entry damaged on disk
    await first.cooldowns.put('ab'.repeat(32), 2, clock.now())
    await first.db.sublevel<string, string>(COOLDOWN_SUBLEVEL, { keyEncoding: 'utf8', valueEncoding: 'utf8' }).put('cd'.repeat(32), '{"score":')
    await first.close()
    const { logger, records } = recordingLogger((r) => r.msg.includes('renter cooldown'))
    const again = await BazaarNode.init({ config: cfg, identity: await identity('Eve'), home, chain: ledger, clock, logger, enclaveKey })
    try {
      expect(records.map((r) => [r.level, r.fields.renters ?? r.fields.skipped])).toEqual([['warn', 1], ['info', 1]])
    } finally {
      await again.close()
    }
  }, 60_000)

  it('a renter says at start which TEE kinds it accepts with any launch measurement', async () => {
    const clock = new ManualClock()
    const base = await config('renter')
    const cfg: BazaarConfig = { ...base, market: { ...base.market, teeKinds: ['tdx', 'sev-snp', 'simulated'] }, tee: { ...base.tee, allowedMeasurements: { tdx: ['ab'.repeat(48)] } } }
    const { logger, records } = recordingLogger((r) => r.level === 'warn' && r.msg.includes('launch measurement'))
    const node = await BazaarNode.init({ config: cfg, identity: await identity('Charlie'), home: path.join(dir, 'measurements'), chain: ledger, clock, logger })
    try {
      // tdx is pinned; simulated attests nothing anyway (and is refused outside devnets)
      expect(records.map((r) => r.fields.kinds)).toEqual([['sev-snp']])
    } finally {
      await node.close()
    }
  }, 60_000)

  it('sweeps settled escrows every chain.sweepS with the node\'s hotkey, on a chain that has sweeps', async () => {
    const clock = new ManualClock()
    // the embedded ledger keeps nothing behind, so it has no sweep: no sweeper
    const plain = await BazaarNode.init({ config: await config('arbiter'), identity: await identity('Bob'), home: path.join(dir, 'no-sweep'), chain: ledger, clock, logger: silentLogger })
    expect(plain.services.sweeper).toBeUndefined()
    await plain.close()
    // the same ledger with a sweep, as the subtensor adapter has
    const swept: string[] = []
    const sweeping = new Proxy(ledger, {
      get (target, key) {
        if (key === 'sweep') return async (owner: { address: string }) => { swept.push(owner.address); return [] }
        const v = Reflect.get(target, key, target) as unknown
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
      }
    })
    const id = await identity('Charlie')
    const cfg = await config('arbiter')
    const node = await BazaarNode.init({ config: { ...cfg, chain: { ...cfg.chain, sweepS: 300 } }, identity: id, home: path.join(dir, 'sweep'), chain: sweeping, clock, logger: silentLogger })
    try {
      expect(node.services.sweeper).toBeDefined()
      expect(swept).toEqual([])
      clock.advance(300_000)
      await vi.waitFor(() => { expect(swept).toEqual([id.hotkey.address]) })
      // that sweep ends (a look while one runs skips its turn), then the next turn sweeps again
      await new Promise((resolve) => setImmediate(resolve))
      clock.advance(300_000)
      await vi.waitFor(() => { expect(swept).toHaveLength(2) })
    } finally {
      await node.close()
    }
    expect(clock.pending).toBe(0)
    // turned off
    const off = await BazaarNode.init({ config: { ...cfg, chain: { ...cfg.chain, sweepS: 0 } }, identity: id, home: path.join(dir, 'sweep-off'), chain: sweeping, clock, logger: silentLogger })
    expect(off.services.sweeper).toBeUndefined()
    await off.close()
  }, 60_000)

  it('a renter with tee.crlDir fetches its CRLs at start, and refuses a rental while the directory holds none', async () => {
    // a vendor that answers 404 for every CRL: the first round ends with nothing written
    const asked: string[] = []
    const vendor = createHttpServer((req, res) => { asked.push(req.url ?? ''); res.writeHead(404).end() })
    await new Promise<void>((resolve) => { vendor.listen(0, '127.0.0.1', resolve) })
    const url = `http://127.0.0.1:${(vendor.address() as { port: number }).port}`
    const clock = new ManualClock()
    const cfg = await config('renter')
    const crlDir = path.join(dir, 'crl-renter', 'crl')
    const node = await BazaarNode.init({
      config: { ...cfg, chain: { ...cfg.chain, arbiter: (await devPair('Ferdie//hot')).address }, tee: { ...cfg.tee, crlDir, crlSources: ['intel-root', 'amd-genoa'], crlUrls: { 'intel-root': `${url}/root`, 'amd-genoa': `${url}/genoa` } } },
      identity: await identity('Alice'), home: path.join(dir, 'crl-renter'), chain: ledger, clock, logger: silentLogger
    })
    try {
      expect(node.services.crls).toBeDefined()
      expect(node.rentRefusal()).toBeUndefined()
      clock.advance(0)
      const parsed = parseRentBody({ gpu: 'h100', count: 1, maxPricePerGpuHour: '1000000000', durationS: 60, teeKinds: ['tdx'], command: 'true' }, { config: node.config, home: dir, now: clock.now() })
      // the rental waits for the first round, then finds no CRL: one line, nothing rented
      const err = await node.rent(parsed).then(() => undefined, (e: unknown) => e)
      expect(err).toBeInstanceOf(UserError)
      expect((err as UserError).code).toBe('CRL_NOT_FETCHED')
      expect(asked.sort()).toEqual(['/genoa', '/root'])
      expect(await node.jobs.list()).toEqual([])
    } finally {
      await node.close()
      await new Promise((resolve) => vendor.close(resolve))
    }
    expect(clock.pending).toBe(0)
  }, 60_000)

  it('a failed start closes all it opened and keeps its one-line error; the same home then starts', async () => {
    const taken: Server = createServer()
    await new Promise<void>((resolve) => { taken.listen(0, '127.0.0.1', resolve) })
    const port = (taken.address() as { port: number }).port
    const home = path.join(dir, 'renter')
    const id = await identity('Bob')
    const clock = new ManualClock()
    try {
      await expect(BazaarNode.init({ config: await config('renter', port), identity: id, home, apiToken: TOKEN, clock, logger: silentLogger }))
        .rejects.toMatchObject({ name: 'UserError', code: StartupErrorCode.API_PORT_IN_USE })
      expect(clock.pending).toBe(0)
      // the address was checked before the roles opened their stores: the one line is all the operator sees
      expect(existsSync(path.join(home, 'escrow'))).toBe(false)
    } finally {
      await new Promise<void>((resolve) => { taken.close(() => { resolve() }) })
    }
    // the database, the ledger under the home and the host were all released
    const node = await BazaarNode.init({ config: await config('renter'), identity: id, home, apiToken: TOKEN, clock, logger: silentLogger })
    try {
      // its own embedded ledger: no supplier of another process could see an escrow on it
      expect(node.sharedChain).toBe(false)
      expect(node.rentRefusal()?.code).toBe('CHAIN_NOT_SHARED')
      expect((await get(node, '/v1/jobs')).status).toBe(200)
    } finally {
      await node.close()
    }
    expect(clock.pending).toBe(0)
  }, 60_000)
  it('init options shape the market layer of a test network: no kad-dht, its mesh degree, the link audit on its period', async () => {
    const clock = new ManualClock()
    const node = await BazaarNode.init({
      config: await config('renter'),
      identity: await identity('Shaped'),
      dbPath: path.join(dir, 'shaped-db'),
      roles: 'none',
      clock,
      logger: silentLogger,
      network: { dht: false, meshDegree: 3 },
      gossip: { verifyWorkers: 0 },
      links: { auditIntervalMs: 600_000 }
    })
    try {
      expect(node.host.services.dht).toBeUndefined()
      // gossipsub's own options (outside the interface the host types): D and the bounds derived from it
      expect((node.host.services.pubsub as unknown as { opts: { D: number, Dlo: number, Dhi: number } }).opts).toMatchObject({ D: 3, Dlo: 1, Dhi: 6 })
      const audit = vi.spyOn(node.links, 'audit')
      await clock.advanceAsync(599_999)
      expect(audit).not.toHaveBeenCalled()
      await clock.advanceAsync(1)
      expect(audit).toHaveBeenCalledTimes(1)
    } finally {
      await node.close()
    }
    expect(clock.pending).toBe(0)
  }, 60_000)
})
