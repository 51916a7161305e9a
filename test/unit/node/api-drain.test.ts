import { describe, expect, it } from 'vitest'
import { ControlApi, StreamResponse } from '../../../src/node/api/server.js'
import { silentLogger } from '../../../src/node/logger.js'

const TOKEN = 'c'.repeat(64)
const auth = { authorization: `Bearer ${TOKEN}` }

/** a promise and its resolver */
function gate (): { wait: Promise<void>, open: () => void } {
  let open!: () => void
  const wait = new Promise<void>((resolve) => { open = resolve })
  return { wait, open }
}

async function started (api: ControlApi): Promise<string> {
  const a = await api.start()
  return `http://${a.host}:${a.port}`
}

describe('a stopping control API drains the requests it is answering', () => {
  it('a request in flight finishes and is answered before stop resolves; its signal says the API stops; no new connection is taken', async () => {
    const api = new ControlApi({ host: '127.0.0.1', port: 0, token: TOKEN, logger: silentLogger })
    const entered = gate()
    const release = gate()
    let sawAbort = false
    api.route('POST', '/v1/slow', async (req) => {
      entered.open()
      await release.wait
      sawAbort = req.signal.aborted
      return { written: true }
    })
    const base = await started(api)
    const answer = fetch(`${base}/v1/slow`, { method: 'POST', headers: auth })
    await entered.wait
    let stopped = false
    const stopping = api.stop().then(() => { stopped = true })
    // listening has ended: a new connection is refused while the old request drains
    await expect(fetch(`${base}/v1/slow`, { method: 'POST', headers: auth })).rejects.toThrow()
    expect(stopped).toBe(false)
    release.open()
    const res = await answer
    expect(res.status).toBe(201)
    expect(await res.json()).toEqual({ written: true })
    await stopping
    expect(sawAbort).toBe(true)
  })

  it('a stream cancelled by the stop writes its last lines to its client', async () => {
    const api = new ControlApi({ host: '127.0.0.1', port: 0, token: TOKEN, logger: silentLogger })
    const entered = gate()
    api.route('POST', '/v1/stream', async () => new StreamResponse('application/x-ndjson', async (write, signal) => {
      write('{"type":"started"}\n')
      entered.open()
      await new Promise<void>((resolve) => { signal.addEventListener('abort', () => { resolve() }, { once: true }) })
      // as a rental does: cancelled, it settles, then says so
      await new Promise((resolve) => setImmediate(resolve))
      write('{"type":"summary","settled":true}\n')
    }))
    const base = await started(api)
    const res = await fetch(`${base}/v1/stream`, { method: 'POST', headers: auth })
    await entered.wait
    const stopping = api.stop()
    expect((await res.text()).trim().split('\n').map((l) => JSON.parse(l).type)).toEqual(['started', 'summary'])
    await stopping
  })

  it('a request that does not finish is cut after the drain bound', async () => {
    const api = new ControlApi({ host: '127.0.0.1', port: 0, token: TOKEN, logger: silentLogger })
    const entered = gate()
    api.route('POST', '/v1/stuck', async () => { entered.open(); return await new Promise(() => {}) })
    const base = await started(api)
    const answer = fetch(`${base}/v1/stuck`, { method: 'POST', headers: auth })
    await entered.wait
    await api.stop(50)
    await expect(answer).rejects.toThrow()
  })
})
