import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { JobLink, runJobClient } from '../../../../src/protocols/job/index.js'
import { memoryChannelPair } from '../../../../src/protocols/framed.js'
import { MeterRenter } from '../../../../src/escrow/metering/renter.js'
import { MemoryVoucherStore } from '../../../../src/escrow/store/memory.js'
import { decodeMetering, encodeMetering } from '../../../../src/protocols/metering/codec.js'
import { RenterMetering } from '../../../../src/node/roles/renter/metering.js'
import { roleMetrics } from '../../../../src/node/roles/metrics.js'
import { Registry } from '../../../../src/node/metrics.js'
import { silentLogger } from '../../../../src/node/logger.js'
import { ManualClock } from '../../../../src/util/clock.js'
import type { SignedVoucher } from '../../../../src/escrow/types.js'
import { escrowId, parties, signer, T0, terms as mkTerms } from '../../escrow/fixtures.js'

const p = await parties()
const t = mkTerms(p)
const PRICE = 3_600_000_000n

/** the renter's metering as rent() builds it, with what it sends back to the supplier */
function renter (): { clock: ManualClock, store: MemoryVoucherStore, metering: RenterMetering, sent: SignedVoucher[], registry: Registry, send: (bytes: Uint8Array) => Promise<void> } {
  const clock = new ManualClock(T0)
  const store = new MemoryVoucherStore()
  const meter = new MeterRenter({ terms: t, pricePerGpuHour: PRICE, gpus: 1, signer: signer(), clock, store })
  meter.start()
  const registry = new Registry()
  const metering = new RenterMetering({ meter, metrics: roleMetrics(registry), logger: silentLogger })
  const sent: SignedVoucher[] = []
  const send = async (bytes: Uint8Array): Promise<void> => {
    const m = decodeMetering(bytes)
    if (m.kind !== 'voucher') return
    // [durable before sent] what goes out is already in the renter's store
    expect((await store.latest(t.escrowId))?.signature).toBe(m.voucher.signature)
    sent.push(m.voucher)
  }
  return { clock, store, metering, sent, registry, send }
}

const report = (seq: bigint, usedMs: number): Uint8Array => encodeMetering({ kind: 'report', report: { escrowId: t.escrowId, seq, usedMs, gpus: 1, amount: PRICE * BigInt(usedMs) / 3_600_000n } })
const ack = (v: SignedVoucher, escrow = t.escrowId): Uint8Array => encodeMetering({ kind: 'ack', ack: { escrowId: escrow, sequence: v.sequence, cumulative: v.cumulative } })

describe('renter metering (the hook rent() uses)', () => {
  it('answers a report with a voucher stored before it is sent, and counts it once the supplier acknowledges it', async () => {
    const r = renter()
    r.clock.advance(10_000)
    await r.metering.onMetering(report(1n, 10_000), { send: r.send })
    expect(r.sent).toHaveLength(1)
    // the cooperative close approves the last voucher signed: it is kept whether or not an ack comes
    expect((await r.store.latest(t.escrowId))?.cumulative).toBe(r.sent[0].cumulative)
    expect(r.metering.acked).toBe(0)
    expect(r.metering.spent).toBe(0n)
    await r.metering.onMetering(ack(r.sent[0]), { send: r.send })
    expect(r.metering.acked).toBe(1)
    expect(r.metering.spent).toBe(10_000_000n)
    expect(r.registry.render()).toContain('bazaar_vouchers_total{result="acknowledged",role="renter"} 1')
  })

  it('ignores an ack for another escrow: nothing counted', async () => {
    const r = renter()
    r.clock.advance(10_000)
    await r.metering.onMetering(report(1n, 10_000), { send: r.send })
    // same sequence and amount as our voucher, but naming another escrow
    await r.metering.onMetering(ack(r.sent[0], escrowId(2)), { send: r.send })
    expect(await r.store.latest(escrowId(2))).toBeUndefined()
    expect(r.metering.acked).toBe(0)
    expect(r.metering.spent).toBe(0n)
    // the ack for our escrow still counts afterwards
    await r.metering.onMetering(ack(r.sent[0]), { send: r.send })
    expect(r.metering.acked).toBe(1)
  })

  it('ignores an ack for a voucher never signed, and a repeated or older ack', async () => {
    const r = renter()
    r.clock.advance(10_000)
    await r.metering.onMetering(report(1n, 10_000), { send: r.send })
    r.clock.advance(10_000)
    await r.metering.onMetering(report(2n, 20_000), { send: r.send })
    const [v1, v2] = r.sent
    await r.metering.onMetering(encodeMetering({ kind: 'ack', ack: { escrowId: t.escrowId, sequence: 9n, cumulative: 1n } }), { send: r.send })
    expect(r.metering.acked).toBe(0)
    await r.metering.onMetering(ack(v2), { send: r.send })
    // an ack of the older voucher, after the newer one, does not take the amount back
    await r.metering.onMetering(ack(v1), { send: r.send })
    await r.metering.onMetering(ack(v2), { send: r.send })
    expect(r.metering.acked).toBe(1)
    expect(r.metering.spent).toBe(v2.cumulative)
    expect((await r.store.latest(t.escrowId))?.sequence).toBe(2n)
  })

  it('signs nothing for junk or a report it refuses', async () => {
    const r = renter()
    await r.metering.onMetering(Uint8Array.from([1, 2, 3]), { send: r.send })
    // a report of an hour when no time has passed on the renter's clock
    await r.metering.onMetering(report(1n, 3_600_000), { send: r.send })
    expect(r.sent).toEqual([])
    expect(await r.store.latest(t.escrowId)).toBeUndefined()
  })
})

describe('renter metering on the job channel (the hooks rent() gives the job client)', () => {
  it('pays from the job\'s start to its exit: a report before the start, or one claiming time past the exit, gets no voucher', async () => {
    const clock = new ManualClock(T0)
    const store = new MemoryVoucherStore()
    // not started: rent() starts it when the job's `started` arrives
    const meter = new MeterRenter({ terms: t, pricePerGpuHour: PRICE, gpus: 1, signer: signer(), clock, store, toleranceMs: 2_000 })
    const metering = new RenterMetering({ meter, metrics: roleMetrics(new Registry()), logger: silentLogger })
    const out = await mkdtemp(path.join(tmpdir(), 'bazaar-renter-metering-'))
    const [renterSide, supplierSide] = memoryChannelPair()
    // the clock moves only once the renter has taken each frame that starts or ends its meter
    const signal = (): { promise: Promise<void>, resolve: () => void } => {
      let resolve!: () => void
      const promise = new Promise<void>((r) => { resolve = r })
      return { promise, resolve }
    }
    const seen = { started: signal(), exit: signal() }
    const client = runJobClient(renterSide, { command: 'true', outputs: [], gpuCount: 1, limits: { maxDurationMs: 3_600_000 } }, {
      outputDir: out,
      clock,
      onStarted: () => { metering.onStarted(); seen.started.resolve() },
      onExit: () => { metering.onExit(); seen.exit.resolve() },
      onMetering: metering.onMetering
    })
    const supplier = new JobLink(supplierSide)
    const voucherSeq = async (): Promise<bigint> => {
      const f = await supplier.next()
      const m = f?.kind === 'metering' ? decodeMetering(f.value) : undefined
      return m?.kind === 'voucher' ? m.voucher.sequence : -1n
    }
    try {
      expect((await supplier.next())?.kind).toBe('start')
      // setup time (inputs, an image pull) before the start is not billed
      clock.advance(10_000)
      await supplier.send({ metering: new Uint8Array(report(1n, 10_000)) })
      await supplier.send({ started: { gpuIndices: [0], startedAt: 0n } })
      await seen.started.promise
      clock.advance(10_000)
      await supplier.send({ metering: new Uint8Array(report(2n, 10_000)) })
      // the first voucher answers report 2: report 1 got none
      expect(await voucherSeq()).toBe(2n)
      clock.advance(5_000)
      await supplier.send({ exit: { exitCode: 0, signal: '', reason: 'exited', durationMs: 15_000n, detail: '' } })
      await seen.exit.promise
      // long after the exit, a report of a minute's use: more than ran (15 s) by far
      clock.advance(60_000)
      await supplier.send({ metering: new Uint8Array(report(3n, 60_000)) })
      // the time up to the exit is still paid
      await supplier.send({ metering: new Uint8Array(report(4n, 15_000)) })
      expect(await voucherSeq()).toBe(4n)
      await supplier.send({ done: { outputs: 0 } })
      expect((await client).reason).toBe('exited')
      expect((await store.latest(t.escrowId))?.cumulative).toBe(PRICE * 15_000n / 3_600_000n)
    } finally {
      await rm(out, { recursive: true, force: true })
    }
  })
})
