/**
 * A renter that never pays, against a supplier's negotiation and agreement lifecycle wired as the
 * supplier role wires them: it agrees on all the GPUs, never opens the escrow, and proposes again
 * as soon as the agreement lapses. RENTER_LIMIT does not stop that (one agreement at a time is under
 * it); the renter cooldown does, and an honest renter then gets the GPUs.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AgreementStore } from '../../../../src/market/agreement/store.js'
import { NegotiationError } from '../../../../src/market/errors.js'
import { guardFromLedger } from '../../../../src/market/negotiation/capacity.js'
import { RenterCooldown } from '../../../../src/market/negotiation/cooldown.js'
import { RenterNegotiator } from '../../../../src/market/negotiation/renter.js'
import { SupplierNegotiator } from '../../../../src/market/negotiation/supplier.js'
import { CertCache } from '../../../../src/market/signing/cert.js'
import { MessageSigner } from '../../../../src/market/signing/signer.js'
import { CapacityLedger } from '../../../../src/jobs/capacity.js'
import { AgreementLifecycle, ESCROW_OPEN_WINDOW_MS } from '../../../../src/node/roles/supplier/agreements.js'
import { silentLogger } from '../../../../src/node/logger.js'
import { ManualClock } from '../../../../src/util/clock.js'
import type { AgreementTerms } from '../../../../src/wire/agreement.js'
import { devPair } from '../../../helpers/keys.js'
import { T0, mkBid, mkOffer } from '../../market/book-fixtures.js'

const DAY = 24 * 3_600_000
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

/** a supplier of 2 GPUs: negotiation, lifecycle (escrow checks: none ever on chain) and the cooldown between them */
function supplier (): { clock: ManualClock, ledger: CapacityLedger, lifecycle: AgreementLifecycle, negotiator: SupplierNegotiator, cooldown: RenterCooldown, offer: ReturnType<typeof mkOffer>, ended: string[], committing: Array<Promise<void>> } {
  const clock = new ManualClock(T0)
  const ledger = new CapacityLedger([{ index: 0, model: 'h100-80gb' }, { index: 1, model: 'h100-80gb' }], { clock })
  const store = new AgreementStore(db.sublevel(`s${Math.random()}`))
  const cooldown = new RenterCooldown({ clock })
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

/** the renter agrees on both GPUs (proposes and confirms); the agreement's id and terms */
async function agree (s: ReturnType<typeof supplier>, signer: MessageSigner): Promise<{ id: string, terms: AgreementTerms }> {
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
