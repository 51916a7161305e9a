/**
 * Crash safety for real: a supplier process acknowledges vouchers, is killed with SIGKILL right after
 * printing the acknowledgement of voucher N, and a fresh process opens the same voucher database and
 * the same persisted embedded ledger and closes with voucher N (with the arbiter, or cooperatively
 * with the renter). The payee receives exactly voucher N; the payer the rest.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { EmbeddedLedger } from '../../src/escrow/chain/embedded/ledger.js'
import { toJson } from '../../src/escrow/chain/embedded/codec.js'
import { decodeRecord } from '../../src/escrow/chain/records.js'
import { MeterRenter } from '../../src/escrow/metering/renter.js'
import { closeSettlement } from '../../src/escrow/rules/settlement.js'
import { decodeMetering, encodeMetering } from '../../src/protocols/metering/codec.js'
import { ManualClock } from '../../src/util/clock.js'
import { NETUID, parties, signer, T0, tempDir, terms as mkTerms } from '../unit/escrow/fixtures.js'

const here = fileURLToPath(new URL('.', import.meta.url))
const CHILD = join(here, 'escrow-crash.child.ts')
const HOOKS = join(here, 'escrow-ts-hooks.mjs')
const repo = resolve(here, '../..')
const PRICE = 3_600_000_000n // 1,000,000 base units per GPU-second
const GPUS = 1
const FUNDS = 5_000_000_000n
const p = await parties()
const t = mkTerms(p)

const children: ChildProcessWithoutNullStreams[] = []
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode == null && c.signalCode == null) c.kill('SIGKILL')
  for (const c of cleanups.splice(0)) await c()
})

/** A child process with a reader of its JSON stdout lines. */
function child (args: string[], env: Record<string, string>): { proc: ChildProcessWithoutNullStreams, next: () => Promise<Record<string, unknown>>, exited: Promise<NodeJS.Signals | number | null> } {
  const proc = spawn(process.execPath, ['--experimental-transform-types', '--no-warnings', '--import', HOOKS, CHILD, ...args], {
    cwd: repo, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe']
  })
  children.push(proc)
  let stderr = ''
  proc.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]()
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => proc.on('exit', (code, signal) => { resolve(signal ?? code) }))
  const next = async (): Promise<Record<string, unknown>> => {
    const r = await lines.next()
    if (r.done === true) throw new Error(`child ended without output: ${stderr}`)
    return JSON.parse(r.value) as Record<string, unknown>
  }
  return { proc, next, exited }
}

async function openedLedger (dir: string): Promise<void> {
  const ledger = await EmbeddedLedger.open({ netuid: NETUID, path: dir, clock: new ManualClock(T0), genesis: [{ address: p.payer.address, amount: FUNDS }] })
  await ledger.open(t, p.payer)
  await ledger.close()
}

/**
 * Runs a metering session against a supplier process for `n` ticks and SIGKILLs the process right
 * after it printed the ack of voucher n. Returns the renter (its latest voucher is voucher n).
 */
async function meterThenKill (dbDir: string, n: number): Promise<MeterRenter> {
  const clock = new ManualClock(T0)
  const renter = new MeterRenter({ terms: t, pricePerGpuHour: PRICE, gpus: GPUS, signer: signer(), clock })
  const sup = child(['supplier', dbDir, toJson(t)], { T0: String(T0), PRICE: PRICE.toString(), GPUS: String(GPUS) })
  expect(await sup.next()).toEqual({ ready: true })
  renter.start()
  for (let i = 1; i <= n; i++) {
    clock.advance(10_000)
    sup.proc.stdin.write(JSON.stringify({ tick: 10_000 }) + '\n')
    const report = decodeMetering(Buffer.from((await sup.next()).frame as string, 'hex'))
    if (report.kind !== 'report') throw new Error('expected a report')
    const v = await renter.onReport(report.report)
    sup.proc.stdin.write(JSON.stringify({ frame: Buffer.from(encodeMetering({ kind: 'voucher', voucher: v })).toString('hex') }) + '\n')
    const ack = decodeMetering(Buffer.from((await sup.next()).frame as string, 'hex'))
    expect(ack).toEqual({ kind: 'ack', ack: { escrowId: t.escrowId, sequence: BigInt(i), cumulative: v.cumulative } })
  }
  sup.proc.kill('SIGKILL')
  expect(await sup.exited).toBe('SIGKILL')
  return renter
}

async function settleInChild (dbDir: string, ledgerDir: string, how: 'arbiter' | 'cooperative'): Promise<Record<string, unknown>> {
  const s = child(['settle', dbDir, ledgerDir, how], { NOW: String(T0 + 60_000), NETUID: String(NETUID), ESCROW_ID: t.escrowId })
  const out = await s.next()
  expect(await s.exited).toBe(0)
  return out
}

async function finalState (ledgerDir: string): Promise<{ payee: bigint, payer: bigint, status?: string, remarks: string[] }> {
  const ledger = await EmbeddedLedger.open({ netuid: NETUID, path: ledgerDir })
  try {
    const e = await ledger.get(t.escrowId)
    return { payee: await ledger.balance(p.payee.address), payer: await ledger.balance(p.payer.address), status: e?.status, remarks: e?.records.map((r) => r.remark) ?? [] }
  } finally {
    await ledger.close()
  }
}

describe('supplier killed with SIGKILL after acknowledging voucher N', () => {
  it('a fresh process closes with the arbiter using voucher N; payee gets exactly N, payer the rest', async () => {
    const db = await tempDir()
    const led = await tempDir()
    cleanups.push(db.cleanup, led.cleanup)
    await openedLedger(led.path)
    const renter = await meterThenKill(db.path, 4)
    const n = renter.latest()!
    expect(n.cumulative).toBe(40_000_000n)

    expect(await settleInChild(db.path, led.path, 'arbiter')).toEqual({ executed: true, paid: '40000000' })

    const end = await finalState(led.path)
    expect(end.status).toBe('closed')
    expect(end.payee).toBe(40_000_000n)
    expect(end.payer).toBe(FUNDS - 40_000_000n)
    expect(decodeRecord(end.remarks[1])).toMatchObject({ kind: 'close', settlement: 'voucher', voucherCumulative: '40000000', voucherSequence: '4' })
  })

  it('a fresh process closes cooperatively with the renter using voucher N', async () => {
    const db = await tempDir()
    const led = await tempDir()
    cleanups.push(db.cleanup, led.cleanup)
    await openedLedger(led.path)
    const renter = await meterThenKill(db.path, 3)
    // the renter approves the cooperative close with the latest voucher it signed
    const ledger = await EmbeddedLedger.open({ netuid: NETUID, path: led.path })
    expect((await ledger.approve(closeSettlement(t, renter.latest(), 'cooperative'), p.payer)).executed).toBe(false)
    await ledger.close()

    expect(await settleInChild(db.path, led.path, 'cooperative')).toEqual({ executed: true, paid: '30000000' })

    const end = await finalState(led.path)
    expect(end.status).toBe('closed')
    expect(end.payee).toBe(30_000_000n)
    expect(end.payer).toBe(FUNDS - 30_000_000n)
  })
})
