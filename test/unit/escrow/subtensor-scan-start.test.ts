/**
 * Where the subtensor adapter's scan starts when a restarted daemon asks it to reach back to the
 * oldest escrow it holds (`scanFrom`): never later than usual, never more than a day of blocks earlier.
 */
import { describe, expect, it } from 'vitest'
import { SCAN_FROM_MAX_BLOCKS, scanStartOf } from '../../../src/escrow/chain/subtensor/adapter.js'

describe('scanStartOf', () => {
  it('is the usual start without a floor, or with one after it', () => {
    expect(scanStartOf(50_000)).toBe(50_000)
    expect(scanStartOf(50_000, 50_000)).toBe(50_000)
    expect(scanStartOf(50_000, 60_000)).toBe(50_000)
  })

  it(`reaches back to the floor, SCAN_FROM_MAX_BLOCKS (${SCAN_FROM_MAX_BLOCKS}) at most`, () => {
    expect(scanStartOf(50_000, 49_000)).toBe(49_000)
    expect(scanStartOf(50_000, 50_000 - SCAN_FROM_MAX_BLOCKS)).toBe(50_000 - SCAN_FROM_MAX_BLOCKS)
    expect(scanStartOf(50_000, 50_000 - SCAN_FROM_MAX_BLOCKS - 1)).toBe(50_000 - SCAN_FROM_MAX_BLOCKS)
    expect(scanStartOf(50_000, 1)).toBe(50_000 - SCAN_FROM_MAX_BLOCKS)
    // a young chain: the floor itself
    expect(scanStartOf(1_000, 3)).toBe(3)
  })
})
