import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDevnet, defaultJob, type DevnetWorld } from '../../src/node/devnet.js'
import type { RentEvent, RentRequest } from '../../src/node/roles/renter.js'
import { waitFor } from '../helpers/wait.js'
import { decodeAddress } from '@polkadot/util-crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import { matchBid, AgreementStore } from '../../src/market/index.js'
import { negotiate } from '../../src/protocols/negotiate/index.js'
import { openAttestedSession } from '../../src/protocols/session/index.js'
import { runJobClient } from '../../src/protocols/job/index.js'
import { peerIdString } from '../../src/node/market-json.js'
import { peerOfAddrs } from '../../src/node/market-service.js'
import { ManualClock, type Clock } from '../../src/util/clock.js'

/**
 * The whole marketplace in one process (three suppliers with simulated enclaves, a renter, an
 * arbiter, the embedded ledger), driven through the renter's role as `bazaar rent` drives it.
 * Metering ticks every 500 ms.
 */
const TICK = 500
const H100_BEST_PRICE = 1_500_000_000n // Bob's h100 offer, the cheapest compatible one

describe('jobs end to end on a devnet', () => {
  let world: DevnetWorld

  beforeAll(async () => {
    world = await startDevnet({ tickMs: TICK })
  }, 120_000)

  afterAll(async () => { await world?.close() })

  const request = (over: Partial<RentRequest> & { script?: string } = {}): RentRequest => {
    const job = over.script != null ? { command: process.execPath, args: ['-e', over.script] } : defaultJob(2)
    return {
      gpu: 'h100',
      count: 1,
      maxPricePerGpuHour: 3_000_000_000n,
      durationS: 600,
      teeKinds: ['simulated'],
      regions: [],
      spec: { command: job.command, args: job.args, outputs: ['result.txt'], limits: { maxDurationMs: 60_000 } },
      outputDir: path.join(world.dir, `out-${Math.random().toString(16).slice(2)}`),
      ...over
    }
  }

  /** price × GPUs × metered ms, rounded down, as the escrow rules compute it */
  const amountFor = (price: bigint, ms: number): bigint => price * BigInt(ms) / 3_600_000n

  async function noCapacityLeaked (): Promise<void> {
    await waitFor(() => world.suppliers.every((s) => s.role.ledger.active().length === 0), 10_000, 'every supplier to release its capacity')
  }

  it('runs a real job: cheapest offer, attested session, outputs with their hashes, paid for metered time', async () => {
    const events: RentEvent[] = []
    const req = request()
    const s = await world.renter.role.rent(req, { onEvent: (e) => events.push(e) })
    expect(s.job.exitCode).toBe(0)
    expect(s.job.reason).toBe('exited')
    expect(s.attestation).toMatchObject({ ok: true, kind: 'simulated' })
    // the matching rule picked the cheapest compatible offer: Bob's h100
    const bob = world.suppliers.find((x) => x.name === 'Bob')!
    expect(s.supplier).toBe(bob.keys.hotkey.address)
    // the output arrived intact: its hash is recomputed here from the file
    const out = s.job.outputs.find((o) => o.name === 'result.txt')!
    const bytes = readFileSync(path.join(req.outputDir, 'result.txt'))
    expect(out.sha256).toBe(createHash('sha256').update(bytes).digest('hex'))
    expect(bytes.toString()).toMatch(/^primes below \d+: \d+\n$/)
    expect(events.some((e) => e.type === 'stdout' && e.text.includes('done:'))).toBe(true)

    // money: locked = price × duration; paid = price × metered time of the last acknowledged voucher
    expect(BigInt(s.escrow.locked)).toBe(H100_BEST_PRICE * 600n / 3600n)
    expect(BigInt(s.escrow.paid) + BigInt(s.escrow.refunded)).toBe(BigInt(s.escrow.locked))
    expect(s.vouchers).toBeGreaterThanOrEqual(2)
    const supplierLatest = await bob.escrowDb.vouchers.latest(s.escrow.id)
    expect(supplierLatest?.cumulative.toString()).toBe(s.escrow.paid)
    // each usage report covers the wall time since the job started, the first one at the start:
    // k acknowledged reports cover about k - 1 ticks
    const paid = BigInt(s.escrow.paid)
    expect(paid).toBeGreaterThanOrEqual(amountFor(H100_BEST_PRICE, (s.vouchers - 2) * TICK))
    expect(paid).toBeLessThanOrEqual(amountFor(H100_BEST_PRICE, s.vouchers * TICK + 250))
    expect(s.escrow.status).toBe('closed')
    expect(s.escrow.records.map((r) => r.kind)).toEqual(['open', 'close'])
    expect(s.escrow.records[1].blockNumber).toBeGreaterThan(s.escrow.records[0].blockNumber)
    // and the ledger agrees: the supplier's account holds what the close record paid it
    expect(await world.chain.balance(bob.keys.hotkey.address)).toBeGreaterThanOrEqual(paid)
    await noCapacityLeaked()
    // both nodes' Prometheus metrics saw it
    const renterMetrics = world.renter.node.metrics.render()
    expect(renterMetrics).toContain('bazaar_sessions_total{result="attested",role="renter"} 1')
    expect(renterMetrics).toContain('bazaar_attestation_verdicts_total{kind="simulated",result="ok"} 1')
    expect(renterMetrics).toMatch(new RegExp(`bazaar_vouchers_total\\{result="acknowledged",role="renter"\\} ${s.vouchers}\\n`))
    expect(bob.node.metrics.render()).toContain('bazaar_sessions_total{result="served",role="supplier"} 1')
    expect(bob.node.metrics.render()).toContain('bazaar_jobs_total{reason="exited",role="supplier"} 1')
  })

  it('a job that fails is settled for the time it ran', async () => {
    const s = await world.renter.role.rent(request({ script: 'setTimeout(() => { console.error("boom"); process.exit(3) }, 1200)' }))
    expect(s.job.exitCode).toBe(3)
    expect(s.escrow.status).toBe('closed')
    expect(BigInt(s.escrow.paid) + BigInt(s.escrow.refunded)).toBe(BigInt(s.escrow.locked))
    expect(BigInt(s.escrow.paid)).toBeLessThanOrEqual(amountFor(H100_BEST_PRICE, 1200 + TICK))
    await noCapacityLeaked()
  })

  it('a job cancelled by the renter stops, and the renter pays only the time used', async () => {
    const controller = new AbortController()
    const events: RentEvent[] = []
    const rent = world.renter.role.rent(request({ script: 'setInterval(() => console.log("working"), 200)' }), {
      signal: controller.signal,
      onEvent: (e) => { events.push(e); if (e.type === 'tick' && e.elapsedMs >= 1500) controller.abort() }
    })
    const s = await rent
    expect(s.job.reason).toBe('cancelled')
    expect(s.escrow.status).toBe('closed')
    expect(BigInt(s.escrow.paid) + BigInt(s.escrow.refunded)).toBe(BigInt(s.escrow.locked))
    expect(BigInt(s.escrow.paid)).toBeLessThan(amountFor(H100_BEST_PRICE, 4000))
    expect(BigInt(s.escrow.refunded)).toBeGreaterThan(0n)
    await noCapacityLeaked()
  })

  it('a job that outlives its budget is stopped and the whole budget is paid', async () => {
    // 10 s is the shortest rental the suppliers accept: the budget is price × 10 s, rounded up
    const s = await world.renter.role.rent(request({ durationS: 10, script: 'setInterval(() => {}, 1000)' }))
    expect(s.job.reason).toBe('budget')
    expect(BigInt(s.escrow.locked)).toBe((H100_BEST_PRICE * 10n + 3599n) / 3600n)
    expect(s.escrow.paid).toBe(s.escrow.locked)
    expect(s.escrow.refunded).toBe('0')
    await noCapacityLeaked()
  }, 60_000)

  it('a renter that never opens the escrow is refused before any job runs, and the GPUs come back', async () => {
    const renter = world.renter.node
    const { bid } = await renter.publishBid({
      id: 'no-escrow', gpu: 'h100', minMemoryMib: 0, count: 1, teeKinds: ['simulated'], regions: [],
      maxPricePerGpuHour: 3_000_000_000n, netuid: 1, durationS: 600, ttlS: 600
    })
    const match = matchBid(renter.market.book, bid)!
    const agreed = await negotiate(renter.host, peerOfAddrs(match.entry.offer.addrs).addrs.filter((a) => a.toString().includes(match.entry.meta.peer!)), {
      bid, offer: match.entry.offer, signer: renter.signer, store: new AgreementStore(renter.db), arbiter: new Uint8Array(decodeAddress(world.arbiter.address))
    })
    const supplier = world.suppliers.find((x) => x.keys.hotkey.publicKey.every((b, i) => b === agreed.terms.supplier[i]))!
    expect(supplier.role.ledger.get(agreed.id)?.committed).toBe(true)
    const enclave = peerIdFromString(peerIdString(agreed.terms.enclavePeer))
    const session = await openAttestedSession(renter.host, enclave, {
      agreementHash: agreed.hash, policy: { kinds: ['simulated'], allowSimulated: true, maxEvidenceAgeMs: 60_000 }, expectedPeer: enclave
    })
    // no escrow on chain for this agreement: the supplier ends the channel with its reason
    const err = await runJobClient(session.channel, { command: process.execPath, args: ['-e', '1'], gpuCount: 1, limits: { maxDurationMs: 10_000 } }, {
      outputDir: path.join(world.dir, 'out-no-escrow')
    }).then(() => undefined, (e: unknown) => e as { code?: string, remoteCode?: string })
    expect(err).toBeDefined()
    expect([err?.code, err?.remoteCode]).toContain('ESCROW_MISSING')
    expect(supplier.role.jobs.find((j) => j.agreementId === agreed.id)?.jobId).toBeUndefined()
    await noCapacityLeaked()
    await renter.cancelBid('no-escrow')
  })

  it('a supplier killed mid-job closes with the arbiter on its last stored voucher after it restarts', async () => {
    const bob = world.suppliers.find((x) => x.name === 'Bob')!
    let escrowId = ''
    const rent = world.renter.role.rent(request({ script: 'setInterval(() => console.log("working"), 200)' }), {
      onEvent: (e) => {
        if (e.type === 'escrow') escrowId = e.id
        // the supplier dies after a few acknowledged vouchers
        if (e.type === 'tick' && e.elapsedMs >= 1600 && bob.role.jobs.length > 0) void bob.role.stop()
      }
    })
    const s = await rent
    expect(s.job.reason).not.toBe('exited')
    const stored = await bob.escrowDb.vouchers.latest(escrowId)
    expect(stored).toBeDefined()
    // the supplier comes back on the same stores and finds the open escrow
    const restarted = await world.restartSupplier('Bob')
    await waitFor(async () => (await world.chain.get(escrowId))?.status === 'closed', 20_000, 'the escrow to be closed')
    const final = (await world.chain.get(escrowId))!
    const close = final.records.find((r) => r.kind === 'close')!
    const payouts = JSON.parse(close.remark.slice(close.remark.indexOf('{'))).payouts as Array<{ to: string, amount: string }>
    expect(payouts.find((p) => p.to === bob.keys.hotkey.address)?.amount).toBe(stored!.cumulative.toString())
    expect(payouts.reduce((a, p) => a + BigInt(p.amount), 0n)).toBe(final.terms.amount)
    expect(restarted.role.ledger.active()).toHaveLength(0)
    await noCapacityLeaked()
  }, 60_000)
})

/** an agreement made straight through negotiation (no escrow, no session), with a short start window */
async function agreeOnly (world: DevnetWorld, clock: Clock, id: string, startWindowMs: number): Promise<{ id: string, supplier: DevnetWorld['suppliers'][number], store: AgreementStore }> {
  const renter = world.renter.node
  const { bid } = await renter.publishBid({
    id, gpu: 'h100', minMemoryMib: 0, count: 1, teeKinds: ['simulated'], regions: [],
    maxPricePerGpuHour: 3_000_000_000n, netuid: 1, durationS: 600, ttlS: 600
  })
  await waitFor(() => matchBid(renter.market.book, bid) !== undefined, 10_000, 'a compatible offer in the renter\'s book')
  const match = matchBid(renter.market.book, bid)!
  const agreed = await negotiate(renter.host, peerOfAddrs(match.entry.offer.addrs).addrs.filter((a) => a.toString().includes(match.entry.meta.peer!)), {
    bid, offer: match.entry.offer, signer: renter.signer, store: new AgreementStore(renter.db), arbiter: new Uint8Array(decodeAddress(world.arbiter.address)), startWindowMs, clock
  })
  await renter.cancelBid(id)
  const supplier = world.suppliers.find((x) => x.keys.hotkey.publicKey.every((b, i) => b === agreed.terms.supplier[i]))!
  expect(supplier.role.ledger.get(agreed.id)?.committed).toBe(true)
  return { id: agreed.id, supplier, store: new AgreementStore(supplier.node.db) }
}
const statusOf = async (a: { id: string, store: AgreementStore }): Promise<string | undefined> => (await a.store.get(a.id))?.status

/**
 * Start windows on a devnet whose every node runs on one ManualClock: the test moves time past a
 * `startBy` instead of waiting for it. The supplier schedules an agreement's start timer once it
 * has read the committed record back (a moment after negotiation returns), so each wait below
 * advances the clock by nothing until the due timer has fired: it ends with the event, never on
 * elapsed time.
 */
describe('agreements and their start window on a devnet under a manual clock', () => {
  let world: DevnetWorld
  const clock = new ManualClock(Date.now())

  beforeAll(async () => {
    world = await startDevnet({ tickMs: TICK, clock })
  }, 120_000)

  afterAll(async () => { await world?.close() })

  /** the GPUs of agreement `a` are back: its start timer fired (one is due once the clock is past startBy) */
  const released = async (a: { id: string, supplier: DevnetWorld['suppliers'][number] }, what: string): Promise<void> => {
    await waitFor(async () => { await clock.advanceAsync(0); return a.supplier.role.ledger.get(a.id) === undefined }, 10_000, what)
  }

  it('an agreement no session starts by its startBy gives its GPUs back and is marked lapsed', async () => {
    const a = await agreeOnly(world, clock, 'start-late', 1500)
    expect(await statusOf(a)).toBe('active')
    // a millisecond short of startBy the GPUs are still held
    await clock.advanceAsync(1499)
    expect(a.supplier.role.ledger.get(a.id)?.committed).toBe(true)
    await clock.advanceAsync(1)
    await released(a, 'the GPUs back')
    await waitFor(async () => await statusOf(a) === 'lapsed', 5_000, 'the agreement lapsed')
  })

  it('a supplier restart keeps the GPUs of an agreement not yet started, until its startBy; one past it is lapsed', async () => {
    const kept = await agreeOnly(world, clock, 'start-kept', 6000)
    const gone = await agreeOnly(world, clock, 'start-gone', 1000)
    // one supplier down past the short agreement's startBy, then both restarted
    for (const s of new Set([kept.supplier.name, gone.supplier.name])) await world.suppliers.find((x) => x.name === s)!.role.stop()
    await clock.advanceAsync(1500)
    for (const s of new Set([kept.supplier.name, gone.supplier.name])) await world.restartSupplier(s)
    expect(await statusOf(gone)).toBe('lapsed')
    expect(gone.supplier.role.ledger.get(gone.id)).toBeUndefined()
    expect(kept.supplier.role.ledger.get(kept.id)?.committed).toBe(true)
    expect(await statusOf(kept)).toBe('active')
    // still held just before its startBy (1.5 s of its 6 s window have passed)
    await clock.advanceAsync(4499)
    expect(kept.supplier.role.ledger.get(kept.id)?.committed).toBe(true)
    await clock.advanceAsync(1)
    await released(kept, 'the kept agreement to give its GPUs back at its startBy')
    await waitFor(async () => await statusOf(kept) === 'lapsed', 5_000, 'the kept agreement lapsed')
    await waitFor(() => world.suppliers.every((s) => s.role.ledger.active().length === 0), 10_000, 'every supplier to release its capacity')
  }, 60_000)
})
