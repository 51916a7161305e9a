/**
 * The check a daemon makes at start of the endpoints it may go on to later
 * (`chain.fallbackEndpoints`): each asked for its blocks 0 and 1 on a socket of its own.
 */
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { checkEndpoints, GENESIS_CHECK_MS, type GenesisProvider } from '../../../src/escrow/chain/subtensor/endpoints.js'
import { ManualClock } from '../../../src/util/clock.js'
import { rpcServer } from '../../helpers/rpc-ws.js'
import { never } from '../../helpers/silent-chain.js'

const GENESIS = '0x' + 'aa'.repeat(32)
const OTHER = '0x' + 'bb'.repeat(32)
const BLOCK1 = '0x' + '11'.repeat(32)

/** a port nothing listens on: bound, then closed */
async function refusedUrl (): Promise<string> {
  const s = createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const { port } = s.address() as AddressInfo
  await new Promise<void>((resolve) => s.close(() => { resolve() }))
  return `ws://127.0.0.1:${port}`
}

describe('checkEndpoints', () => {
  const cleanup: Array<() => Promise<void>> = []
  afterEach(async () => { for (const c of cleanup.splice(0)) await c() })

  it('over real websockets: a node of the chain passes, another chain\'s node is named with its genesis or its block 1, one refusing and one with a bad answer are unreachable, one without block 1 unchecked, in the order given', async () => {
    const served = (zero: string, one: string | null) => (m: string, p: unknown[]): unknown => m === 'chain_getBlockHash' ? (p[0] === 0 ? zero : p[0] === 1 ? one : undefined) : undefined
    const same = await rpcServer(served(GENESIS, BLOCK1))
    const other = await rpcServer(served(OTHER.toUpperCase().replace('0X', '0x'), BLOCK1))
    // a dev chain from the same spec: the same block 0, its own block 1
    const sameSpec = await rpcServer(served(GENESIS, '0x' + '12'.repeat(32)))
    const fresh = await rpcServer(served(GENESIS, null))
    const garbled = await rpcServer((m) => m === 'chain_getBlockHash' ? 'block zero' : undefined)
    for (const s of [same, other, sameSpec, fresh, garbled]) cleanup.push(s.close)
    const refused = await refusedUrl()
    const out = await checkEndpoints({ genesis: GENESIS, block: { number: 1, hash: BLOCK1 } }, [refused, other.url, same.url, fresh.url, sameSpec.url, garbled.url])
    expect(out.other).toEqual([{ endpoint: other.url, genesis: OTHER }, { endpoint: sameSpec.url, genesis: GENESIS, block: { number: 1, hash: '0x' + '12'.repeat(32) } }])
    expect(out.unreachable).toEqual([{ endpoint: refused, reason: 'no connection' }, { endpoint: garbled.url, reason: 'its answer is not a block hash' }])
    expect(out.unchecked).toEqual([{ endpoint: fresh.url, reason: 'it has no block #1 to compare' }])
    // two reads of each node, nothing else
    expect(same.asked).toEqual(['chain_getBlockHash', 'chain_getBlockHash'])
    // without a block to compare, block 0 alone
    const zeroOnly = await checkEndpoints({ genesis: GENESIS }, [sameSpec.url, other.url])
    expect(zeroOnly).toEqual({ other: [{ endpoint: other.url, genesis: OTHER }], unreachable: [], unchecked: [] })
  })

  it(`a node that connects and never answers is unreachable after GENESIS_CHECK_MS (${GENESIS_CHECK_MS / 1000} s) of the clock, and its socket is closed`, async () => {
    const clock = new ManualClock(0)
    let closed = 0
    const hanging: GenesisProvider = {
      connect: async () => {},
      isReady: Promise.resolve(),
      on: () => undefined,
      send: async <T>() => await never<T>(),
      disconnect: async () => { closed++ }
    }
    let done = false
    const checking = checkEndpoints({ genesis: GENESIS }, ['ws://hung.test'], { open: () => hanging, clock }).then((r) => { done = true; return r })
    await clock.advanceAsync(GENESIS_CHECK_MS - 1)
    expect(done).toBe(false)
    await clock.advanceAsync(1)
    expect(await checking).toEqual({ other: [], unreachable: [{ endpoint: 'ws://hung.test', reason: 'the chain did not answer chain_getBlockHash in 10 s' }], unchecked: [] })
    expect(closed).toBe(1)
  })
})
