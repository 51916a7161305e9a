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

  async function cli (...args: string[]): Promise<{ code: number, out: string[], err: string[] }> {
    const out: string[] = []
    const err: string[] = []
    const code = await main([...args, '--home', home, '--api', api], { out: (l) => out.push(l), err: (l) => err.push(l), env: {} })
    return { code, out, err }
  }

  it.each([
    // which of a repeated flag's values, and what of it, counted from 1 (the node's field is gpus[1].count)
    { args: ['offer', 'publish', '--gpu', 'h100-80gb:81920:1', '--gpu', 'h100-80gb:81920:0'], line: /^bazaar offer: --gpu \(value 2, count\): expected an integer in \[1, 1024\]$/ },
    { args: ['bid', 'publish', '--max-price', '1', '--gpu', 'h100', '--region', 'eu', '--region', ''], line: /^bazaar bid: --region \(value 2\): expected / },
    // durations said as durations
    { args: ['bid', 'publish', '--max-price', '1', '--gpu', 'h100', '--ttl', '400d'], line: /^bazaar bid: --ttl: expected 10 to 86400 seconds \(10s to 1d\)$/ },
    { args: ['offer', 'publish', '--gpu', 'h100-80gb:81920:1', '--max-duration', '31d'], line: /^bazaar offer: --max-duration: expected 1 to 2592000 seconds \(1s to 30d\)$/ },
    // an alpha amount past what an amount can be, or finer than a rao, in alpha's terms
    { args: ['bid', 'publish', '--max-price', '99999999999', '--gpu', 'h100'], line: /^bazaar bid: --max-price is over 21 million/ },
    { args: ['offer', 'publish', '--gpu', 'h100-80gb:81920:1', '--price', '0.0000000001'], line: /^bazaar offer: --price has more than 9 decimals/ },
    // a supplier states the kind it attests as, not one its renter side accepts
    { args: ['offer', 'publish', '--gpu', 'h100-80gb:81920:1', '--tee', 'tdx'], line: /^bazaar offer: --tee: this node attests as simulated \(tee\.provider\): its offers cannot state tdx$/ }
  ])('$args.0 $args.1 $args.2 …: one line in the flag\'s terms', async ({ args, line }) => {
    const r = await cli(...args)
    expect(r.err, r.err.join('\n')).toHaveLength(1)
    expect(r.err[0]).toMatch(line)
    expect(r.code).toBe(2)
  })

  it('an alpha amount may carry its symbol, as rent takes it', async () => {
    const r = await cli('bid', 'publish', '--id', 'sym', '--max-price', '0.25α', '--gpu', 'h100', '--json')
    expect(r.code, r.err.join('\n')).toBe(0)
    expect(JSON.parse(r.out[0]!)).toMatchObject({ id: 'sym', maxPricePerGpuHour: '250000000' })
    expect((await cli('bid', 'cancel', 'sym')).code).toBe(0)
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
