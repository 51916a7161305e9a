import { describe, expect, it } from 'vitest'
import type { ApiPromise } from '@polkadot/api'
import { READ_TIMEOUT_MS, retrying, submitAndWait } from '../../../src/escrow/chain/subtensor/submit.js'
import { SubtensorChain } from '../../../src/escrow/chain/subtensor/adapter.js'
import { ManualClock } from '../../../src/util/clock.js'
import { drive, hex, never, silentApi } from '../../helpers/silent-chain.js'

describe('a chain read the node never answers', () => {
  it('fails with CHAIN_TIMEOUT naming the method once READ_TIMEOUT_MS of the clock pass, not before, and leaves no timer', async () => {
    const clock = new ManualClock(0)
    const api = { isConnected: true } as unknown as ApiPromise
    const read = retrying(api, never, { clock, deadline: 60_000, method: 'chain_getBlockHash' })
    let settled = false
    void read.catch(() => {}).finally(() => { settled = true })
    await clock.advanceAsync(READ_TIMEOUT_MS - 1)
    expect(settled).toBe(false)
    const failed = expect(read).rejects.toMatchObject({ code: 'CHAIN_TIMEOUT', details: { method: 'chain_getBlockHash' } })
    await clock.advanceAsync(1)
    await failed
    expect(clock.pending).toBe(0)
  })

  it('an abort ends a read in flight at once: a stop does not wait for the node', async () => {
    const clock = new ManualClock(0)
    const api = { isConnected: true } as unknown as ApiPromise
    const ac = new AbortController()
    const read = retrying(api, never, { clock, deadline: 60_000, signal: ac.signal, method: 'system.account' })
    ac.abort()
    await expect(read).rejects.toMatchObject({ code: 'ABORTED' })
    expect(clock.pending).toBe(0)
  })

  it('made again where the caller asks for it (an inclusion wait): the next answer counts', async () => {
    const clock = new ManualClock(0)
    const api = { isConnected: true } as unknown as ApiPromise
    let calls = 0
    const read = retrying(api, async () => ++calls === 1 ? await never<string>() : 'head', { clock, deadline: 120_000, method: 'chain_getHeader', retryTimeouts: true })
    const r = await drive(clock, read)
    expect(r).toEqual({ ok: 'head' })
    expect(calls).toBe(2)
    expect(clock.now()).toBe(READ_TIMEOUT_MS + 250)
  })
})

describe('the subtensor adapter on a node that stopped answering', () => {
  it('get: the block scan fails with CHAIN_TIMEOUT (chain_getFinalizedHead), and a later get scans again once the node answers', async () => {
    const clock = new ManualClock(0)
    const hang = new Set(['chain_getFinalizedHead'])
    const chain = new SubtensorChain(silentApi(hang), { clock, fromBlock: 1 }, false)
    const id = '0x' + '33'.repeat(32)
    const r = await drive(clock, chain.get(id))
    expect(r).toMatchObject({ err: { code: 'CHAIN_TIMEOUT', details: { method: 'chain_getFinalizedHead' } } })
    expect(clock.now()).toBe(READ_TIMEOUT_MS)
    // the failed scan does not stay in the way of the next one
    hang.clear()
    expect(await drive(clock, chain.get(id))).toEqual({ ok: undefined })
    expect(clock.pending).toBe(0)
  })

  it('get: a second caller waiting on the first one\'s scan ends with its own abort', async () => {
    const clock = new ManualClock(0)
    const chain = new SubtensorChain(silentApi(new Set(['chain_getFinalizedHead'])), { clock, fromBlock: 1 }, false)
    const id = '0x' + '33'.repeat(32)
    const first = chain.get(id)
    void first.catch(() => {})
    const ac = new AbortController()
    const second = chain.get(id, { signal: ac.signal })
    ac.abort()
    await expect(second).rejects.toMatchObject({ code: 'ABORTED' })
    await expect((await drive(clock, first) as { err: unknown }).err).toMatchObject({ code: 'CHAIN_TIMEOUT' })
  })

  it('get: the callers that come while a scan runs share the one scan after it, rather than each making its own', async () => {
    const clock = new ManualClock(0)
    const hang = new Set(['chain_getFinalizedHead'])
    const api = silentApi(hang)
    const chain = new SubtensorChain(api, { clock, fromBlock: 1 }, false)
    const id = '0x' + '33'.repeat(32)
    const heads = (): number => api.asked.filter((m) => m === 'chain_getFinalizedHead').length
    const first = chain.get(id)
    void first.catch(() => {})
    for (let i = 0; i < 10 && heads() === 0; i++) await Promise.resolve()
    expect(heads()).toBe(1)
    // the node answers again, for the reads from now on; the first scan's read stays unanswered
    hang.clear()
    const waiting = Array.from({ length: 6 }, async () => await chain.get(id))
    const r = await drive(clock, Promise.allSettled([first, ...waiting]))
    expect(r).toMatchObject({ ok: [{ status: 'rejected', reason: { code: 'CHAIN_TIMEOUT' } }, ...waiting.map(() => ({ status: 'fulfilled', value: undefined }))] })
    // the first scan and one shared by the six (before: six more, one after another)
    expect(heads()).toBe(2)
    // a caller after that scans again
    expect(await drive(clock, chain.get(id))).toEqual({ ok: undefined })
    expect(heads()).toBe(3)
  })

  it('close ends a shared scan that no caller\'s signal ends, and leaves no timer', async () => {
    const clock = new ManualClock(0)
    const api = silentApi(new Set(['chain_getFinalizedHead']))
    const chain = new SubtensorChain(api, { clock, fromBlock: 1 }, false)
    const id = '0x' + '33'.repeat(32)
    const first = chain.get(id)
    void first.catch(() => {})
    for (let i = 0; i < 10 && api.asked.length === 0; i++) await Promise.resolve()
    // a caller without a signal, waiting for the scan after the first
    const second = chain.get(id)
    void second.catch(() => {})
    await clock.advanceAsync(READ_TIMEOUT_MS)
    await expect(first).rejects.toMatchObject({ code: 'CHAIN_TIMEOUT' })
    // the shared scan's read is in flight, unanswered
    for (let i = 0; i < 10 && api.asked.length < 2; i++) await Promise.resolve()
    expect(api.asked.filter((m) => m === 'chain_getFinalizedHead')).toHaveLength(2)
    await chain.close()
    await expect(second).rejects.toMatchObject({ code: 'ABORTED' })
    expect(clock.pending).toBe(0)
  })

  it('balance: CHAIN_TIMEOUT naming system.account; info: CHAIN_TIMEOUT naming system_chain', async () => {
    const clock = new ManualClock(0)
    const hang = new Set(['system.account', 'system_chain'])
    const chain = new SubtensorChain(silentApi(hang), { clock }, false)
    expect(await drive(clock, chain.info())).toMatchObject({ err: { code: 'CHAIN_TIMEOUT', details: { method: 'system_chain' } } })
    hang.delete('system_chain')
    expect(await drive(clock, chain.balance('5C4hrfjw9DjXZTzV3MwzrrAr9P1MJhSrvWGWqi1eSuyUpnhM'))).toMatchObject({ err: { code: 'CHAIN_TIMEOUT', details: { method: 'system.account' } } })
    hang.clear()
    expect(await drive(clock, chain.balance('5C4hrfjw9DjXZTzV3MwzrrAr9P1MJhSrvWGWqi1eSuyUpnhM'))).toEqual({ ok: 7n })
  })

  it('an inclusion wait whose polls are never answered ends at its deadline with INCLUSION_TIMEOUT (the outcome unknown)', async () => {
    const clock = new ManualClock(0)
    const api = silentApi(new Set(['chain_getHeader']))
    const tx = { hash: hex('0x' + '44'.repeat(32)) } as unknown as Parameters<typeof submitAndWait>[1]
    const r = await drive(clock, submitAndWait(api, tx, { finality: false, timeoutMs: 120_000, clock }))
    expect(r).toMatchObject({ err: { code: 'INCLUSION_TIMEOUT', cause: { code: 'CHAIN_TIMEOUT', details: { method: 'chain_getHeader' } } } })
    expect(clock.now()).toBeGreaterThan(120_000)
    expect(clock.now()).toBeLessThan(120_000 + READ_TIMEOUT_MS + 1_000)
    expect(clock.pending).toBe(0)
  })
})
