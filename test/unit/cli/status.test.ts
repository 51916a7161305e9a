/**
 * `bazaar status` against a control API that answers as a daemon does: the chain's line, and the
 * escrow account's funds on a line of their own, in the escrow's asset.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../../src/cli/main.js'
import { createApiToken } from '../../../src/node/keystore/api-token.js'

const ACCOUNT = '5C57Rq57HdsLTpTMitK6w8XWvAAT1mpiS4oVWzhNsaSGxMSK'

describe('bazaar status', () => {
  let dir = ''
  let home = ''
  let server: Server
  let api = ''
  /** what the fake daemon answers on /v1/chain */
  let chain: Record<string, unknown> = {}

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'bazaar-status-'))
    home = path.join(dir, 'home')
    await mkdir(home)
    await createApiToken(home, { overwrite: true })
    server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json')
      if (req.url === '/v1/status') res.end(JSON.stringify({ peerId: '12D3KooWtest', role: 'renter' }))
      else if (req.url === '/v1/chain') res.end(JSON.stringify(chain))
      else { res.statusCode = 404; res.end('{}') }
    })
    await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
    api = `127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    await rm(dir, { recursive: true, force: true })
  })

  async function status (): Promise<{ code: number, out: string[], err: string[] }> {
    const out: string[] = []
    const err: string[] = []
    const code = await main(['status', '--home', home, '--api', api], { out: (l) => out.push(l), err: (l) => err.push(l), env: {} })
    return { code, out, err }
  }

  it('names the escrow account and what it can spend, in the escrow\'s asset, with the command that adds to it', async () => {
    chain = { adapter: 'subtensor', network: 'local', asset: 'alpha', netuid: 1, connected: true, account: ACCOUNT, funds: '1993779879' }
    const r = await status()
    expect(r.err).toEqual([])
    expect(r.code).toBe(0)
    const chainLine = r.out.find((l) => l.startsWith('chain '))!
    expect(chainLine).toContain('asset=alpha')
    // the funds are not repeated raw on the chain's line
    expect(chainLine).not.toContain('funds=')
    expect(r.out.at(-1)).toBe(`funds        1.993779879 α in the hotkey account ${ACCOUNT} (escrows are paid from it, earnings into it; bazaar wallet fund and withdraw move them)`)
    // the TAO for fees, and what a close needs where it is short
    chain = { ...chain, fees: { free: '201147633', needed: '200000000' } }
    expect((await status()).out.at(-1)).toBe('fees         0.201147633 τ free in that account for fees and deposits')
    chain = { ...chain, fees: { free: '0', needed: '211000000' } }
    expect((await status()).out.at(-1)).toBe('fees         0 τ free in that account for fees and deposits: short of the 0.211 τ closing an escrow needs (bazaar wallet fund --fees 0.211)')
  })

  it('says the funds were not read where the chain did not answer, and gives no command where there is none (the embedded ledger)', async () => {
    chain = { adapter: 'subtensor', network: 'local', asset: 'tao', netuid: 1, connected: false, account: ACCOUNT }
    expect((await status()).out.at(-1)).toBe(`funds        not read (the chain did not answer) in the hotkey account ${ACCOUNT} (escrows are paid from it, earnings into it; bazaar wallet fund and withdraw move them)`)
    chain = { adapter: 'embedded', network: 'embedded', asset: 'alpha', netuid: 1, account: ACCOUNT, funds: '5' }
    expect((await status()).out.at(-1)).toBe(`funds        0.000000005 α in the hotkey account ${ACCOUNT} (escrows are paid from it, earnings into it)`)
  })
})
