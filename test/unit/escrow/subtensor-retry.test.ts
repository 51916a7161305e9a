import { describe, expect, it } from 'vitest'
import type { ApiPromise } from '@polkadot/api'
import { retrying, sleep, submitAndWait } from '../../../src/escrow/chain/subtensor/submit.js'
import { ManualClock } from '../../../src/util/clock.js'

/** an API whose socket is down: `retrying` waits for the reconnection instead of failing at once */
const disconnected = { isConnected: false } as unknown as ApiPromise

describe('waiting on a chain through the injected clock', () => {
  it('makes no call while the socket is down (each would fail and be logged), and calls once it is back', async () => {
    const clock = new ManualClock(0)
    const api = { isConnected: false }
    let calls = 0
    const done = retrying(api as unknown as ApiPromise, async () => { calls++; return 'head' }, { clock, deadline: 10_000 })
    await clock.advanceAsync(1_000)
    expect(calls).toBe(0)
    api.isConnected = true
    await clock.advanceAsync(249)
    expect(calls).toBe(0)
    await clock.advanceAsync(1)
    expect(await done).toBe('head')
    expect(calls).toBe(1)
  })

  it('a call that fails as the socket drops is made again once it is back, 250 ms of the clock later at the soonest', async () => {
    const clock = new ManualClock(0)
    const api = { isConnected: true }
    let calls = 0
    const done = retrying(api as unknown as ApiPromise, async () => {
      if (++calls === 1) { api.isConnected = false; throw new Error('socket closed') }
      return 'head'
    }, { clock, deadline: 10_000 })
    await clock.advanceAsync(500)
    expect(calls).toBe(1)
    api.isConnected = true
    await clock.advanceAsync(250)
    expect(await done).toBe('head')
    expect(calls).toBe(2)
  })

  it('a call that fails while the socket is up fails at once (the chain\'s answer, not the connection)', async () => {
    const clock = new ManualClock(0)
    const api = { isConnected: true }
    await expect(retrying(api as unknown as ApiPromise, async () => { throw new Error('module error') }, { clock, deadline: 10_000 })).rejects.toThrow('module error')
  })

  it('gives up with CHAIN_UNAVAILABLE once the clock passes the deadline', async () => {
    const clock = new ManualClock(0)
    const done = retrying(disconnected, async () => { throw new Error('socket closed') }, { clock, deadline: 1_000 })
    const failed = expect(done).rejects.toMatchObject({ code: 'CHAIN_UNAVAILABLE' })
    await clock.advanceAsync(1_250)
    await failed
    expect(clock.pending).toBe(0)
  })

  it('ends a wait with ABORTED when its signal aborts, leaving no timer', async () => {
    const clock = new ManualClock(0)
    const ac = new AbortController()
    const waiting = sleep(60_000, ac.signal, clock)
    ac.abort()
    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' })
    expect(clock.pending).toBe(0)
  })
})

describe('the pool\'s verdict on a submission', () => {
  /** an API connected to a node at block 7 whose pool refuses every submission with `message` */
  const refusing = (message: string): ApiPromise => ({
    isConnected: true,
    rpc: {
      chain: { getHeader: async () => ({ number: { toNumber: () => 7 } }) },
      author: { submitExtrinsic: async () => { throw new Error(message) } }
    }
  }) as unknown as ApiPromise
  const tx = { hash: { toHex: () => '0x' + 'ab'.repeat(32) } } as never
  const signedWith = { account: '5FHFn818gqXxtCkSstPpH4KeYQm184XCZtdVKtP1hwW1DD92', nonce: 3 }

  it('a signer that cannot pay the fee is CANNOT_PAY_FEES naming the account, not a nonce race signed again', async () => {
    // chopsticks' words, then a node's
    for (const message of ['1010: {"invalid":{"payment":null}}', '1010: Invalid Transaction: Inability to pay some fees (e.g. account balance too low)']) {
      const err = await submitAndWait(refusing(message), tx, { finality: false, clock: new ManualClock(0), signedWith }).catch((e: unknown) => e)
      expect(err).toMatchObject({ code: 'CANNOT_PAY_FEES' })
      expect((err as Error).message).toMatch(new RegExp(`^the account ${signedWith.account} cannot pay the transaction fee: it holds too little free TAO`))
    }
  })

  it('a stale nonce from another signer of the key is still NONCE_USED, and a priority clash too', async () => {
    for (const message of ['1010: Invalid Transaction: Transaction is outdated', '1014: Priority is too low: (123 vs 123)']) {
      await expect(submitAndWait(refusing(message), tx, { finality: false, clock: new ManualClock(0), signedWith })).rejects.toMatchObject({ code: 'NONCE_USED' })
    }
  })
})
