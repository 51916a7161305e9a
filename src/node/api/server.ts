import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { bearerMatches } from '../keystore/index.js'
import { BazaarError } from '../../util/errors.js'
import type { Counter, MetricsRegistry, ObservedHistogram } from '../../util/metrics.js'
import type { Logger } from '../logger.js'
import { apiListenError } from '../startup-errors.js'

/**
 * `node:http` through `require`, not an ES import: Node builds an ES module's view of a built-in by
 * reading every export, and `node:http`'s include lazy getters (`WebSocket`, `CloseEvent`,
 * `MessageEvent`) that load undici, the fetch implementation, whole. A daemon serving its control
 * API never needs it. A lone daemon 50 s after start: 103.5 to 104.8 MiB RSS with `require`, 108.4
 * to 109.4 MiB with the import (three starts each).
 */
const { createServer } = createRequire(import.meta.url)('node:http') as typeof import('node:http')

/** The Prometheus route, the only one the metrics token opens. */
export const METRICS_PATH = '/metrics'

/** Largest request body the control API reads. */
export const MAX_BODY_BYTES = 64 * 1024

export class ApiError extends BazaarError<string> {
  constructor (readonly status: number, code: string, message: string, readonly field?: string) {
    super(code, message)
  }
}

/** a path parameter's text; a malformed %-escape is the client's mistake (400), not the daemon's */
function decodePathPart (part: string): string {
  try {
    return decodeURIComponent(part)
  } catch {
    throw new ApiError(400, 'BAD_PATH', `malformed %-escape in the path: ${part.slice(0, 64)}`)
  }
}

/**
 * The request target as a URL, or undefined where it does not parse (an absolute-form target such
 * as `http://[` is the client's, RFC 9112 §3.2.2). An origin-form target ("/v1/status") is a path
 * whatever it holds: `//v1/...` is not a host.
 */
function parseTarget (target: string): URL | undefined {
  try {
    return target.startsWith('/') ? new URL('http://localhost' + target) : new URL(target, 'http://localhost')
  } catch {
    return undefined
  }
}

export interface ApiRequest {
  method: string
  path: string
  params: Record<string, string>
  query: URLSearchParams
  body: unknown
  signal: AbortSignal
}

export type Handler = (req: ApiRequest) => Promise<unknown>
/** a handler may answer raw text (Prometheus) */
export class RawResponse {
  constructor (readonly contentType: string, readonly body: string, readonly status = 200) {}
}

/**
 * A handler may answer a stream (NDJSON lines of a long operation such as a rental). Validation
 * happens before the handler returns it, so a bad request still gets a plain error status; once
 * streaming, a failure ends the stream with one `{"type":"error","error":{code,message}}` line.
 * `signal` aborts when the client disconnects or the API stops.
 */
export class StreamResponse {
  constructor (
    readonly contentType: string,
    readonly run: (write: (chunk: string) => void, signal: AbortSignal) => Promise<void>,
    readonly status = 200
  ) {}
}

interface Route { method: string, parts: string[], pattern: string, handler: Handler }

/**
 * What one local client, buggy or hostile, can hold of the daemon through its control API. Node's
 * HTTP server has no cap on connections, and HTTP/1.1 pipelining lets one connection start any
 * number of requests (Node runs a handler for each as it parses them and only stops reading once
 * answers queue up), so both are bounded here; the deadlines close a connection that never
 * finishes its request (slow-loris). The answer is never bounded in time: a rental streams its
 * events for as long as its job runs, and an escrow close waits for blocks.
 */
export interface ApiLimits {
  /** connections open at once; one more is closed as it arrives (Node's `server.maxConnections`) */
  maxConnections: number
  /** requests being answered at once over all connections; one more is answered 503 `BUSY` */
  maxInFlight: number
  /** a request's headers must be in within this of its connection opening (or of its first byte, kept-alive): else 408 and closed */
  headersTimeoutMs: number
  /** the whole request, body included, within this; the answer may take as long as it takes */
  requestTimeoutMs: number
  /** a kept-alive connection idle this long after an answer is closed */
  keepAliveTimeoutMs: number
  /** how often Node looks for connections past the two request deadlines */
  checkIntervalMs: number
}

/**
 * 256 connections: `bazaar` commands, a scraper and scripts use a handful, and 256 sockets are a
 * quarter of the common 1024 descriptors a process gets, beside libp2p's 100 connections and the
 * databases. 256 requests in flight: the same order, so that pipelining cannot multiply it. The
 * deadlines are wall time, like every bound on I/O; Node's own check interval (30 s) would let a
 * slow client stay about 30 s past the header deadline.
 */
export const API_LIMITS: Readonly<ApiLimits> = {
  maxConnections: 256,
  maxInFlight: 256,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  checkIntervalMs: 2_000
}

/** the refusals of the limits above are logged at most once per this (wall time) */
const REFUSAL_LOG_MS = 60_000

/**
 * Upper bounds (seconds) of the request-duration buckets: Prometheus clients' defaults, with 1 ms
 * and 2.5 ms added, since most requests answer within a few milliseconds and the publish goal is 50 ms.
 */
export const API_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/**
 * How long a stopping API waits for the requests it is answering (wall time): a publication
 * finishes its write while the database is still open, and a rental cancelled by the stop
 * settles and streams its last lines to its client. With the roles' own stop waits after it, the
 * whole stop stays under the systemd units' 90 s stop timeout.
 */
export const API_DRAIN_MS = 20_000

/** JSON replacer: bigints as decimal strings, byte arrays as hex. */
export function toJson (v: unknown): string {
  return JSON.stringify(v, (_k, x) => {
    if (typeof x === 'bigint') return x.toString()
    if (x instanceof Uint8Array) return Buffer.from(x).toString('hex')
    return x
  })
}

/**
 * The daemon's control API: HTTP + JSON on a loopback address, every request authenticated with the
 * bearer token from the node home (compared in constant time). Routes are registered by the
 * subsystems that own them; errors come back as `{ error: { code, message, field? } }`.
 */
export class ControlApi {
  private readonly routes: Route[] = []
  private server?: Server
  private readonly controller = new AbortController()
  /** the requests being answered, which `stop` waits for */
  private readonly inFlight = new Set<Promise<void>>()
  private readonly durations?: ObservedHistogram
  private readonly refused?: Counter
  private readonly now: () => number
  private readonly limits: ApiLimits
  /** refusals since the last one logged, and when that was */
  private refusals = { count: 0, loggedAt: -Infinity }

  /**
   * `token` opens every route; `metricsToken`, when given, opens only `GET /metrics`, so a scraper
   * can read metrics without the power to move money. With `metrics`, each request's time inside
   * the daemon (from its headers read to its answer written; a stream's until it starts) is
   * observed by route pattern, method and status: the round trip a client measures adds the
   * client's own delays and the network. `now` (milliseconds) times them; tests pass their own.
   * `limits` replaces some of API_LIMITS (tests make them small).
   */
  constructor (private readonly init: { host: string, port: number, token: string, metricsToken?: string, logger: Logger, metrics?: MetricsRegistry, now?: () => number, limits?: Partial<ApiLimits> }) {
    this.now = init.now ?? (() => performance.now())
    this.limits = { ...API_LIMITS, ...init.limits }
    this.durations = init.metrics?.observedHistogram('bazaar_api_request_seconds', 'control API requests by route, method and status: time inside the daemon', API_DURATION_BUCKETS)
    this.refused = init.metrics?.counter('bazaar_api_refused_total', 'control API connections and requests refused by its limits, by reason (connections, busy)')
  }

  route (method: string, pattern: string, handler: Handler): void {
    this.routes.push({ method, parts: pattern.split('/').filter(Boolean), pattern, handler })
  }

  async start (): Promise<{ host: string, port: number }> {
    const l = this.limits
    this.server = createServer({
      connectionsCheckingInterval: l.checkIntervalMs,
      headersTimeout: l.headersTimeoutMs,
      requestTimeout: l.requestTimeoutMs
    }, (req, res) => {
      // [REFUSE] past the requests in flight: one connection may pipeline any number
      if (this.inFlight.size >= l.maxInFlight) { this.busy(req, res); return }
      const handled = this.handle(req, res)
      this.inFlight.add(handled)
      void handled.finally(() => { this.inFlight.delete(handled) })
    })
    // [REFUSE] past the connections open: Node closes the new one at once and says so here
    this.server.maxConnections = l.maxConnections
    this.server.keepAliveTimeout = l.keepAliveTimeoutMs
    this.server.on('drop', () => { this.refuse('connections') })
    this.server.maxHeadersCount = 50
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', (err) => { reject(apiListenError(err, this.init.host, this.init.port)) })
      this.server!.listen(this.init.port, this.init.host, () => { resolve() })
    })
    const a = this.server.address() as AddressInfo
    return { host: a.address, port: a.port }
  }

  /**
   * Stops listening, then drains: every request being answered (one read meanwhile included) sees
   * its signal aborted and gets up to `drainMs` to finish, a stream its last lines. Then every
   * connection is closed. The node closes its
   * subsystems only after this, so no handler meets a closed database.
   */
  async stop (drainMs = API_DRAIN_MS): Promise<void> {
    this.controller.abort()
    const s = this.server
    if (s == null) return
    this.server = undefined
    const closed = new Promise<void>((resolve) => { s.close(() => { resolve() }) })
    s.closeIdleConnections()
    let timer: NodeJS.Timeout | undefined
    let late = false
    const bound = new Promise<void>((resolve) => { timer = setTimeout(() => { late = true; resolve() }, drainMs) })
    // until none is left: a request read during the drain joins the set
    while (this.inFlight.size > 0 && !late) await Promise.race([Promise.allSettled([...this.inFlight]), bound])
    clearTimeout(timer)
    s.closeAllConnections()
    await closed
  }

  /** the number of connections open now */
  async connections (): Promise<number> {
    const s = this.server
    if (s == null) return 0
    return await new Promise((resolve, reject) => { s.getConnections((err, n) => { if (err != null) reject(err); else resolve(n) }) })
  }

  /** a request over the in-flight cap: 503 at once, and the connection closes after it */
  private busy (req: IncomingMessage, res: ServerResponse): void {
    this.refuse('busy')
    req.resume()
    res.writeHead(503, { 'content-type': 'application/json', 'cache-control': 'no-store', 'retry-after': '1', connection: 'close' })
    res.end(toJson({ error: { code: 'BUSY', message: `over ${this.limits.maxInFlight} requests in flight; try again` } }))
  }

  /** counts a refusal; logs at most one line per REFUSAL_LOG_MS, with how many since the last */
  private refuse (reason: 'connections' | 'busy'): void {
    this.refused?.inc({ reason })
    this.refusals.count++
    const now = this.now()
    if (now - this.refusals.loggedAt < REFUSAL_LOG_MS) return
    this.init.logger.warn('control API over its limits: refusing connections or requests', { refused: this.refusals.count, maxConnections: this.limits.maxConnections, maxInFlight: this.limits.maxInFlight })
    this.refusals = { count: 0, loggedAt: now }
  }

  /** the route for the method and path, or the methods the path has (none: no such path) */
  private match (method: string, path: string): { route?: Route, params: Record<string, string>, allowed: string[] } {
    const parts = path.split('/').filter(Boolean)
    const allowed: string[] = []
    for (const r of this.routes) {
      if (r.parts.length !== parts.length) continue
      const params: Record<string, string> = {}
      let ok = true
      for (let i = 0; i < parts.length; i++) {
        if (r.parts[i].startsWith(':')) params[r.parts[i].slice(1)] = decodePathPart(parts[i])
        else if (r.parts[i] !== parts[i]) { ok = false; break }
      }
      if (!ok) continue
      if (r.method === method) return { route: r, params, allowed }
      allowed.push(r.method)
    }
    return { params: {}, allowed }
  }

  /** Runs a streaming answer; the client going away aborts it (a disconnect is a cancel). */
  private async stream (res: ServerResponse, out: StreamResponse): Promise<void> {
    const gone = new AbortController()
    res.on('close', () => { if (!res.writableFinished) gone.abort() })
    const signal = AbortSignal.any([gone.signal, this.controller.signal])
    res.writeHead(out.status, { 'content-type': out.contentType, 'cache-control': 'no-store', 'x-accel-buffering': 'no' })
    res.flushHeaders()
    const write = (chunk: string): void => { if (!res.writableEnded && !res.destroyed) res.write(chunk) }
    try {
      await out.run(write, signal)
    } catch (err) {
      if (!(err instanceof BazaarError)) this.init.logger.error('control API stream failed', { err })
      write(errorLine(err))
    } finally {
      res.end()
    }
  }

  private async handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t0 = this.now()
    // the pattern, not the path: label values stay a closed set whatever a client asks for (the
    // method too: Node's HTTP parser refuses a method it does not know)
    let routeLabel = 'none'
    const observe = (status: number): void => {
      this.durations?.observe((this.now() - t0) / 1000, { route: routeLabel, method: req.method ?? 'GET', status: String(status) })
    }
    const send = (status: number, body: string, type = 'application/json'): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' })
      res.end(body)
      observe(status)
    }
    const fail = (e: ApiError): void => { send(e.status, toJson({ error: { code: e.code, message: e.message, field: e.field } })) }
    try {
      // a target that does not parse opens nothing: without the control token it is a 401 like any
      // other request, with it the client's mistake (400)
      const url = parseTarget(req.url ?? '/')
      const scrape = req.method === 'GET' && url?.pathname === METRICS_PATH && this.init.metricsToken != null && bearerMatches(this.init.metricsToken, req.headers.authorization)
      if (!scrape && !bearerMatches(this.init.token, req.headers.authorization)) throw new ApiError(401, 'UNAUTHORIZED', 'missing or wrong bearer token')
      if (url == null) throw new ApiError(400, 'BAD_TARGET', 'the request target is not a valid URL')
      const { route, params, allowed } = this.match(req.method ?? 'GET', url.pathname)
      if (route == null && allowed.length > 0) {
        // RFC 9110 §15.5.6: a 405 names the methods the resource has
        res.setHeader('allow', [...new Set(allowed)].join(', '))
        throw new ApiError(405, 'METHOD_NOT_ALLOWED', `method not allowed (allowed: ${[...new Set(allowed)].join(', ')})`)
      }
      if (route == null) throw new ApiError(404, 'NOT_FOUND', `no such endpoint: ${url.pathname}`)
      routeLabel = route.pattern
      const body = await readBody(req)
      const out = await route.handler({ method: req.method ?? 'GET', path: url.pathname, params, query: url.searchParams, body, signal: this.controller.signal })
      if (out instanceof StreamResponse) {
        observe(out.status)
        return await this.stream(res, out)
      }
      if (out instanceof RawResponse) send(out.status, out.body, out.contentType)
      else send(req.method === 'POST' ? 201 : 200, toJson(out ?? { ok: true }))
    } catch (err) {
      if (err instanceof ApiError) return fail(err)
      if (err instanceof BazaarError) {
        return fail(new ApiError(400, err.code, err.message, (err as { field?: string }).field))
      }
      this.init.logger.error('control API handler failed', { err })
      fail(new ApiError(500, 'INTERNAL', 'internal error'))
    }
  }
}

/** error line that ends a failed stream */
function errorLine (err: unknown): string {
  const code = err instanceof BazaarError ? err.code : 'INTERNAL'
  const message = err instanceof BazaarError ? err.message : 'internal error'
  return toJson({ type: 'error', error: { code, message } }) + '\n'
}

async function readBody (req: IncomingMessage): Promise<unknown> {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'DELETE') {
    req.resume()
    return undefined
  }
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const c of req) {
      size += (c as Buffer).byteLength
      // [REJECT] request bodies are bounded
      if (size > MAX_BODY_BYTES) throw new ApiError(413, 'BODY_TOO_LARGE', `request body over ${MAX_BODY_BYTES} bytes`)
      chunks.push(c as Buffer)
    }
  } catch (err) {
    if (err instanceof ApiError) throw err
    // the client went away or missed the request deadline mid-body: its doing, not the daemon's
    throw new ApiError(400, 'BODY_INCOMPLETE', 'the request body ended before its length')
  }
  if (size === 0) return undefined
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new ApiError(400, 'BAD_JSON', 'request body is not JSON')
  }
}
