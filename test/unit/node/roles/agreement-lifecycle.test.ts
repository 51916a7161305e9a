import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AgreementStore } from '../../../../src/market/agreement/store.js'
import { agreementHash, buildTerms, decodeTerms, encodeTerms } from '../../../../src/market/agreement/terms.js'
import { hex } from '../../../../src/market/book/keys.js'
import { CapacityLedger } from '../../../../src/jobs/capacity.js'
import { AgreementLifecycle, ESCROW_OPEN_WINDOW_MS, MAX_LATE_CHECKS } from '../../../../src/node/roles/supplier/agreements.js'
import { silentLogger } from '../../../../src/node/logger.js'
import { ManualClock } from '../../../../src/util/clock.js'
import { T0, mkBid, mkOffer } from '../../market/book-fixtures.js'

/**
 * The supplier's agreement lifecycle on a ManualClock: the startBy timer fires only when the test
 * advances the clock, so the lapse and the restore after a restart are checked without waiting.
 */
let dir: string
let db: Level<string, string>

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bazaar-lifecycle-'))
  db = new Level(join(dir, 'db'))
  await db.open()
})
afterAll(async () => {
  await db.close()
  rmSync(dir, { recursive: true, force: true })
})

interface World {
  clock: ManualClock
  ledger: CapacityLedger
  store: AgreementStore
  lifecycle: AgreementLifecycle
  sessions: Set<string>
  earlier: Set<string>
  capacityChanges: number[]
}

function world (gpus = 2, escrowBacks?: (id: string) => Promise<boolean>, onUnstarted?: (id: string) => Promise<void>): World {
  const clock = new ManualClock(T0)
  const ledger = new CapacityLedger(Array.from({ length: gpus }, (_, i) => ({ index: i, model: 'h100-80gb' })), { clock })
  const store = new AgreementStore(db.sublevel(`s${Math.random()}`))
  const sessions = new Set<string>()
  const earlier = new Set<string>()
  const capacityChanges: number[] = []
  const lifecycle = new AgreementLifecycle({
    clock,
    ledger,
    agreements: store,
    logger: silentLogger,
    sessionStarted: (id) => sessions.has(id),
    startedBefore: async (id) => earlier.has(id),
    onCapacityChange: () => { capacityChanges.push(clock.now()) },
    ...(escrowBacks != null ? { escrowBacks: async (id: string) => await escrowBacks(id) } : {}),
    ...(onUnstarted != null ? { onUnstarted: async (id: string) => { await onUnstarted(id) } } : {})
  })
  return { clock, ledger, store, lifecycle, sessions, earlier, capacityChanges }
}

/** an active supplier-side agreement made at `now`, to start within `startWindowMs`, its GPUs committed */
async function agreement (w: World, id: string, startWindowMs: number, opts: { commit?: boolean, count?: number, model?: string } = {}): Promise<string> {
  const offer = mkOffer({ gpus: [{ model: opts.model ?? 'h100-80gb', memoryMib: 81920, count: 8 }], createdAt: BigInt(w.clock.now()), expiresAt: BigInt(w.clock.now() + 3_600_000) })
  const bid = mkBid({ id, requirements: { gpu: 'h100', minMemoryMib: 0, count: opts.count ?? 1, teeKinds: [], regions: [] }, createdAt: BigInt(w.clock.now()), expiresAt: BigInt(w.clock.now() + 3_600_000) })
  const terms = encodeTerms(buildTerms(bid, offer, { now: w.clock.now(), arbiter: new Uint8Array(32).fill(7), startWindowMs }))
  const hash = hex(agreementHash(terms))
  await w.store.put({ terms, renterSignature: new Uint8Array(64), supplierSignature: new Uint8Array(64) }, 'supplier', 'active', w.clock.now())
  if (opts.commit !== false) {
    w.ledger.hold(hash, opts.model ?? 'h100-80gb', opts.count ?? 1, startWindowMs)
    w.ledger.commit(hash)
  }
  return hash
}

const statusOf = async (w: World, id: string): Promise<string | undefined> => (await w.store.get(id))?.status

describe('agreement lifecycle', () => {
  it('a withdrawal frees the GPUs at once and lapses the agreement; its escrow is looked for then and once more at the startBy (an open that landed late); never for a started one', async () => {
    const looked: Array<[string, number]> = []
    const w = world(2, undefined, async (id) => { looked.push([id, w.clock.now()]) })
    const id = await agreement(w, 'withdrawn', 600_000)
    await w.lifecycle.committed(id)
    const terms = (await w.store.get(id))!
    const startBy = T0 + 600_000
    expect(await w.lifecycle.withdraw(id, decodeTerms(terms.agreement.terms))).toBe('')
    expect(w.ledger.get(id)).toBeUndefined()
    expect(await statusOf(w, id)).toBe('lapsed')
    expect(w.lifecycle.waitingFor(Buffer.from(decodeTerms(terms.agreement.terms).renter).toString('hex'))).toBe(0)
    await Promise.resolve()
    expect(looked).toEqual([[id, T0]])
    await w.clock.advanceAsync(600_000)
    expect(looked).toEqual([[id, T0], [id, startBy]])
    // again, or for an agreement a session took up: refused, nothing freed
    expect(await w.lifecycle.withdraw(id, decodeTerms(terms.agreement.terms))).toBe('NOT_ACTIVE')
    const running = await agreement(w, 'running', 600_000)
    w.sessions.add(running)
    expect(await w.lifecycle.withdraw(running, decodeTerms((await w.store.get(running))!.agreement.terms))).toBe('STARTED')
    expect(w.ledger.get(running)?.committed).toBe(true)
    await w.lifecycle.stop()
  })

  it('watches at most MAX_LATE_CHECKS withdrawn agreements for a late escrow: a renter agreeing and withdrawing over and over holds no timer each', async () => {
    const looked: string[] = []
    const w = world(1, undefined, async (id) => { looked.push(id) })
    const ids: string[] = []
    for (let i = 0; i < MAX_LATE_CHECKS + 3; i++) {
      const id = await agreement(w, `w${i}`, 600_000)
      expect(await w.lifecycle.withdraw(id, decodeTerms((await w.store.get(id))!.agreement.terms))).toBe('')
      ids.push(id)
    }
    // each was looked for at its withdrawal; the timers for the look at the startBy stop at the bound
    expect(looked).toHaveLength(MAX_LATE_CHECKS + 3)
    expect(w.clock.pending).toBe(MAX_LATE_CHECKS)
    await w.clock.advanceAsync(600_000)
    expect(looked.slice(MAX_LATE_CHECKS + 3)).toEqual(ids.slice(0, MAX_LATE_CHECKS))
    await w.lifecycle.stop()
  }, 60_000)

  it('an agreement withdrawn while its record was read back gets no start timer', async () => {
    const w = world()
    const id = await agreement(w, 'raced', 600_000)
    // the withdrawal's release lands before committed() has read the record back
    const committing = w.lifecycle.committed(id)
    w.ledger.release(id)
    await committing
    expect(w.lifecycle.waiting).toEqual([])
    await w.lifecycle.stop()
  })

  it('an agreement no session starts by its startBy gives its GPUs back and is marked lapsed', async () => {
    const w = world()
    const id = await agreement(w, 'late', 5_000)
    await w.lifecycle.committed(id)
    expect(w.lifecycle.waiting).toEqual([id])
    expect(w.capacityChanges).toHaveLength(1)
    // one millisecond before startBy nothing happens
    w.clock.advance(4_999)
    expect(w.ledger.get(id)?.committed).toBe(true)
    w.clock.advance(1)
    expect(w.ledger.get(id)).toBeUndefined()
    expect(w.ledger.available('h100-80gb')).toBe(2)
    await w.lifecycle.idle()
    expect(await statusOf(w, id)).toBe('lapsed')
    expect(w.capacityChanges).toEqual([T0, T0 + 5_000])
    expect(w.lifecycle.waiting).toEqual([])
    expect(w.clock.pending).toBe(0)
  })

  it('an agreement whose session started keeps its GPUs past startBy', async () => {
    const w = world()
    const id = await agreement(w, 'on-time', 5_000)
    await w.lifecycle.committed(id)
    w.clock.advance(1_000)
    w.sessions.add(id)
    w.lifecycle.started(id)
    expect(w.clock.pending).toBe(0)
    w.clock.advance(10_000)
    await w.lifecycle.idle()
    expect(w.ledger.get(id)?.committed).toBe(true)
    expect(await statusOf(w, id)).toBe('active')
  })

  it('a session that took the agreement up stops the lapse even if its timer was left', async () => {
    const w = world()
    const id = await agreement(w, 'raced', 5_000)
    await w.lifecycle.committed(id)
    w.sessions.add(id)
    w.clock.advance(5_000)
    await w.lifecycle.idle()
    expect(w.ledger.get(id)?.committed).toBe(true)
    expect(await statusOf(w, id)).toBe('active')
  })

  it('after a restart: one before its startBy gets its GPUs and timer back, one past it lapses, one started earlier is left alone', async () => {
    const before = world(3)
    const kept = await agreement(before, 'kept', 6_000)
    const gone = await agreement(before, 'gone', 1_000)
    const ran = await agreement(before, 'ran', 1_000)
    // the process stops; 1.5 s later a new one starts on the same store with an empty ledger
    const w = { ...world(), store: before.store }
    const lifecycle = new AgreementLifecycle({
      clock: w.clock,
      ledger: w.ledger,
      agreements: before.store,
      logger: silentLogger,
      sessionStarted: () => false,
      startedBefore: async (id) => id === ran,
      onCapacityChange: () => { w.capacityChanges.push(w.clock.now()) }
    })
    w.clock.set(T0 + 1_500)
    await lifecycle.restore()
    expect(await statusOf(w, gone)).toBe('lapsed')
    expect(w.ledger.get(gone)).toBeUndefined()
    expect(await statusOf(w, ran)).toBe('active')
    expect(w.ledger.get(ran)).toBeUndefined()
    expect(w.ledger.get(kept)?.committed).toBe(true)
    expect(await statusOf(w, kept)).toBe('active')
    expect(lifecycle.waiting).toEqual([kept])
    // the restored timer fires at the original startBy, not a full window after the restart
    w.clock.advance(4_499)
    expect(w.ledger.get(kept)?.committed).toBe(true)
    w.clock.advance(1)
    await lifecycle.idle()
    expect(w.ledger.get(kept)).toBeUndefined()
    expect(await statusOf(w, kept)).toBe('lapsed')
    expect(w.ledger.available('h100-80gb')).toBe(2)
  })

  it('after a restart with fewer GPUs, an agreement whose GPUs are gone lapses', async () => {
    const before = world(4)
    const big = await agreement(before, 'big', 60_000, { count: 3 })
    const w = world(2)
    const lifecycle = new AgreementLifecycle({
      clock: w.clock, ledger: w.ledger, agreements: before.store, logger: silentLogger,
      sessionStarted: () => false, startedBefore: async () => false, onCapacityChange: () => {}
    })
    await lifecycle.restore()
    expect(await statusOf(before, big)).toBe('lapsed')
    expect(w.ledger.available('h100-80gb')).toBe(2)
    expect(lifecycle.waiting).toEqual([])
  })

  it('an agreement whose escrow is not on chain ESCROW_OPEN_WINDOW_MS after its creation gives its GPUs back then, not at its startBy', async () => {
    const checked: string[] = []
    const chain = { backed: new Set<string>(), unreadable: new Set<string>() }
    const w = world(4, async (id) => {
      checked.push(id)
      if (chain.unreadable.has(id)) throw new Error('chain unreachable')
      return chain.backed.has(id)
    })
    const unpaid = await agreement(w, 'unpaid', 3_600_000)
    const paid = await agreement(w, 'paid', 3_600_000)
    const unread = await agreement(w, 'unread', 3_600_000)
    // its startBy inside the window: the startBy timer alone bounds it
    const soon = await agreement(w, 'soon', ESCROW_OPEN_WINDOW_MS - 1)
    for (const id of [unpaid, paid, unread, soon]) await w.lifecycle.committed(id)
    chain.backed.add(paid)
    // a chain that cannot be read lapses nothing: that agreement waits for its startBy
    chain.unreadable.add(unread)
    await w.clock.advanceAsync(ESCROW_OPEN_WINDOW_MS - 1)
    await w.lifecycle.idle()
    expect(checked).toEqual([])
    expect(await statusOf(w, soon)).toBe('lapsed')
    await w.clock.advanceAsync(1)
    await w.lifecycle.idle()
    expect([...checked].sort()).toEqual([paid, unpaid, unread].sort())
    expect(w.ledger.get(unpaid)).toBeUndefined()
    expect(await statusOf(w, unpaid)).toBe('lapsed')
    for (const id of [paid, unread]) {
      expect(w.ledger.get(id)?.committed).toBe(true)
      expect(await statusOf(w, id)).toBe('active')
    }
    await w.lifecycle.stop()
  })

  it('a session that started before the escrow window ends is not checked', async () => {
    const checked: string[] = []
    const w = world(1, async (id) => { checked.push(id); return false })
    const id = await agreement(w, 'running', 3_600_000)
    await w.lifecycle.committed(id)
    w.sessions.add(id)
    w.lifecycle.started(id)
    await w.clock.advanceAsync(ESCROW_OPEN_WINDOW_MS)
    await w.lifecycle.idle()
    expect(checked).toEqual([])
    expect(w.ledger.get(id)?.committed).toBe(true)
    await w.lifecycle.stop()
  })

  it('stop clears every start timer: nothing fires after it', async () => {
    const w = world()
    const a = await agreement(w, 'a', 5_000)
    const b = await agreement(w, 'b', 7_000)
    await w.lifecycle.committed(a)
    await w.lifecycle.committed(b)
    expect(w.clock.pending).toBe(2)
    await w.lifecycle.stop()
    expect(w.clock.pending).toBe(0)
    w.clock.advance(10_000)
    expect(w.ledger.get(a)?.committed).toBe(true)
    expect(await statusOf(w, a)).toBe('active')
    // a commit that arrives after stop schedules nothing
    const c = await agreement(w, 'c', 5_000, { commit: false })
    await w.lifecycle.committed(c)
    expect(w.clock.pending).toBe(0)
  })
})
