/**
 * A restarted daemon finds the escrows it holds however long it was stopped: each keeps the block
 * of its open record as this node saw it, and the oldest one still in play is where the chain's
 * scan starts at least (`EscrowService.scanStart`, `ChainPort.scanFrom`).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterEach, describe, expect, it } from 'vitest'
import { EmbeddedLedger } from '../../src/escrow/chain/embedded/ledger.js'
import type { ChainCatchUp, ChainPort, ChainRecord } from '../../src/escrow/chain/port.js'
import { Arbiter } from '../../src/escrow/arbiter/service.js'
import { EscrowService, SCAN_AFTER_EXPIRY_MS } from '../../src/escrow/service.js'
import { EscrowDb } from '../../src/escrow/store/db.js'
import { ARBITER_ESCROW_RETENTION_MS } from '../../src/escrow/constants.js'
import { BazaarNode } from '../../src/node/bazaar-node.js'
import { defaultConfig } from '../../src/node/config/index.js'
import { devPair } from '../helpers/keys.js'
import { ManualClock } from '../../src/util/clock.js'
import { escrowId, HOUR, ledgerWorld, parties, T0, terms as mkTerms } from '../unit/escrow/fixtures.js'
import { recordingLogger } from '../helpers/nodes.js'
import type { Logger } from '../../src/node/logger.js'

const p = await parties()

/** a daemon's node of `role` in `home` on `chain`, on a manual clock at `now`, listening on loopback */
async function startNode (o: { role: 'renter' | 'arbiter', home: string, hotkey: Awaited<ReturnType<typeof devPair>>, coldkey: Awaited<ReturnType<typeof devPair>>, chain: ChainPort, now: number, logger: Logger }): Promise<BazaarNode> {
  const base = await defaultConfig()
  return await BazaarNode.init({
    config: { ...base, role: o.role, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], api: { ...base.api, host: '127.0.0.1', port: 0 } },
    identity: { peerKey: await generateKeyPair('Ed25519'), hotkey: o.hotkey, coldkey: o.coldkey },
    home: o.home,
    apiToken: 'c'.repeat(64),
    chain: o.chain,
    clock: new ManualClock(o.now),
    logger: o.logger
  })
}

/** the embedded ledger as a chain port, with the methods given in place of its own or added (it reads no blocks) */
function withMethods (ledger: EmbeddedLedger, methods: Record<string, (...args: never[]) => unknown>): ChainPort {
  return new Proxy(ledger, {
    get: (target, key) => {
      if (typeof key === 'string' && Object.hasOwn(methods, key)) return methods[key]
      const v = Reflect.get(target, key) as unknown
      return typeof v === 'function' ? v.bind(target) : v
    }
  }) as ChainPort
}
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

describe('the open block of each escrow, kept', () => {
  it('the payer keeps it from its own open; the payee from the escrow it read, kept once, and not from a read without records', async () => {
    const { ledger, supplierDb, renterDb, clock } = await ledgerWorld(p, 5_000_000_000n, cleanups)
    const t = mkTerms(p)
    const renter = new EscrowService({ chain: ledger, escrows: renterDb.escrows, vouchers: renterDb.vouchers, account: p.payer, clock })
    const supplier = new EscrowService({ chain: ledger, escrows: supplierDb.escrows, vouchers: supplierDb.vouchers, account: p.payee, clock })
    const opened = await renter.open(t)
    const block = opened.records.find((r) => r.kind === 'open')!.blockNumber
    expect((await renterDb.escrows.get(t.escrowId))?.openBlock).toBe(block)
    // the supplier tracks it before it reads it (an agreement), then as its escrow check read it
    expect((await supplier.track(t)).openBlock).toBeUndefined()
    expect((await supplier.track(t, { onChain: (await ledger.get(t.escrowId))! })).openBlock).toBe(block)
    // a later read with other records changes nothing
    expect((await supplier.track(t, { onChain: { records: [{ ...opened.records[0]!, blockNumber: block + 9 }] } })).openBlock).toBe(block)
    expect((await supplierDb.escrows.get(t.escrowId))?.openBlock).toBe(block)
  })

  it(`scanStart: the oldest open block of the escrows paid, paid from or arbitrated that are unexpired or expired under SCAN_AFTER_EXPIRY_MS (${SCAN_AFTER_EXPIRY_MS / 60_000} min) ago; those without a block do not count`, async () => {
    const { supplierDb, ledger, clock } = await ledgerWorld(p, 5_000_000_000n, cleanups)
    const svc = new EscrowService({ chain: ledger, escrows: supplierDb.escrows, vouchers: supplierDb.vouchers, account: p.payee, clock })
    expect(await svc.scanStart()).toBeUndefined()
    const put = async (n: number, role: 'payer' | 'payee' | 'arbiter', expiresAt: number, openBlock?: number): Promise<void> =>
      await supplierDb.escrows.put({ terms: mkTerms(p, { escrowId: escrowId(n), expiresAt }), role, createdAt: T0, ...(openBlock != null ? { openBlock } : {}) })
    await put(1, 'payee', T0 + 2 * HOUR, 500)
    await put(2, 'payer', T0 + HOUR, 420)
    await put(3, 'arbiter', T0 + HOUR / 2, 100)
    await put(4, 'payee', T0 + 2 * HOUR)
    await put(5, 'payee', T0 - SCAN_AFTER_EXPIRY_MS, 90)
    await put(6, 'payer', T0 - SCAN_AFTER_EXPIRY_MS + 1, 300)
    await put(7, 'arbiter', T0 + 2 * HOUR)
    expect(await svc.scanStart(T0)).toBe(100)
    // an hour on, escrow 6 is past it; an hour and a half on, escrow 3
    expect(await svc.scanStart(T0 + 1)).toBe(100)
    expect(await svc.scanStart(T0 + HOUR / 2 + SCAN_AFTER_EXPIRY_MS - 1)).toBe(100)
    expect(await svc.scanStart(T0 + HOUR / 2 + SCAN_AFTER_EXPIRY_MS)).toBe(420)
    expect(await svc.scanStart(T0 + 3 * HOUR - 1)).toBe(500)
    expect(await svc.scanStart(T0 + 3 * HOUR)).toBeUndefined()
  })

  it('an arbiter keeps the escrows naming it as the chain shows them opened, unasked, then as asked once a party asks it; the sweep passes over the unasked', async () => {
    const { ledger, renterDb, clock } = await ledgerWorld(p, 5_000_000_000n, cleanups)
    const arbiterDb = await EscrowDb.open(await mkdtemp(path.join(tmpdir(), 'bazaar-arbiter-db-')))
    cleanups.push(async () => { await arbiterDb.close() })
    const known: string[][] = []
    // the embedded ledger has no sweep: one that says what it was handed
    const chain = withMethods(ledger, {
      sweep: async (_owner: unknown, opts: { known?: Array<{ escrowId: string }> }) => { known.push((opts.known ?? []).map((t) => t.escrowId)); return [] }
    })
    const arbiter = new Arbiter({ chain, key: p.arbiter, clock, vouchers: arbiterDb.vouchers, escrows: arbiterDb.escrows })
    const renter = new EscrowService({ chain, escrows: renterDb.escrows, vouchers: renterDb.vouchers, account: p.payer, clock, arbiter })
    const arbiterSvc = new EscrowService({ chain, escrows: arbiterDb.escrows, vouchers: arbiterDb.vouchers, account: p.arbiter, clock })
    const kept = mkTerms(p, { escrowId: escrowId(1) })
    const asked = mkTerms(p, { escrowId: escrowId(2) })
    const other = mkTerms(p, { escrowId: escrowId(3), arbiter: p.other.address })
    const opened = [await renter.open(kept), await renter.open(asked), await renter.open(other)]
    const blocks = opened.map((o) => o.records.find((r) => r.kind === 'open')!.blockNumber)
    // the chain follower's report: escrows naming this node in any role; only those it arbitrates are kept
    const report = opened.map((o) => ({ terms: o.terms, records: o.records }))
    expect(await arbiterSvc.keepOpened(report.slice(0, 1))).toBe(1)
    // the one kept, again, and one another arbiter serves (`asked` is never in a report here)
    expect(await arbiterSvc.keepOpened([report[0]!, report[2]!])).toBe(0)
    expect(await arbiterDb.escrows.get(kept.escrowId)).toEqual({ terms: kept, role: 'arbiter', createdAt: T0, openBlock: blocks[0], unasked: true })
    expect(await arbiterDb.escrows.get(other.escrowId)).toBeUndefined()
    // another payer's open under the same id changes nothing kept
    await arbiterSvc.keepOpened([{ terms: { ...kept, payer: p.other.address }, records: [{ ...report[0]!.records[0]!, blockNumber: 1 }] }])
    expect((await arbiterDb.escrows.get(kept.escrowId))?.terms.payer).toBe(p.payer.address)
    expect(await arbiterSvc.scanStart()).toBe(blocks[0])
    // the sweep is handed only what the arbiter was asked about
    await arbiterSvc.sweep()
    expect(known).toEqual([[]])
    // after their expiry the renter refunds both with the arbiter: each is kept as asked, with its open block
    clock.advance(2 * HOUR)
    await renter.refund(kept.escrowId)
    await renter.refund(asked.escrowId)
    expect(await arbiterDb.escrows.get(kept.escrowId)).toEqual({ terms: kept, role: 'arbiter', createdAt: T0, openBlock: blocks[0] })
    expect(await arbiterDb.escrows.get(asked.escrowId)).toEqual({ terms: asked, role: 'arbiter', createdAt: clock.now(), openBlock: blocks[1] })
    await arbiterSvc.sweep()
    expect(known.at(-1)).toEqual([kept.escrowId, asked.escrowId])
  })

  it('an arbiter marks the escrows a sweep found nothing left on, passes over them in later sweeps, and prunes them a week past their expiry', async () => {
    const { ledger, renterDb, clock } = await ledgerWorld(p, 5_000_000_000n, cleanups)
    const arbiterDb = await EscrowDb.open(await mkdtemp(path.join(tmpdir(), 'bazaar-arbiter-db-')))
    cleanups.push(async () => { await arbiterDb.close() })
    const known: string[][] = []
    // a sweep that empties every escrow it is handed but those of `stuck` (a deposit still reserved)
    // and says so, as the subtensor adapter does; one of another payer under a kept id too
    const stuck = new Set<string>()
    const chain = withMethods(ledger, {
      sweep: async (_owner: unknown, opts: { known?: Array<{ escrowId: string, payer: string }>, onSwept?: (id: string, payer: string) => void }) => {
        known.push((opts.known ?? []).map((t) => t.escrowId))
        for (const t of opts.known ?? []) if (!stuck.has(t.escrowId)) opts.onSwept?.(t.escrowId, t.payer)
        opts.onSwept?.(escrowId(1), p.other.address)
        return []
      }
    })
    const arbiter = new Arbiter({ chain, key: p.arbiter, clock, vouchers: arbiterDb.vouchers, escrows: arbiterDb.escrows })
    const renter = new EscrowService({ chain, escrows: renterDb.escrows, vouchers: renterDb.vouchers, account: p.payer, clock, arbiter })
    const arbiterSvc = new EscrowService({ chain, escrows: arbiterDb.escrows, vouchers: arbiterDb.vouchers, account: p.arbiter, clock })
    const done = mkTerms(p, { escrowId: escrowId(1) })
    const held = mkTerms(p, { escrowId: escrowId(2) })
    stuck.add(held.escrowId)
    await renter.open(done)
    await renter.open(held)
    clock.advance(2 * HOUR)
    await renter.refund(done.escrowId)
    await renter.refund(held.escrowId)
    // another payer's escrow under a kept id marks nothing (the arbiter's own sweeps at its
    // approvals hand the chain no terms)
    await arbiterSvc.sweep()
    expect(known.at(-1)).toEqual([done.escrowId, held.escrowId])
    expect((await arbiterDb.escrows.get(done.escrowId))?.swept).toBe(true)
    expect((await arbiterDb.escrows.get(held.escrowId))?.swept).toBeUndefined()
    await arbiterSvc.sweep()
    expect(known.at(-1)).toEqual([held.escrowId])
    // a week past their expiry the swept one goes, the one a sweep could not empty stays
    clock.set(done.expiresAt + ARBITER_ESCROW_RETENTION_MS + 1)
    expect(await arbiterDb.escrows.pruneArbitrated(clock.now() - ARBITER_ESCROW_RETENTION_MS)).toBe(1)
    expect((await arbiterDb.escrows.list()).map((e) => e.terms.escrowId)).toEqual([held.escrowId])
  })

  it(`an arbiter does not take up an escrow the chain shows opened that expired over ARBITER_ESCROW_RETENTION_MS (${ARBITER_ESCROW_RETENTION_MS / 86_400_000} days) ago: its pruning would drop it`, async () => {
    const { ledger, renterDb, clock } = await ledgerWorld(p, 5_000_000_000n, cleanups)
    const arbiterDb = await EscrowDb.open(await mkdtemp(path.join(tmpdir(), 'bazaar-arbiter-db-')))
    cleanups.push(async () => { await arbiterDb.close() })
    const renter = new EscrowService({ chain: ledger, escrows: renterDb.escrows, vouchers: renterDb.vouchers, account: p.payer, clock })
    const arbiterSvc = new EscrowService({ chain: ledger, escrows: arbiterDb.escrows, vouchers: arbiterDb.vouchers, account: p.arbiter, clock })
    const t = mkTerms(p, { escrowId: escrowId(1) })
    const opened = await renter.open(t)
    const report = [{ terms: opened.terms, records: opened.records }]
    clock.set(t.expiresAt + ARBITER_ESCROW_RETENTION_MS + 1)
    expect(await arbiterSvc.keepOpened(report)).toBe(0)
    expect(await arbiterDb.escrows.get(t.escrowId)).toBeUndefined()
    clock.set(t.expiresAt + ARBITER_ESCROW_RETENTION_MS)
    expect(await arbiterSvc.keepOpened(report)).toBe(1)
    expect(await arbiterDb.escrows.pruneArbitrated(clock.now() - ARBITER_ESCROW_RETENTION_MS)).toBe(0)
  })

  it('a payer or payee only gives the escrows it holds the open block they lack, from their own payer\'s open', async () => {
    const { ledger, supplierDb, renterDb, clock } = await ledgerWorld(p, 5_000_000_000n, cleanups)
    const renter = new EscrowService({ chain: ledger, escrows: renterDb.escrows, vouchers: renterDb.vouchers, account: p.payer, clock })
    const supplier = new EscrowService({ chain: ledger, escrows: supplierDb.escrows, vouchers: supplierDb.vouchers, account: p.payee, clock })
    const held = mkTerms(p, { escrowId: escrowId(1) })
    const never = mkTerms(p, { escrowId: escrowId(2) })
    // the supplier agreed to `held` (kept without a block: its escrow check has not read it)
    await supplier.track(held)
    const report = [await renter.open(held), await renter.open(never)].map((o) => ({ terms: o.terms, records: o.records }))
    const block = report[0]!.records[0]!.blockNumber
    // another payer's open under the same id first: it gives nothing
    expect(await supplier.keepOpened([{ terms: { ...held, payer: p.other.address }, records: [{ ...report[0]!.records[0]!, blockNumber: 1 }] }])).toBe(0)
    expect((await supplierDb.escrows.get(held.escrowId))?.openBlock).toBeUndefined()
    // its own payer's: the block; an escrow naming it that it never agreed to is not taken up
    expect(await supplier.keepOpened(report)).toBe(1)
    expect(await supplierDb.escrows.get(held.escrowId)).toEqual({ terms: held, role: 'payee', createdAt: T0, openBlock: block })
    expect(await supplierDb.escrows.get(never.escrowId)).toBeUndefined()
    expect(await supplier.scanStart()).toBe(block)
    // a block kept stays
    expect(await supplier.keepOpened([{ terms: held, records: [{ ...report[0]!.records[0]!, blockNumber: block + 5 }] }])).toBe(0)
    expect((await supplierDb.escrows.get(held.escrowId))?.openBlock).toBe(block)
  })
})

describe('a daemon started with escrows in its store', () => {
  it('tells the chain to read from the oldest one\'s open block, says so, then reads the chain at start', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'bazaar-scan-start-'))
    cleanups.push(async () => { await rm(home, { recursive: true, force: true }) })
    const hotkey = await devPair('Bob//hot')
    const now = Date.now()
    const db = await EscrowDb.open(path.join(home, 'escrow'))
    await db.escrows.put({ terms: mkTerms(p, { escrowId: escrowId(1), payee: hotkey.address, expiresAt: now + HOUR }), role: 'payee', createdAt: now, openBlock: 8_000 })
    await db.escrows.put({ terms: mkTerms(p, { escrowId: escrowId(2), payee: hotkey.address, expiresAt: now + HOUR }), role: 'payee', createdAt: now, openBlock: 7_321 })
    await db.close()
    const ledger = await EmbeddedLedger.open({ netuid: 1 })
    cleanups.push(async () => { await ledger.close() })
    const asked: string[] = []
    // the embedded ledger reads no blocks: a port that does, in its place
    const chain = withMethods(ledger, {
      scanFrom: (block: number) => { asked.push(`scanFrom ${block}`) },
      catchUp: async () => { asked.push('catchUp'); return { from: 7_321, head: 9_000, blocks: 1_680 } }
    })
    const { logger, records } = recordingLogger((r) => r.msg.startsWith('chain: escrow records'))
    const node = await startNode({ role: 'renter', home, hotkey, coldkey: await devPair('Bob'), chain, now, logger })
    try {
      // the first read, begun at start (the chain follower), reaches back to that block
      expect(asked).toEqual(['scanFrom 7321', 'catchUp'])
      expect(records.map((r) => r.msg)).toEqual(['chain: escrow records are read from the open block of the oldest escrow this node holds that may still be in play, or earlier', 'chain: escrow records read up to the head'])
      expect(records[0]!.fields.block).toBe(7_321)
      expect(records[1]!.fields).toMatchObject({ from: 7_321, head: 9_000, blocks: 1_680 })
      // and /v1/chain (bazaar status) says how far it read, and when
      const res = await fetch(`http://127.0.0.1:${node.apiAddress!.port}/v1/chain`, { headers: { authorization: `Bearer ${'c'.repeat(64)}` } })
      expect(await res.json()).toMatchObject({ readBlock: 9_000, readAt: new Date(now).toISOString() })
    } finally {
      await node.close()
    }
  })

  it('an arbiter keeps the escrows naming it that its chain reads show opened, and a restart reads back to the oldest', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'bazaar-scan-arbiter-'))
    cleanups.push(async () => { await rm(home, { recursive: true, force: true }) })
    const hotkey = await devPair('Charlie//hot')
    const now = Date.now()
    const ledger = await EmbeddedLedger.open({ netuid: 1 })
    cleanups.push(async () => { await ledger.close() })
    const ours = mkTerms(p, { escrowId: escrowId(1), arbiter: hotkey.address, expiresAt: now + HOUR })
    const other = mkTerms(p, { escrowId: escrowId(2), expiresAt: now + HOUR })
    const openRecord = (id: string, blockNumber: number): ChainRecord => ({ kind: 'open', escrowId: id, blockNumber, blockHash: '0x01', txHash: '0x02', remark: '{}' })
    const asked: string[] = []
    let report: ChainCatchUp | undefined = { from: 100, head: 9_000, blocks: 8_901, opened: [{ terms: ours, records: [openRecord(ours.escrowId, 6_543)] }, { terms: other, records: [openRecord(other.escrowId, 6_000)] }] }
    const chain = withMethods(ledger, {
      scanFrom: (block: number) => { asked.push(`scanFrom ${block}`) },
      catchUp: async () => { asked.push('catchUp'); const r = report ?? { from: 9_001, head: 9_001, blocks: 1 }; report = undefined; return r }
    })
    const coldkey = await devPair('Charlie')
    const start = async (): Promise<BazaarNode> => await startNode({ role: 'arbiter', home, hotkey, coldkey, chain, now, logger: recordingLogger(() => false).logger })
    // the first start holds nothing: no scanFrom; its first read finds both, and it keeps its own
    // (closing the node waits for the read and what it keeps)
    await (await start()).close()
    expect(asked).toEqual(['catchUp'])
    const db = await EscrowDb.open(path.join(home, 'escrow'))
    try {
      expect(await db.escrows.get(ours.escrowId)).toMatchObject({ role: 'arbiter', openBlock: 6_543, unasked: true })
      expect(await db.escrows.get(other.escrowId)).toBeUndefined()
    } finally {
      await db.close()
    }
    const node = await start()
    try {
      expect(asked).toEqual(['catchUp', 'scanFrom 6543', 'catchUp'])
    } finally {
      await node.close()
    }
  })
})
