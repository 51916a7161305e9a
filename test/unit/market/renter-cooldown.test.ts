import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AgreementStore } from '../../../src/market/agreement/store.js'
import { COOLDOWN_BASE_MS, COOLDOWN_HALF_LIFE_MS, MAX_COOLDOWN_MS } from '../../../src/market/constants.js'
import { NegotiationError, RETRYABLE_ELSEWHERE } from '../../../src/market/errors.js'
import { MemoryCapacity } from '../../../src/market/negotiation/capacity.js'
import { RenterCooldown, type HoldEnd } from '../../../src/market/negotiation/cooldown.js'
import { RenterCooldownStore } from '../../../src/market/negotiation/cooldown-store.js'
import { RenterNegotiator } from '../../../src/market/negotiation/renter.js'
import { SupplierNegotiator } from '../../../src/market/negotiation/supplier.js'
import { CertCache } from '../../../src/market/signing/cert.js'
import { MessageSigner } from '../../../src/market/signing/signer.js'
import { ManualClock } from '../../../src/util/clock.js'
import { devPair } from '../../helpers/keys.js'
import { T0, mkBid, mkOffer } from './book-fixtures.js'

const MIN = 60_000
const R = 'aa'.repeat(32)

/** the cooldown (minutes, rounded) after recording `ends` at `at` minutes from T0 */
function cooldownAfter (ends: Array<[number, HoldEnd]>): number {
  const clock = new ManualClock(T0)
  const c = new RenterCooldown({ clock })
  for (const [at, end] of ends) {
    clock.set(T0 + at * MIN)
    c.record(R, end)
  }
  return Math.round(c.remaining(R) / MIN)
}

describe('RenterCooldown', () => {
  it.each<[string, Array<[number, HoldEnd]>, number]>([
    ['one lapse: none (an honest renter\'s mishap)', [[0, 'lapsed']], 0],
    ['two lapses at once: 30 min × 2^0.5', [[0, 'lapsed'], [0, 'lapsed']], 42],
    ['two lapses 10 min apart: a little less, from the second', [[0, 'lapsed'], [10, 'lapsed']], 42],
    ['three lapses: longer', [[0, 'lapsed'], [0, 'lapsed'], [0, 'lapsed']], 85],
    ['four lapses (RENTER_LIMIT agreements at once): longer still', [[0, 'lapsed'], [0, 'lapsed'], [0, 'lapsed'], [0, 'lapsed']], 170],
    ['two lapses a day apart: the first is mostly forgotten', [[0, 'lapsed'], [24 * 60, 'lapsed']], 0],
    ['five withdrawals: none', Array.from({ length: 5 }, () => [0, 'withdrawn'] as [number, HoldEnd]), 0],
    ['six withdrawals: the least cooldown', Array.from({ length: 6 }, () => [0, 'withdrawn'] as [number, HoldEnd]), 30],
    ['six unconfirmed holds: the same', Array.from({ length: 6 }, () => [0, 'unconfirmed'] as [number, HoldEnd]), 30],
    ['a lapse and two withdrawals: 30 min', [[0, 'lapsed'], [0, 'withdrawn'], [0, 'withdrawn']], 30]
  ])('%s', (_name, ends, minutes) => {
    expect(cooldownAfter(ends)).toBe(minutes)
  })

  it('is capped, counts down on the clock, and ends', () => {
    const clock = new ManualClock(T0)
    const c = new RenterCooldown({ clock })
    for (let i = 0; i < 20; i++) c.record(R, 'lapsed')
    expect(c.remaining(R)).toBe(MAX_COOLDOWN_MS)
    clock.advance(MAX_COOLDOWN_MS - 1)
    expect(c.remaining(R)).toBe(1)
    clock.advance(1)
    expect(c.remaining(R)).toBe(0)
    // the score decays meanwhile: a lapse after a long quiet while costs little
    clock.advance(10 * COOLDOWN_HALF_LIFE_MS)
    c.record(R, 'lapsed')
    expect(c.remaining(R)).toBeLessThan(COOLDOWN_BASE_MS)
  })

  it('remembers at most maxRenters hotkeys, forgetting the one whose last lapse is oldest', () => {
    const clock = new ManualClock(T0)
    const c = new RenterCooldown({ clock, maxRenters: 3 })
    const keys = ['01', '02', '03', '04'].map((b) => b.repeat(32))
    for (const k of keys.slice(0, 3)) { c.record(k, 'lapsed'); c.record(k, 'lapsed') }
    // the first lapses again: now the most recent
    c.record(keys[0], 'lapsed')
    c.record(keys[3], 'lapsed')
    expect(c.size).toBe(3)
    expect(c.remaining(keys[1])).toBe(0)
    expect([keys[0], keys[2]].every((k) => c.remaining(k) > 0)).toBe(true)
  })

  it('RENTER_COOLDOWN sends the renter to another supplier at once', () => {
    expect(RETRYABLE_ELSEWHERE.has('RENTER_COOLDOWN')).toBe(true)
  })
})

describe('the supplier negotiator with a renter cooldown', () => {
  let dir: string
  let db: Level<string, string>
  let supplierSigner: MessageSigner
  let renterSigner: MessageSigner
  let otherSigner: MessageSigner
  const certs = new CertCache()

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bazaar-cooldown-'))
    db = new Level(join(dir, 'db'))
    await db.open()
    supplierSigner = MessageSigner.create(await devPair('Alice'), { now: T0 })
    renterSigner = MessageSigner.create(await devPair('Bob'), { now: T0 })
    otherSigner = MessageSigner.create(await devPair('Charlie'), { now: T0 })
  })
  afterAll(async () => {
    await db.close()
    rmSync(dir, { recursive: true, force: true })
  })

  async function codeOf (p: Promise<unknown>): Promise<string | undefined> {
    try { await p; return undefined } catch (err) { return err instanceof NegotiationError ? err.code : `UNTYPED ${String(err)}` }
  }

  it('holds the renter never confirms count against it; once in its cooldown it is refused before any chain read; another renter is not', async () => {
    const clock = new ManualClock(T0)
    const offer = mkOffer({ supplier: supplierSigner.hotkey, gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 2 }], expiresAt: BigInt(T0 + 7 * 24 * 3_600_000) })
    const capacity = new MemoryCapacity({ 'h100-80gb': 2 }, clock)
    const cooldown = new RenterCooldown({ clock })
    const admitted: string[] = []
    const supplier = new SupplierNegotiator({
      signer: supplierSigner, capacity, offers: new Map([[offer.id, offer]]), store: new AgreementStore(db.sublevel(`s${Math.random()}`)), clock, certs, holdMs: 1000,
      cooldown, admit: async (t) => { admitted.push(Buffer.from(t.renter).toString('hex')) }
    })
    const renter = new RenterNegotiator({ signer: renterSigner, store: new AgreementStore(db.sublevel(`r${Math.random()}`)), clock, certs })
    const other = new RenterNegotiator({ signer: otherSigner, store: new AgreementStore(db.sublevel(`o${Math.random()}`)), clock, certs })
    const renterHex = Buffer.from(renterSigner.hotkey).toString('hex')
    const bid = mkBid({ renter: renterSigner.hotkey, requirements: { gpu: 'h100', minMemoryMib: 0, count: 2, teeKinds: [], regions: [] }, expiresAt: BigInt(T0 + 7 * 24 * 3_600_000) })
    const arbiter = new Uint8Array(32).fill(7)
    // seven holds of both GPUs, none confirmed: given up (abandon) or confirmed too late
    for (let i = 0; i < 7; i++) {
      const p = renter.prepare(bid, offer, { arbiter })
      const held = await supplier.propose(p.propose, 'r')
      if (i % 2 === 0) await supplier.abandon(held.hash)
      else {
        clock.advance(1001)
        expect(await codeOf(supplier.confirm(held.hash, { hash: p.hash }))).toBe('TIMEOUT')
      }
    }
    expect(cooldown.remaining(renterHex)).toBeGreaterThan(0)
    const before = admitted.length
    expect(await codeOf(supplier.propose(renter.prepare(bid, offer, { arbiter }).propose, 'r'))).toBe('RENTER_COOLDOWN')
    expect(admitted).toHaveLength(before)
    expect(capacity.available('h100-80gb')).toBe(2)
    // an honest renter gets the GPUs
    const otherBid = mkBid({ renter: otherSigner.hotkey, requirements: { gpu: 'h100', minMemoryMib: 0, count: 2, teeKinds: [], regions: [] }, expiresAt: BigInt(T0 + 7 * 24 * 3_600_000) })
    expect((await supplier.propose(other.prepare(otherBid, offer, { arbiter }).propose, 'o')).hash).toHaveLength(64)
  })
})

describe('RenterCooldown kept in a store', () => {
  let dir: string
  let db: Level<string, string>
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bazaar-cooldown-store-'))
    db = new Level(join(dir, 'db'))
    await db.open()
  })
  afterAll(async () => {
    await db.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const keys = ['01', '02', '03', '04', '05'].map((b) => b.repeat(32))

  it('reads back at most maxRenters entries, those of the latest hold ends, and removes the rest from the store', async () => {
    const store = new RenterCooldownStore(db.sublevel(`k${Math.random()}`))
    // written by a run with a larger bound: keys[i]'s last lapse i minutes after T0
    for (const [i, k] of keys.entries()) await store.put(k, 2, T0 + i * MIN)
    const clock = new ManualClock(T0 + 10 * MIN)
    const c = new RenterCooldown({ clock, maxRenters: 3, store })
    expect(await c.load()).toEqual({ loaded: 3, skipped: 0, skippedKeys: [] })
    expect(c.size).toBe(3)
    expect(keys.map((k) => c.remaining(k) > 0)).toEqual([false, false, true, true, true])
    const stored = async (): Promise<string[]> => { const out: string[] = []; for await (const [k] of store.entries()) out.push(k); return out }
    expect(await stored()).toEqual(keys.slice(2))
    // the least recent is the first the bound forgets, in the store as in memory
    c.record(keys[0], 'lapsed')
    await c.flush()
    expect(await stored()).toEqual([keys[0], keys[3], keys[4]])
  })

  it('writes each change, and a write that fails is reported, not thrown', async () => {
    const store = new RenterCooldownStore(db.sublevel(`k${Math.random()}`))
    const clock = new ManualClock(T0)
    const failures: unknown[] = []
    const c = new RenterCooldown({ clock, store, onStoreError: (err) => { failures.push(err) } })
    c.record(keys[0], 'lapsed')
    clock.advance(MIN)
    c.record(keys[0], 'withdrawn')
    await c.flush()
    const again = new RenterCooldown({ clock, store })
    await again.load()
    expect(again.remaining(keys[0])).toBe(c.remaining(keys[0]))
    const broken = new RenterCooldown({ clock, store: { put: async () => { throw new Error('disk full') }, del: async () => {} } as unknown as RenterCooldownStore, onStoreError: (err) => { failures.push(err) } })
    broken.record(keys[1], 'lapsed')
    await broken.flush()
    expect(failures).toHaveLength(1)
  })
})
