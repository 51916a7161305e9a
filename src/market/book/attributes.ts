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
  }
  return id
}
