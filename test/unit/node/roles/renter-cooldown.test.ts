/**
 * A renter that never pays, against a supplier's negotiation and agreement lifecycle wired as the
 * supplier role wires them: it agrees on all the GPUs, never opens the escrow, and proposes again
 * as soon as the agreement lapses. RENTER_LIMIT does not stop that (one agreement at a time is under
 * it); the renter cooldown does, and an honest renter then gets the GPUs. The cooldown is kept in
 * the supplier's database, so a restart of the supplier does not lift it; the time it was stopped
 * counts toward its decay.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AgreementStore } from '../../../../src/market/agreement/store.js'
import { NegotiationError } from '../../../../src/market/errors.js'
import { guardFromLedger } from '../../../../src/market/negotiation/capacity.js'
import type { RenterCooldown } from '../../../../src/market/negotiation/cooldown.js'
import { COOLDOWN_SUBLEVEL, RenterCooldownStore } from '../../../../src/market/negotiation/cooldown-store.js'
import { RenterNegotiator } from '../../../../src/market/negotiation/renter.js'
import { SupplierNegotiator } from '../../../../src/market/negotiation/supplier.js'
import { CertCache } from '../../../../src/market/signing/cert.js'
import { MessageSigner } from '../../../../src/market/signing/signer.js'
import { CapacityLedger } from '../../../../src/jobs/capacity.js'
import { AgreementLifecycle, ESCROW_OPEN_WINDOW_MS } from '../../../../src/node/roles/supplier/agreements.js'
import { restoreCooldown, supplierCooldown } from '../../../../src/node/roles/supplier/cooldown.js'
import { createLogger, silentLogger, type Logger } from '../../../../src/node/logger.js'
import { ManualClock } from '../../../../src/util/clock.js'
import type { AgreementTerms } from '../../../../src/wire/agreement.js'
import { devPair } from '../../../helpers/keys.js'
import { T0, mkBid, mkOffer } from '../../market/book-fixtures.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const ARBITER = new Uint8Array(32).fill(7)
let dir: string
let db: Level<string, string>
let supplierSigner: MessageSigner
let renterSigner: MessageSigner
let honestSigner: MessageSigner
const certs = new CertCache()

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bazaar-cooldown-'))
  db = new Level(join(dir, 'db'))
  await db.open()
  supplierSigner = MessageSigner.create(await devPair('Alice'), { now: T0 })
  renterSigner = MessageSigner.create(await devPair('Bob'), { now: T0 })
  honestSigner = MessageSigner.create(await devPair('Charlie'), { now: T0 })
})
afterAll(async () => {
  await db.close()
  rmSync(dir, { recursive: true, force: true })
})

async function codeOf (p: Promise<unknown>): Promise<string | undefined> {
  try { await p; return undefined } catch (err) { return err instanceof NegotiationError ? err.code : `UNTYPED ${String(err)}` }
}

interface Supplier { clock: ManualClock, ledger: CapacityLedger, lifecycle: AgreementLifecycle, negotiator: SupplierNegotiator, cooldown: RenterCooldown, offer: ReturnType<typeof mkOffer>, ended: string[], committing: Array<Promise<void>> }

/**
 * a supplier of 2 GPUs: negotiation, lifecycle (escrow checks: none ever on chain) and the cooldown
 * between them, kept in `cooldowns` where given (the role's database), starting at `now`
 */
function supplier (opts: { cooldowns?: RenterCooldownStore, now?: number, logger?: Logger } = {}): Supplier {
  const clock = new ManualClock(opts.now ?? T0)
  const ledger = new CapacityLedger([{ index: 0, model: 'h100-80gb' }, { index: 1, model: 'h100-80gb' }], { clock })
  const store = new AgreementStore(db.sublevel(`s${Math.random()}`))
  const cooldown = supplierCooldown({ clock, store: opts.cooldowns, logger: opts.logger ?? silentLogger })
  const ended: string[] = []
  const committing: Array<Promise<void>> = []
  const lifecycle = new AgreementLifecycle({
    clock,
    ledger,
    agreements: store,
    logger: silentLogger,
    sessionStarted: () => false,
    startedBefore: async () => false,
    onCapacityChange: () => {},
    escrowBacks: async () => false,
    onHoldEnded: (renter, end) => { ended.push(end); cooldown.record(Buffer.from(renter).toString('hex'), end) }
  })
  const offer = mkOffer({ supplier: supplierSigner.hotkey, gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 2 }], expiresAt: BigInt(T0 + 7 * DAY) })
  const negotiator = new SupplierNegotiator({
    signer: supplierSigner,
    capacity: guardFromLedger(ledger),
    offers: new Map([[offer.id, offer]]),
    store,
    clock,
    certs,
    waiting: (renter) => lifecycle.waitingFor(renter),
    cooldown,
    onCommitted: (id, terms) => { committing.push(lifecycle.committed(id, terms.renter)) }
  })
  return { clock, ledger, lifecycle, negotiator, cooldown, offer, ended, committing }
}

/**
 * The supplier as a restart of its role brings it back: a new one on the same database, started
 * `downtimeMs` after `before` stopped, with the cooldowns it kept read back before any proposal.
 */
async function restarted (before: Supplier, cooldowns: RenterCooldownStore, downtimeMs: number, logger?: Logger): Promise<Supplier> {
  await before.lifecycle.stop()
  await before.cooldown.flush()
  const s = supplier({ cooldowns, now: before.clock.now() + downtimeMs, ...(logger != null ? { logger } : {}) })
  await restoreCooldown(s.cooldown, logger ?? silentLogger)
  return s
}

/** the renter agrees and lets it lapse, twice: from then on it is in its cooldown */
async function lapseTwice (s: Supplier): Promise<void> {
  for (let i = 0; i < 2; i++) {
    await agree(s, renterSigner)
    s.clock.advance(ESCROW_OPEN_WINDOW_MS)
    await s.lifecycle.idle()
  }
  expect(s.ended).toEqual(['lapsed', 'lapsed'])
}

/** the code the supplier refuses the renter's next proposal with (undefined: it holds the GPUs) */
async function proposeAgain (s: Supplier, signer: MessageSigner): Promise<string | undefined> {
  const renter = new RenterNegotiator({ signer, store: new AgreementStore(db.sublevel(`r${Math.random()}`)), clock: s.clock, certs })
  const bid = mkBid({ renter: signer.hotkey, requirements: { gpu: 'h100', minMemoryMib: 0, count: 2, teeKinds: [], regions: [] }, createdAt: BigInt(s.clock.now()), expiresAt: BigInt(T0 + 7 * DAY) })
  return await codeOf(s.negotiator.propose(renter.prepare(bid, s.offer, { arbiter: ARBITER }).propose, 'peer'))
}

/** the renter agrees on both GPUs (proposes and confirms); the agreement's id and terms */
async function agree (s: Supplier, signer: MessageSigner): Promise<{ id: string, terms: AgreementTerms }> {
  const renter = new RenterNegotiator({ signer, store: new AgreementStore(db.sublevel(`r${Math.random()}`)), clock: s.clock, certs })
  const bid = mkBid({ renter: signer.hotkey, requirements: { gpu: 'h100', minMemoryMib: 0, count: 2, teeKinds: [], regions: [] }, createdAt: BigInt(s.clock.now()), expiresAt: BigInt(T0 + 7 * DAY) })
  const p = renter.prepare(bid, s.offer, { arbiter: ARBITER, startWindowMs: 2 * ESCROW_OPEN_WINDOW_MS })
  const held = await s.negotiator.propose(p.propose, 'peer')
  await s.negotiator.confirm(held.hash, { hash: p.hash })
  // its start and escrow timers are set
  await Promise.all(s.committing.splice(0))
  return { id: held.hash, terms: p.terms }
}

describe('a renter that agrees and never pays', () => {
  it('cannot hold the GPUs by proposing again after each lapse: it waits, longer each time, and an honest renter gets them', async () => {
    const s = supplier()
    const renterHex = Buffer.from(renterSigner.hotkey).toString('hex')
    // first agreement: its escrow never lands, its GPUs come back after the escrow window
    await agree(s, renterSigner)
    expect(s.ledger.available('h100-80gb')).toBe(0)
    s.clock.advance(ESCROW_OPEN_WINDOW_MS)
    await s.lifecycle.idle()
    expect(s.ledger.available('h100-80gb')).toBe(2)
    expect(s.ended).toEqual(['lapsed'])
    // one lapse may be a mishap: the renter agrees again at once, and lets it lapse again
    await agree(s, renterSigner)
    s.clock.advance(ESCROW_OPEN_WINDOW_MS)
    await s.lifecycle.idle()
    expect(s.ended).toEqual(['lapsed', 'lapsed'])
    const first = s.cooldown.remaining(renterHex)
    expect(first).toBeGreaterThan(0)
    // now it is refused, and the GPUs stay free for an honest renter
    const renter = new RenterNegotiator({ signer: renterSigner, store: new AgreementStore(db.sublevel(`r${Math.random()}`)), clock: s.clock, certs })
    const bid = mkBid({ renter: renterSigner.hotkey, requirements: { gpu: 'h100', minMemoryMib: 0, count: 2, teeKinds: [], regions: [] }, expiresAt: BigInt(T0 + 7 * DAY) })
    expect(await codeOf(s.negotiator.propose(renter.prepare(bid, s.offer, { arbiter: ARBITER }).propose, 'peer'))).toBe('RENTER_COOLDOWN')
    expect(s.ledger.available('h100-80gb')).toBe(2)
    const honest = await agree(s, honestSigner)
    expect(s.ledger.get(honest.id)?.committed).toBe(true)
    // it gives them back (its rental failed): a quarter of a lapse against it, no cooldown
    expect(await s.lifecycle.withdraw(honest.id, honest.terms)).toBe('')
    expect(s.cooldown.remaining(Buffer.from(honestSigner.hotkey).toString('hex'))).toBe(0)
    expect(s.ended).toEqual(['lapsed', 'lapsed', 'withdrawn'])
    // after its cooldown it may agree again; one more lapse and it waits longer than before
    s.clock.advance(first)
    await agree(s, renterSigner)
    s.clock.advance(ESCROW_OPEN_WINDOW_MS)
    await s.lifecycle.idle()
    expect(s.cooldown.remaining(renterHex)).toBeGreaterThan(first)
    await s.lifecycle.stop()
  })

  it('a lapse that is not the renter\'s doing (a session this supplier refused) does not count against it', async () => {
    const s = supplier()
    const a = await agree(s, renterSigner)
    s.ledger.release(a.id)
    await s.lifecycle.lapse(a.id)
    expect(s.ended).toEqual([])
    await s.lifecycle.stop()
  })
})

describe('the cooldown across a restart of the supplier', () => {
  const renterHex = (): string => Buffer.from(renterSigner.hotkey).toString('hex')
  const cooldowns = (): RenterCooldownStore => new RenterCooldownStore(db.sublevel(`c${Math.random()}`))

  it('a renter cooled down before the restart is still refused after it, for what is left of its cooldown', async () => {
    const kept = cooldowns()
    const before = supplier({ cooldowns: kept })
    await lapseTwice(before)
    const left = before.cooldown.remaining(renterHex())
    expect(left).toBeGreaterThan(60_000)
    expect(await proposeAgain(before, renterSigner)).toBe('RENTER_COOLDOWN')
    // stopped a minute, started again on the same database
    const after = await restarted(before, kept, 60_000)
    expect(after.cooldown.remaining(renterHex())).toBe(left - 60_000)
    expect(await proposeAgain(after, renterSigner)).toBe('RENTER_COOLDOWN')
    expect(after.ledger.available('h100-80gb')).toBe(2)
    // the GPUs are an honest renter's
    const honest = await agree(after, honestSigner)
    expect(after.ledger.get(honest.id)?.committed).toBe(true)
    await after.lifecycle.stop()
  })

  it('the time the supplier was stopped counts: its cooldown runs out, and its score decays as if it had run', async () => {
    const kept = cooldowns()
    const before = supplier({ cooldowns: kept })
    await lapseTwice(before)
    expect(before.cooldown.remaining(renterHex())).toBeGreaterThan(0)
    // stopped an hour: the cooldown (42 minutes) ran out meanwhile, and the renter may agree again
    const after = await restarted(before, kept, HOUR)
    expect(after.cooldown.remaining(renterHex())).toBe(0)
    await agree(after, renterSigner)
    after.clock.advance(ESCROW_OPEN_WINDOW_MS)
    await after.lifecycle.idle()
    expect(after.ended).toEqual(['lapsed'])
    // but its score decayed only by that hour: one more lapse cools it down again, exactly as
    // long as at a supplier that never stopped
    before.clock.set(after.clock.now())
    before.cooldown.record(renterHex(), 'lapsed')
    await before.cooldown.flush()
    expect(after.cooldown.remaining(renterHex())).toBeGreaterThan(0)
    expect(after.cooldown.remaining(renterHex())).toBe(before.cooldown.remaining(renterHex()))
    expect(await proposeAgain(after, renterSigner)).toBe('RENTER_COOLDOWN')
    await after.lifecycle.stop()
  })

  it('stopped long enough, the renter is forgiven: its cooldown is over and its score all but gone', async () => {
    const kept = cooldowns()
    const before = supplier({ cooldowns: kept })
    await lapseTwice(before)
    expect(before.cooldown.remaining(renterHex())).toBeGreaterThan(0)
    // stopped a day: the cooldown (42 minutes) is over, and 4 half-lives took the score from 2 to 1/8
    const after = await restarted(before, kept, DAY)
    expect(after.cooldown.remaining(renterHex())).toBe(0)
    await agree(after, renterSigner)
    expect(after.ledger.available('h100-80gb')).toBe(0)
    // so one more lapse (1/8 + 1 < 1.5) does not cool it down again, as two lapses in a row would
    after.clock.advance(ESCROW_OPEN_WINDOW_MS)
    await after.lifecycle.idle()
    expect(after.ended).toEqual(['lapsed'])
    expect(after.cooldown.remaining(renterHex())).toBe(0)
    expect(await proposeAgain(after, renterSigner)).toBeUndefined()
    await after.lifecycle.stop()
  })

  it('kept entries that do not read back are skipped with one warn line, and the supplier starts', async () => {
    const parent = db.sublevel(`c${Math.random()}`)
    const kept = new RenterCooldownStore(parent)
    const raw = parent.sublevel<string, string>(COOLDOWN_SUBLEVEL, { keyEncoding: 'utf8', valueEncoding: 'utf8' })
    const hex = (n: number): string => n.toString(16).padStart(2, '0').repeat(32)
    const bad: Array<[string, string]> = [
      ['not-a-hotkey', JSON.stringify({ score: 2, at: T0 })],
      [hex(1), '{not json'],
      [hex(2), JSON.stringify({ score: -1, at: T0 })],
      [hex(3), JSON.stringify({ score: 1e9, at: T0 })],
      [hex(4), JSON.stringify({ score: 2, at: T0 + 365 * DAY })],
      [hex(5), JSON.stringify({ score: 2, at: 'yesterday' })],
      [hex(6), JSON.stringify([2, T0])],
      [hex(7), 'x'.repeat(10_000)]
    ]
    for (const [k, v] of bad) await raw.put(k, v)
    // and one the run before wrote: two lapses a minute ago
    await kept.put(renterHex(), 2, T0 - 60_000)
    const lines: string[] = []
    const logger = createLogger({ level: 'debug', format: 'json', write: (l) => { lines.push(l) } })
    const s = supplier({ cooldowns: kept, logger })
    await restoreCooldown(s.cooldown, logger)
    const warns = lines.map((l) => JSON.parse(l) as { level: string, skipped?: number }).filter((l) => l.level === 'warn')
    expect(warns).toHaveLength(1)
    expect(warns[0]?.skipped).toBe(bad.length)
    expect(s.cooldown.size).toBe(1)
    expect(await proposeAgain(s, renterSigner)).toBe('RENTER_COOLDOWN')
    // they are gone from the store: the next start reads only the good one, and says nothing
    expect((await raw.keys().all())).toEqual([renterHex()])
    await s.lifecycle.stop()
  })
})
