import { InventoryError } from '../errors.js'
import { MAX_GPUS } from '../constants.js'
import { NVIDIA_SMI_ARGS, parseNvidiaSmi, systemNvidiaSmi } from './nvidia-smi.js'
import { normaliseGpuModel } from './normalise.js'
import type { NvidiaSmiRunner } from './nvidia-smi.js'

/** One GPU class in the supplier config. */
export interface GpuConfigEntry {
  /** marketing name or class ("NVIDIA H100 80GB HBM3" or "h100-80gb") */
  model: string
  memoryMib: number
  /** GPUs of this model to offer (with nvidia-smi: at most this many of the detected ones) */
  count: number
  /** price in base units (rao) per GPU-hour */
  pricePerGpuHour?: bigint
}

export interface InventoryConfig {
  gpus?: GpuConfigEntry[]
  /** when set, only GPUs whose index or uuid is listed are offered (nvidia-smi inventories only) */
  restrict?: Array<number | string>
}

/** One GPU the supplier can rent out. */
export interface GpuDevice {
  /** index for CUDA_VISIBLE_DEVICES; synthetic (0..n-1 in config order) for config inventories */
  index: number
  uuid?: string
  /** the name as reported or configured */
  name: string
  /** the class, see normaliseGpuModel */
  model: string
  memoryMib: number
  memoryUsedMib?: number
  utilizationPct?: number
  pricePerGpuHour?: bigint
}

/** GPUs grouped by class, the shape of market.proto's `Gpu` plus a price. */
export interface GpuClass {
  model: string
  memoryMib: number
  count: number
  pricePerGpuHour?: bigint
}

export interface Inventory {
  source: 'nvidia-smi' | 'config'
  devices: GpuDevice[]
  classes: GpuClass[]
}

export interface LoadInventoryOptions {
  config?: InventoryConfig
  runNvidiaSmi?: NvidiaSmiRunner
  signal?: AbortSignal
}

/**
 * Builds the supplier's GPU inventory.
 *
 * - nvidia-smi present and listing GPUs: those GPUs, filtered by `config.restrict` (indices or uuids);
 *   a `config.gpus` entry of the same class sets the price and caps the count (lowest indices first);
 *   detected classes the config does not name are offered without a price.
 * - nvidia-smi absent, failing, or listing none: the GPUs of `config.gpus`, with synthetic indices.
 * - neither: `InventoryError('NO_GPUS')`. nvidia-smi that prints garbage is an error
 *   (`NVIDIA_SMI_INVALID_OUTPUT`), never silently an empty offer.
 */
export async function loadInventory (opts: LoadInventoryOptions = {}): Promise<Inventory> {
  const config = opts.config ?? {}
  const entries = validateConfig(config)
  const run = opts.runNvidiaSmi ?? systemNvidiaSmi
  const smi = await run(NVIDIA_SMI_ARGS, { signal: opts.signal })
  let smiFailure: InventoryError | undefined
  if (!smi.absent) {
    if (smi.exitCode === 0) {
      const gpus = parseNvidiaSmi(smi.stdout)
      if (gpus.length > 0) return fromSmi(gpus, entries, config.restrict)
    } else {
      // e.g. exit 9 "couldn't communicate with the NVIDIA driver": fall back to config when given
      smiFailure = new InventoryError('NVIDIA_SMI_FAILED', `nvidia-smi exited with ${smi.exitCode}`)
    }
  }
  if (entries.length === 0) {
    if (smiFailure != null) throw smiFailure
    throw new InventoryError('NO_GPUS', 'no GPU found by nvidia-smi and none configured (config gpus)')
  }
  return fromConfig(entries)
}

function validateConfig (config: InventoryConfig): GpuConfigEntry[] {
  const gpus = config.gpus ?? []
  if (!Array.isArray(gpus) || gpus.length > MAX_GPUS) throw badConfig('gpus', 'must be a list of at most 256 entries')
  let total = 0
  for (const [i, g] of gpus.entries()) {
    if (typeof g.model !== 'string' || g.model.trim().length === 0 || g.model.length > 128) throw badConfig(`gpus[${i}].model`, 'must be a non-empty name')
    if (!Number.isSafeInteger(g.memoryMib) || g.memoryMib <= 0) throw badConfig(`gpus[${i}].memoryMib`, 'must be a positive integer')
    if (!Number.isSafeInteger(g.count) || g.count <= 0) throw badConfig(`gpus[${i}].count`, 'must be a positive integer')
    if (g.pricePerGpuHour !== undefined && (typeof g.pricePerGpuHour !== 'bigint' || g.pricePerGpuHour < 0n)) throw badConfig(`gpus[${i}].pricePerGpuHour`, 'must be a non-negative bigint')
    total += g.count
  }
  if (total > MAX_GPUS) throw badConfig('gpus', `more than ${MAX_GPUS} GPUs in all`)
  if (config.restrict !== undefined) {
    if (!Array.isArray(config.restrict) || config.restrict.length > MAX_GPUS) throw badConfig('restrict', 'must be a list')
    for (const [i, r] of config.restrict.entries()) {
      if (!(typeof r === 'string' || (Number.isSafeInteger(r) && r >= 0))) throw badConfig(`restrict[${i}]`, 'must be an index or a uuid')
    }
  }
  return gpus
}

function fromSmi (gpus: ReturnType<typeof parseNvidiaSmi>, entries: GpuConfigEntry[], restrict?: Array<number | string>): Inventory {
  const allowed = restrict == null ? undefined : new Set<number | string>(restrict)
  const byClass = new Map<string, GpuConfigEntry>()
  for (const e of entries) byClass.set(normaliseGpuModel(e.model, e.memoryMib), e)
  const taken = new Map<string, number>()
  const devices: GpuDevice[] = []
  for (const g of [...gpus].sort((a, b) => a.index - b.index)) {
    if (allowed != null && !allowed.has(g.index) && !allowed.has(g.uuid)) continue
    const model = normaliseGpuModel(g.name, g.memoryTotalMib)
    const entry = byClass.get(model)
    const n = taken.get(model) ?? 0
    if (entry != null && n >= entry.count) continue
    taken.set(model, n + 1)
    const d: GpuDevice = { index: g.index, uuid: g.uuid, name: g.name, model, memoryMib: g.memoryTotalMib }
    if (g.memoryUsedMib !== undefined) d.memoryUsedMib = g.memoryUsedMib
    if (g.utilizationPct !== undefined) d.utilizationPct = g.utilizationPct
    if (entry?.pricePerGpuHour !== undefined) d.pricePerGpuHour = entry.pricePerGpuHour
    devices.push(d)
  }
  if (devices.length === 0) throw new InventoryError('NO_GPUS', 'every detected GPU is excluded by the config')
  return { source: 'nvidia-smi', devices, classes: group(devices) }
}

function fromConfig (entries: GpuConfigEntry[]): Inventory {
  const devices: GpuDevice[] = []
  for (const e of entries) {
    const model = normaliseGpuModel(e.model, e.memoryMib)
    for (let i = 0; i < e.count; i++) {
      const d: GpuDevice = { index: devices.length, name: e.model, model, memoryMib: e.memoryMib }
      if (e.pricePerGpuHour !== undefined) d.pricePerGpuHour = e.pricePerGpuHour
      devices.push(d)
    }
  }
  return { source: 'config', devices, classes: group(devices) }
}

/** groups devices by class and price; the class's memory is the smallest of its devices */
function group (devices: GpuDevice[]): GpuClass[] {
  const out = new Map<string, GpuClass>()
  for (const d of devices) {
    const key = `${d.model}/${d.pricePerGpuHour ?? ''}`
    const c = out.get(key)
    if (c == null) {
      const g: GpuClass = { model: d.model, memoryMib: d.memoryMib, count: 1 }
      if (d.pricePerGpuHour !== undefined) g.pricePerGpuHour = d.pricePerGpuHour
      out.set(key, g)
    } else {
      c.count++
      c.memoryMib = Math.min(c.memoryMib, d.memoryMib)
    }
  }
  return [...out.values()]
}

function badConfig (field: string, why: string): InventoryError {
  return new InventoryError('INVALID_CONFIG', `inventory config ${field} ${why}`)
}
