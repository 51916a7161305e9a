/**
 * `bazaar rent`'s exit status once the node's summary has come: 0 for a job that exited 0, the job's
 * own exit code for one that exited non-zero (as `docker run` and `ssh` give it), 1 for a job ended
 * any other way. The node is a stand-in control API answering the rent stream with its summary.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../../src/cli/main.js'
import { createApiToken } from '../../../src/node/keystore/api-token.js'

let job: Record<string, unknown> = {}
let server: Server
let home: string

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'bazaar-rent-exit-'))
  await createApiToken(home, { overwrite: true })
  server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' })
      const escrow = { id: '0x' + '11'.repeat(32), asset: 'alpha', unit: 'rao', locked: '10', paid: '4', refunded: '6', status: 'closed', records: [] }
      res.end(JSON.stringify({ type: 'summary', agreementId: '22'.repeat(32), supplier: 'x', attestation: { ok: true, kind: 'simulated', measurement: '' }, job, vouchers: 1, escrow }) + '\n')
    })
  })
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  await writeFile(path.join(home, 'api.json'), JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, pid: process.pid }))
})

afterAll(async () => {
  await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  await rm(home, { recursive: true, force: true })
})

async function rent (): Promise<{ code: number, err: string[] }> {
  const err: string[] = []
  const code = await main(['rent', '--home', home, '--gpu', 'h100', '--max-price', '1', '--duration', '1m', '--json', '--', 'sh', '-c', 'exit 7'], { out: () => {}, err: (l) => err.push(l), env: {} })
  return { code, err }
}

describe('bazaar rent: the exit status after the summary', () => {
  it.each([
    { what: 'a job that exited 0', end: { reason: 'exited', exitCode: 0 }, code: 0, line: undefined },
    { what: 'a job that exited 7', end: { reason: 'exited', exitCode: 7 }, code: 7, line: /^bazaar rent: the job ended: .*exit code 7/ },
    { what: 'a job killed by a signal', end: { reason: 'exited', signal: 'SIGKILL' }, code: 1, line: /^bazaar rent: the job ended: .*killed by SIGKILL/ },
    { what: 'a job past its time', end: { reason: 'timeout', exitCode: 0 }, code: 1, line: /^bazaar rent: the job ended/ }
  ])('$what: exit $code', async ({ end, code, line }) => {
    job = { state: 'succeeded', ...end }
    const r = await rent()
    expect(r.code, r.err.join('\n')).toBe(code)
    if (line == null) expect(r.err).toEqual([])
    else expect(r.err).toEqual([expect.stringMatching(line)])
  })
})
