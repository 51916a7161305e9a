/**
 * A value a running node refuses is, for the CLI, the mistake of the flag that set it: a usage
 * error (exit 2) named by the flag, as a value the CLI checks itself is. Here `bazaar book`
 * against a real node (BazaarNode.init, its control API on 127.0.0.1), and its runtime filters.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { main } from '../../src/cli/main.js'
import { BazaarNode } from '../../src/node/bazaar-node.js'
import { defaultConfig } from '../../src/node/config/index.js'
import { createApiToken, readApiToken } from '../../src/node/keystore/api-token.js'
import { silentLogger } from '../../src/node/logger.js'
import { EmbeddedLedger } from '../../src/escrow/index.js'
import { ManualClock } from '../../src/util/clock.js'
import { devPair } from '../helpers/keys.js'
import { mkOffer } from '../unit/market/book-fixtures.js'

describe('bazaar book: a refused value names its flag', () => {
  let home = ''
  let ledger: EmbeddedLedger
  let node: BazaarNode
  let api = ''
  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'bazaar-cli-flags-'))
    await createApiToken(home, { overwrite: false })
    ledger = await EmbeddedLedger.open({ netuid: 1 })
    const base = await defaultConfig()
    const config = { ...base, role: 'renter' as const, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], api: { ...base.api, host: '127.0.0.1', port: 0 } }
    const identity = { peerKey: await generateKeyPair('Ed25519'), hotkey: await devPair('Ivan//hot'), coldkey: await devPair('Ivan') }
    node = await BazaarNode.init({ config, identity, home, apiToken: await readApiToken(home), chain: ledger, clock: new ManualClock(), logger: silentLogger })
    api = `127.0.0.1:${node.apiAddress!.port}`
  }, 60_000)
  afterAll(async () => {
    await node?.close()
    await ledger?.close()
    await rm(home, { recursive: true, force: true })
  })

  async function book (...args: string[]): Promise<{ code: number, out: string[], err: string[] }> {
    const out: string[] = []
    const err: string[] = []
    const code = await main(['book', '--home', home, '--api', api, ...args], { out: (l) => out.push(l), err: (l) => err.push(l), env: {} })
    return { code, out, err }
  }

  it.each([
    { args: ['--limit', '0'], flag: '--limit' },
    { args: ['--limit', '99999'], flag: '--limit' },
    { args: ['--discover', 'BAD'], flag: '--discover' }
  ])('$args: exit 2, one line naming $flag', async ({ args, flag }) => {
    const r = await book(...args)
    expect(r.code).toBe(2)
    expect(r.err, r.err.join('\n')).toHaveLength(1)
    expect(r.err[0]).toMatch(new RegExp(`^bazaar book: ${flag}: `))
  })

  it('a value the node takes still lists the book', async () => {
    expect(await book('--limit', '5')).toMatchObject({ code: 0, out: ['no offers in the book (0 bids)'] })
  })

  it.each([
    { args: ['--runtime', 'vm'], line: /^bazaar book: --runtime expects process or container, got vm$/ },
    { args: ['--image', 'docker-archive:/tmp/x.tar'], line: /^bazaar book: --image expects a container image reference/ },
    { args: ['--image', 'ghcr.io/org/*'], line: /^bazaar book: --image expects a container image reference/ },
    { args: ['--image', 'ghcr.io/x:1', '--runtime', 'process'], line: /^bazaar book: --image lists offers of runtime container/ }
  ])('$args: exit 2, one line, no stack', async ({ args, line }) => {
    const r = await book(...args)
    expect(r.code).toBe(2)
    expect(r.err, r.err.join('\n')).toHaveLength(1)
    expect(r.err[0]).toMatch(line)
  })

  it.each([
    { query: 'runtime=vm', field: 'runtime' },
    { query: 'image=oci:/tmp/x', field: 'image' },
    { query: `image=ghcr.io/${'a'.repeat(600)}`, field: 'image' },
    { query: 'image=ghcr.io/x:1&runtime=process', field: 'image' }
  ])('GET /v1/book?$query: 400 BAD_INPUT naming $field', async ({ query, field }) => {
    const res = await fetch(`http://${api}/v1/book?${query}`, { headers: { authorization: `Bearer ${await readApiToken(home)}` } })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({ code: 'BAD_INPUT', field })
  })

  it('--runtime and --image list the offers matching would take for them', async () => {
    node.market.book.upsertOffer(mkOffer({ id: 'plain', pricePerGpuHour: 1n }))
    node.market.book.upsertOffer(mkOffer({ id: 'any', pricePerGpuHour: 2n, runtime: 'container' }))
    node.market.book.upsertOffer(mkOffer({ id: 'pytorch', pricePerGpuHour: 3n, runtime: 'container', images: ['docker.io/pytorch/pytorch:*'] }))
    const ids = async (...args: string[]): Promise<string[]> => {
      const r = await book('--json', ...args)
      expect(r.code, r.err.join('\n')).toBe(0)
      return (JSON.parse(r.out[0]!) as { offers: Array<{ id: string }> }).offers.map((o) => o.id)
    }
    expect(await ids()).toEqual(['plain', 'any', 'pytorch'])
    expect(await ids('--runtime', 'process')).toEqual(['plain'])
    expect(await ids('--runtime', 'container')).toEqual(['any', 'pytorch'])
    expect(await ids('--image', 'docker.io/pytorch/pytorch:2.4.0')).toEqual(['any', 'pytorch'])
    expect(await ids('--image', 'ghcr.io/org/train:1', '--runtime', 'container')).toEqual(['any'])
  })
})
