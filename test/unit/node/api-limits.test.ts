/**
 * The control API's bounds on what one local client can hold: connections open at once, requests
 * in flight (pipelining), and the deadlines that close a connection that never finishes its request
 * (slow-loris), which never cut a long answer (a rental's stream). The limits are set small here;
 * every wait is on an event (a socket closing, an answer), never on a sleep.
 */
import { connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { ControlApi, StreamResponse, type ApiLimits } from '../../../src/node/api/server.js'
import { silentLogger } from '../../../src/node/logger.js'
import { Registry } from '../../../src/node/metrics.js'
import { waitFor } from '../../helpers/wait.js'

const TOKEN = 'd'.repeat(64)
const auth = { authorization: `Bearer ${TOKEN}` }
const apis: ControlApi[] = []
afterEach(async () => { for (const a of apis.splice(0)) await a.stop(0) })

/** a promise and its resolver */
function gate (): { wait: Promise<void>, open: () => void } {
  let open!: () => void
  const wait = new Promise<void>((resolve) => { open = resolve })
  return { wait, open }
}

async function started (limits: Partial<ApiLimits>, metrics?: Registry): Promise<{ api: ControlApi, port: number, base: string }> {
  const api = new ControlApi({ host: '127.0.0.1', port: 0, token: TOKEN, logger: silentLogger, limits, ...(metrics != null ? { metrics } : {}) })
  apis.push(api)
  api.route('GET', '/v1/ping', async () => ({ pong: true }))
  api.route('POST', '/v1/echo', async (req) => req.body)
  const a = await api.start()
  return { api, port: a.port, base: `http://${a.host}:${a.port}` }
}

/** a raw TCP client: what it received, and when it closed */
interface Raw { socket: Socket, received: () => string, connected: Promise<void>, closed: Promise<void> }
function raw (port: number): Raw {
  const socket = connect(port, '127.0.0.1')
  let text = ''
  socket.on('data', (d: Buffer) => { text += d.toString('latin1') })
  socket.on('error', () => {})
  const connected = new Promise<void>((resolve) => { socket.once('connect', () => { resolve() }) })
  const closed = new Promise<void>((resolve) => { socket.once('close', () => { resolve() }) })
  return { socket, received: () => text, connected, closed }
}

describe('control API limits', () => {
  it('refuses connections past the cap, and answers again once they are gone', async () => {
    const metrics = new Registry()
    const { api, port, base } = await started({ maxConnections: 4 }, metrics)
    const held = Array.from({ length: 4 }, () => raw(port))
    await Promise.all(held.map((h) => h.connected))
    await waitFor(async () => await api.connections() === 4, 10_000, 'the server to take the 4 connections')
    const excess = Array.from({ length: 3 }, () => raw(port))
    // each is closed by the daemon without a byte
    await Promise.all(excess.map((x) => x.closed))
    expect(excess.map((x) => x.received())).toEqual(['', '', ''])
    expect(held.every((h) => !h.socket.destroyed)).toBe(true)
    expect(await api.connections()).toBe(4)
    expect(metrics.render()).toMatch(/^bazaar_api_refused_total\{reason="connections"\} 3$/m)
    for (const h of held) h.socket.destroy()
    await waitFor(async () => await api.connections() === 0, 10_000, 'the held connections to close')
    const res = await fetch(`${base}/v1/ping`, { headers: auth })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ pong: true })
  })

  it('closes a connection whose headers never end (408), and one whose body never ends', async () => {
    const { port, base } = await started({ headersTimeoutMs: 100, requestTimeoutMs: 100, checkIntervalMs: 20 })
    const loris = raw(port)
    await loris.connected
    loris.socket.write(`GET /v1/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\n`)
    const body = raw(port)
    await body.connected
    body.socket.write(`POST /v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":`)
    await Promise.all([loris.closed, body.closed])
    expect(loris.received()).toMatch(/^HTTP\/1\.1 408 /)
    expect(body.received()).toMatch(/^HTTP\/1\.1 408 /)
    const res = await fetch(`${base}/v1/ping`, { headers: auth })
    expect(res.status).toBe(200)
  })

  it('a streamed answer outlives the request deadline', async () => {
    const { api, port, base } = await started({ headersTimeoutMs: 100, requestTimeoutMs: 100, checkIntervalMs: 20 })
    const release = gate()
    api.route('POST', '/v1/stream', async () => new StreamResponse('application/x-ndjson', async (write) => {
      write('{"type":"started"}\n')
      await release.wait
      write('{"type":"summary"}\n')
    }))
    const res = await fetch(`${base}/v1/stream`, { method: 'POST', headers: auth })
    const reader = res.body!.getReader()
    const first = await reader.read()
    expect(new TextDecoder().decode(first.value)).toBe('{"type":"started"}\n')
    // a slow-loris opened after the stream's request was read is cut past the deadline: by then the
    // stream's request is older than the deadline too
    const loris = raw(port)
    await loris.connected
    loris.socket.write('GET /v1/ping HTTP/1.1\r\n')
    await loris.closed
    release.open()
    let rest = ''
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value)
    expect(rest).toBe('{"type":"summary"}\n')
  })

  it('answers 503 BUSY past the requests in flight, however they came (here pipelined on one connection)', async () => {
    const metrics = new Registry()
    const { api, port } = await started({ maxInFlight: 3 }, metrics)
    const release = gate()
    let entered = 0
    api.route('GET', '/v1/slow', async () => { entered++; await release.wait; return { ok: true } })
    const c = raw(port)
    await c.connected
    c.socket.write(`GET /v1/slow HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`.repeat(5))
    await waitFor(() => /bazaar_api_refused_total\{reason="busy"\} 2/.test(metrics.render()), 10_000, 'the requests past the cap to be refused')
    release.open()
    // answers come in request order: the three handled, then a refusal, which closes the connection
    await c.closed
    const statuses = [...c.received().matchAll(/^HTTP\/1\.1 (\d{3}) /gm)].map((m) => Number(m[1]))
    expect(statuses).toEqual([200, 200, 200, 503])
    expect(c.received()).toContain('"code":"BUSY"')
    expect(entered).toBe(3)
  })
})
