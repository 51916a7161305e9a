import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ControlApi, RawResponse } from '../../../src/node/api/server.js'
import { readApiToken, readOrCreateApiToken, readOrCreateMetricsToken } from '../../../src/node/keystore/index.js'
import { KeystoreErrorCode } from '../../../src/node/keystore/errors.js'
import { silentLogger } from '../../../src/node/logger.js'

const TOKEN = 'a'.repeat(64)
const SCRAPE = 'b'.repeat(64)

describe('the metrics token opens GET /metrics and nothing else', () => {
  const api = new ControlApi({ host: '127.0.0.1', port: 0, token: TOKEN, metricsToken: SCRAPE, logger: silentLogger })
  let base = ''
  beforeAll(async () => {
    api.route('GET', '/metrics', async () => new RawResponse('text/plain; version=0.0.4', 'bazaar_peers 0\n'))
    api.route('GET', '/v1/status', async () => ({ status: 'running' }))
    api.route('POST', '/metrics', async () => ({ ok: true }))
    const a = await api.start()
    base = `http://${a.host}:${a.port}`
  })
  afterAll(async () => { await api.stop() })

  const call = async (method: string, route: string, token?: string): Promise<number> =>
    (await fetch(base + route, { method, headers: token != null ? { authorization: `Bearer ${token}` } : {} })).status

  it.each([
    { who: 'the control token', method: 'GET', route: '/metrics', token: TOKEN, status: 200 },
    { who: 'the control token', method: 'GET', route: '/v1/status', token: TOKEN, status: 200 },
    { who: 'the metrics token', method: 'GET', route: '/metrics', token: SCRAPE, status: 200 },
    { who: 'the metrics token', method: 'GET', route: '/v1/status', token: SCRAPE, status: 401 },
    { who: 'the metrics token', method: 'POST', route: '/metrics', token: SCRAPE, status: 401 },
    { who: 'no token', method: 'GET', route: '/metrics', token: undefined, status: 401 }
  ])('$who: $method $route → $status', async ({ method, route, token, status }) => {
    expect(await call(method, route, token)).toBe(status)
  })
})

describe('a path parameter with a malformed %-escape', () => {
  const errors: unknown[] = []
  const api = new ControlApi({ host: '127.0.0.1', port: 0, token: TOKEN, logger: { ...silentLogger, error: (_m: string, f?: unknown) => { errors.push(f) } } })
  let base = ''
  beforeAll(async () => {
    api.route('GET', '/v1/jobs/:id', async (r) => ({ id: r.params.id }))
    const a = await api.start()
    base = `http://${a.host}:${a.port}`
  })
  afterAll(async () => { await api.stop() })

  it('is the client\'s mistake: 400 BAD_PATH, nothing logged as a daemon failure; a good escape decodes', async () => {
    const bad = await fetch(`${base}/v1/jobs/%E0%A4%A`, { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('BAD_PATH')
    expect(errors).toEqual([])
    const good = await fetch(`${base}/v1/jobs/a%20b`, { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(await good.json()).toEqual({ id: 'a b' })
  })
})

describe('readOrCreateMetricsToken', () => {
  let home = ''
  beforeAll(async () => { home = await mkdtemp(path.join(tmpdir(), 'bazaar-metrics-token-')) })
  afterAll(async () => { await rm(home, { recursive: true, force: true }) })

  it('creates a 0600 token once and then reads the same one', async () => {
    const first = await readOrCreateMetricsToken(home)
    expect(first).toMatch(/^[0-9a-f]{64}$/)
    expect((await stat(path.join(home, 'metrics-token'))).mode & 0o777).toBe(0o600)
    expect(await readOrCreateMetricsToken(home)).toBe(first)
    expect((await readFile(path.join(home, 'metrics-token'), 'utf8')).trim()).toBe(first)
  })

  it('refuses a damaged token file', async () => {
    await writeFile(path.join(home, 'metrics-token'), 'not a token\n')
    const err = await readOrCreateMetricsToken(home).catch((e: unknown) => e) as { code?: string }
    expect(err.code).toBe(KeystoreErrorCode.INVALID_API_TOKEN)
  })
})

describe('the control token of a home whose token file was lost', () => {
  let home = ''
  beforeAll(async () => { home = await mkdtemp(path.join(tmpdir(), 'bazaar-api-token-')) })
  afterAll(async () => { await rm(home, { recursive: true, force: true }) })

  it('a client says how to get one; a starting node writes a new one (0600) and then reads that one', async () => {
    const err = await readApiToken(home).catch((e: unknown) => e) as { code?: string, message?: string }
    expect(err.code).toBe(KeystoreErrorCode.INVALID_API_TOKEN)
    expect(err.message).toMatch(/bazaar node start writes a new one/)
    const made = await readOrCreateApiToken(home)
    expect(made).toMatch(/^[0-9a-f]{64}$/)
    expect((await stat(path.join(home, 'api-token'))).mode & 0o777).toBe(0o600)
    expect(await readApiToken(home)).toBe(made)
    // an existing token is kept, never replaced
    expect(await readOrCreateApiToken(home)).toBe(made)
  })
})

describe('routing details', () => {
  const api = new ControlApi({ host: '127.0.0.1', port: 0, token: TOKEN, logger: silentLogger })
  let base = ''
  beforeAll(async () => {
    api.route('GET', '/v1/status', async () => ({ status: 'running' }))
    api.route('GET', '/v1/offers', async () => [])
    api.route('POST', '/v1/offers', async () => ({ ok: true }))
    const a = await api.start()
    base = `http://${a.host}:${a.port}`
  })
  afterAll(async () => { await api.stop() })
  const auth = { authorization: `Bearer ${TOKEN}` }

  it('a 405 names the methods the path has (Allow)', async () => {
    const res = await fetch(`${base}/v1/offers`, { method: 'PUT', headers: auth })
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('GET, POST')
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('METHOD_NOT_ALLOWED')
  })

  it('a path with doubled slashes is still a path (its first segment is no host)', async () => {
    const { request } = await import('node:http')
    const status = await new Promise<number>((resolve, reject) => {
      const u = new URL(base)
      const req = request({ host: u.hostname, port: u.port, path: '//v1//status/', headers: auth }, (res) => { res.resume(); resolve(res.statusCode ?? 0) })
      req.on('error', reject)
      req.end()
    })
    expect(status).toBe(200)
  })
})

describe('an absolute-form request target that is no URL', () => {
  const errors: unknown[] = []
  const api = new ControlApi({ host: '127.0.0.1', port: 0, token: TOKEN, metricsToken: SCRAPE, logger: { ...silentLogger, error: (_m: string, f?: unknown) => { errors.push(f) } } })
  let port = 0
  beforeAll(async () => {
    api.route('GET', '/v1/status', async () => ({ status: 'running' }))
    port = (await api.start()).port
  })
  afterAll(async () => { await api.stop() })

  /** status and body of a request whose target is sent as written (fetch would resolve it) */
  const raw = async (target: string, token?: string): Promise<{ status: number, body: string }> => {
    const { request } = await import('node:http')
    return await new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: target, headers: token != null ? { authorization: `Bearer ${token}` } : {} }, (res) => {
        let body = ''
        res.on('data', (d: Buffer) => { body += d.toString() })
        res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }) })
      })
      req.on('error', reject)
      req.end()
    })
  }

  it.each([
    { who: 'no token', token: undefined, status: 401, code: 'UNAUTHORIZED' },
    { who: 'the metrics token', token: SCRAPE, status: 401, code: 'UNAUTHORIZED' },
    { who: 'the control token', token: TOKEN, status: 400, code: 'BAD_TARGET' }
  ])('$who: $status $code, nothing logged as a daemon failure', async ({ token, status, code }) => {
    const res = await raw('http://[', token)
    expect(res.status).toBe(status)
    expect((JSON.parse(res.body) as { error: { code: string } }).error.code).toBe(code)
    expect(errors).toEqual([])
  })

  it('a valid absolute-form target still routes by its path', async () => {
    expect((await raw('http://localhost/v1/status', TOKEN)).status).toBe(200)
  })
})
