import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SortedList } from '../../../src/market/book/sorted-list.js'
import { ExpiryHeap } from '../../../src/market/book/expiry-heap.js'
import { PartyIndex, partyHash } from '../../../src/market/book/party-index.js'

interface Item { expiresN: number, key: string }
const cmp = (a: Item, b: Item): number => a.expiresN - b.expiresN || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)

describe('book structures against a plain sorted array', () => {
  // without a rank the comparator decides alone; with one (consistent with it: expiresN, or a
  // coarser floor of it) the ranks decide first and the comparator breaks equal ranks
  type Rank = ((it: Item) => number) | undefined
  const ranks: Array<[string, Rank, Rank]> = [
    ['no rank', undefined, undefined],
    ['rank = expiresN', (it) => it.expiresN, undefined],
    ['coarse rank', (it) => Math.floor(it.expiresN / 5), undefined],
    ['coarse rank, then expiresN', (it) => Math.floor(it.expiresN / 5), (it) => it.expiresN],
    ['coarse rank, then expiresN on part of the range only', (it) => Math.floor(it.expiresN / 5), (it) => it.expiresN < 10 ? it.expiresN : 0]
  ]
  it.each(ranks)('SortedList keeps order through inserts and deletes (head, middle, absent), across chunk splits (%s)', (_name, rank, rank2) => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 200 }), fc.boolean()), { maxLength: 600 }), (ops) => {
      const list = new SortedList<Item>(cmp, 4, rank, rank2)
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

  // a second rank consistent with the order among equal expiries: the key's first character
  it.each([['no second rank', undefined], ['second rank', (it: Item) => it.key.charCodeAt(1)]] as const)('ExpiryHeap yields the live entry that expires first, skipping removed ones (%s)', (_name, rank2) => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 3 })), { maxLength: 400 }), (ops) => {
      const live = new Map<string, Item>()
      const heap = new ExpiryHeap<Item>((e) => live.get(e.key) === e, undefined, rank2)
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

  it('PartyIndex finds records by key bytes, also when their hashes collide', () => {
    const seed = 7
    const keyOf = (i: number): Uint8Array => { const k = new Uint8Array(32); new DataView(k.buffer).setUint32(4, i); return k }
    // birthday search for two keys in one bucket under this seed (30-bit hash: ~2^15 tries)
    const seen = new Map<number, number>()
    let pair: [number, number] | undefined
    for (let i = 0; pair === undefined; i++) {
      const h = partyHash(seed, keyOf(i))
      const j = seen.get(h)
      if (j !== undefined) pair = [j, i]
      else seen.set(h, i)
    }
    expect(partyHash(seed, keyOf(pair[0]))).toBe(partyHash(seed, keyOf(pair[1])))
    const index = new PartyIndex<{ bytes: Uint8Array, n: number }>(seed)
    const a = { bytes: keyOf(pair[0]), n: pair[0] }
    const b = { bytes: keyOf(pair[1]), n: pair[1] }
    const c = { bytes: keyOf(0xffffff), n: 0xffffff }
    for (const r of [a, b, c]) index.add(r)
    expect(index.size).toBe(3)
    expect(index.get(keyOf(pair[0]))).toBe(a)
    expect(index.get(keyOf(pair[1]))).toBe(b)
    expect(index.get(keyOf(0xfffffe))).toBeUndefined()
    index.delete(a)
    expect(index.get(keyOf(pair[0]))).toBeUndefined()
    expect(index.get(keyOf(pair[1]))).toBe(b)
    index.delete(a)
    expect(index.size).toBe(2)
    index.delete(b)
    expect(index.get(keyOf(pair[1]))).toBeUndefined()
    expect(index.get(keyOf(0xffffff))).toBe(c)
    expect(index.size).toBe(1)
  })
})
