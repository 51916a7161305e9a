import { createHash } from 'node:crypto'
import path from 'node:path'
import type { AccountPair } from '../../util/sr25519.js'
import type { BazaarConfig, JobsConfig } from '../config/types.js'
import { enclaveListenAddrs } from '../config/enclave-listen.js'
import type { EnclaveKey } from '../keystore/index.js'
import { SupplierRole } from '../roles/supplier.js'
import { containerRuntime, detectContainerEngine, gpuAccessMissing, JobCgroups, processRuntime, type ContainerEngine, type Inventory, type NvidiaSmiRunner, type ResourceLimits, type Runtime } from '../../jobs/index.js'
import { systemProbe } from '../../jobs/runtime/detect.js'
import { UserError } from '../../util/errors.js'
import { readyGpuProvider, readyProvider, supplierInventory } from './supplier-setup.js'
import type { NodeService, RoleServiceComponents } from './types.js'

/** What the supplier service uses of its node. */
export type SupplierServiceComponents = RoleServiceComponents

export interface SupplierServiceInit {
  config: BazaarConfig
  /** the node home: the jobs' work directories go under `<home>/jobs` */
  home: string
  /** the supplier hotkey: the payee of its escrows */
  hotkey: AccountPair
  enclaveKey?: EnclaveKey
  /** tests inject an absent nvidia-smi so the config's GPUs are used */
  runNvidiaSmi?: NvidiaSmiRunner
}

/**
 * The supplier role of `config.role` supplier or both as a node service: `start` finds the GPUs
 * (nvidia-smi, else config `gpus`), checks that the node can attest as `tee.provider`, and starts
 * a SupplierRole on the node's shared stores and escrow service. Role `both` on a machine with no
 * GPU supplies nothing and says so. `restart` stops the role and builds it again on the same
 * stores, as a restarted daemon would.
 */
export class SupplierService implements NodeService {
  readonly name = 'supplier'
  private current?: SupplierRole
  private inventory?: Inventory
  private cgroups?: JobCgroups
  private runtime?: Runtime

  constructor (private readonly c: SupplierServiceComponents, private readonly i: SupplierServiceInit) {}

  /** the running role; undefined before start, and for role both without GPUs */
  get role (): SupplierRole | undefined { return this.current }

  async start (): Promise<void> {
    const { config } = this.i
    const { node, logger, signal } = this.c
    this.inventory ??= await supplierInventory(config, { runNvidiaSmi: this.i.runNvidiaSmi, signal }).catch((err: unknown) => {
      if (config.role === 'both' && (err as { code?: string }).code === 'NO_GPUS') {
        logger.warn('no GPUs found or configured: supplying nothing (role both runs as a renter)')
        return undefined
      }
      throw err
    })
    if (this.inventory == null) return
    if (this.i.enclaveKey == null) throw new UserError('a supplier needs its enclave key', { code: 'NO_ENCLAVE_KEY' })
    this.runtime ??= config.jobs.runtime === 'container' ? await this.openContainers() : processRuntime({ cgroups: this.cgroups ??= await this.openCgroups(), limits: jobLimits(config.jobs) })
    const role = new SupplierRole({
      node,
      inventory: this.inventory,
      enclaveKey: this.i.enclaveKey.privateKey,
      // reachable where the node is (tee.enclaveListen, else the IPs of listen): renters on other machines dial it
      enclaveListen: enclaveListenAddrs(config),
      provider: await readyProvider(config, node.clock, logger, signal),
      gpuProvider: await readyGpuProvider(config, node.clock, logger, signal),
      runtime: this.runtime,
      images: config.jobs.images,
      workRoot: path.join(this.i.home, 'jobs'),
      chain: this.c.chain,
      escrowDb: this.c.escrowDb,
      escrow: this.c.escrow,
      agreements: this.c.agreements,
      cooldowns: this.c.cooldowns,
      account: this.i.hotkey,
      arbiter: this.c.arbiter,
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
      reattachMs: config.metering.reattachS * 1000,
      logger: logger.child({ role: 'supplier' }),
      jobStore: this.c.jobs
    })
    this.current = role
    await role.start()
    if (this.c.arbiter == null) logger.warn('no chain.arbiterPeer: a renter that disappears cannot be settled without it')
  }

  async stop (): Promise<void> {
    await this.current?.stop()
    // a restart opens them again, and ends what this run may have left
    await this.cgroups?.close()
    this.cgroups = undefined
    this.runtime = undefined
  }

  /** what names this home's jobs (cgroups, containers): a restart finds what the run before it left */
  private homeTag (): string {
    return `bazaar-${createHash('sha256').update(path.resolve(this.i.home)).digest('hex').slice(0, 12)}`
  }

  /**
   * The container runtime of `jobs`: its engine must work now (the daemon does not start otherwise),
   * and the containers a previous run of this supplier left are removed, as their records are
   * closed (SUPPLIER_RESTARTED).
   * @throws UserError CONTAINER_ENGINE_UNAVAILABLE, CONTAINER_GPUS_UNAVAILABLE
   */
  private async openContainers (): Promise<Runtime> {
    const { config } = this.i
    const { logger } = this.c
    const jobs = config.jobs
    let engine: ContainerEngine | undefined
    if (jobs.engine === 'auto') engine = await detectContainerEngine()
    else if (await systemProbe(jobs.engine, ['info'], 10_000)) engine = jobs.engine
    if (engine == null) {
      const tried = jobs.engine === 'auto' ? '`docker info` and `podman info` both fail' : `\`${jobs.engine} info\` fails`
      throw new UserError(`jobs.runtime is container, but no container engine works here (${tried}): start the engine, or set jobs.runtime to process`, { code: 'CONTAINER_ENGINE_UNAVAILABLE' })
    }
    // a job's GPUs go to its container as devices: an engine that cannot pass them would start
    // every GPU job only to fail it
    const gpus = this.inventory?.devices.length ?? 0
    const missing = gpus > 0 ? await gpuAccessMissing(engine) : undefined
    if (missing != null) throw new UserError(`jobs.runtime is container, but ${missing}: set it up, or set jobs.runtime to process`, { code: 'CONTAINER_GPUS_UNAVAILABLE' })
    const runtime = containerRuntime({
      engine,
      images: jobs.images,
      pull: jobs.pull,
      limits: jobLimits(jobs),
      ...(jobs.processes > 0 ? { pidsLimit: jobs.processes } : {}),
      ...(jobs.memoryMib > 0 ? { memoryBytes: jobs.memoryMib * 1024 * 1024 } : {}),
      namePrefix: `${this.homeTag()}-job-`
    })
    const left = await runtime.sweep()
    if (left > 0) logger.warn('removed the job containers a previous run of this supplier left', { containers: left })
    logger.info('jobs run in containers', { engine, images: jobs.images.length > 0 ? jobs.images.join(' ') : 'any', memoryMib: jobs.memoryMib })
    return runtime
  }

  /**
   * The jobs' cgroups (see jobs/runtime/cgroup.ts), named after the node home, so that a restart
   * finds what the run before it left: those jobs are ended now, as their records are closed
   * (SUPPLIER_RESTARTED). Without a usable cgroup v2, jobs are held by their process group only.
   */
  private async openCgroups (): Promise<JobCgroups | undefined> {
    const { logger } = this.c
    const cgroups = await JobCgroups.open(this.homeTag())
    if (!(cgroups instanceof JobCgroups)) {
      logger.warn('jobs run without a cgroup of their own: a job process that calls setsid outlives its stop, and jobs outlive a crash of this supplier', { reason: cgroups.unavailable })
      return undefined
    }
    const left = await cgroups.sweep()
    if (left > 0) logger.warn('ended the jobs a previous run of this supplier left running', { jobs: left })
    logger.info('jobs run in cgroups of their own', { dir: cgroups.base })
    return cgroups
  }

  /** Stops the role and starts a new one on the same stores (its agreements and escrows are restored). */
  async restart (): Promise<SupplierRole | undefined> {
    await this.stop().catch((err: unknown) => { this.c.logger.warn('supplier stop failed', { err }) })
    this.current = undefined
    await this.start()
    return this.current
  }
}

/** The prlimit(1) limits of `jobs` (0 is no limit where a limit may be left off). */
export function jobLimits (jobs: Pick<JobsConfig, 'processes' | 'openFiles' | 'fileMib'>): ResourceLimits {
  return {
    openFiles: jobs.openFiles,
    ...(jobs.processes > 0 ? { processes: jobs.processes } : {}),
    ...(jobs.fileMib > 0 ? { fileSizeBytes: jobs.fileMib * 1024 * 1024 } : {})
  }
}
