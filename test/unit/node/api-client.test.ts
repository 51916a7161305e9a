import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiClient, MAX_ANSWER_BYTES } from '../../../src/cli/client.js'
import { UserError } from '../../../src/util/errors.js'
import { createApiToken } from '../../../src/node/keystore/api-token.js'

/**
 * A home with an API token and an HTTP server on a free loopback port, answering with `handler`,
 * both gone after the block: what each block below points its client at.
 */
function homeWithServer (prefix: string, handler: (req: IncomingMessage, res: ServerResponse) => void): { home: () => string, port: () => number, server: () => Server } {
  let home = ''
  let server: Server
  let port = 0
  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), prefix))
    await createApiToken(home, { overwrite: false })
    server = createServer(handler)
    await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
    port = (server.address() as { port: number }).port
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    await rm(home, { recursive: true, force: true })
  })
  return { home: () => home, port: () => port, server: () => server }
}

/**
 * A client pointed at a server that is not a bazaar node (a stale api.json after a crash, a wrong
 * --api): one line naming the server, not a JSON parser's stack.
 */
describe('the control API client against another server', () => {
  const ctx = homeWithServer('bazaar-client-', (_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }).end('<html>not a node</html>') })
  it('does not send the token to the address of a node whose process has ended (a crash left api.json behind)', async () => {
    let requests = 0
    ctx.server().once('request', () => { requests++ })
    // a pid that has ended: a child that exited
    const child = spawn(process.execPath, ['-e', ''])
    const pid = child.pid!
    await once(child, 'exit')
    await writeFile(path.join(ctx.home(), 'api.json'), JSON.stringify({ url: `http://127.0.0.1:${ctx.port()}`, pid }) + '\n')
    const err = await ApiClient.fromHome({ home: ctx.home(), env: {} }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'NODE_NOT_RUNNING' })
    expect((err as Error).message).toContain(`process ${pid}, which has ended`)
    expect(requests).toBe(0)
    // the address of a live process is used
    await writeFile(path.join(ctx.home(), 'api.json'), JSON.stringify({ url: `http://127.0.0.1:${ctx.port()}`, pid: process.pid }) + '\n')
    const client = await ApiClient.fromHome({ home: ctx.home(), env: {} })
    expect(await client.call('GET', '/v1/status').catch((e: unknown) => e)).toMatchObject({ code: 'NOT_A_NODE' })
  })

  it('a damaged api.json is one user error (NODE_NOT_RUNNING), whatever it holds', async () => {
    for (const text of ['null', '[]', '"x"', '5', JSON.stringify({ url: 'http://127.0.0.1:1' }), JSON.stringify({ pid: process.pid }), '{']) {
      await writeFile(path.join(ctx.home(), 'api.json'), text)
      const err = await ApiClient.fromHome({ home: ctx.home(), env: {} }).catch((e: unknown) => e)
      expect(err, text).toMatchObject({ code: 'NODE_NOT_RUNNING' })
    }
  })

  it('is a user error naming the server (NOT_A_NODE)', async () => {
    const client = await ApiClient.fromHome({ home: ctx.home(), env: {}, api: `127.0.0.1:${ctx.port()}` })
    const err = await client.call('GET', '/v1/status').catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'NOT_A_NODE' })
    expect((err as Error).message).toContain(`127.0.0.1:${ctx.port()}`)
  })
})

describe('the control API client against a node that does not answer', () => {
  // takes each request and never answers it
  const ctx = homeWithServer('bazaar-client-slow-', () => {})
  it('says how long it waited: the timeout it was given', async () => {
    const client = await ApiClient.fromHome({ home: ctx.home(), env: {}, api: `127.0.0.1:${ctx.port()}` })
    const err = await client.call('POST', '/v1/escrows/e/close', {}, { timeoutMs: 250 }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'NODE_TIMEOUT' })
    expect((err as Error).message).toContain('did not answer POST /v1/escrows/e/close within 0.25 s')
  })

  it('a caller\'s abort is a cancel (exit 130), not a timeout', async () => {
    const client = await ApiClient.fromHome({ home: ctx.home(), env: {}, api: `127.0.0.1:${ctx.port()}` })
    const err = await client.call('GET', '/v1/status', undefined, { signal: AbortSignal.timeout(100), timeoutMs: 10_000 }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'ABORTED', exitCode: 130 })
  })
})

describe('the control API client reads a bounded answer', () => {
  /** how the server answers the next request */
  let answer: (res: ServerResponse) => void = () => {}
  const ctx = homeWithServer('bazaar-client-bounded-', (req, res) => { req.resume(); answer(res) })
  const client = async (): Promise<ApiClient> => await ApiClient.fromHome({ home: ctx.home(), env: {}, api: `127.0.0.1:${ctx.port()}` })

  it('stops reading an answer that never ends past MAX_ANSWER_BYTES (ANSWER_TOO_LARGE)', async () => {
    let sent = 0
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      const chunk = Buffer.alloc(1024 * 1024, 0x20)
      // as fast as the client takes it, until it goes away
      const more = (): void => { while (!res.destroyed && res.write(chunk)) sent += chunk.byteLength }
      res.on('drain', more)
      more()
    }
    const err = await (await client()).call('GET', '/v1/book').catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'ANSWER_TOO_LARGE' })
    expect(sent).toBeLessThan(MAX_ANSWER_BYTES * 2)
  })

  it('refuses an announced length past the bound without reading it', async () => {
    answer = (res) => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(MAX_ANSWER_BYTES + 1) }); res.write('{') }
    expect(await (await client()).call('GET', '/v1/book').catch((e: unknown) => e)).toMatchObject({ code: 'ANSWER_TOO_LARGE' })
  })

  it('an answer cut off midway is one user error (STREAM_BROKEN), not a stack', async () => {
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' })
      res.write('{"offers":', () => { res.destroy() })
    }
    const err = await (await client()).call('GET', '/v1/book').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UserError)
    expect(err).toMatchObject({ code: 'STREAM_BROKEN' })
  })

  it('a streamed call\'s error answer is read within its bound too', async () => {
    answer = (res) => {
      res.writeHead(500, { 'content-type': 'text/plain' })
      const chunk = Buffer.alloc(64 * 1024, 0x20)
      const more = (): void => { while (!res.destroyed && res.write(chunk)) {} }
      res.on('drain', more)
      more()
    }
    const err = await (await client()).stream('POST', '/v1/rent', {}, () => {}).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'ANSWER_TOO_LARGE' })
  })
})
