import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { SlotSequences, epochSeconds, expiredBy } from '../../../src/protocols/gossip/slot-sequences.js'

const NOW = Date.UTC(2026, 10, 30, 12, 0, 0, 250)

describe('SlotSequences', () => {
  it('answers as a map of (sequence, expiry) would, packed or not, and forgets only what expired', () => {
    // sequences on both sides of the packed form's limit (2^21), a timestamp used as a sequence,
    // expiries before the epoch, within the second of `now`, and far ahead
    const sequence = fc.oneof(fc.bigInt({ min: 0n, max: 40n }), fc.bigInt({ min: 2n ** 21n - 3n, max: 2n ** 21n + 3n }), fc.constant(1_764_000_000_000n), fc.constant(2n ** 64n - 1n))
    const expiry = fc.oneof(fc.integer({ min: NOW - 3000, max: NOW + 3000 }), fc.constant(1_000), fc.constant(NOW + 2 ** 33 * 1000))
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), sequence, expiry), { maxLength: 60 }), fc.integer({ min: NOW - 3000, max: NOW + 3000 }), (ops, pruneAt) => {
      const slots = new SlotSequences(1000)
      const model = new Map<string, { sequence: bigint, expiresAt: number }>()
      for (const [k, seq, exp] of ops) {
        const slot = `o:${k}`
        const held = model.get(slot)
        expect(slots.isStale(slot, seq)).toBe(held !== undefined && seq <= held.sequence)
        if (held === undefined || seq > held.sequence) {
          slots.set(slot, seq, exp)
          model.set(slot, { sequence: seq, expiresAt: exp })
        }
      }
      slots.prune(pruneAt)
      for (const [slot, v] of model) {
        // never forgotten before its expiry; forgotten once a whole second past it
        if (v.expiresAt > pruneAt) expect(slots.isStale(slot, v.sequence)).toBe(true)
        if (v.expiresAt <= pruneAt - 1000) expect(slots.isStale(slot, v.sequence)).toBe(false)
        if (slots.isStale(slot, v.sequence)) expect(slots.isStale(slot, v.sequence + 1n)).toBe(false)
      }
    }), { numRuns: 500 })
  })

  it('rounds an expiry up to its second, and counts a second as past only once it is over', () => {
    expect(epochSeconds(NOW)).toBe(epochSeconds(NOW - 250) + 1)
    expect(expiredBy(NOW)).toBe(epochSeconds(NOW) - 1)
    expect(expiredBy(NOW - 250)).toBe(epochSeconds(NOW - 250))
    // small integers (unboxed in a Map) for decades
    expect(epochSeconds(Date.UTC(2055, 0, 1))).toBeLessThan(2 ** 30)
  })

  it('is bounded: a slot past the limit evicts the oldest', () => {
    const slots = new SlotSequences(2)
    slots.set('a', 5n, NOW)
    slots.set('b', 5n, NOW)
    slots.set('c', 5n, NOW)
    expect(slots.size).toBe(2)
    expect([slots.isStale('a', 1n), slots.isStale('b', 1n), slots.isStale('c', 1n)]).toEqual([false, true, true])
  })
})
