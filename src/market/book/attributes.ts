import type { Gpu } from '../../wire/market.js'

/**
 * Small integer ids for the TEE kinds and regions seen, so that the matching scan compares
 * integers instead of searching string arrays. The registry is bounded: past 30 TEE kinds (or
 * 4096 regions) a name gets the shared overflow id, which the scan treats as "check the strings"
 * (never as a match by itself), so a peer inventing names costs no memory and no correctness.
 */
const MAX_TEE_BITS = 30
const MAX_REGIONS = 4096
export const TEE_OVERFLOW = 1 << MAX_TEE_BITS
export const REGION_OVERFLOW = MAX_REGIONS

const teeBits = new Map<string, number>()
const regionIds = new Map<string, number>()

export function teeBit (kind: string): number {
  let b = teeBits.get(kind)
  if (b === undefined) {
    if (teeBits.size >= MAX_TEE_BITS) return TEE_OVERFLOW
    b = 1 << teeBits.size
    teeBits.set(kind, b)
  }
  return b
}

export function teeMaskOf (kinds: readonly string[]): number {
  let m = 0
  for (const k of kinds) m |= teeBit(k)
  return m
}

export function regionId (region: string): number {
  let id = regionIds.get(region)
  if (id === undefined) {
    if (regionIds.size >= MAX_REGIONS) return REGION_OVERFLOW
    id = regionIds.size
    regionIds.set(region, id)
    regionNames[id] = region
  }
  return id
}

/**
 * Shared copies of the short strings a resting offer keeps (regions, GPU models and lists of them, TEE kind lists),
 * so 100,000 offers of a few dozen models hold a few dozen strings rather than 100,000. Bounded
 * like the registries above: past the limit a value is kept as it is (correct, only not shared).
 */
const MAX_INTERNED = 4096
const regionNames: string[] = []
const names = new Map<string, string>()
const teeLists = new Map<string, readonly string[]>()
const NO_KINDS: readonly string[] = Object.freeze([])

/** the shared copy of a short name (a GPU model, a TEE kind) */
export function internName (name: string): string {
  const m = names.get(name)
  if (m !== undefined) return m
  if (names.size < MAX_INTERNED) names.set(name, name)
  return name
}

/** a shared, frozen list equal to `kinds` (same names, same order) */
export function internTeeKinds (kinds: readonly string[]): readonly string[] {
  if (kinds.length === 0) return NO_KINDS
  const key = kinds.length === 1 ? kinds[0] : kinds.join('\u0000')
  const l = teeLists.get(key)
  if (l !== undefined) return l
  const own = Object.freeze(kinds.map(internName))
  if (teeLists.size < MAX_INTERNED) teeLists.set(key, own)
  return own
}

const imageLists = new Map<string, readonly string[]>()

/**
 * What a resting offer keeps of its runtime: undefined for processes (no runtime), else a shared,
 * frozen list equal to its image patterns (empty: any image). A supplier re-publishes the same list
 * in every offer, so its offers share one.
 */
export function internImages (runtime: string | undefined, images: readonly string[]): readonly string[] | undefined {
  if (runtime !== 'container') return undefined
  if (images.length === 0) return NO_KINDS
  const key = images.join('\u0000')
  const l = imageLists.get(key)
  if (l !== undefined) return l
  const own = Object.freeze([...images])
  if (imageLists.size < MAX_INTERNED) imageLists.set(key, own)
  return own
}

const gpuLists = new Map<string, readonly Gpu[]>()
/** one-entry lists (nearly every offer) by model, then memory, then count: no key string to build */
const oneGpu = new Map<string, Map<number, Map<number, readonly Gpu[]>>>()
let oneGpuCount = 0

/** a shared, frozen list of GPU entries equal to `gpus` (a matched entry is one of its items) */
export function internGpus (gpus: readonly Gpu[]): readonly Gpu[] {
  if (gpus.length === 1) {
    const g = gpus[0]
    let byMem = oneGpu.get(g.model)
    let byCount = byMem?.get(g.memoryMib)
    const l = byCount?.get(g.count)
    if (l !== undefined) return l
    const own = freezeGpus(gpus)
    if (oneGpuCount < MAX_INTERNED) {
      if (byMem === undefined) oneGpu.set(own[0].model, byMem = new Map())
      if (byCount === undefined) byMem.set(g.memoryMib, byCount = new Map())
      byCount.set(g.count, own)
      oneGpuCount++
    }
    return own
  }
  let key = ''
  for (const g of gpus) key += `${g.model}\u0000${g.memoryMib}\u0000${g.count}\u0000`
  const l = gpuLists.get(key)
  if (l !== undefined) return l
  const own = freezeGpus(gpus)
  if (gpuLists.size < MAX_INTERNED) gpuLists.set(key, own)
  return own
}

function freezeGpus (gpus: readonly Gpu[]): readonly Gpu[] {
  return Object.freeze(gpus.map((g) => Object.freeze({ model: internName(g.model), memoryMib: g.memoryMib, count: g.count })))
}

/** the region name of an id from `regionId` (undefined for the overflow id) */
export function regionName (id: number): string | undefined {
  return regionNames[id]
}
