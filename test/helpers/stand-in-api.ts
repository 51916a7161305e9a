/**
 * A stand-in for a daemon's control API, for tests of what a command prints and returns for the
 * daemon's answers: a node home with an API token, and a local HTTP server that answers every
 * request with `answer(path)` (its body read first; status 200 unless it says). `api` is its
 * host:port for `--api`.
 */
import { createServer } from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createApiToken } from '../../src/node/keystore/api-token.js'

export interface StandInApi {
  home: string
  api: string
  close: () => Promise<void>
}

export async function standInApi (answer: (path: string) => { contentType: string, body: string, status?: number }): Promise<StandInApi> {
  const home = await mkdtemp(path.join(tmpdir(), 'bazaar-stand-in-api-'))
  await createApiToken(home, { overwrite: true })
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      const a = answer(new URL(req.url ?? '/', 'http://x').pathname)
      res.writeHead(a.status ?? 200, { 'content-type': a.contentType })
      res.end(a.body)
    })
  })
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  return {
    home,
    api: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
      await rm(home, { recursive: true, force: true })
    }
  }
}
