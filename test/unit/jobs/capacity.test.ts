import { describe, expect, it } from 'vitest'
import { CapacityLedger } from '../../../src/jobs/index.js'
import { ManualClock } from '../../../src/util/clock.js'

const gpus = [
  { index: 0, model: 'h100-80gb' }, { index: 1, model: 'h100-80gb' }, { index: 2, model: 'h100-80gb' },
  { index: 3, model: 'rtx-4090-24gb' }
]

const code = (fn: () => unknown): string | undefined => {
  try { fn() } catch (e) { return (e as { code?: string }).code }
  return undefined
}

describe('CapacityLedger', () => {
  it('holds distinct GPUs, never more than exist', () => {
    const ledger = new CapacityLedger(gpus, { clock: new ManualClock() })
    const a = ledger.hold('a', 'h100-80gb', 2, 1000)
    const b = ledger.hold('b', 'h100-80gb', 1, 1000)
    expect(new Set([...a.gpuIndices, ...b.gpuIndices]).size).toBe(3)
    expect(ledger.available('h100-80gb')).toBe(0)
    expect(code(() => ledger.hold('c', 'h100-80gb', 1, 1000))).toBe('INSUFFICIENT_CAPACITY')
    expect(ledger.available('rtx-4090-24gb')).toBe(1)
    expect(ledger.available()).toBe(1)
  })

  it('lets an uncommitted hold lapse on the clock and keeps a committed one', () => {
    const clock = new ManualClock()
    const ledger = new CapacityLedger(gpus, { clock })
    ledger.hold('a', 'h100-80gb', 2, 1000)
    ledger.hold('b', 'h100-80gb', 1, 1000)
    ledger.commit('b')
    clock.advance(999)
    expect(ledger.available('h100-80gb')).toBe(0)
    clock.advance(1)
    expect(ledger.available('h100-80gb')).toBe(2)
    expect(code(() => ledger.commit('a'))).toBe('NOT_HELD')
    clock.advance(1e9)
    expect(ledger.get('b')?.committed).toBe(true)
    expect(ledger.release('b')).toBe(true)
    expect(ledger.release('b')).toBe(false)
    expect(ledger.available('h100-80gb')).toBe(3)
    expect(ledger.active()).toEqual([])
  })

  it.each([
    ['a second hold for one agreement', (l: CapacityLedger) => { l.hold('a', 'h100-80gb', 1, 10); l.hold('a', 'h100-80gb', 1, 10) }, 'ALREADY_HELD'],
    ['a zero count', (l: CapacityLedger) => l.hold('a', 'h100-80gb', 0, 10), 'INVALID_REQUEST'],
    ['a zero ttl', (l: CapacityLedger) => l.hold('a', 'h100-80gb', 1, 0), 'INVALID_REQUEST'],
    ['an unknown model', (l: CapacityLedger) => l.hold('a', 'b200-180gb', 1, 10), 'INSUFFICIENT_CAPACITY'],
    ['a commit never held', (l: CapacityLedger) => l.commit('x'), 'NOT_HELD']
  ])('refuses %s', (_what, fn, expected) => {
    const ledger = new CapacityLedger(gpus, { clock: new ManualClock() })
    expect(code(() => fn(ledger))).toBe(expected)
  })

  it('never over-commits under a random sequence of operations', () => {
    const clock = new ManualClock()
    const ledger = new CapacityLedger(gpus, { clock })
    let seed = 7
    const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n }
    for (let i = 0; i < 5000; i++) {
      const id = `a${rnd(8)}`
      const op = rnd(4)
      try {
        if (op === 0) ledger.hold(id, rnd(2) === 0 ? 'h100-80gb' : 'rtx-4090-24gb', 1 + rnd(2), 1 + rnd(50))
        else if (op === 1) ledger.commit(id)
        else if (op === 2) ledger.release(id)
        else clock.advance(rnd(20))
      } catch (e) {
        expect(['INSUFFICIENT_CAPACITY', 'ALREADY_HELD', 'NOT_HELD']).toContain((e as { code: string }).code)
      }
      const used = ledger.active().flatMap((h) => h.gpuIndices)
      expect(new Set(used).size).toBe(used.length)
      expect(used.length + ledger.available()).toBe(gpus.length)
    }
  })
})
