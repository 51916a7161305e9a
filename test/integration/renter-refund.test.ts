/**
 * A renter takes back what an escrow the supplier left open past its expiry still holds
 * (RenterRole.refundExpired), on a persisted embedded ledger with a real arbiter: a refund of
 * everything, or, where the arbiter already co-signed the supplier's close on a voucher, that close.
 * Money is checked with the ledger's own balances.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Arbiter, type ArbiterClient } from '../../src/escrow/arbiter/service.js'
import { signArbiterRequest } from '../../src/escrow/arbiter/request-signature.js'
import { EmbeddedLedger } from '../../src/escrow/chain/embedded/ledger.js'
import { closeSettlement } from '../../src/escrow/rules/settlement.js'
import { EscrowDb } from '../../src/escrow/store/db.js'
import { MemoryVoucherStore } from '../../src/escrow/store/memory.js'
import { REFUND_GRACE_MS, RenterRole } from '../../src/node/roles/renter/role.js'
import { silentLogger } from '../../src/node/logger.js'
import { Registry } from '../../src/node/metrics.js'
import { ManualClock } from '../../src/util/clock.js'
import { waitFor } from '../helpers/wait.js'
import { escrowId, NETUID, parties, signer, T0, tempDir, terms as mkTerms } from '../unit/escrow/fixtures.js'

const p = await parties()
const FUNDS = 5_000_000_000n
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

async function world (opts: { arbiter?: (real: Arbiter) => ArbiterClient, gates?: Map<string, Promise<void>>, settleWaitMs?: number } = {}): Promise<{ clock: ManualClock, ledger: EmbeddedLedger, arbiter: Arbiter, role: RenterRole, db: EscrowDb, reads: () => number, readIds: string[] }> {
  const clock = new ManualClock(T0)
  const dirs = await Promise.all([tempDir(), tempDir()])
  cleanups.push(...dirs.map((d) => d.cleanup))
  const ledger = await EmbeddedLedger.open({ netuid: NETUID, path: dirs[0].path, clock, genesis: [{ address: p.payer.address, amount: FUNDS }] })
  const db = await EscrowDb.open(dirs[1].path)
  cleanups.push(async () => { await ledger.close(); await db.close() })
  const arbiter = new Arbiter({ chain: ledger, key: p.arbiter, clock, vouchers: new MemoryVoucherStore() })
  let reads = 0
  const readIds: string[] = []
  const chain = Object.create(ledger) as EmbeddedLedger
  // a read of an escrow named in `gates` waits for its gate (a chain slow on that escrow)
  chain.get = async (...a) => { reads++; readIds.push(a[0]); await opts.gates?.get(a[0]); return await ledger.get(...a) }
  const node = { clock, metrics: new Registry(), signer: { hotkey: p.payer }, config: { chain: { netuid: NETUID } } }
  const role = new RenterRole({
    node: node as never,
    chain,
    escrowDb: db,
    agreements: {} as never,
    account: p.payer,
    arbiterAddress: p.arbiter.address,
    arbiter: opts.arbiter?.(arbiter) ?? arbiter,
    policy: {} as never,
    logger: silentLogger,
    ...(opts.settleWaitMs != null ? { settleWaitMs: opts.settleWaitMs } : {})
  })
  return { clock, ledger, arbiter, role, db, reads: () => reads, readIds }
}

describe('a renter refunds escrows the supplier left open past their expiry', () => {
  it('not before expiry and its grace; then everything comes back once, and a settled escrow is not asked about again', async () => {
    const w = await world()
    const t = mkTerms(p)
    await w.role.escrow.open(t)
    w.clock.set(t.expiresAt - 1)
    expect(await w.role.refundExpired()).toEqual([])
    w.clock.set(t.expiresAt + REFUND_GRACE_MS - 1)
    expect(await w.role.refundExpired()).toEqual([])
    // the local expiry alone decides that it is too early to refund: each look only read whether
    // it had settled meanwhile (one read each), and nothing was submitted
    expect(w.reads()).toBe(2)
    expect((await w.ledger.get(t.escrowId))).toMatchObject({ status: 'open' })
    w.clock.set(t.expiresAt + REFUND_GRACE_MS)
    expect(await w.role.refundExpired()).toEqual([{ escrowId: t.escrowId, kind: 'refund', paid: '0', refunded: t.amount.toString(), executed: true }])
    expect(await w.ledger.balance(p.payer.address)).toBe(FUNDS)
    expect((await w.ledger.get(t.escrowId))).toMatchObject({ status: 'refunded', balance: 0n })
    const before = w.reads()
    expect(await w.role.refundExpired()).toEqual([])
    expect(w.reads()).toBe(before)
  })

  it('approves the close on the supplier\'s voucher the arbiter co-signed: the supplier is paid, the rest comes back, the escrow is empty', async () => {
    const w = await world()
    const t = mkTerms(p)
    await w.role.escrow.open(t)
    const voucher = signer().sign({ escrowId: t.escrowId, cumulative: 300_000_000n, sequence: 4n })
    // the supplier's close with the arbiter: the arbiter approved, the supplier died before its own approval
    expect(await w.arbiter.request(signArbiterRequest({ terms: t, settlement: closeSettlement(t, voucher, 'voucher'), voucher }, p.payee))).toEqual({ approved: true, executed: false })
    w.clock.set(t.expiresAt + REFUND_GRACE_MS)
    expect(await w.role.refundExpired()).toEqual([{ escrowId: t.escrowId, kind: 'voucher-close', paid: '300000000', refunded: '700000000', executed: true }])
    expect(await w.ledger.balance(p.payee.address)).toBe(300_000_000n)
    expect(await w.ledger.balance(p.payer.address)).toBe(FUNDS - 300_000_000n)
    expect((await w.ledger.get(t.escrowId))).toMatchObject({ status: 'closed', balance: 0n })
  })

  it('an arbiter that cannot be reached leaves the escrow for the next look, which refunds it; escrows this node is not the payer of are left alone', async () => {
    let down = true
    const w = await world({ arbiter: (real) => ({ request: async (req, o) => { if (down) throw new Error('unreachable'); return await real.request(req, o) } }) })
    const t = mkTerms(p)
    await w.role.escrow.open(t)
    // an escrow this node only takes part in as the payee (funded by another payer)
    const other = mkTerms(p, { escrowId: escrowId(2), payer: p.other.address, payee: p.payer.address })
    await w.db.escrows.put({ terms: other, role: 'payee', createdAt: T0 })
    w.clock.set(t.expiresAt + REFUND_GRACE_MS)
    const first = await w.role.refundExpired()
    expect(first).toHaveLength(1)
    expect(first[0]).toMatchObject({ escrowId: t.escrowId, error: expect.any(String) })
    expect((await w.ledger.get(t.escrowId))?.status).toBe('open')
    down = false
    expect(await w.role.refundExpired()).toMatchObject([{ escrowId: t.escrowId, kind: 'refund', executed: true }])
    expect(await w.ledger.balance(p.payer.address)).toBe(FUNDS)
  })
})

describe('a restarted renter resumes the escrows it left open side by side', () => {
  it('one escrow held up (a job taken up again, a slow chain) does not hold up the settlement of the others', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => { release = resolve })
    const a = mkTerms(p)
    const b = mkTerms(p, { escrowId: escrowId(3) })
    const w = await world({ gates: new Map([[a.escrowId, gate]]), settleWaitMs: 0 })
    await w.role.escrow.open(a)
    await w.role.escrow.open(b)
    const resumed = w.role.resume()
    // b is read and approved while a's read still waits
    await waitFor(async () => (await w.ledger.pending(b.escrowId)).length === 1, 10_000, 'the renter\'s approval of b\'s close')
    expect(w.readIds.filter((id) => id === a.escrowId)).toHaveLength(1)
    release()
    const out = await resumed
    expect(out.map((r) => r.escrowId).sort()).toEqual([a.escrowId, b.escrowId].sort())
    // no supplier approved: both stay open, each with the renter's approval of its close on no voucher
    expect(out.map((r) => r.status)).toEqual(['open', 'open'])
    expect((await w.ledger.pending(a.escrowId)).map((x) => x.approvals)).toEqual([[p.payer.address]])
  })
})
