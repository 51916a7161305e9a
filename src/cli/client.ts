import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { homePaths, resolveHome } from '../node/home.js'
import { readApiToken } from '../node/keystore/api-token.js'
import { UsageError, UserError } from '../util/errors.js'

/** Where a running node's control API listens; written by `bazaar node start` into its home. */
export const API_ADDRESS_FILE = 'api.json'

/** The options of every command that talks to a running node: its home, its API address, JSON output. */
export const CLIENT_OPTIONS = { home: { type: 'string' }, api: { type: 'string' }, json: { type: 'boolean' } } as const

export interface ApiAddress { url: string, pid: number }

/** How long `ApiClient.call` waits for the node's answer unless told otherwise (wall time). */
export const CALL_TIMEOUT_MS = 30_000

/**
 * The most of an answer `ApiClient.call` reads. The largest a node sends is a book of
 * `BOOK_LIMIT_MAX` (10,000) rows, a few MiB; a server that sends more is not a node's control API,
 * and must not make the CLI hold all of it.
 */
export const MAX_ANSWER_BYTES = 32 * 1024 * 1024

/** The most of an error answer `ApiClient.stream` reads: a node's is one short JSON object. */
const MAX_ERROR_ANSWER_BYTES = 64 * 1024

/**
 * The control API's URL from `--api`: `host:port` (an IPv6 host in brackets), or the `http://host:port`
 * a node writes in api.json and logs. Anything else is a usage error, not a request to a URL made of
 * it (`http://http://…`, a port past 65535).
 */
export function apiUrlOfFlag (v: string): string {
  const m = /^(?:http:\/\/)?(\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9_.-]{1,253}):([0-9]{1,5})\/?$/.exec(v)
  if (m == null || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    throw new UsageError(`--api expects host:port, e.g. 127.0.0.1:7545, got ${JSON.stringify(v.slice(0, 80))}`)
  }
  return `http://${m[1]}:${Number(m[2])}`
}

/**
 * Why a request reached no one, in a few words: node's fetch says only "fetch failed" and keeps the
 * reason (ECONNREFUSED, ENOTFOUND, …) in its cause.
 */
function unreachable (err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } })?.cause
  const code = typeof cause?.code === 'string' ? cause.code : undefined
  if (code === 'ECONNREFUSED') return 'connection refused: no node listens there; is it running?'
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `${code}: no such host`
  return code ?? (err as Error).message
}

/** whether a process of this pid exists (one of another user counts: signalling it is refused, not unknown) */
function processAlive (pid: unknown): boolean {
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * The flag of a request field (`gpus[1].count` and `requirements.gpu` are looked up whole, then
 * without their index, then by their first part).
 */
function flagOf (field: string, flags: Readonly<Record<string, string>>): string | undefined {
  const plain = field.replace(/\[\d+\]/g, '')
  return flags[field] ?? flags[plain] ?? flags[plain.split('.').at(-1) ?? ''] ?? flags[plain.split('.')[0] ?? '']
}

/**
 * `flag: message` without the field name the node's message starts with, which the flag now stands
 * for; a field with an index says which of a repeated flag's values it was, counted from 1, and
 * what of it (`gpus[1].model` after `--gpu`: `--gpu (value 2, model): …`)
 */
function flagLine (flag: string, message: string | undefined, field: string | undefined): string {
  if (message == null) return `${flag}: not accepted`
  if (field == null || !message.startsWith(`${field}: `)) return `${flag}: ${message}`
  const rest = message.slice(field.length + 2)
  const indexed = /\[(\d+)\](?:\.([A-Za-z0-9_.]+))?$/.exec(field)
  if (indexed == null) return `${flag}: ${rest}`
  return `${flag} (value ${Number(indexed[1]) + 1}${indexed[2] != null ? `, ${indexed[2]}` : ''}): ${rest}`
}

/**
 * A client of a running node's control API, found through the node home: the token from
 * `<home>/api-token` and the address from `<home>/api.json`.
 */
export class ApiClient {
  private constructor (readonly url: string, private readonly token: string, private readonly tokenFile?: string) {}

  static async fromHome (opts: { home?: string, env: NodeJS.ProcessEnv, api?: string }): Promise<ApiClient> {
    const home = resolveHome({ flag: opts.home, env: opts.env })
    let url = opts.api != null ? apiUrlOfFlag(opts.api) : undefined
    const token = await readApiToken(home)
    if (url == null) {
      const file = path.join(home, API_ADDRESS_FILE)
      let raw: unknown
      try {
        raw = JSON.parse(await readFile(file, 'utf8'))
      } catch {
        throw new UserError(`no running node found for home ${home} (start one with bazaar node start)`, { code: 'NODE_NOT_RUNNING' })
      }
      // [refuse] a file that is not what a node writes (damaged, or written by hand)
      const a = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<ApiAddress>
      if (typeof a.url !== 'string' || typeof a.pid !== 'number' || !/^http:\/\/[^\s/?#]{1,300}\/?$/.test(a.url)) throw new UserError(`${file} holds no API address (start the node again)`, { code: 'NODE_NOT_RUNNING' })
      // [refuse] the address a node that died left behind (a crash leaves api.json in place): the
      // token goes to no one else who took the port since
      if (!processAlive(a.pid)) throw new UserError(`no running node found for home ${home}: its api.json is from process ${String(a.pid)}, which has ended (start one with bazaar node start)`, { code: 'NODE_NOT_RUNNING' })
      url = a.url
    }
    return new ApiClient(url, token, homePaths(home).apiToken)
  }

  /**
   * One request, answered within `timeoutMs` (wall time, default `CALL_TIMEOUT_MS`) unless `signal`
   * aborts it first. With `flags` (the request's fields → the flags that set them), a 400 about one
   * of those fields is the flag's mistake: a usage error (exit 2) named by the flag, as a bad value
   * the CLI checks itself is.
   */
  async call<T = unknown> (method: string, route: string, body?: unknown, opts: { signal?: AbortSignal, timeoutMs?: number, flags?: Readonly<Record<string, string>> } = {}): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? CALL_TIMEOUT_MS
    let res: Response
    try {
      res = await fetch(this.url + route, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body != null ? { 'content-type': 'application/json' } : {}) },
        body: body == null ? undefined : JSON.stringify(body),
        // wall time: a bound on an HTTP request to the daemon
        signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(opts.signal != null ? [opts.signal] : [])])
      })
    } catch (err) {
      if (opts.signal?.aborted === true) throw new UserError('cancelled', { code: 'ABORTED', exitCode: 130 })
      // it took the request and gave no answer in time: running, but busy or waiting on something
      if ((err as Error).name === 'TimeoutError') throw new UserError(`the node at ${this.url} did not answer ${method} ${route} within ${timeoutMs / 1000} s (see its log)`, { code: 'NODE_TIMEOUT' })
      throw new UserError(`cannot reach the node's control API at ${this.url} (${unreachable(err)})`, { code: 'NODE_NOT_RUNNING' })
    }
    let text: string
    try {
      text = await this.answerText(res, MAX_ANSWER_BYTES)
    } catch (err) {
      if (err instanceof UserError) throw err
      if (opts.signal?.aborted === true) throw new UserError('cancelled', { code: 'ABORTED', exitCode: 130 })
      // the body is read under the same bound as the headers
      if ((err as Error).name === 'TimeoutError') throw new UserError(`the node at ${this.url} did not finish its answer to ${method} ${route} within ${timeoutMs / 1000} s (see its log)`, { code: 'NODE_TIMEOUT' })
      throw new UserError(`the answer of ${this.url} broke off (${(err as Error).message})`, { code: 'STREAM_BROKEN' })
    }
    let data: unknown
    try {
      data = text === '' ? undefined : JSON.parse(text)
    } catch {
      // another server on the port (a stale api.json after a crash, a wrong --api)
      throw new UserError(`the server at ${this.url} is not a bazaar node's control API (it answered HTTP ${res.status} with something other than JSON)`, { code: 'NOT_A_NODE' })
    }
    // the node's HTTP server refuses a request line or headers past its bounds before any route
    // sees them: from the CLI, only a flag value that long (in the path or the query) gets there
    if (res.status === 414 || res.status === 431) throw new UsageError(`a flag value is too long for the node (it answered HTTP ${res.status}, request too large)`)
    if (!res.ok) {
      const e = (data as { error?: { code?: string, message?: string, field?: string } })?.error
      throw this.answerError(res.status, e, opts.flags)
    }
    return data as T
  }

  /**
   * Calls a streaming route (NDJSON) and hands each parsed line to `onLine`. No timeout of its own:
   * aborting `signal` closes the request, which the node takes as a cancel. A line longer than
   * `maxLineBytes` fails the call (the node is trusted, but its output is still bounded).
   */
  async stream (method: string, route: string, body: unknown, onLine: (line: Record<string, unknown>) => void, opts: { signal?: AbortSignal, maxLineBytes?: number, flags?: Readonly<Record<string, string>> } = {}): Promise<void> {
    let res: Response
    try {
      res = await fetch(this.url + route, {
        method,
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', accept: 'application/x-ndjson' },
        body: JSON.stringify(body),
        signal: opts.signal
      })
    } catch (err) {
      if (opts.signal?.aborted === true) throw new UserError('cancelled', { code: 'ABORTED', exitCode: 130 })
      throw new UserError(`cannot reach the node's control API at ${this.url} (${unreachable(err)})`, { code: 'NODE_NOT_RUNNING' })
    }
    if (!res.ok || res.body == null) {
      let text = ''
      try {
        text = await this.answerText(res, MAX_ERROR_ANSWER_BYTES)
      } catch (err) {
        if (err instanceof UserError) throw err
        if (opts.signal?.aborted === true) throw new UserError('cancelled', { code: 'ABORTED', exitCode: 130 })
        // the status alone then: the error below says HTTP <status>
      }
      let e: { code?: string, message?: string, field?: string } | undefined
      try { e = (JSON.parse(text) as { error?: { code?: string, message?: string, field?: string } }).error } catch {}
      throw this.answerError(res.status, e, opts.flags)
    }
    const max = opts.maxLineBytes ?? 4 * 1024 * 1024
    const decoder = new TextDecoder()
    let buf = ''
    try {
      for await (const chunk of res.body) {
        buf += decoder.decode(chunk as Uint8Array, { stream: true })
        let nl: number
        while ((nl = buf.indexOf('\n')) !== -1) {
          const line = buf.slice(0, nl)
          buf = buf.slice(nl + 1)
          if (line.trim() !== '') onLine(JSON.parse(line) as Record<string, unknown>)
        }
        if (buf.length > max) throw new UserError(`a line of the node's answer is over ${max} bytes`, { code: 'LINE_TOO_LONG' })
      }
    } catch (err) {
      if (err instanceof UserError) throw err
      if (opts.signal?.aborted === true) throw new UserError('cancelled', { code: 'ABORTED', exitCode: 130 })
      throw new UserError(`the node's answer broke off (${(err as Error).message})`, { code: 'STREAM_BROKEN' })
    }
    if (buf.trim() === '') return
    let last: Record<string, unknown>
    try {
      last = JSON.parse(buf) as Record<string, unknown>
    } catch (err) {
      throw new UserError(`the node's answer broke off (${(err as Error).message})`, { code: 'STREAM_BROKEN' })
    }
    onLine(last)
  }

  /**
   * The node's error answer as one line: a 400 about a field a flag set is that flag's mistake, a
   * usage error (exit 2); a refused token names the file it came from.
   */
  private answerError (status: number, e: { code?: string, message?: string, field?: string } | undefined, flags?: Readonly<Record<string, string>>): UserError {
    const flag = status === 400 && e?.field != null && flags != null ? flagOf(e.field, flags) : undefined
    if (flag != null) return new UsageError(flagLine(flag, e?.message, e?.field))
    if (status === 401 && e?.code === 'UNAUTHORIZED' && this.tokenFile != null) {
      return new UserError(`the node at ${this.url} refused the token of ${this.tokenFile}: is --api the node of another home? (a node running now keeps the token it started with)`, { code: 'UNAUTHORIZED' })
    }
    return new UserError(e?.message ?? `HTTP ${status}`, { code: e?.code ?? `HTTP_${status}` })
  }

  /**
   * The body of `res` as text, at most `max` bytes: one longer (announced, or as it arrives) is
   * refused as no node's answer (ANSWER_TOO_LARGE), and its reading stopped. A broken read throws
   * what the body threw.
   */
  private async answerText (res: Response, max: number): Promise<string> {
    const tooLarge = (): UserError => {
      void res.body?.cancel().catch(() => {})
      return new UserError(`the server at ${this.url} answered HTTP ${res.status} with more than ${max} bytes: not a bazaar node's control API`, { code: 'ANSWER_TOO_LARGE' })
    }
    if (Number(res.headers.get('content-length') ?? 0) > max) throw tooLarge()
    if (res.body == null) return ''
    const chunks: Uint8Array[] = []
    let size = 0
    for await (const chunk of res.body) {
      size += (chunk as Uint8Array).byteLength
      if (size > max) throw tooLarge()
      chunks.push(chunk as Uint8Array)
    }
    return Buffer.concat(chunks).toString('utf8')
  }
}
