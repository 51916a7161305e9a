import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AgreementStore } from '../../../../src/market/agreement/store.js'
import { agreementHash, buildTerms, encodeTerms } from '../../../../src/market/agreement/terms.js'
import { hex } from '../../../../src/market/book/keys.js'
import { CapacityLedger } from '../../../../src/jobs/capacity.js'
import { SessionServer } from '../../../../src/node/roles/supplier/sessions.js'
import { SupplierJobs } from '../../../../src/node/roles/supplier/jobs.js'
import { SupplierSettlement } from '../../../../src/node/roles/supplier/settlement.js'
import type { SupplierJobRecord } from '../../../../src/node/roles/supplier/types.js'
import { EscrowSweeper } from '../../../../src/node/services/escrow-sweeper.js'
import { roleMetrics } from '../../../../src/node/roles/metrics.js'
import { Registry } from '../../../../src/node/metrics.js'
import { silentLogger } from '../../../../src/node/logger.js'
import { SubtensorChain } from '../../../../src/escrow/chain/subtensor/adapter.js'
import { READ_TIMEOUT_MS } from '../../../../src/escrow/chain/subtensor/submit.js'
import type { CloseMode } from '../../../../src/escrow/service.js'
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
 * once on the role's abort, and goes on by the path a failed chain read already takes.
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
 * `asking()`: whether the scan's read is in flight (its deadline then runs on the clock)
 */
function silentChain (clock: ManualClock): SubtensorChain & { asking: () => boolean } {
  const api = silentApi(new Set(['chain_getFinalizedHead']))
  return Object.assign(new SubtensorChain(api, { clock, fromBlock: 1 }, false), { asking: () => api.asked.includes('chain_getFinalizedHead') })
}

/** a supplier's session server with one committed agreement (one GPU), the channel it refuses on */
async function sessionWorld (): Promise<{ clock: ManualClock, ledger: CapacityLedger, server: SessionServer, chain: ReturnType<typeof silentChain>, id: string, channel: FramedChannel, aborted: Array<{ code?: string }>, refusals: () => number }> {
  const clock = new ManualClock(T0)
  const ledger = new CapacityLedger([{ index: 0, model: 'h100-80gb' }], { clock })
  const agreements = new AgreementStore(db.sublevel(`s${Math.random()}`))
  const offer = mkOffer({ gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 1 }], createdAt: BigInt(T0), expiresAt: BigInt(T0 + 3_600_000) })
  const bid = mkBid({ id: 'silent', requirements: { gpu: 'h100', minMemoryMib: 0, count: 1, teeKinds: [], regions: [] }, createdAt: BigInt(T0), expiresAt: BigInt(T0 + 3_600_000) })
  const terms = encodeTerms(buildTerms(bid, offer, { now: T0, arbiter: new Uint8Array(32).fill(7), startWindowMs: 600_000 }))
  const id = hex(agreementHash(terms))
  await agreements.put({ terms, renterSignature: new Uint8Array(64), supplierSignature: new Uint8Array(64) }, 'supplier', 'active', T0)
  ledger.hold(id, 'h100-80gb', 1, 600_000)
  ledger.commit(id)
  const registry = new Registry()
  const metrics = roleMetrics(registry)
  const chain = silentChain(clock)
  const server = new SessionServer({
    clock,
    ledger,
    agreements,
    chain,
    escrow: { track: async () => ({}) as never },
    escrowDb: {} as never,
    jobs: new SupplierJobs(),
    lifecycle: { started: () => {}, lapse: async () => {} } as never,
    offers: { refresh: () => {} } as never,
    settlement: {} as never,
    metrics,
    logger: silentLogger
  }, { provider: {} as never, runtime: {} as never, workRoot: dir, payee: '5C4hrfjw9DjXZTzV3MwzrrAr9P1MJhSrvWGWqi1eSuyUpnhM', tickMs: 1000, graceMs: 3000 })
  const aborted: Array<{ code?: string }> = []
  const channel = { abort: (err: Error) => { aborted.push(err as { code?: string }) } } as unknown as FramedChannel
  const refusals = (): number => {
    const text = registry.render()
    const line = text.split('\n').find((l) => l.startsWith('bazaar_sessions_total') && l.includes('escrow-refused'))
    return line == null ? 0 : Number(line.split(' ').pop())
  }
  return { clock, ledger, server, chain, id, channel, aborted, refusals }
}

describe('the session\'s escrow check on a chain that stopped answering', () => {
  it('answers the renter with CHAIN_TIMEOUT once the adapter\'s read deadline passes, and the GPUs go back', async () => {
    const w = await sessionWorld()
    const served = w.server.serve(w.channel, w.id, new AbortController().signal)
    let done = false
    void served.finally(() => { done = true })
    // the check reads the agreement from its store first (real I/O): the chain's read comes after
    await waitFor(() => w.chain.asking(), 10_000, 'the escrow check\'s chain read')
    await w.clock.advanceAsync(READ_TIMEOUT_MS - 1)
    // the renter waits, the GPUs are held: the check has not answered yet
    expect(done).toBe(false)
    expect(w.ledger.get(w.id)?.committed).toBe(true)
    await w.clock.advanceAsync(1)
    await served
    expect(w.aborted.map((e) => e.code)).toEqual(['CHAIN_TIMEOUT'])
    expect(w.ledger.get(w.id)).toBeUndefined()
    expect(w.refusals()).toBe(1)
    expect(w.clock.pending).toBe(0)
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
})

describe('the supplier\'s settlement on a chain that stopped answering', () => {
  it('the wait for the renter\'s cooperative approval fails with CHAIN_TIMEOUT, and the voucher is claimed with the arbiter', async () => {
    const clock = new ManualClock(T0)
    const closes: CloseMode[] = []
    const id = '0x' + '55'.repeat(32)
    const settlement = new SupplierSettlement({
      escrow: { close: async (_id, o = {}) => { closes.push(o.mode ?? 'cooperative'); return { executed: o.mode === 'arbiter' } as never } },
      chain: silentChain(clock),
      vouchers: { latest: async () => signer().sign({ escrowId: id, cumulative: 5_000n, sequence: 3n }) },
      clock,
      metrics: roleMetrics(new Registry()),
      logger: silentLogger
    }, { settleWaitMs: 15_000 })
    const record: SupplierJobRecord = { agreementId: id.slice(2) }
    const r = await drive(clock, settlement.settle(id, record))
    expect(r).toEqual({ ok: undefined })
    expect(closes).toEqual(['cooperative', 'arbiter'])
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
