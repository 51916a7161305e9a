import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { resolveHome } from '../node/home.js'
import { readApiToken } from '../node/keystore/index.js'
import { UserError } from '../util/errors.js'

/** Where a running node's control API listens; written by `bazaar node start` into its home. */
export const API_ADDRESS_FILE = 'api.json'

export interface ApiAddress { url: string, pid: number }

/**
 * A client of a running node's control API, found through the node home: the token from
 * `<home>/api-token` and the address from `<home>/api.json`.
 */
export class ApiClient {
  private constructor (readonly url: string, private readonly token: string) {}

  static async fromHome (opts: { home?: string, env: NodeJS.ProcessEnv, api?: string }): Promise<ApiClient> {
    const home = resolveHome({ flag: opts.home, env: opts.env })
    const token = await readApiToken(home)
    let url = opts.api != null ? `http://${opts.api}` : undefined
    if (url == null) {
      try {
        const a = JSON.parse(await readFile(path.join(home, API_ADDRESS_FILE), 'utf8')) as ApiAddress
        url = a.url
      } catch {
        throw new UserError(`no running node found for home ${home} (start one with bazaar node start)`, { code: 'NODE_NOT_RUNNING' })
      }
    }
    return new ApiClient(url, token)
  }

  async call<T = unknown> (method: string, route: string, body?: unknown, opts: { signal?: AbortSignal } = {}): Promise<T> {
    let res: Response
    try {
      res = await fetch(this.url + route, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body != null ? { 'content-type': 'application/json' } : {}) },
        body: body == null ? undefined : JSON.stringify(body),
        signal: opts.signal ?? AbortSignal.timeout(30_000)
      })
    } catch (err) {
      throw new UserError(`cannot reach the node's control API at ${this.url} (${(err as Error).message})`, { code: 'NODE_NOT_RUNNING' })
    }
    const text = await res.text()
    const data = text === '' ? undefined : JSON.parse(text)
    if (!res.ok) {
      const e = (data as { error?: { code?: string, message?: string } })?.error
      throw new UserError(e?.message ?? `HTTP ${res.status}`, { code: e?.code ?? `HTTP_${res.status}` })
    }
    return data as T
  }
}
