import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SortedList } from '../../../src/market/book/sorted-list.js'
import { ExpiryHeap } from '../../../src/market/book/expiry-heap.js'

interface Item { expiresN: number, key: string }
const cmp = (a: Item, b: Item): number => a.expiresN - b.expiresN || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)

describe('book structures against a plain sorted array', () => {
  it('SortedList keeps order through inserts and deletes (head, middle, absent), across chunk splits', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 200 }), fc.boolean()), { maxLength: 600 }), (ops) => {
      const list = new SortedList<Item>(cmp, 4)
      const model = new Map<string, Item>()
      for (const [insert, n, head] of ops) {
        const key = `k${n}`
        if (insert && !model.has(key)) {
          const it = { expiresN: n % 17, key }
          list.insert(it)
          model.set(key, it)
        } else {
          const sorted = [...model.values()].sort(cmp)
          const victim = head ? sorted[0] : model.get(key)
          const expected = victim !== undefined
          expect(list.delete(victim ?? { expiresN: -1, key })).toBe(expected)
          if (victim !== undefined) model.delete(victim.key)
        }
        expect(list.size).toBe(model.size)
      }
      expect([...list]).toEqual([...model.values()].sort(cmp))
      expect(list.first()).toEqual([...model.values()].sort(cmp)[0])
    }), { numRuns: 300 })
  })

  it('ExpiryHeap yields the live entry that expires first, skipping removed ones', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 3 })), { maxLength: 400 }), (ops) => {
      const live = new Map<string, Item>()
      const heap = new ExpiryHeap<Item>((e) => live.get(e.key) === e)
      for (const [n, op] of ops) {
        const key = `k${n}`
        if (op === 0) {
          live.delete(key)
          heap.compact(live.size)
        } else {
          const it = { expiresN: (n * 7 + op) % 23, key }
          live.set(key, it)
          heap.push(it)
        }
        expect(heap.peek()).toBe([...live.values()].sort(cmp)[0])
      }
    }), { numRuns: 300 })
  })
})
