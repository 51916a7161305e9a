import { describe, expect, it } from 'vitest'
import { CHAIN_FOLLOW_MS, ChainFollower } from '../../../src/node/services/chain-follower.js'
import { createLogger } from '../../../src/node/logger.js'
import { Registry } from '../../../src/node/metrics.js'
import { ManualClock } from '../../../src/util/clock.js'
import type { ChainCatchUp } from '../../../src/escrow/index.js'

/** a chain port whose catch-ups the test ends by hand */
function fakeChain (): { catchUp: (opts?: { signal?: AbortSignal }) => Promise<ChainCatchUp>, connected: () => boolean, up: boolean, calls: Array<{ signal?: AbortSignal, end: (r: ChainCatchUp | Error) => void }> } {
  const calls: Array<{ signal?: AbortSignal, end: (r: ChainCatchUp | Error) => void }> = []
  const chain = {
    calls,
    up: true,
    connected: () => chain.up,
    catchUp: async (opts: { signal?: AbortSignal } = {}) => await new Promise<ChainCatchUp>((resolve, reject) => {
      const end = (r: ChainCatchUp | Error): void => { if (r instanceof Error) reject(r); else resolve(r) }
      calls.push({ signal: opts.signal, end })
      opts.signal?.addEventListener('abort', () => { reject(opts.signal?.reason) }, { once: true })
    })
  }
  return chain
}

const settle = async (): Promise<void> => { for (let i = 0; i < 5; i++) await Promise.resolve() }

async function started (onOpened?: (opened: NonNullable<ChainCatchUp['opened']>) => Promise<void>): Promise<{ clock: ManualClock, chain: ReturnType<typeof fakeChain>, lines: Array<Record<string, unknown>>, metrics: Registry, follower: ChainFollower }> {
  const clock = new ManualClock()
  const chain = fakeChain()
  const lines: Array<Record<string, unknown>> = []
  const metrics = new Registry()
  const follower = new ChainFollower({
    chain,
    clock,
    logger: createLogger({ level: 'info', write: (l) => { lines.push(JSON.parse(l) as Record<string, unknown>) } }),
    readBlock: metrics.gauge('bazaar_chain_read_block', 'test'),
    ...(onOpened != null ? { onOpened } : {})
  })
  await follower.start()
  return { clock, chain, lines, metrics, follower }
}

describe('chain follower', () => {
  it('reads the chain at start without holding the start up, then every 12 s, one look at a time', async () => {
    const { clock, chain, lines, metrics, follower } = await started()
    // start returned with the first look still running
    expect(chain.calls).toHaveLength(1)
    clock.advance(5_000)
    chain.calls[0]!.end({ from: 1001, head: 2200, blocks: 1200 })
    await settle()
    expect(lines.find((l) => l.msg === 'chain: escrow records read up to the head')).toMatchObject({ level: 'info', from: 1001, head: 2200, blocks: 1200, ms: 5_000 })
    expect(metrics.render()).toMatch(/^bazaar_chain_read_block 2200$/m)
    expect(follower.last).toEqual({ block: 2200, at: clock.now() })
    clock.advance(CHAIN_FOLLOW_MS - 5_000 - 1)
    expect(chain.calls).toHaveLength(1)
    clock.advance(1)
    expect(chain.calls).toHaveLength(2)
    // still running at the next look: that turn is skipped
    clock.advance(CHAIN_FOLLOW_MS)
    expect(chain.calls).toHaveLength(2)
    const before = lines.length
    chain.calls[1]!.end({ from: 2201, head: 2203, blocks: 3 })
    await settle()
    // later looks are quiet at info
    expect(lines).toHaveLength(before)
    // blocks passed over on a node that prunes state: a warning each
    clock.advance(CHAIN_FOLLOW_MS)
    chain.calls[2]!.end({ from: 2204, head: 2204, blocks: 1, skipped: [{ from: 1001, to: 1940 }] })
    await settle()
    expect(lines.slice(before)).toMatchObject([{ level: 'warn', from: 1001, to: 1940 }])
    expect(String(lines.at(-1)!.msg)).toContain('no longer keeps the state of these blocks')
    expect(metrics.render()).toMatch(/^bazaar_chain_read_block 2204$/m)
    clock.advance(CHAIN_FOLLOW_MS)
    expect(chain.calls).toHaveLength(4)
    await follower.stop()
  })

  it('a run of failures is one warning, and the next read that works says so; looks are skipped while the connection is down', async () => {
    const { clock, chain, lines, follower } = await started()
    chain.calls[0]!.end(new Error('chain_getBlockHash: no answer'))
    await settle()
    expect(follower.last).toBeUndefined()
    for (let i = 1; i <= 2; i++) {
      clock.advance(CHAIN_FOLLOW_MS)
      chain.calls[i]!.end(new Error('still no answer'))
      await settle()
    }
    const warnings = lines.filter((l) => l.level === 'warn')
    expect(warnings).toHaveLength(1)
    expect(String(warnings[0]!.msg)).toContain('reading new blocks failed')
    chain.up = false
    clock.advance(CHAIN_FOLLOW_MS)
    expect(chain.calls).toHaveLength(3)
    chain.up = true
    clock.advance(CHAIN_FOLLOW_MS)
    expect(chain.calls).toHaveLength(4)
    chain.calls[3]!.end({ from: 50, head: 60, blocks: 11 })
    await settle()
    // the first read that worked is the first look's line; the next failure warns again
    expect(lines.at(-1)).toMatchObject({ level: 'info', msg: 'chain: escrow records read up to the head', blocks: 11 })
    clock.advance(CHAIN_FOLLOW_MS)
    chain.calls[4]!.end(new Error('gone again'))
    await settle()
    clock.advance(CHAIN_FOLLOW_MS)
    chain.calls[5]!.end({ from: 61, head: 64, blocks: 4 })
    await settle()
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(2)
    expect(lines.at(-1)).toMatchObject({ level: 'info', msg: 'chain: new blocks read again', head: 64 })
    await follower.stop()
  })

  it('hands over the escrows a look found opened; a failed hand-over keeps them for the next look, with one warning', async () => {
    const handed: string[][] = []
    let fail = true
    const opened = (id: string): NonNullable<ChainCatchUp['opened']>[number] => ({
      terms: { escrowId: id, agreementHash: id, payer: 'p', payee: 'q', arbiter: 'a', amount: 1n, netuid: 1, voucherKey: '0x', expiresAt: 0 },
      records: [{ kind: 'open', escrowId: id, blockNumber: 7, blockHash: '0x07', txHash: '0x', remark: '{}' }]
    })
    const { clock, chain, lines, follower } = await started(async (list) => {
      handed.push(list.map((o) => o.terms.escrowId))
      if (fail) throw new Error('database closed')
    })
    chain.calls[0]!.end({ from: 1, head: 9, blocks: 9, opened: [opened('0x01'), opened('0x02')] })
    await settle()
    expect(handed).toEqual([['0x01', '0x02']])
    expect(lines.filter((l) => l.level === 'warn')).toMatchObject([{ escrows: 2 }])
    expect(String(lines.find((l) => l.level === 'warn')!.msg)).toContain('keeping the escrows found opened failed')
    // the read itself worked: its head is kept
    expect(follower.last?.block).toBe(9)
    fail = false
    clock.advance(CHAIN_FOLLOW_MS)
    chain.calls[1]!.end({ from: 10, head: 12, blocks: 3, opened: [opened('0x03')] })
    await settle()
    expect(handed).toEqual([['0x01', '0x02'], ['0x01', '0x02', '0x03']])
    // nothing found, nothing handed
    clock.advance(CHAIN_FOLLOW_MS)
    chain.calls[2]!.end({ from: 13, head: 13, blocks: 1 })
    await settle()
    expect(handed).toHaveLength(2)
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1)
    await follower.stop()
  })

  it('stop aborts the running look, waits for it, and no look comes after', async () => {
    const { clock, chain, lines, follower } = await started()
    let stopped = false
    const stopping = follower.stop().then(() => { stopped = true })
    await settle()
    expect(chain.calls[0]!.signal?.aborted).toBe(true)
    await stopping
    expect(stopped).toBe(true)
    // an aborted look is not a failure
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(0)
    clock.advance(10 * CHAIN_FOLLOW_MS)
    expect(chain.calls).toHaveLength(1)
  })
})
