import { EventEmitter, once } from 'node:events'
import { createServer, type Server } from 'node:http'
import { createHash } from 'node:crypto'
import type { Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { WsProvider } from '@polkadot/api'
import type { ProviderInterface } from '@polkadot/rpc-provider/types'
import { afterEach, describe, expect, it } from 'vitest'
import { HEALTH_INTERVAL_MS, HEALTH_TIMEOUT_MS, HealthWatch } from '../../../src/escrow/chain/subtensor/health.js'
import { MAX_DROPPED, ResettableProvider } from '../../../src/escrow/chain/subtensor/provider.js'
import { SubtensorChain } from '../../../src/escrow/chain/subtensor/adapter.js'
import { SubtensorError } from '../../../src/escrow/chain/subtensor/errors.js'
import type { ChainConnectionEvent } from '../../../src/escrow/chain/port.js'
import { READ_TIMEOUT_MS } from '../../../src/escrow/chain/subtensor/submit.js'
import { ManualClock } from '../../../src/util/clock.js'
import { never, silentApi } from '../../helpers/silent-chain.js'
import { waitFor } from '../../helpers/wait.js'

/** lets queued promise callbacks run */
const settle = async (): Promise<void> => { for (let i = 0; i < 10; i++) await Promise.resolve() }

/** a probe the test answers: `silent` leaves it unanswered */
function node (): { probe: () => Promise<unknown>, silent: boolean, probes: number } {
  const n = {
    silent: false,
    probes: 0,
    probe: async (): Promise<unknown> => {
      n.probes++
      return n.silent ? await never() : { peers: 3, isSyncing: false }
    }
  }
  return n
}

describe('the health watch', () => {
  it('a node that answers: one probe every interval, never dropped; stop leaves no timer', async () => {
    const clock = new ManualClock(0)
    const n = node()
    let drops = 0
    const watch = new HealthWatch({ clock, probe: n.probe, connected: () => true, onUnresponsive: () => { drops++ } })
    watch.start()
    await clock.advanceAsync(HEALTH_INTERVAL_MS * 4)
    expect(n.probes).toBe(4)
    expect(drops).toBe(0)
    watch.stop()
    expect(clock.pending).toBe(0)
  })

  it('two probes in a row unanswered on an open socket: dropped once, HEALTH_INTERVAL_MS + 2 x HEALTH_TIMEOUT_MS after the silence began, then watched again', async () => {
    const clock = new ManualClock(0)
    const n = node()
    n.silent = true
    const drops: number[] = []
    const watch = new HealthWatch({ clock, probe: n.probe, connected: () => true, onUnresponsive: () => { drops.push(clock.now()) } })
    watch.start()
    await clock.advanceAsync(HEALTH_INTERVAL_MS + HEALTH_TIMEOUT_MS)
    // one miss: the second probe goes out at once
    expect(n.probes).toBe(2)
    expect(drops).toEqual([])
    await clock.advanceAsync(HEALTH_TIMEOUT_MS)
    expect(drops).toEqual([HEALTH_INTERVAL_MS + 2 * HEALTH_TIMEOUT_MS])
    // the node answers on the new socket: no more drops
    n.silent = false
    await clock.advanceAsync(HEALTH_INTERVAL_MS * 3)
    expect(drops).toHaveLength(1)
    watch.stop()
    expect(clock.pending).toBe(0)
  })

  it('one probe missed, then an answer (an error is an answer too): not dropped', async () => {
    const clock = new ManualClock(0)
    let calls = 0
    const answers = [async () => await never(), async () => { throw new Error('-32601: method not found') }, async () => await never(), async () => 'ok']
    let drops = 0
    const watch = new HealthWatch({ clock, probe: async () => await answers[calls++ % answers.length]!(), connected: () => true, onUnresponsive: () => { drops++ } })
    watch.start()
    await clock.advanceAsync(HEALTH_INTERVAL_MS * 6)
    expect(calls).toBeGreaterThanOrEqual(4)
    expect(drops).toBe(0)
    watch.stop()
  })

  it('a socket down is not probed (the provider reconnects it): no drop', async () => {
    const clock = new ManualClock(0)
    const n = node()
    n.silent = true
    let drops = 0
    const watch = new HealthWatch({ clock, probe: n.probe, connected: () => false, onUnresponsive: () => { drops++ } })
    watch.start()
    await clock.advanceAsync(HEALTH_INTERVAL_MS * 5)
    expect(n.probes).toBe(0)
    expect(drops).toBe(0)
    watch.stop()
  })

  it('stop ends a probe in flight: no timer left, no drop after it', async () => {
    const clock = new ManualClock(0)
    const n = node()
    n.silent = true
    let drops = 0
    const watch = new HealthWatch({ clock, probe: n.probe, connected: () => true, onUnresponsive: () => { drops++ } })
    watch.start()
    await clock.advanceAsync(HEALTH_INTERVAL_MS)
    expect(n.probes).toBe(1)
    watch.stop()
    await settle()
    expect(clock.pending).toBe(0)
    await clock.advanceAsync(HEALTH_INTERVAL_MS * 4)
    expect(drops).toBe(0)
    expect(n.probes).toBe(1)
  })
})

/** a provider the test opens, answers and closes: `hang` leaves every request unanswered */
interface FakeWs extends ProviderInterface {
  open: () => void
  hang: boolean
  disconnects: number
  close: () => void
}

function fakeWs (): FakeWs {
  const events = new EventEmitter()
  const p: FakeWs = {
    hasSubscriptions: true,
    isClonable: false,
    isConnected: false,
    hang: false,
    disconnects: 0,
    open: () => { (p as { isConnected: boolean }).isConnected = true; events.emit('connected') },
    close: () => { (p as { isConnected: boolean }).isConnected = false; events.emit('disconnected') },
    clone: () => fakeWs(),
    connect: async () => {},
    disconnect: async () => { p.disconnects++ },
    on: (type, cb) => { events.on(type, cb); return () => { events.off(type, cb) } },
    send: async <T>(method: string): Promise<T> => p.hang ? await never<T>() : method as T,
    subscribe: async () => 1,
    unsubscribe: async () => true
  }
  return p
}

function resettable (): { provider: ResettableProvider, opened: FakeWs[] } {
  const opened: FakeWs[] = []
  const provider = new ResettableProvider('ws://node.test:9944', () => { const p = fakeWs(); opened.push(p); return p })
  return { provider, opened }
}

describe('the provider the adapter can drop a socket of', () => {
  it('reset: requests in flight fail at once, after the drop is said; a fresh socket is opened and its connect passed on; the old one is left', async () => {
    const { provider, opened } = resettable()
    const said: string[] = []
    provider.on('connected', () => { said.push('connected') })
    provider.on('disconnected', () => { said.push('disconnected') })
    opened[0]!.open()
    opened[0]!.hang = true
    let connectedAtFailure: boolean | undefined
    const read = provider.send('chain_getHeader', []).catch((err: Error) => { connectedAtFailure = provider.isConnected; throw err })
    expect(provider.reset('no answer to 2 health checks in a row')).toBe(true)
    await expect(read).rejects.toThrow(/^disconnected from ws:\/\/node\.test:9944: no answer to 2 health checks/)
    expect(connectedAtFailure).toBe(false)
    expect(opened).toHaveLength(2)
    expect(opened[0]!.disconnects).toBe(1)
    opened[1]!.open()
    expect(said).toEqual(['connected', 'disconnected', 'connected'])
    expect(provider.isConnected).toBe(true)
    expect(await provider.send('system_health', [])).toBe('system_health')
    // the dropped socket's late events are not the provider's
    opened[0]!.close()
    expect(said).toEqual(['connected', 'disconnected', 'connected'])
    expect(provider.closing).toBe(0)
  })

  it(`keeps at most MAX_DROPPED (${MAX_DROPPED}) dropped sockets closing: past it nothing is dropped until one closes`, () => {
    const { provider, opened } = resettable()
    for (let i = 0; i < MAX_DROPPED; i++) {
      opened[i]!.open()
      expect(provider.reset('silent')).toBe(true)
    }
    opened[MAX_DROPPED]!.open()
    expect(provider.reset('silent')).toBe(false)
    expect(opened).toHaveLength(MAX_DROPPED + 1)
    expect(provider.isConnected).toBe(true)
    opened[0]!.close()
    expect(provider.reset('silent')).toBe(true)
  })

  it('with several endpoints: each socket is given all of them from its own on, a reset goes on to the next after the one in use, and its failure names the one left', async () => {
    const lists: string[][] = []
    const opened: Array<FakeWs & { endpoint?: string }> = []
    const provider = new ResettableProvider(['ws://a.test', 'ws://b.test', 'ws://c.test'], (list) => {
      lists.push(list)
      const p = Object.assign(fakeWs(), { endpoint: list[0] })
      opened.push(p)
      return p
    })
    expect(lists).toEqual([['ws://a.test', 'ws://b.test', 'ws://c.test']])
    expect(provider.endpoint).toBe('ws://a.test')
    opened[0]!.open()
    opened[0]!.hang = true
    const read = provider.send('chain_getHeader', [])
    expect(provider.reset('silent')).toBe(true)
    await expect(read).rejects.toThrow(/^disconnected from ws:\/\/a\.test: silent/)
    expect(lists[1]).toEqual(['ws://b.test', 'ws://c.test', 'ws://a.test'])
    expect(provider.endpoint).toBe('ws://b.test')
    // the socket's own reconnect moved it on to c (WsProvider's rotation): a reset goes on from there
    opened[1]!.endpoint = 'ws://c.test'
    expect(provider.endpoint).toBe('ws://c.test')
    expect(provider.reset('silent')).toBe(true)
    expect(lists[2]).toEqual(['ws://a.test', 'ws://b.test', 'ws://c.test'])
    expect(provider.endpoint).toBe('ws://a.test')
    // started at another endpoint (the adapter's connect, where the first did not answer)
    const later = new ResettableProvider(['ws://a.test', 'ws://b.test'], (list) => Object.assign(fakeWs(), { endpoint: list[0] }), 1)
    expect(later.endpoint).toBe('ws://b.test')
  })

  it('disconnect ends the current socket and those still closing, and fails what is in flight', async () => {
    const { provider, opened } = resettable()
    opened[0]!.open()
    provider.reset('silent')
    opened[1]!.open()
    opened[1]!.hang = true
    const read = provider.send('chain_getHeader', [])
    await provider.disconnect()
    await expect(read).rejects.toThrow(/disconnected from ws:\/\/node\.test:9944/)
    expect(opened.map((p) => p.disconnects)).toEqual([2, 1])
    expect(provider.reset('silent')).toBe(false)
  })
})

describe('the subtensor adapter with its provider', () => {
  it('drops a socket whose node stopped answering and says so once (lost, unresponsive); a read in flight is made again on the new socket, before its own deadline; close ends the watch', async () => {
    const clock = new ManualClock(0)
    const { provider, opened } = resettable()
    opened[0]!.open()
    const api = silentApi(new Set())
    // the API hears the provider, as ApiPromise does, and its balance read goes through it
    const up = (on: boolean) => () => { (api as { isConnected: boolean }).isConnected = on; api.emit(on ? 'connected' : 'disconnected') }
    provider.on('disconnected', up(false))
    provider.on('connected', up(true))
    let reads = 0
    api.query.system.account = (async () => {
      reads++
      await provider.send('state_getStorage', [])
      return { data: { free: { toBigInt: () => 7n }, frozen: { toBigInt: () => 0n } } }
    }) as never
    const chain = new SubtensorChain(api, { clock }, false, provider)
    const seen: ChainConnectionEvent[] = []
    chain.onConnection((e) => { seen.push(e) })
    opened[0]!.hang = true
    let balance: bigint | undefined
    const read = chain.balance('5C4hrfjw9DjXZTzV3MwzrrAr9P1MJhSrvWGWqi1eSuyUpnhM').then((b) => { balance = b })
    await clock.advanceAsync(HEALTH_INTERVAL_MS + 2 * HEALTH_TIMEOUT_MS)
    expect(opened).toHaveLength(2)
    expect(seen).toEqual([{ kind: 'lost', unresponsive: true }])
    // the new socket opens: the read, which failed with the drop, is made again there and answered
    opened[1]!.open()
    await clock.advanceAsync(1_000)
    await read
    expect(balance).toBe(7n)
    expect(reads).toBe(2)
    expect(clock.now()).toBeLessThan(READ_TIMEOUT_MS)
    await chain.close()
    expect(clock.pending).toBe(0)
  })
})

/**
 * A websocket server that accepts and then answers nothing (a stuck node, a half-open connection
 * behind a proxy): the handshake of RFC 6455 §4.2.2, then silence. `sockets`: the connections it
 * accepted.
 */
async function silentServer (): Promise<{ server: Server, url: string, sockets: Socket[] }> {
  const sockets: Socket[] = []
  const server = createServer()
  server.on('upgrade', (req, socket: Socket) => {
    const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64')
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`)
    socket.on('data', () => {})
    socket.on('error', () => {})
    sockets.push(socket)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets }
}

describe('a real websocket whose node stops answering', () => {
  const cleanup: Array<() => Promise<void>> = []
  afterEach(async () => { for (const c of cleanup.splice(0)) await c() })

  it('a read in flight fails as soon as the watch drops the socket, and a fresh socket is opened to the endpoint', async () => {
    const { server, url, sockets } = await silentServer()
    const provider = new ResettableProvider(url, (e) => new WsProvider(e, 1_000, {}, 60_000))
    const clock = new ManualClock(0)
    const drops: number[] = []
    const watch = new HealthWatch({ clock, probe: async () => await provider.send('system_health', []), connected: () => provider.isConnected, onUnresponsive: () => { drops.push(clock.now()); provider.reset('no answer to 2 health checks in a row') } })
    cleanup.push(async () => {
      watch.stop()
      await provider.disconnect()
      // the node's side ends the sockets: a websocket's close waits for it
      for (const s of sockets) s.destroy()
      server.close()
    })
    await waitFor(() => provider.isConnected, 10_000, 'the websocket to open')
    watch.start()
    let failed: unknown
    const read = provider.send('chain_getHeader', []).catch((err: unknown) => { failed = err })
    await clock.advanceAsync(HEALTH_INTERVAL_MS + 2 * HEALTH_TIMEOUT_MS - 1)
    expect(failed).toBeUndefined()
    await clock.advanceAsync(1)
    await read
    expect(drops).toEqual([HEALTH_INTERVAL_MS + 2 * HEALTH_TIMEOUT_MS])
    expect(String((failed as Error).message)).toMatch(/^disconnected from ws:\/\/127\.0\.0\.1:\d+: no answer/)
    expect(failed).not.toBeInstanceOf(SubtensorError)
    // the endpoint gets a second connection, and the provider says it is connected again
    await waitFor(() => sockets.length === 2 && provider.isConnected, 10_000, 'the fresh websocket')
    watch.stop()
    expect(clock.pending).toBe(0)
  })
})
