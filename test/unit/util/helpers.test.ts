import { describe, expect, it } from 'vitest'
import { BoundedMap, BoundedSet } from '../../../src/util/bounded-map.js'
import { bytesEqual, isZero } from '../../../src/util/bytes.js'
import { fromHex, HexError, toHex, toHex0x } from '../../../src/util/hex.js'
import { TokenBucketLimiter, WindowLimiter } from '../../../src/util/rate-limit.js'
import { KeyedSerialQueue, SerialQueue } from '../../../src/util/serial.js'

describe('BoundedMap', () => {
  it('evicts the oldest insertion first and never holds more than its limit', () => {
    const m = new BoundedMap<string, number>(3)
    expect(m.set('a', 1)).toBeUndefined()
    m.set('b', 2)
    m.set('c', 3)
    expect(m.set('d', 4)).toEqual(['a', 1])
    expect([...m.keys()]).toEqual(['b', 'c', 'd'])
    for (let i = 0; i < 1000; i++) m.set(`k${i}`, i)
    expect(m.size).toBe(3)
    expect([...m.keys()]).toEqual(['k997', 'k998', 'k999'])
  })

  it('moves a key set again to the newest place without evicting', () => {
    const m = new BoundedMap<string, number>(2)
    m.set('a', 1)
    m.set('b', 2)
    expect(m.set('a', 10)).toBeUndefined()
    m.set('c', 3)
    expect([...m]).toEqual([['a', 10], ['c', 3]])
  })

  it('prunes, shifts and clears', () => {
    const m = new BoundedMap<number, number>(10)
    for (let i = 0; i < 6; i++) m.set(i, i * 10)
    expect(m.prune((v) => v >= 30)).toBe(3)
    expect(m.shift()).toEqual([0, 0])
    expect([...m.values()]).toEqual([10, 20])
    m.clear()
    expect(m.size).toBe(0)
    expect(m.shift()).toBeUndefined()
  })

  it.each([0, -1, 1.5, Number.NaN])('refuses a limit of %s', (n) => {
    expect(() => new BoundedMap(n)).toThrow(RangeError)
  })
})

describe('BoundedSet', () => {
  it('forgets the oldest addition first; adding a value again changes nothing', () => {
    const s = new BoundedSet<string>(2)
    expect(s.add('a')).toBe(true)
    expect(s.add('b')).toBe(true)
    expect(s.add('a')).toBe(false)
    expect(s.add('c')).toBe(true)
    expect([...s]).toEqual(['b', 'c'])
    expect(s.has('a')).toBe(false)
    for (let i = 0; i < 100; i++) s.add(`v${i}`)
    expect(s.size).toBe(2)
  })

  it('refuses a limit below one', () => {
    expect(() => new BoundedSet(0)).toThrow(RangeError)
  })
})

describe('bytesEqual, isZero', () => {
  it.each([
    [[], [], true],
    [[1, 2, 3], [1, 2, 3], true],
    [[1, 2, 3], [1, 2, 4], false],
    [[1, 2, 3], [1, 2], false],
    [[], [0], false]
  ])('%j = %j is %s', (a, b, want) => {
    expect(bytesEqual(Uint8Array.from(a), Uint8Array.from(b))).toBe(want)
  })

  it('compares views by their own bytes, not their buffers', () => {
    const buf = Uint8Array.from([9, 1, 2, 9, 1, 2])
    expect(bytesEqual(buf.subarray(1, 3), buf.subarray(4, 6))).toBe(true)
    expect(bytesEqual(buf.subarray(0, 2), buf.subarray(1, 3))).toBe(false)
  })

  it('isZero', () => {
    expect(isZero(new Uint8Array(0))).toBe(true)
    expect(isZero(new Uint8Array(8))).toBe(true)
    expect(isZero(Uint8Array.from([0, 0, 1]))).toBe(false)
  })
})

describe('hex', () => {
  it('round-trips, with and without the 0x prefix, either case', () => {
    const b = Uint8Array.from([0, 1, 0xab, 0xff])
    expect(toHex(b)).toBe('0001abff')
    expect(toHex0x(b)).toBe('0x0001abff')
    expect(fromHex('0001abff')).toEqual(b)
    expect(fromHex('0x0001ABFF')).toEqual(b)
    expect(fromHex('')).toEqual(new Uint8Array(0))
    expect(toHex(Uint8Array.from([7, 8, 9]).subarray(1))).toBe('0809')
  })

  it.each(['abc', '0xabc', 'zz', '0x0g', ' 00', '00 ', '0x-1'])('refuses %j with a HexError (a TypeError)', (s) => {
    let err: unknown
    try { fromHex(s) } catch (e) { err = e }
    expect(err).toBeInstanceOf(HexError)
    expect(err).toBeInstanceOf(TypeError)
    expect((err as HexError).code).toBe('BAD_HEX')
  })
})

describe('WindowLimiter', () => {
  it('grants `limit` events per window per key, then a fresh window', () => {
    const l = new WindowLimiter(2, 1000)
    expect([l.take('p', 0), l.take('p', 10), l.take('p', 20)]).toEqual([true, true, false])
    expect(l.take('q', 20)).toBe(true)
    expect(l.take('p', 999)).toBe(false)
    expect(l.take('p', 1000)).toBe(true)
  })

  it('forgets the oldest key when full, which then starts afresh', () => {
    const l = new WindowLimiter(1, 1000, 2)
    expect(l.take('a', 0)).toBe(true)
    expect(l.take('a', 0)).toBe(false)
    l.take('b', 0)
    l.take('c', 0) // evicts a
    expect(l.take('a', 0)).toBe(true)
  })
})

describe('TokenBucketLimiter', () => {
  it('allows a burst, then refills at its rate', () => {
    const l = new TokenBucketLimiter(2, 3)
    expect([l.take('p', 0), l.take('p', 0), l.take('p', 0), l.take('p', 0)]).toEqual([true, true, true, false])
    expect(l.take('p', 499)).toBe(false)
    expect(l.take('p', 500)).toBe(true)
    expect(l.take('p', 10_000)).toBe(true)
    expect([l.take('p', 10_000), l.take('p', 10_000), l.take('p', 10_000)]).toEqual([true, true, false])
  })
})

describe('SerialQueue', () => {
  it('runs tasks one at a time in call order; a failure reaches only its caller', async () => {
    const q = new SerialQueue()
    const log: string[] = []
    let open!: () => void
    const gate = new Promise<void>((resolve) => { open = resolve })
    const a = q.run(async () => { log.push('a start'); await gate; log.push('a end'); return 'a' })
    const b = q.run(async () => { log.push('b'); throw new Error('b failed') })
    const c = q.run(() => { log.push('c'); return 'c' })
    await Promise.resolve()
    expect(log).toEqual(['a start'])
    open()
    await expect(a).resolves.toBe('a')
    await expect(b).rejects.toThrow('b failed')
    await expect(c).resolves.toBe('c')
    expect(log).toEqual(['a start', 'a end', 'b', 'c'])
    await q.idle()
  })
})

describe('KeyedSerialQueue', () => {
  it('serialises tasks of one key, runs keys side by side, and forgets settled keys', async () => {
    const q = new KeyedSerialQueue<string>()
    const log: string[] = []
    let open!: () => void
    const gate = new Promise<void>((resolve) => { open = resolve })
    const x1 = q.run('x', async () => { log.push('x1'); await gate; log.push('x1 end') })
    const x2 = q.run('x', () => { log.push('x2') })
    const y = q.run('y', () => { log.push('y') })
    await y
    expect(log).toEqual(['x1', 'y'])
    expect(q.size).toBe(1)
    open()
    await Promise.all([x1, x2])
    expect(log).toEqual(['x1', 'y', 'x1 end', 'x2'])
    expect(q.size).toBe(0)
  })
})
