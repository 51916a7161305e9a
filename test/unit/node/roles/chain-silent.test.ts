import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AgreementStore } from '../../../../src/market/agreement/store.js'
import { agreementHash, buildTerms, encodeTerms } from '../../../../src/market/agreement/terms.js'
import { hex } from '../../../../src/market/book/keys.js'
import { CapacityLedger } from '../../../../src/jobs/capacity.js'
import { ESCROW_CHECK_RETRY_MS, ESCROW_CHECK_WINDOW_MS, SessionServer } from '../../../../src/node/roles/supplier/sessions.js'
import { SupplierJobs } from '../../../../src/node/roles/supplier/jobs.js'
import { SupplierSettlement } from '../../../../src/node/roles/supplier/settlement.js'
import type { SupplierJobRecord } from '../../../../src/node/roles/supplier/types.js'
import { EscrowSweeper } from '../../../../src/node/services/escrow-sweeper.js'
import { roleMetrics } from '../../../../src/node/roles/metrics.js'
import { Registry } from '../../../../src/node/metrics.js'
import { silentLogger } from '../../../../src/node/logger.js'
import { SEEN_LAG_MS, SubtensorChain } from '../../../../src/escrow/chain/subtensor/adapter.js'
import { SubtensorError } from '../../../../src/escrow/chain/subtensor/errors.js'
import { escrowIdOfAgreement, type ChainPort, type EscrowOnChain, type EscrowTermsOnChain } from '../../../../src/escrow/index.js'
import { encodeSs58 } from '../../../../src/util/ss58.js'
import { SS58_PREFIX } from '../../../../src/escrow/constants.js'
import { READ_TIMEOUT_MS } from '../../../../src/escrow/chain/subtensor/submit.js'
import type { AccountPair } from '../../../../src/util/sr25519.js'
import type { FramedChannel } from '../../../../src/protocols/framed.js'
import { ManualClock } from '../../../../src/util/clock.js'
import { T0, mkBid, mkOffer } from '../../market/book-fixtures.js'
import { signer } from '../../escrow/fixtures.js'
import { drive, silentApi } from '../../../helpers/silent-chain.js'
import { waitFor } from '../../../helpers/wait.js'

/**
 * The node's waits on the chain when the subtensor node keeps its socket open and stops answering:
 * the real adapter over an ApiPromise whose block scan never answers (helpers/silent-chain.ts), on
 * the roles' ManualClock. Each wait ends after the adapter's read deadline (CHAIN_TIMEOUT) or at
 * once on the role's abort, and goes on by the path a failed chain read already takes; the
 * session's escrow check reads again within its window before it refuses.
 */
let dir: string
let db: Level<string, string>

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bazaar-chain-silent-'))
  db = new Level(join(dir, 'db'))
  await db.open()
})
afterAll(async () => {
  await db.close()
  rmSync(dir, { recursive: true, force: true })
})

/**
 * a subtensor port whose node answers nothing about blocks: every escrow lookup scans, and waits;
 * `asking()`: whether the scan's read is in flight (its deadline then runs on the clock); `asked()`:
 * how many scans asked
 */
function silentChain (clock: ManualClock): SubtensorChain & { asking: () => boolean, asked: () => number } {
  const api = silentApi(new Set(['chain_getFinalizedHead']))
  const asked = (): number => api.asked.filter((m) => m === 'chain_getFinalizedHead').length
  return Object.assign(new SubtensorChain(api, { clock, fromBlock: 1 }, false), { asking: () => asked() > 0, asked })
}

/**
 * A supplier's session server with one committed agreement (one GPU), the channel it refuses on.
 * `get`: the chain's escrow read in place of the silent adapter's (which it may call); `startWindowMs`:
 * the agreement's `startBy` from T0. `tracked` lists the escrows the check let through: past the
 * check, the escrow store stops the session (PAST_THE_CHECK), where a job would start. `reads()`:
 * the escrow check's chain reads so far.
 */
async function sessionWorld (opts: { get?: (silent: SubtensorChain, e: EscrowOnChain) => ChainPort['get'], startWindowMs?: number, seenLagMs?: number } = {}): Promise<{ clock: ManualClock, ledger: CapacityLedger, server: SessionServer, chain: ReturnType<typeof silentChain>, id: string, channel: FramedChannel, aborted: Array<{ code?: string }>, refusals: () => number, served: () => number, tracked: EscrowTermsOnChain[], reads: () => number }> {
  const clock = new ManualClock(T0)
  const ledger = new CapacityLedger([{ index: 0, model: 'h100-80gb' }], { clock })
  const agreements = new AgreementStore(db.sublevel(`s${Math.random()}`))
  const offer = mkOffer({ gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 1 }], createdAt: BigInt(T0), expiresAt: BigInt(T0 + 3_600_000) })
  const bid = mkBid({ id: 'silent', requirements: { gpu: 'h100', minMemoryMib: 0, count: 1, teeKinds: [], regions: [] }, createdAt: BigInt(T0), expiresAt: BigInt(T0 + 3_600_000) })
  const agreed = buildTerms(bid, offer, { now: T0, arbiter: new Uint8Array(32).fill(7), startWindowMs: opts.startWindowMs ?? 600_000 })
  const terms = encodeTerms(agreed)
  const id = hex(agreementHash(terms))
  await agreements.put({ terms, renterSignature: new Uint8Array(64), supplierSignature: new Uint8Array(64) }, 'supplier', 'active', T0)
  ledger.hold(id, 'h100-80gb', 1, 600_000)
  ledger.commit(id)
  const registry = new Registry()
  const metrics = roleMetrics(registry)
  const chain = silentChain(clock)
  const escrowId = escrowIdOfAgreement(id)
  // the escrow the agreement's renter opened, in order
  const amount = agreed.budget
  const escrow: EscrowOnChain = {
    terms: { escrowId, agreementHash: escrowId, payer: encodeSs58(agreed.renter, SS58_PREFIX), payee: PAYEE, arbiter: encodeSs58(agreed.escrow!.arbiter, SS58_PREFIX), amount, netuid: agreed.netuid, voucherKey: '0x' + '66'.repeat(32), expiresAt: Number(agreed.escrow!.expiresAt) },
    asset: { kind: 'tao', netuid: agreed.netuid, reason: 'test' },
    account: PAYEE,
    status: 'open',
    balance: amount,
    records: []
  }
  const tracked: EscrowTermsOnChain[] = []
  const get = opts.get?.(chain, escrow) ?? (async (escrowId, o) => await chain.get(escrowId, o))
  let reads = 0
  const server = new SessionServer({
    clock,
    ledger,
    agreements,
    chain: { get: async (escrowId, o) => { reads++; return await get(escrowId, o) }, seenLagMs: opts.seenLagMs },
    escrow: { track: async (t) => { tracked.push(t); return {} as never } },
    escrowDb: { escrows: { get: async () => { throw Object.assign(new Error('past the escrow check'), { code: 'PAST_THE_CHECK' }) } } } as never,
    jobs: new SupplierJobs(),
    lifecycle: { started: () => {}, lapse: async () => {} } as never,
    offers: { refresh: () => {} } as never,
    settlement: {} as never,
    metrics,
    logger: silentLogger
  }, { provider: {} as never, runtime: {} as never, workRoot: dir, payee: PAYEE, tickMs: 1000, graceMs: 3000 })
  const aborted: Array<{ code?: string }> = []
  const channel = { abort: (err: Error) => { aborted.push(err as { code?: string }) } } as unknown as FramedChannel
  const count = (result: string) => (): number => {
    const text = registry.render()
    const line = text.split('\n').find((l) => l.startsWith('bazaar_sessions_total') && l.includes(`"${result}"`))
    return line == null ? 0 : Number(line.split(' ').pop())
  }
  return { clock, ledger, server, chain, id, channel, aborted, refusals: count('escrow-refused'), served: count('served'), tracked, reads: () => reads }
}

const PAYEE = '5C4hrfjw9DjXZTzV3MwzrrAr9P1MJhSrvWGWqi1eSuyUpnhM'

/** a session to its end on the clock, once its check reads the chain (the agreement's read before it is real I/O) */
async function serveToEnd (w: Awaited<ReturnType<typeof sessionWorld>>): Promise<{ ok: void } | { err: unknown }> {
  const served = w.server.serve(w.channel, w.id, new AbortController().signal)
  await waitFor(() => w.reads() > 0, 10_000, 'the escrow check\'s chain read')
  return await drive(w.clock, served)
}

/** the check's first read never answered: it failed with CHAIN_TIMEOUT after the read deadline */
function firstSilent (answer: (e: EscrowOnChain) => EscrowOnChain | undefined) {
  return (silent: SubtensorChain, e: EscrowOnChain): ChainPort['get'] => {
    let calls = 0
    return async (escrowId, o) => ++calls === 1 ? await silent.get(escrowId, o) : answer(e)
  }
}

describe('the session\'s escrow check on a chain that stopped answering', () => {
  it('reads again after a read the node never answered, and refuses with CHAIN_TIMEOUT only when its window is spent: the GPUs go back', async () => {
    const w = await sessionWorld()
    const served = w.server.serve(w.channel, w.id, new AbortController().signal)
    let done = false
    void served.finally(() => { done = true })
    // the check reads the agreement from its store first (real I/O): the chain's read comes after
    await waitFor(() => w.chain.asking(), 10_000, 'the escrow check\'s chain read')
    // the first read's deadline passes: the check reads again, the renter waits, the GPUs are held
    await w.clock.advanceAsync(READ_TIMEOUT_MS)
    expect(done).toBe(false)
    await w.clock.advanceAsync(ESCROW_CHECK_WINDOW_MS - READ_TIMEOUT_MS - 1)
    expect(done).toBe(false)
    expect(w.ledger.get(w.id)?.committed).toBe(true)
    expect(w.chain.asked()).toBe(2)
    // the window's end ends the second read in flight
    await w.clock.advanceAsync(1)
    await served
    expect(w.aborted.map((e) => e.code)).toEqual(['CHAIN_TIMEOUT'])
    expect(w.ledger.get(w.id)).toBeUndefined()
    expect(w.refusals()).toBe(1)
    expect(w.clock.pending).toBe(0)
  })

  it('a read the node never answered, then an answer: the session goes on past the check', async () => {
    const w = await sessionWorld({ get: firstSilent((e) => e) })
    const r = await serveToEnd(w)
    expect(r).toMatchObject({ err: { code: 'PAST_THE_CHECK' } })
    expect(w.aborted).toEqual([])
    expect(w.tracked.map((t) => t.agreementHash)).toEqual([escrowIdOfAgreement(w.id)])
    expect(w.served()).toBe(1)
    expect(w.refusals()).toBe(0)
    // one read deadline and the first back-off
    expect(w.clock.now()).toBe(T0 + READ_TIMEOUT_MS + ESCROW_CHECK_RETRY_MS)
    expect(w.clock.pending).toBe(0)
  })

  it('the agreement\'s startBy ends the window early: refused with CHAIN_TIMEOUT there, before the read\'s own deadline', async () => {
    const w = await sessionWorld({ startWindowMs: 20_000 })
    const r = await serveToEnd(w)
    expect(r).toEqual({ ok: undefined })
    expect(w.aborted.map((e) => e.code)).toEqual(['CHAIN_TIMEOUT'])
    expect(w.clock.now()).toBe(T0 + 20_000)
    expect(w.ledger.get(w.id)).toBeUndefined()
    expect(w.clock.pending).toBe(0)
  })

  it.each([
    ['no escrow', () => undefined, 'ESCROW_MISSING'],
    ['another payee', (e: EscrowOnChain) => ({ ...e, terms: { ...e.terms, payee: e.terms.payer } }), 'ESCROW_PAYEE_MISMATCH'],
    ['less than the budget', (e: EscrowOnChain) => ({ ...e, terms: { ...e.terms, amount: e.terms.amount - 1n } }), 'ESCROW_AMOUNT_MISMATCH']
  ])('the chain\'s answer after a timeout is not asked again: %s is refused at once', async (_name, answer, code) => {
    const w = await sessionWorld({ get: firstSilent(answer) })
    const r = await serveToEnd(w)
    expect(r).toEqual({ ok: undefined })
    expect(w.aborted.map((e) => e.code)).toEqual([code])
    expect(w.reads()).toBe(2)
    expect(w.clock.now()).toBe(T0 + READ_TIMEOUT_MS + ESCROW_CHECK_RETRY_MS)
    expect(w.ledger.get(w.id)).toBeUndefined()
  })

  it('a failure that is not the chain\'s silence is not retried (CHAIN_CHANGED)', async () => {
    const w = await sessionWorld({ get: () => async () => { throw new SubtensorError('CHAIN_CHANGED', 'another chain') } })
    const r = await serveToEnd(w)
    expect(r).toEqual({ ok: undefined })
    expect(w.aborted.map((e) => e.code)).toEqual(['CHAIN_CHANGED'])
    expect(w.reads()).toBe(1)
    expect(w.clock.now()).toBe(T0)
  })

  it('a stop (the role\'s abort) ends a check in flight at once: the session ends and its GPUs go back', async () => {
    const w = await sessionWorld()
    const stop = new AbortController()
    const served = w.server.serve(w.channel, w.id, stop.signal)
    await waitFor(() => w.chain.asking(), 10_000, 'the escrow check\'s chain read')
    await w.clock.advanceAsync(1_000)
    stop.abort()
    await served
    expect(w.aborted.map((e) => e.code)).toEqual(['ABORTED'])
    expect(w.ledger.get(w.id)).toBeUndefined()
    expect(w.clock.pending).toBe(0)
  })

  it('a stop while the check waits to read again ends it at once', async () => {
    const w = await sessionWorld()
    const stop = new AbortController()
    const served = w.server.serve(w.channel, w.id, stop.signal)
    await waitFor(() => w.chain.asking(), 10_000, 'the escrow check\'s chain read')
    // the first read's deadline: the check now waits out its back-off
    await w.clock.advanceAsync(READ_TIMEOUT_MS)
    expect(w.chain.asked()).toBe(1)
    stop.abort()
    await served
    expect(w.aborted.map((e) => e.code)).toEqual(['ABORTED'])
    expect(w.ledger.get(w.id)).toBeUndefined()
    expect(w.chain.asked()).toBe(1)
    expect(w.clock.pending).toBe(0)
  })
})

describe('the session\'s escrow check on a node that does not hold the escrow yet', () => {
  /** the chain holds no escrow for the first `absent` reads, then the renter's */
  const lateEscrow = (absent: number) => (_silent: SubtensorChain, e: EscrowOnChain): ChainPort['get'] => {
    let calls = 0
    return async () => ++calls <= absent ? undefined : e
  }

  it('an escrow this node finalizes a few seconds after the renter\'s node is found: the session goes on', async () => {
    const w = await sessionWorld({ get: lateEscrow(2), seenLagMs: SEEN_LAG_MS })
    const r = await serveToEnd(w)
    expect(r).toMatchObject({ err: { code: 'PAST_THE_CHECK' } })
    expect(w.aborted).toEqual([])
    expect(w.tracked).toHaveLength(1)
    expect(w.refusals()).toBe(0)
    // two back-offs: 1 s, then 2 s
    expect(w.reads()).toBe(3)
    expect(w.clock.now()).toBe(T0 + 3_000)
    expect(w.clock.pending).toBe(0)
  })

  it('an escrow still absent after the lag is ESCROW_MISSING: the GPUs go back', async () => {
    const w = await sessionWorld({ get: lateEscrow(Infinity), seenLagMs: SEEN_LAG_MS })
    const r = await serveToEnd(w)
    expect(r).toEqual({ ok: undefined })
    expect(w.aborted.map((e) => e.code)).toEqual(['ESCROW_MISSING'])
    // reads at 0, 1, 3, 7, 15 and 23 s: the next back-off (8 s) would pass the 24 s lag
    expect(w.reads()).toBe(6)
    expect(w.clock.now()).toBe(T0 + 23_000)
    expect(w.ledger.get(w.id)).toBeUndefined()
    expect(w.refusals()).toBe(1)
    expect(w.clock.pending).toBe(0)
  })

  it('the agreement\'s startBy bounds the lag too', async () => {
    const w = await sessionWorld({ get: lateEscrow(Infinity), seenLagMs: SEEN_LAG_MS, startWindowMs: 5_000 })
    const r = await serveToEnd(w)
    expect(r).toEqual({ ok: undefined })
    expect(w.aborted.map((e) => e.code)).toEqual(['ESCROW_MISSING'])
    expect(w.clock.now()).toBe(T0 + 3_000)
  })

  it('a chain whose every node reads what was written (no lag) refuses an absent escrow at once', async () => {
    const w = await sessionWorld({ get: lateEscrow(1) })
    const r = await serveToEnd(w)
    expect(r).toEqual({ ok: undefined })
    expect(w.aborted.map((e) => e.code)).toEqual(['ESCROW_MISSING'])
    expect(w.reads()).toBe(1)
    expect(w.clock.now()).toBe(T0)
  })
})

describe('the supplier\'s settlement on a chain that stopped answering', () => {
  it('the wait for the renter\'s cooperative approval fails with CHAIN_TIMEOUT, and the voucher is claimed with the arbiter', async () => {
    const clock = new ManualClock(T0)
    const closes: string[] = []
    const id = '0x' + '55'.repeat(32)
    const settlement = new SupplierSettlement({
      escrow: { close: async (_id, o = {}) => { closes.push(`${o.mode ?? 'cooperative'}${o.ifApproved === true ? ' if approved' : ''}`); return { executed: o.mode === 'arbiter' } as never } },
      chain: silentChain(clock),
      vouchers: { latest: async () => signer().sign({ escrowId: id, cumulative: 5_000n, sequence: 3n }) },
      clock,
      metrics: roleMetrics(new Registry()),
      logger: silentLogger
    }, { settleWaitMs: 15_000 })
    const record: SupplierJobRecord = { agreementId: id.slice(2) }
    const r = await drive(clock, settlement.settle(id, record))
    expect(r).toEqual({ ok: undefined })
    // no renter's approval pending to execute instead
    expect(closes).toEqual(['cooperative', 'cooperative if approved', 'arbiter'])
    expect(record.settledBy).toBe('arbiter')
    // one read deadline, not the settle wait's poll: the wait's first read never answered
    expect(clock.now()).toBe(T0 + READ_TIMEOUT_MS)
  })
})

describe('the escrow sweeper on a chain that stopped answering', () => {
  it('stop() ends a sweep stuck on the chain at once', async () => {
    const clock = new ManualClock(T0)
    const chain = silentChain(clock)
    const sweeper = new EscrowSweeper({ escrow: { sweep: async (o = {}) => await chain.sweep({} as AccountPair, o) }, clock, logger: silentLogger, intervalMs: 600_000 })
    await sweeper.start()
    await clock.advanceAsync(600_000)
    // the sweep is waiting on the chain's block scan
    expect(chain.asking()).toBe(true)
    await sweeper.stop()
    expect(clock.pending).toBe(0)
  })
})
