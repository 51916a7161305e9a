/**
 * The two approvals of a cooperative close agree when the supplier's last ack never reached the
 * renter: a real job on the job protocol with metering, the renter cancelling it while the ack of
 * its last voucher is lost, then both sides settling on a persisted embedded ledger exactly as the
 * roles do (the renter's cooperative approval, the supplier's SupplierSettlement). The renter
 * approves the last voucher it signed, which is the one the supplier stored: the close executes
 * cooperatively, no approval fails and the arbiter is never asked.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { memoryChannelPair } from '../../src/protocols/framed.js'
import { processRuntime } from '../../src/jobs/index.js'
import { runJobClient, runJobServer } from '../../src/protocols/job/index.js'
import { supplierMeteringHooks } from '../../src/protocols/metering/index.js'
import { Arbiter } from '../../src/escrow/arbiter/service.js'
import type { ArbiterClient } from '../../src/escrow/arbiter/service.js'
import { EmbeddedLedger } from '../../src/escrow/chain/embedded/ledger.js'
import { MeterSupplier } from '../../src/escrow/metering/supplier.js'
import { EscrowService } from '../../src/escrow/service.js'
import { EscrowDb } from '../../src/escrow/store/db.js'
import { RenterMetering } from '../../src/node/roles/renter/metering.js'
import { settledAmounts } from '../../src/node/roles/renter/settle.js'
import { SupplierSettlement } from '../../src/node/roles/supplier/settlement.js'
import type { SupplierJobRecord } from '../../src/node/roles/supplier/types.js'
import { roleMetrics } from '../../src/node/roles/metrics.js'
import { Registry } from '../../src/node/metrics.js'
import { silentLogger } from '../../src/node/logger.js'
import { decodeMetering } from '../../src/protocols/metering/codec.js'
import { ManualClock } from '../../src/util/clock.js'
import { waitFor } from '../helpers/wait.js'
import { NETUID, parties, signer, T0, tempDir, terms as mkTerms } from '../unit/escrow/fixtures.js'

const p = await parties()
const t = mkTerms(p)
const PRICE = 3_600_000_000n
const TICK = 1_000
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

describe('a cooperative close after a lost ack', () => {
  it('the renter cancels while the ack of its last voucher is lost: both approve the same settlement, no arbiter', async () => {
    const clock = new ManualClock(T0)
    const dirs = await Promise.all([tempDir(), tempDir(), tempDir()])
    cleanups.push(...dirs.map((d) => d.cleanup))
    const work = mkdtempSync(path.join(tmpdir(), 'bazaar-coop-'))
    cleanups.push(() => { rmSync(work, { recursive: true, force: true }) })
    const ledger = await EmbeddedLedger.open({ netuid: NETUID, path: dirs[0].path, clock, genesis: [{ address: p.payer.address, amount: 5_000_000_000n }] })
    const supplierDb = await EscrowDb.open(dirs[1].path)
    const renterDb = await EscrowDb.open(dirs[2].path)
    cleanups.push(async () => { await ledger.close(); await supplierDb.close(); await renterDb.close() })
    // every request that reaches the arbiter is counted: a cooperative close makes none
    const arbiterRequests: string[] = []
    const real = new Arbiter({ chain: ledger, key: p.arbiter, clock })
    const arbiter: ArbiterClient = { request: async (req, opts) => { arbiterRequests.push(req.settlement.kind); return await real.request(req, opts) } }
    const supplierSvc = new EscrowService({ chain: ledger, escrows: supplierDb.escrows, vouchers: supplierDb.vouchers, account: p.payee, arbiter, clock })
    const renterSvc = new EscrowService({ chain: ledger, escrows: renterDb.escrows, vouchers: renterDb.vouchers, account: p.payer, arbiter, clock })
    await renterSvc.open(t)
    await supplierSvc.track(t)

    // the supplier: a real job, metered, each voucher stored before its ack; acks can be lost
    let loseAcks = false
    const lost: bigint[] = []
    const meter = await MeterSupplier.open({ terms: t, pricePerGpuHour: PRICE, gpus: 1, store: supplierDb.vouchers, clock, tickMs: TICK, graceMs: 60_000, stopAfterMs: 60_000 })
    const hooks = supplierMeteringHooks(meter)
    const [supplierEnd, renterEnd] = memoryChannelPair()
    let started!: () => void
    const running = new Promise<void>((resolve) => { started = resolve })
    const server = runJobServer(supplierEnd, {
      onStarted: () => { started() },
      runtime: processRuntime(),
      workRoot: work,
      gpuIndices: [0],
      clock,
      tickIntervalMs: TICK,
      onUsageTick: hooks.onUsageTick,
      onMetering: async (bytes, ctl) => {
        await hooks.onMetering(bytes, {
          ...ctl,
          sendMetering: async (b) => {
            const m = decodeMetering(b)
            // the session closes before this ack reaches the renter
            if (loseAcks && m.kind === 'ack') { lost.push(m.ack.sequence); return }
            await ctl.sendMetering(b)
          }
        })
      }
    })

    // the renter: its metering as rent() builds it (each voucher stored before it is sent)
    const registry = new Registry()
    const metering = RenterMetering.forRental({ terms: t, pricePerGpuHour: PRICE, gpus: 1, signer: signer(), clock, vouchers: renterDb.vouchers, metrics: roleMetrics(registry), logger: silentLogger })
    metering.meter.start()
    const cancel = new AbortController()
    const client = runJobClient(renterEnd, {
      command: process.execPath,
      args: ['-e', 'setInterval(() => {}, 1000)'],
      gpuCount: 1,
      limits: { maxDurationMs: 600_000 }
    }, { outputDir: path.join(work, 'out'), onMetering: metering.onMetering, signal: cancel.signal, clock })

    cleanups.push(async () => { cancel.abort(); await Promise.allSettled([server, client]) })
    await running
    // a few vouchers acknowledged as usual: one report a tick, each answered and acknowledged
    for (let i = 1; i <= 3; i++) {
      await clock.advanceAsync(TICK)
      await waitFor(() => metering.acked === i, 10_000, `ack ${i}`)
    }
    // then the next ack is lost: the supplier stored the voucher, the renter never hears of it
    loseAcks = true
    await clock.advanceAsync(TICK)
    await waitFor(() => lost.length > 0, 10_000, 'a lost ack')
    cancel.abort()
    const [s, c] = await Promise.all([server, client])
    expect(s.reason).toBe('cancelled')
    expect(c.reason).toBe('cancelled')
    meter.stop()

    const stored = (await supplierDb.vouchers.latest(t.escrowId))!
    const signed = (await renterDb.vouchers.latest(t.escrowId))!
    // the renter's count of acks is behind what the supplier stored...
    expect(stored.sequence).toBeGreaterThan(BigInt(metering.acked))
    expect(stored.cumulative).toBeGreaterThan(metering.spent)
    // ...but the voucher it approves is the one the supplier holds
    expect(signed).toEqual(stored)

    // settle as the roles do: the payer approves first, the payee's approval executes
    const mine = await renterSvc.close(t.escrowId, { mode: 'cooperative' })
    expect(mine.executed).toBe(false)
    const record: SupplierJobRecord = { agreementId: t.escrowId.slice(2) }
    const settlement = new SupplierSettlement({ escrow: supplierSvc, chain: ledger, vouchers: supplierDb.vouchers, clock, metrics: roleMetrics(new Registry()), logger: silentLogger }, { settleWaitMs: 15_000 })
    await settlement.settle(t.escrowId, record)
    expect(record).toMatchObject({ settledBy: 'cooperative', paid: stored.cumulative.toString(), vouchers: Number(stored.sequence) })
    expect(arbiterRequests).toEqual([])
    const final = (await ledger.get(t.escrowId))!
    expect(final.status).toBe('closed')
    expect(final.records.map((r) => r.kind)).toEqual(['open', 'close'])
    expect(settledAmounts(final, t.payee, t.payer)).toEqual({ paid: stored.cumulative, refunded: t.amount - stored.cumulative, carried: 0n, settledBy: 'cooperative' })
    expect(JSON.parse(final.records[1].remark.slice(final.records[1].remark.indexOf('{'))).settlement).toBe('cooperative')
    // nothing left pending on the escrow: no stale approval to cancel
    expect(await ledger.pending(t.escrowId)).toEqual([])
  }, 60_000)
})
