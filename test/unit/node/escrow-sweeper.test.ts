import { describe, expect, it } from 'vitest'
import { EscrowSweeper } from '../../../src/node/services/escrow-sweeper.js'
import { createLogger } from '../../../src/node/logger.js'
import { ManualClock } from '../../../src/util/clock.js'
import type { ChainFee } from '../../../src/escrow/index.js'

/** an escrow service whose sweeps the test ends by hand */
function fakeEscrow (): { sweep: (opts?: { signal?: AbortSignal }) => Promise<ChainFee[]>, calls: Array<{ signal?: AbortSignal, end: (fees: ChainFee[] | Error) => void }> } {
  const calls: Array<{ signal?: AbortSignal, end: (fees: ChainFee[] | Error) => void }> = []
  return {
    calls,
    sweep: async (opts = {}) => await new Promise<ChainFee[]>((resolve, reject) => {
      const end = (r: ChainFee[] | Error): void => { if (r instanceof Error) reject(r); else resolve(r) }
      calls.push({ signal: opts.signal, end })
      opts.signal?.addEventListener('abort', () => { reject(opts.signal?.reason) }, { once: true })
    })
  }
}

const settle = async (): Promise<void> => { for (let i = 0; i < 5; i++) await Promise.resolve() }

/** a started sweeper on a manual clock over `fakeEscrow`, logging into `lines` */
async function started (intervalMs: number): Promise<{ clock: ManualClock, escrow: ReturnType<typeof fakeEscrow>, lines: string[], sweeper: EscrowSweeper }> {
  const clock = new ManualClock()
  const escrow = fakeEscrow()
  const lines: string[] = []
  const sweeper = new EscrowSweeper({ escrow, clock, logger: createLogger({ level: 'info', write: (l) => { lines.push(l) } }), intervalMs })
  await sweeper.start()
  return { clock, escrow, lines, sweeper }
}

describe('escrow sweeper', () => {
  it('sweeps every interval after start, one at a time, logging what it paid and surviving a failure', async () => {
    const { clock, escrow, lines, sweeper } = await started(600_000)
    // not at start: a restarted node is busy closing what it left open
    await settle()
    expect(escrow.calls).toHaveLength(0)
    clock.advance(600_000)
    expect(escrow.calls).toHaveLength(1)
    // still running at the next look: that turn is skipped
    clock.advance(600_000)
    expect(escrow.calls).toHaveLength(1)
    escrow.calls[0]!.end([{ op: 'cancel', account: '5a', fee: 120n }, { op: 'arbiter-sweep', account: '5b', fee: 80n }, { op: 'cancel', account: '5a', fee: 100n }])
    await settle()
    const swept = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r.msg === 'swept settled escrows')
    expect(swept).toMatchObject({ level: 'info', transactions: 3, ops: { cancel: 2, 'arbiter-sweep': 1 }, feesRao: '300' })
    // a failure is logged, and the next turn runs
    clock.advance(600_000)
    expect(escrow.calls).toHaveLength(2)
    escrow.calls[1]!.end(new Error('chain unreachable'))
    await settle()
    expect(lines.some((l) => l.includes('escrow sweep failed') && l.includes('"level":"warn"'))).toBe(true)
    clock.advance(600_000)
    expect(escrow.calls).toHaveLength(3)
    // nothing to do: nothing logged
    const before = lines.length
    escrow.calls[2]!.end([])
    await settle()
    expect(lines).toHaveLength(before)
    await sweeper.stop()
  })

  it('stop aborts a running sweep and waits for it; no sweep after', async () => {
    const { clock, escrow, lines, sweeper } = await started(1000)
    clock.advance(1000)
    expect(escrow.calls).toHaveLength(1)
    await sweeper.stop()
    expect(escrow.calls[0]!.signal?.aborted).toBe(true)
    // an aborted sweep is the stop's doing, not a failure
    expect(lines.some((l) => l.includes('escrow sweep failed'))).toBe(false)
    clock.advance(10_000)
    expect(escrow.calls).toHaveLength(1)
  })
})
