import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bazaar, CliProcess, ensureBuilt } from '../helpers/cli.js'
import type { DevnetJson } from '../../src/cli/commands/devnet.js'

/** one GPU-hour in ms: vouchers pay floor(price x GPUs x metered ms / this) */
const HOUR_MS = 3_600_000n
/** the devnet's metering tick */
const TICK_MS = 1000n

describe('bazaar devnet (a whole network and one job, as a user runs it)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bazaar-devnet-e2e-'))

  beforeAll(() => { ensureBuilt() }, 120_000)
  afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

  it('--json: one object; the job ran, its output checks out, the escrow settled by the vouchers', () => {
    const r = bazaar(['devnet', '--json', '--job-seconds', '3', '--dir', path.join(dir, 'run')], { timeoutMs: 120_000 })
    expect(r.code, r.stderr).toBe(0)
    const lines = r.stdout.trim().split('\n')
    expect(lines).toHaveLength(1)
    const out = JSON.parse(lines[0]) as DevnetJson

    expect(out.agreementId).toMatch(/^[0-9a-f]{64}$/)
    expect(out.attestation).toMatchObject({ ok: true, kind: 'simulated', gpu: { kind: 'simulated-gpu', model: 'GH100', ccMode: 'on' } })
    expect(out.job.exitCode).toBe(0)
    expect(out.job.reason).toBe('exited')
    expect(out.job.outputs.map((o) => o.name)).toEqual(['result.txt'])
    const file = readFileSync(path.join(out.outputsDir, 'result.txt'))
    expect(file.toString()).toMatch(/^primes below [0-9]+: [0-9]+\n$/)
    expect(out.job.outputs[0].sha256).toBe(createHash('sha256').update(file).digest('hex'))
    expect(out.job.outputs[0].bytes).toBe(file.byteLength)

    // the escrow: everything locked is either paid or refunded, and the payee got something
    const { escrow } = out
    expect(escrow.id).toBe('0x' + out.agreementId)
    expect(escrow.asset).toBe('alpha')
    expect(escrow.unit).toBe('rao')
    expect(escrow.status).toBe('closed')
    const [locked, paid, refunded] = [BigInt(escrow.locked), BigInt(escrow.paid), BigInt(escrow.refunded)]
    expect(paid + refunded).toBe(locked)
    expect(paid > 0n).toBe(true)
    // a 3 s job with a 1 s tick: several acknowledged vouchers
    expect(out.vouchers).toBeGreaterThanOrEqual(2)

    // the price of the supplier the renter matched; 1 GPU
    const supplier = out.suppliers.find((s) => s.hotkey === out.supplier)
    expect(supplier).toBeDefined()
    expect(supplier!.unit).toBe('rao')
    const price = BigInt(supplier!.pricePerGpuHour)
    // metered time is at most the job's wall time plus one tick
    expect(paid * HOUR_MS <= price * (BigInt(out.job.durationMs) + TICK_MS)).toBe(true)
    // paid is what a voucher pays for some whole number of metered ms: floor(price * ms / 1 h)
    const ms = (paid * HOUR_MS + price - 1n) / price
    expect(price * ms / HOUR_MS).toBe(paid)

    // the chain records: open, then close in a later block
    const open = escrow.records.find((x) => x.kind === 'open')
    const close = escrow.records.find((x) => x.kind === 'close')
    expect(open).toBeDefined()
    expect(close).toBeDefined()
    expect(close!.blockNumber).toBeGreaterThan(open!.blockNumber)
    for (const rec of [open!, close!]) expect(rec.blockHash).toMatch(/^0x[0-9a-f]{64}$/)
  }, 150_000)

  it('Ctrl-C during the job cancels it and still settles', async () => {
    const p = new CliProcess(['devnet', '--job-seconds', '60', '--dir', path.join(dir, 'cancel')])
    try {
      await p.waitFor(/\| progress: /, 90_000)
      p.child.kill('SIGINT')
      expect(await p.exited).toBe(130)
      expect(p.stdout).toMatch(/job ended: cancelled/)
      const settled = /settled: paid ([0-9.]+) α to the supplier, refunded ([0-9.]+) α/.exec(p.stdout)
      expect(settled, p.stdout + p.stderr).not.toBeNull()
      expect(p.stdout).toMatch(/chain record close/)
    } finally {
      await p.stop('SIGKILL')
    }
  }, 150_000)

  it('an unreachable --chain fails (exit 1), a malformed one or an unknown flag is a usage error (exit 2)', () => {
    // nothing listens on port 1; @polkadot/api logs its own lines before ours, which ends stderr
    const chain = bazaar(['devnet', '--chain', 'ws://127.0.0.1:1'], { timeoutMs: 90_000 })
    expect(chain.code).toBe(1)
    expect(chain.stderr.trim().split('\n').at(-1)).toMatch(/^bazaar devnet: /)
    expect(bazaar(['devnet', '--chain', 'http://127.0.0.1:9944']).code).toBe(2)
    const bad = bazaar(['devnet', '--bogus'])
    expect(bad.code).toBe(2)
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)
    const secs = bazaar(['devnet', '--job-seconds', 'soon'])
    expect(secs.code).toBe(2)
  }, 120_000)
})
