import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import { ChainConnection, LAG_RETRY_MS, LAG_WAIT_MS, type WatchedApi } from '../../../src/escrow/chain/subtensor/connection.js'
import type { ChainConnectionEvent } from '../../../src/escrow/chain/port.js'
import { chainReady } from '../../../src/node/roles/renter/role.js'
import { READ_TIMEOUT_MS } from '../../../src/escrow/chain/subtensor/submit.js'
import { ManualClock } from '../../../src/util/clock.js'

const GENESIS = '0x' + 'aa'.repeat(32)
const OTHER = '0x' + 'bb'.repeat(32)
const hex = (h: string): { toHex: () => string } => ({ toHex: () => h })

const BLOCK5 = '0x' + '55'.repeat(32)

/**
 * an ApiPromise's events, connection flag, genesis and block reads, driven by the test: the chain
 * it serves has `served` as its genesis and `blocks` after it (block 5 finalized)
 */
function fakeApi (): WatchedApi & EventEmitter & { isConnected: boolean, served: string, blocks: Map<number, string>, fail: boolean } {
  const e = new EventEmitter() as EventEmitter & WatchedApi & { isConnected: boolean, served: string, blocks: Map<number, string>, fail: boolean }
  return Object.assign(e, {
    isConnected: true,
    served: GENESIS,
    blocks: new Map([[5, BLOCK5]]),
    fail: false,
    genesisHash: hex(GENESIS),
    rpc: {
      chain: {
        getBlockHash: async (n: number) => { if (e.fail) throw new Error('socket closed'); return hex(n === 0 ? e.served : e.blocks.get(n) ?? '0x' + '00'.repeat(32)) }
      }
    }
  })
}

const settle = async (): Promise<void> => { for (let i = 0; i < 20; i++) await Promise.resolve() }

describe('the chain connection watch', () => {
  it('says lost once per drop and restored once the same chain answers again', async () => {
    const api = fakeApi()
    const c = new ChainConnection(api)
    const seen: ChainConnectionEvent[] = []
    c.onEvent((e) => { seen.push(e) })
    api.isConnected = false
    api.emit('disconnected')
    api.emit('disconnected')
    expect(c.usable).toBe(false)
    // a reconnect that drops before block 0 answers says nothing yet
    api.fail = true
    api.emit('connected')
    await settle()
    api.fail = false
    api.isConnected = true
    api.emit('connected')
    await settle()
    expect(seen).toEqual([{ kind: 'lost' }, { kind: 'restored' }])
    expect(c.usable).toBe(true)
    expect(() => { c.assertSameChain() }).not.toThrow()
  })

  it('a reconnect to an endpoint that serves another genesis: changed, unusable, and every operation CHAIN_CHANGED from then on', async () => {
    const api = fakeApi()
    const c = new ChainConnection(api)
    const seen: ChainConnectionEvent[] = []
    c.onEvent((e) => { seen.push(e) })
    api.isConnected = false
    api.emit('disconnected')
    api.served = OTHER
    api.isConnected = true
    api.emit('connected')
    await settle()
    expect(seen).toEqual([{ kind: 'lost' }, { kind: 'changed', genesis: OTHER, was: GENESIS }])
    expect(c.usable).toBe(false)
    expect(() => { c.assertSameChain() }).toThrow(expect.objectContaining({ code: 'CHAIN_CHANGED' }))
    // the old chain back at the endpoint does not undo it: this port's state (nonces, index) is suspect
    api.served = GENESIS
    api.emit('connected')
    await settle()
    expect(c.usable).toBe(false)
  })
})

describe('a chain started again from the same spec', () => {
  it('has the same genesis and another history: a block this port saw finalized differs, and that is another chain', async () => {
    const api = fakeApi()
    const c = new ChainConnection(api)
    // the adapter's scan read block 5
    c.saw(5, BLOCK5)
    const seen: ChainConnectionEvent[] = []
    c.onEvent((e) => { seen.push(e) })
    api.isConnected = false
    api.emit('disconnected')
    // the new chain is at block 3: it has no block 5 yet
    api.blocks = new Map([[3, '0x' + '33'.repeat(32)]])
    api.isConnected = true
    api.emit('connected')
    await settle()
    expect(seen).toEqual([{ kind: 'lost' }, { kind: 'changed', genesis: GENESIS, was: GENESIS, block: 5, blockHash: '0x' + '00'.repeat(32), blockWas: BLOCK5 }])
    expect(c.usable).toBe(false)
    await expect(c.checked()).rejects.toMatchObject({ code: 'CHAIN_CHANGED', message: expect.stringMatching(/same genesis, but block #5/) })
  })
})

describe('the chain connection watch over several endpoints (nodes of one chain)', () => {
  /** the watch on `api`, its socket at `at.endpoint`; block 5 seen at ws://a */
  function watched (): { api: ReturnType<typeof fakeApi>, c: ChainConnection, at: { endpoint: string }, clock: ManualClock, seen: ChainConnectionEvent[] } {
    const api = fakeApi()
    const clock = new ManualClock(0)
    const at = { endpoint: 'ws://a' }
    const c = new ChainConnection(api, clock, () => at.endpoint)
    c.saw(5, BLOCK5)
    const seen: ChainConnectionEvent[] = []
    c.onEvent((e) => { seen.push(e) })
    return { api, c, at, clock, seen }
  }
  const reconnect = (api: ReturnType<typeof fakeApi>, at: { endpoint: string }, to: string): void => {
    api.isConnected = false
    api.emit('disconnected')
    at.endpoint = to
    api.isConnected = true
    api.emit('connected')
  }

  it('another node still behind the block this port saw: unusable and what signs waits, asked again every LAG_RETRY_MS until it has the block, then restored there', async () => {
    const { api, c, at, clock, seen } = watched()
    api.blocks = new Map([[4, '0x' + '44'.repeat(32)]])
    reconnect(api, at, 'ws://b')
    await settle()
    expect(seen).toEqual([{ kind: 'lost', endpoint: 'ws://a' }])
    let signed = false
    const signing = c.checked().then(() => { signed = true })
    await clock.advanceAsync(LAG_RETRY_MS * 3)
    expect(c.usable).toBe(false)
    expect(signed).toBe(false)
    // it finalizes the block the other node had
    api.blocks.set(5, BLOCK5)
    await clock.advanceAsync(LAG_RETRY_MS)
    await signing
    expect(seen).toEqual([{ kind: 'lost', endpoint: 'ws://a' }, { kind: 'restored', endpoint: 'ws://b' }])
    expect(c.usable).toBe(true)
    // a block the scan reads there is known as read there
    c.saw(6, '0x' + '66'.repeat(32))
    api.blocks.set(6, '0x' + '66'.repeat(32))
    reconnect(api, at, 'ws://a')
    await settle()
    expect(seen.slice(2)).toEqual([{ kind: 'lost', endpoint: 'ws://b' }, { kind: 'restored', endpoint: 'ws://a' }])
  })

  it(`another node without the block for LAG_WAIT_MS (${LAG_WAIT_MS / 1000} s) serves another chain; one with another hash for it does at once; so does the same node without it`, async () => {
    {
      const { api, c, at, clock, seen } = watched()
      api.blocks = new Map()
      reconnect(api, at, 'ws://b')
      await clock.advanceAsync(LAG_WAIT_MS - LAG_RETRY_MS)
      expect(seen).toEqual([{ kind: 'lost', endpoint: 'ws://a' }])
      await clock.advanceAsync(LAG_RETRY_MS)
      expect(seen[1]).toEqual({ kind: 'changed', genesis: GENESIS, was: GENESIS, block: 5, blockHash: '0x' + '00'.repeat(32), blockWas: BLOCK5, endpoint: 'ws://b' })
      await expect(c.checked()).rejects.toMatchObject({ code: 'CHAIN_CHANGED' })
      expect(clock.pending).toBe(0)
    }
    {
      const { api, at, seen } = watched()
      api.blocks = new Map([[5, '0x' + '99'.repeat(32)]])
      reconnect(api, at, 'ws://b')
      await settle()
      expect(seen[1]).toMatchObject({ kind: 'changed', block: 5, blockHash: '0x' + '99'.repeat(32), endpoint: 'ws://b' })
    }
    {
      const { api, at, seen } = watched()
      api.blocks = new Map()
      reconnect(api, at, 'ws://a')
      await settle()
      expect(seen[1]).toMatchObject({ kind: 'changed', block: 5, endpoint: 'ws://a' })
    }
  })

  it('stop ends the wait for a node behind: no timer left', async () => {
    const { api, c, at, clock } = watched()
    api.blocks = new Map()
    reconnect(api, at, 'ws://b')
    await settle()
    expect(clock.pending).toBe(1)
    c.stop()
    await settle()
    expect(clock.pending).toBe(0)
  })
})

describe('the chain connection watch while a reconnect is being checked', () => {
  it('is not usable, and what signs waits, until block 0 and the known block answer', async () => {
    const api = fakeApi()
    let answer!: (h: { toHex: () => string }) => void
    api.rpc.chain.getBlockHash = async () => await new Promise((resolve) => { answer = resolve })
    const c = new ChainConnection(api)
    c.saw(5, BLOCK5)
    api.isConnected = false
    api.emit('disconnected')
    api.isConnected = true
    api.emit('connected')
    expect(c.usable).toBe(false)
    let signed = false
    const signing = c.checked().then(() => { signed = true })
    await settle()
    expect(signed).toBe(false)
    answer(hex(GENESIS))
    await settle()
    expect(signed).toBe(false)
    answer(hex(BLOCK5))
    await signing
    expect(c.usable).toBe(true)
  })
})

describe('the chain connection watch on a node that answers nothing after a reconnect', () => {
  it('ends the check at the read deadline and checks again a second later; stop clears that retry', async () => {
    const api = fakeApi()
    const clock = new ManualClock(0)
    let silent = true
    const answer = api.rpc.chain.getBlockHash
    api.rpc.chain.getBlockHash = async (n) => silent ? await new Promise(() => {}) : await answer(n)
    const c = new ChainConnection(api, clock)
    const seen: ChainConnectionEvent[] = []
    c.onEvent((e) => { seen.push(e) })
    api.isConnected = false
    api.emit('disconnected')
    api.isConnected = true
    api.emit('connected')
    let waited = false
    const signing = c.checked().then(() => { waited = true })
    await clock.advanceAsync(READ_TIMEOUT_MS - 1)
    expect(waited).toBe(false)
    await clock.advanceAsync(1)
    await signing
    expect(c.usable).toBe(false)
    // the retry waits on the clock; the node answers by then
    expect(clock.pending).toBe(1)
    silent = false
    await clock.advanceAsync(1_000)
    expect(seen).toEqual([{ kind: 'lost' }, { kind: 'restored' }])
    expect(c.usable).toBe(true)
    // a check that fails again leaves a retry, which stop clears
    api.isConnected = false
    api.emit('disconnected')
    silent = true
    api.isConnected = true
    api.emit('connected')
    await clock.advanceAsync(READ_TIMEOUT_MS)
    expect(clock.pending).toBe(1)
    c.stop()
    expect(clock.pending).toBe(0)
  })
})

describe('a rental waits for a chain connection that is down when it begins', () => {
  it('goes on at once where the connection is up, or the port has none', async () => {
    await chainReady({ connected: () => true }, new AbortController().signal)
    await chainReady({}, new AbortController().signal)
  })

  it('goes on when the connection comes back within the wait', async () => {
    const api = fakeApi()
    const c = new ChainConnection(api)
    const port = { connected: () => c.usable, onConnection: (fn: (e: ChainConnectionEvent) => void) => c.onEvent(fn) }
    api.isConnected = false
    api.emit('disconnected')
    const ready = chainReady(port, new AbortController().signal, 60_000)
    api.isConnected = true
    api.emit('connected')
    await ready
    expect(c.usable).toBe(true)
  })

  it('is CHAIN_UNAVAILABLE when it stays down past the wait (nothing agreed or locked), ABORTED when cancelled', async () => {
    const down = { connected: () => false, onConnection: () => () => {} }
    await expect(chainReady(down, new AbortController().signal, 20)).rejects.toMatchObject({ code: 'CHAIN_UNAVAILABLE' })
    const ac = new AbortController()
    const waiting = chainReady(down, ac.signal, 60_000)
    ac.abort()
    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' })
    // a signal aborted before the wait began ends it too (its abort event will not come again)
    await expect(chainReady(down, ac.signal, 60_000)).rejects.toMatchObject({ code: 'ABORTED' })
  })
})
