import { describe, expect, it } from 'vitest'
import { runtimeBlockTimeMs, SEEN_LAG_BOUNDS_MS, SEEN_LAG_MS, seenLagFor } from '../../../src/escrow/chain/subtensor/adapter.js'

/** a constant as polkadot-js gives it: a codec whose toString is the number */
const c = (n: number | string): { toString: () => string } => ({ toString: () => String(n) })

describe('the runtime block time and the wait for an escrow not yet seen', () => {
  it('reads Aura, then BABE, then twice the minimum timestamp period', () => {
    expect(runtimeBlockTimeMs({ aura: { slotDuration: c(12_000) }, timestamp: { minimumPeriod: c(500) } })).toBe(12_000)
    expect(runtimeBlockTimeMs({ babe: { expectedBlockTime: c(6_000) }, timestamp: { minimumPeriod: c(500) } })).toBe(6_000)
    expect(runtimeBlockTimeMs({ timestamp: { minimumPeriod: c(6_000) } })).toBe(12_000)
  })

  it('passes over a constant that is not a positive whole number', () => {
    expect(runtimeBlockTimeMs({ aura: { slotDuration: c(0) }, timestamp: { minimumPeriod: c(500) } })).toBe(1_000)
    expect(runtimeBlockTimeMs({ aura: { slotDuration: c('18446744073709551615') } })).toBeUndefined()
    expect(runtimeBlockTimeMs({ aura: { slotDuration: c('x') } })).toBeUndefined()
    expect(runtimeBlockTimeMs({ aura: {} })).toBeUndefined()
    expect(runtimeBlockTimeMs({})).toBeUndefined()
    // an API whose metadata has not given its constants
    expect(runtimeBlockTimeMs(undefined)).toBeUndefined()
  })

  it('waits two blocks, within its bounds, and 24 s where the runtime states none', () => {
    expect(seenLagFor(12_000)).toBe(24_000)
    expect(seenLagFor(1_000)).toBe(SEEN_LAG_BOUNDS_MS.min)
    expect(seenLagFor(3_600_000)).toBe(SEEN_LAG_BOUNDS_MS.max)
    expect(seenLagFor(undefined)).toBe(SEEN_LAG_MS)
  })
})
