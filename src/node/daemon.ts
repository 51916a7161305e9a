import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import type { KeyringPair } from '@polkadot/keyring/types'
import type { BazaarNode } from './bazaar-node.js'
import type { BazaarConfig } from './config/types.js'
import { attestationPolicyFromConfig } from './config/policy.js'
import type { EnclaveKey, VoucherKeyVault } from './keystore/index.js'
import type { Logger } from './logger.js'
import { SupplierRole } from './roles/supplier.js'
import { RenterRole, type RenterRoleInit, type RentEvent, type RentSummary, type ResumedEscrow } from './roles/renter.js'
import type { ParsedRent } from './rent-input.js'
import { AGREEMENT_PRUNE_INTERVAL_MS, AGREEMENT_RETENTION_MS, AgreementStore, MAX_DORMANT_AGREEMENTS } from '../market/index.js'
import { Arbiter, EmbeddedLedger, EscrowDb, EscrowService, type ArbiterClient, type ChainPort } from '../escrow/index.js'
import { registerArbiterHandler, RemoteArbiter, type ArbiterHandler } from '../protocols/arbiter/index.js'
import { JobStore, loadInventory, processRuntime, stateForResult, type Inventory, type NvidiaSmiRunner } from '../jobs/index.js'
import { CONFIGFS_TSM_REPORT, configfsProvider, REPORT_DATA_LENGTH, nvidiaGpuProvider, simulatedGpuProvider, simulatedProvider, type AttestationProvider, type GpuAttestationProvider } from '../tee/index.js'
import { removeConfigfsEntry } from '../tee/providers/configfs.js'
import { UserError } from '../util/errors.js'
import { readCrlFiles } from './crl-files.js'

/** Balance the embedded ledger credits the node's hotkey when it is first created (100 alpha). */
export const EMBEDDED_GENESIS_RAO = 100_000_000_000n

/** What a daemon is built from: its node (started, owned by the daemon from here on), config and home. */
export interface DaemonInit {
  node: BazaarNode
  config: BazaarConfig
  home: string
  /** the hotkey: payer, payee or arbiter of the escrows this node takes part in */
  hotkey: KeyringPair
  /** the enclave key (role supplier or both) */
  enclaveKey?: EnclaveKey
  /**
   * the renter's sealed per-escrow voucher keys (role renter or both); without it they live in
   * memory only and a restarted renter cannot sign for an escrow it opened before
   */
  voucherKeys?: VoucherKeyVault
  logger: Logger
  /**
   * an open chain port to use instead of the config's (several daemons of one process sharing an
   * embedded ledger: tests, in-process networks); the daemon does not close it
   */
  chain?: ChainPort
  /** tests inject an absent nvidia-smi so the config's GPUs are used */
  runNvidiaSmi?: NvidiaSmiRunner
  signal?: AbortSignal
}

/**
 * The roles of a running daemon, built from its config and home:
 * - the chain port (`chain.adapter`): `embedded` is a ledger under `<home>/ledger`, private to this
 *   process (a daemon on it can only trade with nodes of the same process, i.e. nobody); `subtensor`
 *   is the @polkadot/api adapter at `chain.endpoint`;
 * - the escrow database `<home>/escrow`, agreements and jobs in the node's database;
 * - the arbiter client: /bazaar/arbiter/1.0.0 at `chain.arbiterPeer`;
 * - role supplier/both: the inventory (nvidia-smi, else config `gpus`), the enclave, the attestation
 *   provider of `tee.provider`, the process runtime, a started SupplierRole;
 * - role renter/both: rentals on demand (`rent`), recorded as renter jobs;
 * - role arbiter: the arbiter protocol handler co-signing with the hotkey.
 * `close()` stops everything in order, the node included.
 */
export class Daemon {
  readonly escrow: EscrowService
  readonly jobs: JobStore
  readonly agreements: AgreementStore
  private readonly controller = new AbortController()
  private readonly rents = new Set<Promise<unknown>>()
  private readonly pruneTimer: NodeJS.Timeout
  private pruning: Promise<number> = Promise.resolve(0)
  private closed = false
  /**
   * role renter/both: the settlement of escrows an earlier run of this renter left open (see
   * RenterRole.resume); resolves with what it did
   */
  readonly resumed: Promise<ResumedEscrow[]>

  private constructor (
    readonly init: DaemonInit,
    readonly chain: ChainPort,
    readonly escrowDb: EscrowDb,
    readonly arbiterClient: ArbiterClient | undefined,
    readonly supplier: SupplierRole | undefined,
    readonly arbiterHandler: ArbiterHandler | undefined
  ) {
    const { node } = init
    this.agreements = new AgreementStore(node.db)
    this.jobs = new JobStore(node.db)
    this.escrow = new EscrowService({ chain, escrows: escrowDb.escrows, vouchers: escrowDb.vouchers, account: init.hotkey, arbiter: arbiterClient, clock: node.clock })
    // dormant agreements are pruned now and then every interval (see AgreementStore.prune)
    void this.pruneAgreements()
    this.pruneTimer = setInterval(() => { void this.pruneAgreements() }, AGREEMENT_PRUNE_INTERVAL_MS)
    this.pruneTimer.unref()
    this.resumed = this.resumeRentals()
    this.rents.add(this.resumed)
    void this.resumed.finally(() => { this.rents.delete(this.resumed) })
  }

  /**
   * A renter that stopped mid-job (crash, kill) left its escrow open and its job record running.
   * The escrows settle on the last acknowledged voucher (RenterRole.resume); the job records end
   * as failed with RENTER_RESTARTED. Not on a ledger private to this process: nobody else could
   * have taken part in its escrows.
   */
  private async resumeRentals (): Promise<ResumedEscrow[]> {
    const { config, node, logger } = this.init
    if ((config.role !== 'renter' && config.role !== 'both') || !this.sharedChain) return []
    try {
      for (const j of await this.jobs.list({ role: 'renter' })) {
        if (j.state !== 'queued' && j.state !== 'running') continue
        await this.jobs.transition('renter', j.id, 'failed', node.clock.now(), { detail: 'RENTER_RESTARTED' })
      }
      const renter = this.renterRole(attestationPolicyFromConfig(config), config.chain.arbiter ?? '')
      const done = await renter.resume({ signal: this.controller.signal })
      if (done.length > 0) logger.info('escrows of interrupted rentals', { escrows: done })
      return done
    } catch (err) {
      logger.warn('resuming interrupted rentals failed', { err })
      return []
    }
  }

  private renterRole (policy: RenterRoleInit['policy'], arbiterAddress: string, matchTimeoutMs?: number): RenterRole {
    const { node, logger } = this.init
    return new RenterRole({
      node,
      chain: this.chain,
      escrowDb: this.escrowDb,
      agreements: this.agreements,
      account: this.init.hotkey,
      arbiterAddress,
      arbiter: this.arbiterClient,
      policy,
      logger: logger.child({ role: 'renter' }),
      ...(matchTimeoutMs != null ? { matchTimeoutMs } : {}),
      ...(this.init.voucherKeys != null ? { voucherKeys: this.init.voucherKeys } : {})
    })
  }

  /**
   * Deletes agreements that never became active once past the retention, and the oldest beyond the
   * cap (MAX_DORMANT_AGREEMENTS); returns how many went. Runs one at a time; a failure is logged.
   */
  async pruneAgreements (): Promise<number> {
    const run = this.pruning.then(async () => {
      if (this.closed) return 0
      const n = await this.agreements.prune({ now: this.node.clock.now(), retentionMs: AGREEMENT_RETENTION_MS, maxDormant: MAX_DORMANT_AGREEMENTS })
      if (n > 0) this.init.logger.info('pruned dormant agreements', { count: n })
      return n
    }).catch((err: unknown) => {
      this.init.logger.warn('agreement pruning failed', { err })
      return 0
    })
    this.pruning = run
    return await run
  }

  get config (): BazaarConfig { return this.init.config }
  get node (): BazaarNode { return this.init.node }
  get role (): BazaarConfig['role'] { return this.init.config.role }
  /** false for an embedded ledger this daemon opened itself: nobody outside this process sees it */
  get sharedChain (): boolean { return this.init.chain != null || this.init.config.chain.adapter !== 'embedded' }

  /**
   * Builds and starts the roles of `init.config.role` on a started node. On failure everything
   * opened here is closed again (the node too) and a UserError says why.
   */
  static async start (init: DaemonInit): Promise<Daemon> {
    const { config, node, logger, home } = init
    const opened: Array<() => Promise<void>> = [async () => { await node.close() }]
    const undo = async (): Promise<void> => { for (const c of opened.reverse()) await c().catch(() => {}) }
    try {
      const chain = init.chain ?? await openChain(config, home, init.hotkey.address, logger, init.signal)
      if (init.chain == null) opened.push(async () => { await chain.close() })
      const escrowDb = await EscrowDb.open(path.join(home, 'escrow'))
      opened.push(async () => { await escrowDb.close() })
      const arbiterClient = config.chain.arbiterPeer != null ? new RemoteArbiter(node.host, multiaddr(config.chain.arbiterPeer)) : undefined
      let supplier: SupplierRole | undefined
      let arbiterHandler: ArbiterHandler | undefined
      // role both on a machine with no GPU (none found, none configured) runs as a renter only
      const inventory = config.role === 'supplier' || config.role === 'both'
        ? await supplierInventory(config, init.runNvidiaSmi, init.signal).catch((err: unknown) => {
          if (config.role === 'both' && (err as { code?: string }).code === 'NO_GPUS') {
            logger.warn('no GPUs found or configured: supplying nothing (role both runs as a renter)')
            return undefined
          }
          throw err
        })
        : undefined
      if (inventory != null) {
        if (init.enclaveKey == null) throw new UserError('a supplier needs its enclave key', { code: 'NO_ENCLAVE_KEY' })
        // a JobStore is a view of the node's database: this one and the daemon's see the same records
        const jobs = new JobStore(node.db)
        supplier = new SupplierRole({
          node,
          inventory,
          enclaveKey: init.enclaveKey.privateKey,
          provider: await readyProvider(config, node, logger, init.signal),
          gpuProvider: gpuAttestationProvider(config, node, logger),
          runtime: processRuntime(),
          workRoot: path.join(home, 'jobs'),
          chain,
          escrowDb,
          agreements: new AgreementStore(node.db),
          account: init.hotkey,
          arbiter: arbiterClient,
          acceptArbiters: config.chain.arbiter != null ? [config.chain.arbiter] : [],
          defaultPrice: BigInt(config.market.pricePerGpuHour),
          netuid: config.chain.netuid,
          region: config.market.region,
          // an offer names only the kind this node can attest as, whatever market.teeKinds accepts
          teeKinds: [config.tee.provider],
          minDurationS: config.market.minDurationS,
          maxDurationS: config.market.maxDurationS,
          offerTtlS: config.market.offerTtlS,
          tickMs: config.metering.tickS * 1000,
          graceMs: config.metering.graceS * 1000,
          logger: logger.child({ role: 'supplier' }),
          jobStore: jobs
        })
        const s = supplier
        opened.push(async () => { await s.stop() })
        await supplier.start()
        if (arbiterClient == null) logger.warn('no chain.arbiterPeer: a renter that disappears cannot be settled without it')
      }
      if (config.role === 'arbiter') {
        const arbiter = new Arbiter({ chain, key: init.hotkey, clock: node.clock, vouchers: escrowDb.vouchers })
        arbiterHandler = await registerArbiterHandler(node.host, {
          arbiter,
          clock: node.clock,
          onOutcome: (o) => { logger.info('arbiter request', o) },
          onError: (err) => { logger.warn('arbiter failed', { err }) }
        })
        const h = arbiterHandler
        opened.push(async () => { await h.stop() })
        logger.info('arbiter ready', { arbiter: init.hotkey.address, peer: node.peerId.toString() })
      }
      return new Daemon(init, chain, escrowDb, arbiterClient, supplier, arbiterHandler)
    } catch (err) {
      await undo()
      if (err instanceof UserError) throw err
      const code = (err as { code?: string }).code
      throw new UserError(`the ${config.role} role did not start: ${(err as Error).message}`, { code: code ?? 'DAEMON_START_FAILED', cause: err })
    }
  }

  /**
   * Why this daemon cannot rent at all, most fundamental first (role, then chain, then arbiter), or
   * undefined when it can. The same check answers the control API before a stream starts.
   */
  rentRefusal (): UserError | undefined {
    const { config } = this.init
    if (config.role !== 'renter' && config.role !== 'both') return new UserError(`this node's role is ${config.role}: renting needs role renter or both`, { code: 'WRONG_ROLE' })
    // [refuse] an escrow on a ledger no supplier can read would lock funds for nothing. Checked before
    // chain.arbiter: with this chain no setting of the arbiter could make the rental work.
    // The hint names the daemon's flag: `bazaar rent` only talks to a running node.
    if (!this.sharedChain) return new UserError('this node runs on the embedded chain, which lives in its process only: no supplier of another process can see its escrows (start the node on a shared chain with bazaar node start --chain ws://<subtensor endpoint>, or chain.endpoint in its config; or try the whole market in one process with bazaar devnet)', { code: 'CHAIN_NOT_SHARED' })
    if (config.chain.arbiter == null) return new UserError('renting needs chain.arbiter (the ss58 address of the arbiter named in agreements) in the node\'s config or BAZAAR_ARBITER; restart the node after setting it', { code: 'NO_ARBITER' })
    return undefined
  }

  /**
   * One rental as the renter: streams its events, records it as a renter job, and resolves with
   * the summary. The daemon's shutdown aborts it like `signal` does (the job is cancelled, the
   * escrow still settles).
   */
  async rent (parsed: ParsedRent, opts: { signal?: AbortSignal, onEvent?: (e: RentEvent) => void } = {}): Promise<RentSummary> {
    const { config, node, logger } = this.init
    const refusal = this.rentRefusal()
    if (refusal != null) throw refusal
    const renter = this.renterRole(
      { ...attestationPolicyFromConfig(config), kinds: parsed.teeKinds, crls: await readCrlFiles(config.tee.crlFiles) },
      config.chain.arbiter as string,
      parsed.matchTimeoutMs
    )
    const signal = AbortSignal.any([this.controller.signal, ...(opts.signal != null ? [opts.signal] : [])])
    const req = parsed.request
    let jobId: string | undefined
    // job record writes run one after another, in event order
    let writes = Promise.resolve()
    const record = async (fn: () => Promise<unknown>): Promise<void> => {
      writes = writes.then(fn).then(() => {}, (err: unknown) => { logger.warn('renter job record failed', { err }) })
      await writes
    }
    const onEvent = (e: RentEvent): void => {
      opts.onEvent?.(e)
      const now = node.clock.now()
      if (e.type === 'bid') {
        jobId = e.id
        void record(async () => { await this.jobs.put({ id: e.id, role: 'renter', state: 'queued', command: req.spec.command, args: req.spec.args ?? [], gpuCount: req.count, createdAt: now, updatedAt: now }) })
      } else if (jobId != null && e.type === 'agreement') {
        const id = jobId
        void record(async () => { const cur = await this.jobs.get('renter', id); if (cur != null) await this.jobs.put({ ...cur, agreementId: e.id, updatedAt: now }) })
      } else if (jobId != null && e.type === 'attested') {
        const id = jobId
        void record(async () => { await this.jobs.transition('renter', id, 'running', now, { peer: e.enclave }) })
      }
    }
    const run = renter.rent(req, { signal, onEvent })
    this.rents.add(run)
    try {
      const summary = await run
      if (jobId != null) {
        const id = jobId
        await record(async () => {
          await this.jobs.transition('renter', id, stateForResult(summary.job.reason as never, summary.job.exitCode), node.clock.now(), {
            agreementId: summary.agreementId, exitCode: summary.job.exitCode, reason: summary.job.reason as never, outputs: summary.job.outputs, peer: summary.supplier
          })
        })
      }
      return summary
    } catch (err) {
      if (jobId != null) {
        const id = jobId
        const code = (err as { code?: string }).code ?? 'FAILED'
        await record(async () => { await this.jobs.transition('renter', id, signal.aborted ? 'cancelled' : 'failed', node.clock.now(), { detail: code }) })
      }
      throw err
    } finally {
      this.rents.delete(run)
    }
  }

  /** Ordered stop: running rentals are cancelled and settle (bounded wait), then roles, node, stores, chain. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.controller.abort()
    clearInterval(this.pruneTimer)
    const settled = Promise.allSettled([...this.rents])
    await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, 45_000).unref())])
    await this.supplier?.stop().catch((err) => { this.init.logger.warn('supplier stop failed', { err }) })
    await this.arbiterHandler?.stop().catch(() => {})
    await this.pruning
    await this.init.node.close()
    await this.escrowDb.close().catch(() => {})
    if (this.init.chain == null) await this.chain.close().catch(() => {})
  }
}

/** The chain port of `config.chain`. */
async function openChain (config: BazaarConfig, home: string, hotkey: string, logger: Logger, signal?: AbortSignal): Promise<ChainPort> {
  if (config.chain.adapter === 'embedded') {
    logger.warn('chain: embedded ledger under <home>/ledger. It lives in this process only: this daemon can trade with no other process (use bazaar devnet for a whole network in one process, or a subtensor endpoint)', { ledger: path.join(home, 'ledger') })
    // a development ledger: the node's own hotkey is credited once, when the ledger is created
    return await EmbeddedLedger.open({ netuid: config.chain.netuid, path: path.join(home, 'ledger'), genesis: [{ address: hotkey, amount: EMBEDDED_GENESIS_RAO }] })
  }
  const endpoint = config.chain.endpoint
  if (endpoint == null) throw new UserError('chain.endpoint is required for the subtensor adapter', { code: 'NO_ENDPOINT' })
  const { createSubtensorChain } = await import('../escrow/chain/subtensor/index.js')
  try {
    const chain = await createSubtensorChain({ url: endpoint, netuid: config.chain.netuid }, { signal: AbortSignal.any([AbortSignal.timeout(60_000), ...(signal != null ? [signal] : [])]) })
    const info = await chain.info()
    logger.info('chain: subtensor', { endpoint, asset: info.asset.kind, chain: info.chain, specVersion: info.specVersion, notes: info.notes })
    return chain
  } catch (err) {
    throw new UserError(`cannot use the subtensor chain at ${endpoint}: ${(err as Error).message}`, { code: (err as { code?: string }).code ?? 'CHAIN_UNAVAILABLE', cause: err })
  }
}

/** The GPUs this supplier offers: nvidia-smi when present, else the config's `gpus`. */
async function supplierInventory (config: BazaarConfig, runNvidiaSmi?: NvidiaSmiRunner, signal?: AbortSignal): Promise<Inventory> {
  const gpus = (config.gpus ?? []).map((g) => ({ model: g.model, memoryMib: g.memoryMib, count: g.count, ...(g.pricePerGpuHour != null ? { pricePerGpuHour: BigInt(g.pricePerGpuHour) } : {}) }))
  try {
    return await loadInventory({ config: { gpus }, ...(runNvidiaSmi != null ? { runNvidiaSmi } : {}), signal })
  } catch (err) {
    throw new UserError(`no GPUs to supply: ${(err as Error).message}`, { code: (err as { code?: string }).code ?? 'NO_GPUS', cause: err })
  }
}

/**
 * The attestation provider of `tee.provider`, after one attestation of random report data has
 * worked: a supplier that could not attest would advertise enclaves no renter can verify, so it
 * refuses to start instead, saying why (no configfs-tsm, a guest of another kind, no permission).
 */
async function readyProvider (config: BazaarConfig, node: BazaarNode, logger: Logger, signal?: AbortSignal): Promise<AttestationProvider> {
  const provider = attestationProvider(config, node, logger)
  await probeProvider(provider, config, signal)
  return provider
}

/**
 * Checks before anything starts that a node of role `supplier` has GPUs to offer (nvidia-smi or
 * config `gpus`), so the refusal is the only line printed. Role `both` without GPUs runs as a
 * renter instead, and is not refused.
 */
export async function checkSupplierGpus (config: BazaarConfig, opts: { signal?: AbortSignal } = {}): Promise<void> {
  if (config.role === 'supplier') await supplierInventory(config, undefined, opts.signal)
}

/**
 * Checks before anything starts that a supplier of this config can attest as `tee.provider`
 * (`bazaar supply` calls it before the node opens, so the refusal is the only line printed).
 * Nothing to check for a node that does not supply, or supplies simulated enclaves.
 */
export async function checkTeeProvider (config: BazaarConfig, opts: { signal?: AbortSignal, configfsRoot?: string } = {}): Promise<void> {
  const kind = config.tee.provider
  if (kind === 'simulated' || (config.role !== 'supplier' && config.role !== 'both')) return
  const root = opts.configfsRoot ?? CONFIGFS_TSM_REPORT
  // a report entry of its own, removed after the probe: configfs entries outlive the process
  const entry = `bazaar-probe-${process.pid}-${randomBytes(4).toString('hex')}`
  try {
    await probeProvider(configfsProvider({ kind, root, entry }), config, opts.signal)
  } finally {
    await removeConfigfsEntry(root, entry)
  }
}

async function probeProvider (provider: AttestationProvider, config: BazaarConfig, signal?: AbortSignal): Promise<void> {
  const kind = config.tee.provider
  try {
    await provider.attest(randomBytes(REPORT_DATA_LENGTH), { signal })
  } catch (err) {
    if (signal?.aborted === true) throw err
    throw new UserError(`tee.provider is ${kind} but this machine cannot attest as ${kind} (${(err as Error).message}): run the supplier inside a ${kind} guest with configfs-tsm (see docs/supplier.md), or set tee.provider to simulated for a devnet`, { code: 'TEE_UNAVAILABLE', cause: err })
  }
}

/** How this node attests as a supplier (`tee.provider`). */
function attestationProvider (config: BazaarConfig, node: BazaarNode, logger: Logger): AttestationProvider {
  const kind = config.tee.provider
  if (kind === 'simulated') {
    logger.warn('tee.provider is simulated: only nodes that allow simulated enclaves (devnets) will rent from this supplier')
    return simulatedProvider({ clock: node.clock })
  }
  return configfsProvider({ kind })
}

/** How this node's GPU attests as a supplier (`tee.gpuProvider`, `tee.gpuRimFiles`). */
function gpuAttestationProvider (config: BazaarConfig, node: BazaarNode, logger: Logger): GpuAttestationProvider | undefined {
  switch (config.tee.gpuProvider) {
    case 'none': return undefined
    case 'simulated-gpu':
      logger.warn('tee.gpuProvider is simulated-gpu: only nodes that allow simulation (devnets) accept its GPU evidence')
      return simulatedGpuProvider({ clock: node.clock })
    case 'nvidia-gpu': return nvidiaGpuProvider({ rimFiles: config.tee.gpuRimFiles })
  }
}
