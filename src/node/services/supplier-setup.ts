import { randomBytes } from 'node:crypto'
import type { BazaarConfig } from '../config/types.js'
import type { Logger } from '../logger.js'
import type { Clock } from '../../util/clock.js'
import { loadInventory, type Inventory, type NvidiaSmiRunner } from '../../jobs/index.js'
import { CONFIGFS_TSM_REPORT, configfsProvider, GPU_NONCE_LENGTH, REPORT_DATA_LENGTH, nvidiaGpuProvider, simulatedGpuProvider, simulatedProvider, type AttestationProvider, type GpuAttestationProvider } from '../../tee/index.js'
import { removeConfigfsEntry } from '../../tee/providers/configfs.js'
import { OcspStapler, withOcspStapling } from '../gpu-ocsp.js'
import { UserError } from '../../util/errors.js'

/** The GPUs this supplier offers: nvidia-smi when present, else the config's `gpus`. */
export async function supplierInventory (config: BazaarConfig, opts: { runNvidiaSmi?: NvidiaSmiRunner, signal?: AbortSignal } = {}): Promise<Inventory> {
  const gpus = (config.gpus ?? []).map((g) => ({ model: g.model, memoryMib: g.memoryMib, count: g.count, ...(g.pricePerGpuHour != null ? { pricePerGpuHour: BigInt(g.pricePerGpuHour) } : {}) }))
  try {
    return await loadInventory({ config: { gpus }, ...(opts.runNvidiaSmi != null ? { runNvidiaSmi: opts.runNvidiaSmi } : {}), signal: opts.signal })
  } catch (err) {
    throw new UserError(`no GPUs to supply: ${(err as Error).message}`, { code: (err as { code?: string }).code ?? 'NO_GPUS', cause: err })
  }
}

/**
 * Checks before anything starts that a node of role `supplier` has GPUs to offer (nvidia-smi or
 * config `gpus`), so the refusal is the only line printed. Role `both` without GPUs runs as a
 * renter instead, and is not refused.
 */
export async function checkSupplierGpus (config: BazaarConfig, opts: { signal?: AbortSignal } = {}): Promise<void> {
  if (config.role === 'supplier') await supplierInventory(config, { signal: opts.signal })
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

/**
 * The attestation provider of `tee.provider`, after one attestation of random report data has
 * worked: a supplier that could not attest would advertise enclaves no renter can verify, so it
 * refuses to start instead, saying why (no configfs-tsm, a guest of another kind, no permission).
 */
export async function readyProvider (config: BazaarConfig, clock: Clock, logger: Logger, signal?: AbortSignal): Promise<AttestationProvider> {
  const provider = attestationProvider(config, clock, logger)
  await probeProvider(provider, config, signal)
  return provider
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
function attestationProvider (config: BazaarConfig, clock: Clock, logger: Logger): AttestationProvider {
  const kind = config.tee.provider
  if (kind === 'simulated') {
    logger.warn('tee.provider is simulated: only nodes that allow simulated enclaves (devnets) will rent from this supplier')
    return simulatedProvider({ clock })
  }
  return configfsProvider({ kind })
}

/**
 * The GPU attestation provider of `tee.gpuProvider`, after one report for a random nonce has
 * worked (and the RIM files were read): a supplier whose GPU cannot attest would advertise
 * confidential-computing GPUs (`gpuCc`) that no renter can verify, so it refuses to start instead.
 * The probe asks the GPU alone, without the OCSP stapler, so it needs no network.
 */
export async function readyGpuProvider (config: BazaarConfig, clock: Clock, logger: Logger, signal?: AbortSignal): Promise<GpuAttestationProvider | undefined> {
  await checkGpuProvider(config, { signal })
  return gpuAttestationProvider(config, clock, logger)
}

/**
 * Checks that a supplier whose `tee.gpuProvider` is nvidia-gpu gets a report from its GPU (`bazaar
 * supply` calls it before the node opens, as `checkTeeProvider`).
 */
export async function checkGpuProvider (config: BazaarConfig, opts: { signal?: AbortSignal } = {}): Promise<void> {
  if (config.tee.gpuProvider !== 'nvidia-gpu' || (config.role !== 'supplier' && config.role !== 'both')) return
  try {
    await nvidiaGpuProvider({ rimFiles: config.tee.gpuRimFiles }).attest(randomBytes(GPU_NONCE_LENGTH), { signal: opts.signal })
  } catch (err) {
    if (opts.signal?.aborted === true) throw err
    throw new UserError(`tee.gpuProvider is nvidia-gpu but this machine's GPU cannot attest (${(err as Error).message}): run the supplier in a confidential VM with a CC-mode NVIDIA GPU and nvidia-ml-py (see docs/supplier.md), or set tee.gpuProvider to none`, { code: 'GPU_TEE_UNAVAILABLE', cause: err })
  }
}

/** How this node's GPU attests as a supplier (`tee.gpuProvider`, `tee.gpuRimFiles`, `tee.gpuOcsp`). */
export function gpuAttestationProvider (config: BazaarConfig, clock: Clock, logger: Logger): GpuAttestationProvider | undefined {
  switch (config.tee.gpuProvider) {
    case 'none': return undefined
    case 'simulated-gpu':
      logger.warn('tee.gpuProvider is simulated-gpu: only nodes that allow simulation (devnets) accept its GPU evidence')
      return simulatedGpuProvider({ clock })
    case 'nvidia-gpu': {
      const provider = nvidiaGpuProvider({ rimFiles: config.tee.gpuRimFiles })
      if (config.tee.gpuOcsp === 'off') return provider
      return withOcspStapling(provider, new OcspStapler({ url: config.tee.gpuOcspUrl, clock, logger }))
    }
  }
}
