import { createHash } from 'node:crypto'
import type { EmbeddedLedger } from '../../src/escrow/index.js'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDevnet, defaultJob, devKeys, DEVNET_ACCOUNTS, type DevnetWorld } from '../../src/node/devnet.js'
import type { RentEvent, RentRequest, RentSummary } from '../../src/node/roles/renter.js'
import { SETTLE_POLL_MS } from '../../src/node/roles/settle-wait.js'
import { waitFor } from '../helpers/wait.js'
import { decodeAddress } from '@polkadot/util-crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import { matchBid, AgreementStore, type NegotiationError } from '../../src/market/index.js'
import { negotiate, signWithdraw, withdrawAgreement, type NegotiatedAgreement } from '../../src/protocols/negotiate/index.js'
import { MessageSigner } from '../../src/market/signing/index.js'
import { devPair } from '../helpers/keys.js'
import { openAttestedSession } from '../../src/protocols/session/index.js'
import { runJobClient } from '../../src/protocols/job/index.js'
import { peerIdString } from '../../src/node/market-json.js'
import { peerOfAddrs } from '../../src/node/market-service.js'
import { ManualClock, type Clock } from '../../src/util/clock.js'
import { DEFAULT_START_WINDOW_MS } from '../../src/market/constants.js'
import { LATE_OPEN_LOOK_MS } from '../../src/node/roles/renter/role.js'
import type { AttestationPolicy } from '../../src/tee/index.js'
import { decodeRecord } from '../../src/escrow/chain/records.js'
import { JobCgroups } from '../../src/jobs/index.js'

/**
 * The whole marketplace in one process (three suppliers with simulated enclaves, a renter, an
 * arbiter, the embedded ledger), driven through the renter's role as `bazaar rent` drives it.
 * Metering ticks every 500 ms.
 */
const TICK = 500
const H100_BEST_PRICE = 1_500_000_000n // Bob's h100 offer, the cheapest compatible one

/** price × GPUs × metered ms, rounded down, as the escrow rules compute it */
const amountFor = (price: bigint, ms: number): bigint => price * BigInt(ms) / 3_600_000n

/**
 * A job that does real work and writes an output file once `flag` exists: the primes below 200,000
 * (17,984 of them), counted by trial division.
 */
const PRIME_JOB = (flag: string): string => `
const fs = require('node:fs')
console.log('up')
const t = setInterval(() => {
  if (!fs.existsSync(${JSON.stringify(flag)})) return
  clearInterval(t)
  const N = 200000
  let found = 0
  for (let n = 2; n < N; n++) { let p = true; for (let d = 2; d * d <= n; d++) if (n % d === 0) { p = false; break } if (p) found++ }
  fs.writeFileSync('result.txt', 'primes below ' + N + ': ' + found + '\\n')
  console.log('done: ' + found + ' primes below ' + N)
}, 20)
`

/** a rental of one h100 on the devnet `world`, running `script` (default: the devnet's prime job) */
function request (world: DevnetWorld, over: Partial<RentRequest> & { script?: string } = {}): RentRequest {
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

/** an agreement made straight through negotiation (no escrow, no session), with a short start window */
async function agreeOnly (world: DevnetWorld, clock: Clock, id: string, startWindowMs: number): Promise<{ id: string, supplier: DevnetWorld['suppliers'][number], store: AgreementStore }> {
  const renter = world.renter.node
  const { bid } = await renter.publishBid({
    id, gpu: 'h100', minMemoryMib: 0, count: 1, teeKinds: ['simulated'], regions: [],
    maxPricePerGpuHour: 3_000_000_000n, netuid: 1, durationS: 600, ttlS: 600
  })
  // the renter's book may still show a GPU an agreement just before took (its supplier's cancel is
  // on its way through gossip): that supplier answers NO_CAPACITY, or OFFER_GONE where that
  // agreement took the offer's last GPU and the offer is cancelled, and the next match is tried. A
  // supplier where the renter's lapses (the restart case) keep it cooling down is passed over, as
  // the renter's own negotiation passes over a supplier that refused
  let agreed: NegotiatedAgreement | undefined
  const cooling = new Set<string>()
  await waitFor(async () => {
    const match = matchBid(renter.market.book, bid, { exclude: cooling })
    if (match == null) return false
    agreed = await negotiate(renter.host, peerOfAddrs(match.entry.offer.addrs).addrs.filter((a) => a.toString().includes(match.entry.meta.peer!)), {
      bid, offer: match.entry.offer, signer: renter.signer, store: new AgreementStore(renter.db), arbiter: new Uint8Array(decodeAddress(world.arbiter.address)), startWindowMs, clock
    }).catch((err: unknown) => {
      if ((err as NegotiationError).code === 'NO_CAPACITY') return undefined
      if ((err as NegotiationError).code === 'OFFER_GONE') { cooling.add(match.entry.key); return undefined }
      if ((err as NegotiationError).code === 'RENTER_COOLDOWN') { cooling.add(match.entry.key); return undefined }
      throw err
    })
    return agreed != null
  }, 10_000, 'an agreement with a supplier whose GPU is free')
  await renter.cancelBid(id)
  const made = agreed!
  const supplier = world.suppliers.find((x) => x.keys.hotkey.publicKey.every((b, i) => b === made.terms.supplier[i]))!
  expect(supplier.role.ledger.get(made.id)?.committed).toBe(true)
  return { id: made.id, supplier, store: new AgreementStore(supplier.node.db) }
}
const statusOf = async (a: { id: string, store: AgreementStore }): Promise<string | undefined> => (await a.store.get(a.id))?.status

/**
 * A devnet whose every node (and its ledger) runs on one ManualClock: the test moves time past a
 * `startBy` instead of waiting for it, and runs a rental's metering ticks and its settlement (up to
 * its budget; past a supplier killed mid-job and restarted) one event at a time. The supplier schedules an agreement's start timer once it
 * has read the committed record back (a moment after negotiation returns), so each wait below
 * advances the clock by nothing until the due timer has fired: it ends with the event, never on
 * elapsed time.
 */
/** how long this devnet's renter waits for a close to land: far past the supplier's own wait */
const RENTER_SETTLE_WAIT_MS = 600_000

describe('jobs on a devnet under a manual clock: a real job, a failed one, start windows, a budget, a cancel, a supplier killed mid-job', () => {
  let world: DevnetWorld
  const clock = new ManualClock(Date.now())

  beforeAll(async () => {
    world = await startDevnet({ tickMs: TICK, clock, settleWaitMs: RENTER_SETTLE_WAIT_MS })
  }, 120_000)

  afterAll(async () => {
    await world?.close()
    if (world != null) rmSync(world.dir, { recursive: true, force: true })
  })

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

  /** a rental under way on the manual clock: its events and how it ended */
  interface ClockRental { events: RentEvent[], summary?: RentSummary, failed?: unknown, done: Promise<void>, ended: () => boolean, jobOver: () => boolean, ticks: () => number[] }

  /**
   * Starts a rental whose job prints a line as it starts, and returns once that line arrived: the
   * supplier reads the job's output only after it told the renter the job started and set its tick
   * timer, so from here each advance of the clock meets that timer.
   */
  async function startRent (req: RentRequest, opts: { signal?: AbortSignal } = {}): Promise<ClockRental> {
    const r: ClockRental = {
      events: [],
      done: Promise.resolve(),
      ended: () => r.summary != null || r.failed != null,
      jobOver: () => r.ended() || r.events.some((e) => e.type === 'job'),
      ticks: () => r.events.flatMap((e) => e.type === 'tick' ? [e.elapsedMs] : [])
    }
    r.done = world.renter.role.rent(req, { signal: opts.signal, onEvent: (e) => { r.events.push(e) } }).then((s) => { r.summary = s }, (err: unknown) => { r.failed = err })
    await waitFor(() => r.jobOver() || r.events.some((e) => e.type === 'stdout'), 30_000, 'the job\'s first output')
    return r
  }

  /**
   * Moves the clock one metering tick at a time, each only once the renter has seen the tick before
   * (so a voucher never lags because the test ran ahead), until the job is over or `until` holds.
   */
  async function driveTicks (r: ClockRental, until: () => boolean = () => false): Promise<void> {
    while (!r.jobOver() && !until()) {
      const seen = r.ticks().length
      await clock.advanceAsync(TICK)
      await waitFor(() => r.jobOver() || r.ticks().length > seen, 10_000, `tick ${seen + 1}`)
    }
  }

  /**
   * Waits until the supplier stored (and so acknowledged) the voucher for `ms` of metered time: the
   * test then ends the job knowing which voucher is the last, instead of racing its round trip.
   */
  async function storedUpTo (r: ClockRental, ms: number): Promise<void> {
    const escrow = r.events.find((e): e is Extract<RentEvent, { type: 'escrow' }> => e.type === 'escrow')!.id
    const matched = r.events.find((e): e is Extract<RentEvent, { type: 'matched' }> => e.type === 'matched')!.supplier
    const supplier = world.suppliers.find((x) => x.keys.hotkey.address === matched)!
    await waitFor(async () => (await supplier.escrowDb.vouchers.latest(escrow))?.cumulative === amountFor(H100_BEST_PRICE, ms), 10_000, `the voucher for ${ms} ms stored`)
  }

  /**
   * Drives a rental's job `n` ticks, and once the supplier stored the voucher for the last of them,
   * writes `flag` (the job ends when it sees it) and settles the rental.
   */
  async function endAfterTicks (r: ClockRental, n: number, flag: string): Promise<RentSummary> {
    await driveTicks(r, () => r.ticks().length >= n)
    await storedUpTo(r, n * TICK)
    writeFileSync(flag, '')
    await waitFor(() => r.jobOver(), 30_000, 'the job to end')
    return await settle(r)
  }

  /** every supplier released the GPUs of every agreement */
  const capacityBack = async (): Promise<void> => {
    await waitFor(() => world.suppliers.every((x) => x.role.ledger.active().length === 0), 10_000, 'every supplier to release its capacity')
  }

  /**
   * Once the job is over: both sides approve the close at once. When they approve the same payouts
   * the second approval executes it; when they differ (the last voucher's ack still in flight as the
   * job stopped, or a supplier that died) the supplier closes with the arbiter after its settle
   * wait, and the renter's wait sees the close. Here the clock moves one settle poll per look at the
   * ledger (the waitFor poll), until the close is there: no assertion depends on how many polls
   * that took, and the renter's own wait is ten minutes of the clock (see beforeAll), so the
   * arbiter's round trip always lands long before it ends.
   */
  async function settle (r: ClockRental): Promise<RentSummary> {
    const escrowId = r.events.find((e): e is Extract<RentEvent, { type: 'escrow' }> => e.type === 'escrow')?.id
    if (escrowId != null) {
      await waitFor(async () => {
        if (r.ended() || (await world.chain.get(escrowId))?.status !== 'open') return true
        await clock.advanceAsync(SETTLE_POLL_MS)
        return false
      }, 30_000, 'the escrow closed')
    }
    await waitFor(async () => { if (!r.ended()) await clock.advanceAsync(SETTLE_POLL_MS); return r.ended() }, 20_000, 'the rental settled')
    await r.done
    if (r.failed != null) throw r.failed
    return r.summary!
  }

  it('runs a real job: cheapest offer, attested session, outputs with their hashes, paid for its metered time', async () => {
    // real work and a real output file; it starts its work when the test says so (a file appears),
    // after three ticks of the clock, so the metered time is the clock's and not the machine's speed
    const flag = path.join(world.dir, `go-${Math.random().toString(16).slice(2)}`)
    const req = request(world, { script: PRIME_JOB(flag) })
    const r = await startRent(req)
    const s = await endAfterTicks(r, 3, flag)
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
    expect(bytes.toString()).toBe('primes below 200000: 17984\n')
    expect(r.events.some((e) => e.type === 'stdout' && e.text.includes('done: 17984'))).toBe(true)

    // money: locked = price × duration; paid = price × the metered time, which on this clock is what
    // the test moved it while the job ran: three ticks from its start, one report and one
    // acknowledged voucher per tick
    expect(BigInt(s.escrow.locked)).toBe(H100_BEST_PRICE * 600n / 3600n)
    expect(BigInt(s.escrow.paid) + BigInt(s.escrow.refunded)).toBe(BigInt(s.escrow.locked))
    expect(r.ticks()).toEqual([TICK, 2 * TICK, 3 * TICK])
    expect(s.escrow.paid).toBe(amountFor(H100_BEST_PRICE, 3 * TICK).toString())
    expect(s.vouchers).toBe(3)
    const supplierLatest = await bob.escrowDb.vouchers.latest(s.escrow.id)
    expect(supplierLatest?.cumulative.toString()).toBe(s.escrow.paid)
    expect(s.escrow.status).toBe('closed')
    expect(s.escrow.records.map((rec) => rec.kind)).toEqual(['open', 'close'])
    expect(s.escrow.records[1].blockNumber).toBeGreaterThan(s.escrow.records[0].blockNumber)
    // both keep its open block, where a restarted daemon's scan starts (EscrowService.scanStart)
    expect((await bob.escrowDb.escrows.get(s.escrow.id))?.openBlock).toBe(s.escrow.records[0].blockNumber)
    expect((await world.renter.node.escrowDb!.escrows.get(s.escrow.id))?.openBlock).toBe(s.escrow.records[0].blockNumber)
    // and the ledger agrees: the supplier's account holds what the close record paid it
    expect(await world.chain.balance(bob.keys.hotkey.address)).toBeGreaterThanOrEqual(BigInt(s.escrow.paid))
    await capacityBack()
    // both nodes' Prometheus metrics saw it (the first rental of this devnet)
    const renterMetrics = world.renter.node.metrics.render()
    expect(renterMetrics).toContain('bazaar_sessions_total{result="attested",role="renter"} 1')
    expect(renterMetrics).toContain('bazaar_attestation_verdicts_total{kind="simulated",result="ok"} 1')
    expect(renterMetrics).toMatch(new RegExp(`bazaar_vouchers_total\\{result="acknowledged",role="renter"\\} ${s.vouchers}\\n`))
    expect(bob.node.metrics.render()).toContain('bazaar_sessions_total{result="served",role="supplier"} 1')
    expect(bob.node.metrics.render()).toContain('bazaar_jobs_total{reason="exited",role="supplier"} 1')
  }, 60_000)

  it('a job that fails is settled for the time it ran', async () => {
    // the job fails when the test says so (a file appears), after two ticks of the clock
    const flag = path.join(world.dir, `fail-${Math.random().toString(16).slice(2)}`)
    const r = await startRent(request(world, { script: `console.log("up"); setInterval(() => { if (require("node:fs").existsSync(${JSON.stringify(flag)})) { console.error("boom"); process.exit(3) } }, 20)` }))
    const s = await endAfterTicks(r, 2, flag)
    expect(s.job.exitCode).toBe(3)
    expect(s.job.reason).toBe('exited')
    expect(s.escrow.status).toBe('closed')
    expect(BigInt(s.escrow.paid) + BigInt(s.escrow.refunded)).toBe(BigInt(s.escrow.locked))
    // the two ticks it ran, no more: the clock stood still from then to its end
    expect(s.escrow.paid).toBe(amountFor(H100_BEST_PRICE, 2 * TICK).toString())
    expect(s.vouchers).toBe(2)
    await capacityBack()
  })

  it('the supplier runs the job in a cgroup of its own under the one named after its home (where it may make cgroups)', async (ctx) => {
    const probe = await JobCgroups.open(`bazaar-e2e-probe-${process.pid}`)
    if (!(probe instanceof JobCgroups)) {
      console.log(`[skip] job cgroups: ${probe.unavailable}`)
      ctx.skip()
      return
    }
    await probe.close()
    const flag = path.join(world.dir, `cg-${Math.random().toString(16).slice(2)}`)
    const r = await startRent(request(world, { script: `console.log("up"); console.log(require("node:fs").readFileSync("/proc/self/cgroup", "utf8")); setInterval(() => { if (require("node:fs").existsSync(${JSON.stringify(flag)})) process.exit(0) }, 20)` }))
    const s = await endAfterTicks(r, 1, flag)
    expect(s.job.exitCode).toBe(0)
    const matched = r.events.find((e): e is Extract<RentEvent, { type: 'matched' }> => e.type === 'matched')!
    const supplier = world.suppliers.find((x) => x.keys.hotkey.address === matched.supplier)!
    const base = `bazaar-${createHash('sha256').update(path.resolve(supplier.node.home!)).digest('hex').slice(0, 12)}`
    const stdout = r.events.flatMap((e) => e.type === 'stdout' ? [e.text] : []).join('')
    expect(stdout).toMatch(new RegExp(`^0::.*/${base}/job-[^/\\n]+$`, 'm'))
    await capacityBack()
  })

  it("the end of a job's last tick is paid too: a job that exits 200 ms past a tick pays for them", async () => {
    const flag = path.join(world.dir, `end-${Math.random().toString(16).slice(2)}`)
    const r = await startRent(request(world, { script: `console.log("up"); setInterval(() => { if (require("node:fs").existsSync(${JSON.stringify(flag)})) process.exit(0) }, 20)` }))
    await driveTicks(r, () => r.ticks().length >= 2)
    await storedUpTo(r, 2 * TICK)
    // the job runs 200 ms into its third tick, and exits there
    await clock.advanceAsync(200)
    writeFileSync(flag, '')
    await waitFor(() => r.jobOver(), 30_000, 'the job to end')
    const s = await settle(r)
    expect(s.job.exitCode).toBe(0)
    expect(r.ticks()).toEqual([TICK, 2 * TICK])
    // the supplier's last report, sent before the exit, covered the 200 ms: a third voucher
    expect(s.escrow.paid).toBe(amountFor(H100_BEST_PRICE, 2 * TICK + 200).toString())
    expect(s.vouchers).toBe(3)
    expect(BigInt(s.escrow.paid) + BigInt(s.escrow.refunded)).toBe(BigInt(s.escrow.locked))
    await capacityBack()
  })

  it('a stranger with the agreement\'s hash is refused at its hello; a renter that never opens the escrow is refused before any job runs, and the GPUs come back', async () => {
    const renter = world.renter.node
    const { bid } = await renter.publishBid({
      id: 'no-escrow', gpu: 'h100', minMemoryMib: 0, count: 1, teeKinds: ['simulated'], regions: [],
      maxPricePerGpuHour: 3_000_000_000n, netuid: 1, durationS: 600, ttlS: 600
    })
    await waitFor(() => matchBid(renter.market.book, bid) !== undefined, 10_000, 'a compatible offer in the renter\'s book')
    const match = matchBid(renter.market.book, bid)!
    const agreed = await negotiate(renter.host, peerOfAddrs(match.entry.offer.addrs).addrs.filter((a) => a.toString().includes(match.entry.meta.peer!)), {
      bid, offer: match.entry.offer, signer: renter.signer, store: new AgreementStore(renter.db), arbiter: new Uint8Array(decodeAddress(world.arbiter.address)), clock
    })
    const supplier = world.suppliers.find((x) => x.keys.hotkey.publicKey.every((b, i) => b === agreed.terms.supplier[i]))!
    expect(supplier.role.ledger.get(agreed.id)?.committed).toBe(true)
    const enclave = peerIdFromString(peerIdString(agreed.terms.enclavePeer))
    const policy: AttestationPolicy = { kinds: ['simulated'], allowSimulated: true, maxEvidenceAgeMs: 60_000 }
    // another peer that knows the agreement's hash (the escrow's open record makes it public) is
    // refused at its hello, before any evidence, and the GPUs stay held for the renter
    const stranger = world.suppliers.find((x) => x !== supplier)!.node.host
    await expect(openAttestedSession(stranger, enclave, { agreementHash: agreed.hash, policy, expectedPeer: enclave })).rejects.toMatchObject({ code: 'UNKNOWN_AGREEMENT' })
    expect(supplier.role.ledger.get(agreed.id)?.committed).toBe(true)
    // an agreement not (yet) confirmed on the supplier's side runs no job, even for its renter: a
    // renter that refused it afterwards would release the GPUs under the running job
    await supplier.node.agreements.setStatus(agreed.id, 'pending', Date.now())
    await expect(openAttestedSession(renter.host, enclave, { agreementHash: agreed.hash, policy, expectedPeer: enclave })).rejects.toMatchObject({ code: 'UNKNOWN_AGREEMENT' })
    await supplier.node.agreements.setStatus(agreed.id, 'active', Date.now())
    const session = await openAttestedSession(renter.host, enclave, { agreementHash: agreed.hash, policy, expectedPeer: enclave })
    // no escrow on chain for this agreement: the supplier ends the channel with its reason
    const err = await runJobClient(session.channel, { command: process.execPath, args: ['-e', '1'], gpuCount: 1, limits: { maxDurationMs: 10_000 } }, {
      outputDir: path.join(world.dir, 'out-no-escrow')
    }).then(() => undefined, (e: unknown) => e as { code?: string, remoteCode?: string })
    expect(err).toBeDefined()
    expect([err?.code, err?.remoteCode]).toContain('ESCROW_MISSING')
    expect(supplier.role.jobs.find((j) => j.agreementId === agreed.id)?.jobId).toBeUndefined()
    await capacityBack()
    // the refused session leaves a record, but no job ran: the renter's next hello is no re-attach,
    // and is refused before any evidence (each would cost an attestation, of GPUs it no longer holds)
    await expect(openAttestedSession(renter.host, enclave, { agreementHash: agreed.hash, policy, expectedPeer: enclave })).rejects.toMatchObject({ code: 'UNKNOWN_AGREEMENT' })
    await renter.cancelBid('no-escrow')
  })

  it('a job that outlives its budget is stopped at it, and the whole budget is paid', async () => {
    // 10 s is the shortest rental the suppliers accept: the budget is price × 10 s, rounded up
    const r = await startRent(request(world, { durationS: 10, script: 'console.log("up"); setInterval(() => {}, 1000)' }))
    await driveTicks(r)
    const s = await settle(r)
    expect(s.job.reason).toBe('budget')
    expect(BigInt(s.escrow.locked)).toBe((H100_BEST_PRICE * 10n + 3599n) / 3600n)
    expect(s.escrow.paid).toBe(s.escrow.locked)
    expect(s.escrow.refunded).toBe('0')
    // the job ran its 10 s of metered time on the clock, one report per tick: none was skipped or doubled
    const elapsed = r.ticks()
    expect(elapsed).toEqual(elapsed.map((_, i) => (i + 1) * TICK))
    expect(elapsed.at(-1)).toBeGreaterThanOrEqual(10_000)
    await capacityBack()
  }, 60_000)

  it('a job cancelled by the renter stops, and the renter pays only the time used', async () => {
    const controller = new AbortController()
    const r = await startRent(request(world, { script: 'console.log("up"); setInterval(() => console.log("working"), 200)' }), { signal: controller.signal })
    await driveTicks(r, () => (r.ticks().at(-1) ?? 0) >= 3 * TICK)
    expect(r.jobOver()).toBe(false)
    controller.abort()
    await waitFor(() => r.jobOver(), 10_000, 'the job to stop')
    const s = await settle(r)
    expect(s.job.reason).toBe('cancelled')
    expect(s.escrow.status).toBe('closed')
    expect(BigInt(s.escrow.paid) + BigInt(s.escrow.refunded)).toBe(BigInt(s.escrow.locked))
    // three ticks of the clock were metered, no more: the cancel came before the fourth
    expect(BigInt(s.escrow.paid)).toBeLessThanOrEqual(amountFor(H100_BEST_PRICE, 3 * TICK))
    expect(BigInt(s.escrow.refunded)).toBeGreaterThan(0n)
    // the supplier's job record says how the job ended as the renter was told: by its signal
    expect(s.job.signal).toBe('SIGTERM')
    const supplier = world.suppliers.find((x) => x.keys.hotkey.address === s.supplier)!
    await waitFor(async () => (await supplier.node.jobs.list({ role: 'supplier' })).some((j) => j.agreementId === s.agreementId && j.state === 'cancelled'), 10_000, 'the supplier\'s job record')
    const record = (await supplier.node.jobs.list({ role: 'supplier' })).find((j) => j.agreementId === s.agreementId)!
    expect(record).toMatchObject({ exitCode: -1, signal: 'SIGTERM', reason: 'cancelled' })
    await capacityBack()
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

  it('a supplier killed mid-job closes on its last stored voucher after it restarts: on the renter\'s approval where it is on the ledger, else with the arbiter', async () => {
    const r = await startRent(request(world, { script: 'console.log("up"); setInterval(() => console.log("working"), 200)' }))
    const escrowId = r.events.find((e): e is Extract<RentEvent, { type: 'escrow' }> => e.type === 'escrow')!.id
    // the supplier the rental agreed with: the cheapest (Bob) unless the renter's lapses in the
    // restart case above cooled it down there, which its database keeps across that restart
    const matched = r.events.find((e): e is Extract<RentEvent, { type: 'matched' }> => e.type === 'matched' && !r.events.some((x) => x.type === 'refused' && x.supplier === e.supplier))!
    const bob = world.suppliers.find((x) => x.keys.hotkey.address === matched.supplier)!
    // the supplier dies after a few acknowledged vouchers
    await driveTicks(r, () => (r.ticks().at(-1) ?? 0) >= 4 * TICK)
    expect(r.jobOver()).toBe(false)
    await bob.role.stop()
    await waitFor(() => r.jobOver(), 10_000, 'the renter to see its session end')
    const stored = await bob.escrowDb.vouchers.latest(escrowId)
    expect(stored).toBeDefined()
    // the supplier comes back on the same stores and finds the open escrow
    const restarted = await world.restartSupplier(bob.name)
    const s = await settle(r)
    expect(s.job.reason).not.toBe('exited')
    const final = (await world.chain.get(escrowId))!
    expect(final.status).toBe('closed')
    const close = final.records.find((rec) => rec.kind === 'close')!
    const closeDoc = JSON.parse(close.remark.slice(close.remark.indexOf('{'))) as { settlement: string, payouts: Array<{ to: string, amount: string }> }
    const payouts = closeDoc.payouts
    expect(payouts.find((p) => p.to === bob.keys.hotkey.address)?.amount).toBe(stored!.cumulative.toString())
    expect(payouts.reduce((a, p) => a + BigInt(p.amount), 0n)).toBe(final.terms.amount)
    expect(restarted.role.ledger.active()).toHaveLength(0)
    // the job's record, closed as SUPPLIER_RESTARTED, says how its escrow settled once the
    // recovery closed it (the session that would have written it went with the stop)
    const agreementId = escrowId.slice(2)
    await waitFor(async () => (await restarted.node.jobs.list({ role: 'supplier' })).some((j) => j.agreementId === agreementId && j.settlement != null), 10_000, 'the job record\'s settlement')
    const job = (await restarted.node.jobs.list({ role: 'supplier' })).find((j) => j.agreementId === agreementId)!
    // the renter approves the close on the last voucher when it sees the session end; a recovery
    // that finds that approval executes it, one that runs first closes with the arbiter: the
    // record says which, as the ledger's close record does
    expect(['cooperative', 'voucher']).toContain(closeDoc.settlement)
    expect(job.settlement).toMatchObject({ paid: stored!.cumulative.toString(), settledBy: closeDoc.settlement === 'cooperative' ? 'cooperative' : 'arbiter' })
    await capacityBack()
  }, 60_000)

  it('a rental cancelled after its escrow opened and before its job gets everything back at once: it withdraws the agreement and the supplier approves the refund (not at the startBy, nor at the escrow\'s expiry)', async () => {
    const controller = new AbortController()
    const events: RentEvent[] = []
    const before = await world.chain.balance(world.renter.address)
    const outcome = await world.renter.role.rent(request(world), {
      signal: controller.signal,
      onEvent: (e) => { events.push(e); if (e.type === 'escrow') controller.abort() }
    }).then(() => 'resolved', (err: unknown) => (err as { code?: string }).code)
    // the cancel lands in the session's opening: its dial or handshake ends (SESSION_FAILED), or the step before it (ABORTED)
    expect(['ABORTED', 'SESSION_FAILED']).toContain(outcome)
    const opened = events.find((e): e is Extract<RentEvent, { type: 'escrow' }> => e.type === 'escrow')!
    expect(events.some((e) => e.type === 'attested')).toBe(false)
    const escrow = await world.chain.get(opened.id)
    expect(escrow).toBeDefined()
    // no time passes: the withdrawal frees the GPUs, and the supplier approves the close the renter
    // approved when it gave up
    await waitFor(async () => { await clock.advanceAsync(0); return (await world.chain.get(opened.id))?.status === 'closed' }, 20_000, 'the escrow closed')
    const closed = (await world.chain.get(opened.id))!
    expect(closed.balance).toBe(0n)
    const doc = decodeRecord(closed.records.find((r) => r.kind === 'close')!.remark)!
    expect(doc.kind === 'close' ? doc.payouts : []).toEqual([{ to: world.renter.address, amount: escrow!.terms.amount.toString() }])
    expect(await world.chain.balance(world.renter.address)).toBe(before)
    await capacityBack()
  }, 60_000)

  it('a renter gives back an agreement no session took up (/bazaar/withdraw): its GPUs are free at once; only its renter may, and once', async () => {
    const a = await agreeOnly(world, clock, 'withdrawn', 600_000)
    const renter = world.renter.node
    const at = a.supplier.node.host.getMultiaddrs()
    const hash = Buffer.from(a.id, 'hex')
    // another hotkey's withdrawal, and the renter's certificate with a signature that is not its own
    const stranger = MessageSigner.create(await devPair('Mallory'), { now: clock.now() })
    expect(await withdrawAgreement(renter.host, at, signWithdraw(stranger, hash))).toBe('NOT_THE_RENTER')
    expect(await withdrawAgreement(renter.host, at, { ...signWithdraw(renter.signer, hash), renterSignature: new Uint8Array(64) })).toBe('BAD_SIGNATURE')
    expect(await withdrawAgreement(renter.host, at, signWithdraw(renter.signer, new Uint8Array(32)))).toBe('UNKNOWN_AGREEMENT')
    expect(a.supplier.role.ledger.get(a.id)?.committed).toBe(true)
    // the renter's own: the GPUs go back and the agreement lapses before the answer
    expect(await withdrawAgreement(renter.host, at, signWithdraw(renter.signer, hash))).toBe('')
    expect(a.supplier.role.ledger.get(a.id)).toBeUndefined()
    expect(await statusOf(a)).toBe('lapsed')
    expect(await withdrawAgreement(renter.host, at, signWithdraw(renter.signer, hash))).toBe('NOT_ACTIVE')
  }, 60_000)

  it('a rental whose escrow does not open gives its agreement back: no supplier holds GPUs for it', async () => {
    const open = world.chain.open.bind(world.chain)
    // the chain refuses the open for good (as a pool or a runtime would)
    world.chain.open = async () => { throw Object.assign(new Error('refused by the runtime'), { code: 'EXTRINSIC_FAILED' }) }
    try {
      const events: RentEvent[] = []
      const outcome = await world.renter.role.rent(request(world), { onEvent: (e) => { events.push(e) } })
        .then(() => 'resolved', (err: unknown) => (err as { code?: string }).code)
      expect(outcome).toBe('ESCROW_FAILED')
      expect(events.some((e) => e.type === 'agreement')).toBe(true)
      expect(world.suppliers.every((s) => s.role.ledger.active().length === 0)).toBe(true)
    } finally {
      world.chain.open = open
    }
  }, 60_000)

  /**
   * A rental whose escrow open is not seen included in time (INCLUSION_TIMEOUT) and is held back,
   * so that it lands only when the test calls `land`, after the renter's one look for it: the
   * rental ends ESCROW_FAILED. Also counts, and can fail once, the renter's approvals of a close.
   */
  async function rentWithLateOpen (opts: { failFirstApproval?: boolean } = {}): Promise<{ escrowId: string, land: () => Promise<void>, approvals: string[], restore: () => void }> {
    const open = world.chain.open.bind(world.chain)
    let late: Parameters<typeof open> | undefined
    world.chain.open = async (...args) => { late = args; throw Object.assign(new Error('not included in time'), { code: 'INCLUSION_TIMEOUT' }) }
    const events: RentEvent[] = []
    try {
      const outcome = await world.renter.role.rent(request(world), { onEvent: (e) => { events.push(e) } })
        .then(() => 'resolved', (err: unknown) => (err as { code?: string }).code)
      expect(outcome).toBe('ESCROW_FAILED')
    } finally {
      world.chain.open = open
    }
    const escrow = world.renter.role.escrow
    const close = escrow.close.bind(escrow)
    const approvals: string[] = []
    escrow.close = async (id, o) => {
      approvals.push(id)
      if (opts.failFirstApproval === true && approvals.length === 1) throw Object.assign(new Error('not included in time'), { code: 'INCLUSION_TIMEOUT' })
      return await close(id, o)
    }
    return {
      escrowId: '0x' + events.find((e): e is Extract<RentEvent, { type: 'agreement' }> => e.type === 'agreement')!.id,
      land: async () => { await open(...late!) },
      approvals,
      restore: () => { escrow.close = close }
    }
  }

  it('an escrow whose open timed out and that landed after its rental ended is refunded at the agreement\'s startBy, not after its expiry', async () => {
    const before = await world.chain.balance(world.renter.address)
    const r = await rentWithLateOpen({ failFirstApproval: true })
    try {
      // the rental withdrew its agreement: no supplier holds its GPUs
      expect(world.suppliers.every((s) => s.role.ledger.active().length === 0)).toBe(true)
      await r.land()
      expect((await world.chain.get(r.escrowId))?.status).toBe('open')
      // the renter's next look approves the close refunding everything (a look whose approval
      // fails is followed by another); the supplier's look at the agreement's startBy approves it
      // too, and it executes
      await world.renter.role.refundExpired()
      await world.renter.role.refundExpired()
    } finally {
      r.restore()
    }
    expect(r.approvals).toEqual([r.escrowId, r.escrowId])
    const landed = (await world.chain.get(r.escrowId))!
    await clock.advanceAsync(DEFAULT_START_WINDOW_MS)
    await waitFor(async () => { await clock.advanceAsync(0); return (await world.chain.get(r.escrowId))?.status === 'closed' }, 20_000, 'the late escrow refunded')
    expect(Number(landed.terms.expiresAt)).toBeGreaterThan(clock.now())
    const closed = (await world.chain.get(r.escrowId))!
    const doc = decodeRecord(closed.records.find((x) => x.kind === 'close')!.remark)!
    expect(doc.kind === 'close' ? doc.payouts : []).toEqual([{ to: world.renter.address, amount: landed.terms.amount.toString() }])
    expect(await world.chain.balance(world.renter.address)).toBe(before)
  }, 60_000)

  it('an escrow whose open timed out and that landed only past the agreement\'s startBy gets no approval from the renter (the supplier no longer looks for it: it goes to the arbiter after its expiry)', async () => {
    const r = await rentWithLateOpen()
    try {
      await clock.advanceAsync(DEFAULT_START_WINDOW_MS + LATE_OPEN_LOOK_MS + 1)
      await r.land()
      expect((await world.chain.get(r.escrowId))?.status).toBe('open')
      await world.renter.role.refundExpired()
    } finally {
      r.restore()
    }
    expect(r.approvals).toEqual([])
    expect((await world.chain.get(r.escrowId))?.status).toBe('open')
  }, 60_000)

  // last: it leaves most of the renter's funds locked in an escrow until that expires
  it('a renter whose account cannot cover the budget is refused at negotiation (NO_FUNDS): no GPU held, no other supplier asked', async () => {
    const renterKeys = await devKeys(DEVNET_ACCOUNTS.renter)
    const funds = await world.chain.balance(world.renter.address)
    // all but 1 rao locked in an escrow of the renter's own, with its own chain's rules
    await world.chain.open({
      escrowId: '0x' + createHash('sha256').update('lock').digest('hex'),
      agreementHash: '0x' + createHash('sha256').update('lock-agreement').digest('hex'),
      payer: world.renter.address,
      payee: world.suppliers[0].keys.hotkey.address,
      arbiter: world.arbiter.address,
      amount: funds - 1n,
      netuid: 1,
      voucherKey: '0x' + '11'.repeat(32),
      expiresAt: clock.now() + 3_600_000
    }, renterKeys.hotkey)
    expect(await world.chain.balance(world.renter.address)).toBe(1n)
    // the renter reads its own account first: it asks no supplier
    const events: RentEvent[] = []
    const outcome = await world.renter.role.rent(request(world), { onEvent: (e) => { events.push(e) } })
      .then(() => ({ code: 'resolved', message: '' }), (err: unknown) => err as { code?: string, message: string })
    expect(outcome.code).toBe('NO_FUNDS')
    // the paying account, what it holds and the budget, in the escrow's asset (before: rao, no account)
    expect(outcome.message).toMatch(new RegExp(`^the renter's hotkey account ${world.renter.address} holds 0\\.000000001 [ατ].*, short of the budget of [0-9.]+ [ατ]`))
    expect(events.some((e) => e.type === 'matched' || e.type === 'agreement' || e.type === 'escrow')).toBe(false)
    // a renter that proposes all the same (as an older or hostile one would) is refused by the
    // supplier, which reads the renter's account on chain before it holds a GPU
    const refused = await agreeOnly(world, clock, 'short', 60_000).then(() => 'agreed', (err: unknown) => err as NegotiationError)
    expect(refused).toMatchObject({ code: 'NO_FUNDS', remote: true })
    expect(world.suppliers.every((s) => s.role.ledger.active().length === 0)).toBe(true)
  }, 60_000)

  it('a renter whose account holds too little TAO for the fees is refused at negotiation too (NO_FUNDS), naming the command that adds it', async () => {
    // the embedded ledger charges no fees: this chain says the account is 1 rao short of them, as
    // a subtensor chain's feeFunds would
    const ledger = world.chain as EmbeddedLedger & { feeFunds?: (a: string) => Promise<{ free: bigint, needed: bigint }> }
    ledger.feeFunds = async (a) => ({ free: a === world.renter.address ? 205_000_000n : 10n ** 12n, needed: 205_000_001n })
    try {
      // funds enough for any budget again (the test before locked all but 1 rao)
      await ledger.mint(world.renter.address, 10n ** 12n)
      const events: RentEvent[] = []
      const outcome = await world.renter.role.rent(request(world), { onEvent: (e) => { events.push(e) } })
        .then(() => ({ code: 'resolved', message: '' }), (err: unknown) => err as { code?: string, message: string })
      expect(outcome.code).toBe('NO_FUNDS')
      expect(outcome.message).toBe(`the renter's hotkey account ${world.renter.address} holds 0.205 τ free for fees, and opening and closing an escrow needs about 0.205000001 τ (the fees and the close's multisig deposit, returned after): bazaar wallet fund --fees 0.205000001 adds it from the coldkey`)
      expect(events.some((e) => e.type === 'matched' || e.type === 'agreement' || e.type === 'escrow')).toBe(false)
      expect(world.suppliers.every((s) => s.role.ledger.active().length === 0)).toBe(true)
    } finally {
      delete ledger.feeFunds
    }
  }, 60_000)
})
