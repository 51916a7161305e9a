/**
 * The start-up RPC `startDevchain` sends chopsticks (`dev_newBlock`), against local HTTP servers
 * standing in for a chopsticks that answers, refuses, or takes the request and never answers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { DevchainError, rpcOnceUp } from '../../../src/escrow/chain/subtensor/devchain.js'

const alive = { exitCode: null }
let server: Server | undefined

async function serve (handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
  server = createServer(handler)
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

afterEach(async () => {
  server?.closeAllConnections()
  await new Promise<void>((resolve) => { if (server == null) resolve(); else server.close(() => { resolve() }) })
  server = undefined
})

describe('rpcOnceUp', () => {
  it('returns the result of an answered call', async () => {
    const port = await serve((req, res) => {
      let body = ''
      req.on('data', (d) => { body += String(d) })
      req.on('end', () => { res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: `${String(JSON.parse(body).method)} done` })) })
    })
    expect(await rpcOnceUp(port, alive, 'dev_newBlock', [{ count: 1 }], 5_000)).toBe('dev_newBlock done')
  })

  it('takes a JSON-RPC error as final', async () => {
    const port = await serve((_req, res) => { res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, error: { code: -32601, message: 'no such method' } })) })
    const err = await rpcOnceUp(port, alive, 'dev_newBlock', [], 5_000).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DevchainError)
    expect(err).toMatchObject({ code: 'START_FAILED' })
  })

  it('gives up at its deadline on a server that takes the request and never answers', async () => {
    const port = await serve(() => {})
    const err = await rpcOnceUp(port, alive, 'dev_newBlock', [], 300).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DevchainError)
    expect(err).toMatchObject({ code: 'START_FAILED' })
    expect(String((err as Error).message)).toContain('dev_newBlock')
  })

  it('ends when its signal aborts, the server still silent', async () => {
    const port = await serve(() => {})
    const ac = new AbortController()
    const call = rpcOnceUp(port, alive, 'dev_newBlock', [], 60_000, ac.signal).catch((e: unknown) => e)
    ac.abort()
    const err = await call
    expect(err).toBeInstanceOf(Error)
    expect((err as Error).name).toBe('AbortError')
  })

  it('fails at once on a refused connection when chopsticks has exited', async () => {
    const port = await serve(() => {})
    await new Promise<void>((resolve) => { server!.close(() => { resolve() }) })
    server = undefined
    const err = await rpcOnceUp(port, { exitCode: 1 }, 'dev_newBlock', [], 60_000).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Error)
    expect(String((err as Error).message)).toMatch(/ECONNREFUSED/)
  })
})
