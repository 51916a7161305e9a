import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { memoryChannelPair } from '../../src/protocols/framed.js'
import { processRuntime } from '../../src/jobs/index.js'
import { runJobClient, runJobServer } from '../../src/protocols/job/index.js'
import { MemoryVoucherStore, MeterSupplier, VoucherSigner } from '../../src/escrow/index.js'
import { supplierMeteringHooks } from '../../src/protocols/metering/index.js'

/** /proc/<pid>/stat state letter ('T' = stopped) */
function procState (pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]
  } catch {
    return undefined
  }
}

describe('vouchers that lag pause the job, then stop it', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bazaar-lag-'))
  afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

  it('a renter that stops paying sees its job paused after the grace window and stopped after the second', async () => {
    const [supplierEnd, renterEnd] = memoryChannelPair()
    const terms = {
      escrowId: '0x' + '11'.repeat(32),
      agreementHash: '0x' + '11'.repeat(32),
      payer: '5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV',
      payee: '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY',
      arbiter: '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty',
      amount: 1_000_000_000n,
      netuid: 1,
      voucherKey: VoucherSigner.generate().publicKeyHex,
      expiresAt: Date.now() + 3600_000
    }
    const meter = await MeterSupplier.open({ terms, pricePerGpuHour: 1_000_000_000n, gpus: 1, store: new MemoryVoucherStore(), tickMs: 200, graceMs: 600, stopAfterMs: 1500 })
    let paused = 0
    let pid = 0
    const states: string[] = []
    const hooks = supplierMeteringHooks(meter, { onPause: () => { paused++; setTimeout(() => { states.push(procState(pid) ?? '?') }, 100) } })
    const server = runJobServer(supplierEnd, {
      runtime: processRuntime(),
      workRoot: dir,
      gpuIndices: [0],
      tickIntervalMs: 200,
      onUsageTick: hooks.onUsageTick,
      onMetering: hooks.onMetering,
      onStarted: (info) => { pid = info.pgid }
    })
    // the renter reads reports but never answers with a voucher
    const client = runJobClient(renterEnd, {
      command: process.execPath,
      args: ['-e', 'setInterval(() => {}, 1000)'],
      gpuCount: 1,
      limits: { maxDurationMs: 30_000 }
    }, { outputDir: path.join(dir, 'out'), onMetering: () => {} })
    const [s, c] = await Promise.all([server, client])
    expect(paused).toBe(1)
    // the job's process was stopped (SIGSTOP) while vouchers lagged
    expect(states).toEqual(['T'])
    expect(s.reason).toBe('budget')
    expect(s.detail).toBe('VOUCHERS_LAG')
    expect(c.reason).toBe('budget')
    meter.stop()
  }, 30_000)
})
