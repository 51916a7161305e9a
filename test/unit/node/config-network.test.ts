/**
 * `chain.network`: a subtensor network by name (endpoints written once in config/default.json) or by
 * URL, from the config file, BAZAAR_NETWORK or --network.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, configFlagsFromArgs, defaultConfig, loadConfig } from '../../../src/node/config/index.js'

let home: string
beforeAll(async () => { home = await mkdtemp(path.join(tmpdir(), 'bazaar-network-')) })
afterAll(async () => { await rm(home, { recursive: true, force: true }) })

async function withFile (content: unknown): Promise<void> {
  await writeFile(path.join(home, 'config.json'), JSON.stringify(content))
}

async function rejection (p: Promise<unknown>): Promise<ConfigError> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(ConfigError)
  return err as ConfigError
}

describe('chain.network', () => {
  it('is absent by default: the embedded ledger, no endpoint', async () => {
    const d = await defaultConfig()
    expect(d.chain.adapter).toBe('embedded')
    expect(d.chain.network).toBeUndefined()
    expect(d.chain.endpoint).toBeUndefined()
  })

  it.each([
    ['local', 'ws://127.0.0.1:9944'],
    ['test', 'wss://test.finney.opentensor.ai:443'],
    ['finney', 'wss://entrypoint-finney.opentensor.ai:443'],
    ['ws://127.0.0.1:9950', 'ws://127.0.0.1:9950']
  ])('--network %s resolves to %s on the subtensor adapter', async (name, url) => {
    await withFile({})
    const c = await loadConfig({ home, flags: configFlagsFromArgs({ network: name }) })
    expect(c.chain).toMatchObject({ adapter: 'subtensor', network: name, endpoint: url })
  })

  it('comes from BAZAAR_NETWORK and from the config file, where it implies the subtensor adapter', async () => {
    await withFile({})
    expect((await loadConfig({ home, env: { BAZAAR_NETWORK: 'test' } })).chain.endpoint).toBe('wss://test.finney.opentensor.ai:443')
    await withFile({ chain: { network: 'local' } })
    expect((await loadConfig({ home })).chain).toMatchObject({ adapter: 'subtensor', network: 'local', endpoint: 'ws://127.0.0.1:9944' })
  })

  it('a config file can point a name elsewhere (a local chain on another port)', async () => {
    await withFile({ chain: { networks: { local: 'ws://127.0.0.1:19944' } } })
    const c = await loadConfig({ home, flags: configFlagsFromArgs({ network: 'local' }) })
    expect(c.chain.endpoint).toBe('ws://127.0.0.1:19944')
  })

  it('the flag wins over a file that chose the embedded ledger', async () => {
    await withFile({ chain: { adapter: 'embedded' } })
    expect((await loadConfig({ home, flags: configFlagsFromArgs({ network: 'local' }) })).chain.adapter).toBe('subtensor')
  })

  it.each([
    { name: 'unknown name', file: {}, flags: { network: 'mainnet' }, field: 'chain.network', source: 'flags' },
    { name: 'http URL', file: {}, flags: { network: 'http://127.0.0.1:9944' }, field: 'chain.network', source: 'flags' },
    { name: 'endpoint and network disagree', file: { chain: { endpoint: 'ws://127.0.0.1:1' } }, flags: { network: 'finney' }, field: 'chain.endpoint' },
    { name: 'network with the embedded adapter in one file', file: { chain: { adapter: 'embedded', network: 'local' } }, flags: {}, field: 'chain.network' },
    { name: 'a bad URL in the table', file: { chain: { networks: { local: 'http://x' } } }, flags: {}, field: 'chain.networks.local' },
    { name: 'a bad name in the table', file: { chain: { networks: { 'Big Net': 'ws://x' } } }, flags: {}, field: 'chain.networks.Big Net' },
    { name: 'a number', file: { chain: { network: 7 } }, flags: {}, field: 'chain.network' }
  ])('refuses $name, naming the field', async (r) => {
    await withFile(r.file)
    const err = await rejection(loadConfig({ home, flags: configFlagsFromArgs(r.flags) }))
    expect(err.field).toBe(r.field)
    if (r.source != null) expect(err.source).toBe(r.source)
  })

  it('an endpoint equal to the named network is accepted', async () => {
    await withFile({ chain: { endpoint: 'ws://127.0.0.1:9944' } })
    const c = await loadConfig({ home, flags: configFlagsFromArgs({ network: 'local' }) })
    expect(c.chain.endpoint).toBe('ws://127.0.0.1:9944')
  })
})

describe('chain.fallbackEndpoints', () => {
  it('lists more nodes of the chain after the endpoint or the network, from the file or BAZAAR_CHAIN_FALLBACK (comma-separated)', async () => {
    await withFile({ chain: { network: 'finney', fallbackEndpoints: ['wss://lite.example.org', 'ws://10.0.0.5:9944'] } })
    expect((await loadConfig({ home })).chain).toMatchObject({ adapter: 'subtensor', endpoint: 'wss://entrypoint-finney.opentensor.ai:443', fallbackEndpoints: ['wss://lite.example.org', 'ws://10.0.0.5:9944'] })
    await withFile({})
    const c = await loadConfig({ home, env: { BAZAAR_CHAIN_ENDPOINT: 'ws://127.0.0.1:9944', BAZAAR_CHAIN_FALLBACK: ' ws://127.0.0.1:9945 ,ws://127.0.0.1:9946' } })
    expect(c.chain.fallbackEndpoints).toEqual(['ws://127.0.0.1:9945', 'ws://127.0.0.1:9946'])
    // an empty list is none
    await withFile({ chain: { endpoint: 'ws://127.0.0.1:9944', fallbackEndpoints: [] } })
    expect((await loadConfig({ home })).chain.fallbackEndpoints).toBeUndefined()
  })

  it.each([
    { name: 'a URL that is not ws', file: { chain: { endpoint: 'ws://a:1', fallbackEndpoints: ['ws://b:1', 'http://c:1'] } }, env: {}, field: 'chain.fallbackEndpoints[1]', says: /chain\.fallbackEndpoints\[1\] must be a ws:\/\/ or wss:\/\/ URL/ },
    { name: 'not a list', file: { chain: { endpoint: 'ws://a:1', fallbackEndpoints: 'ws://b:1' } }, env: {}, field: 'chain.fallbackEndpoints', says: /must be an array/ },
    { name: 'the endpoint again', file: { chain: { endpoint: 'ws://a:1', fallbackEndpoints: ['ws://b:1', 'ws://a:1'] } }, env: {}, field: 'chain.fallbackEndpoints', says: /lists ws:\/\/a:1 twice/ },
    { name: 'one twice', file: { chain: { endpoint: 'ws://a:1' } }, env: { BAZAAR_CHAIN_FALLBACK: 'ws://b:1,ws://b:1' }, field: 'chain.fallbackEndpoints', says: /lists ws:\/\/b:1 twice/ },
    { name: 'more than 8', file: { chain: { endpoint: 'ws://a:1', fallbackEndpoints: Array.from({ length: 9 }, (_, i) => `ws://f${i}:1`) } }, env: {}, field: 'chain.fallbackEndpoints', says: /9 entries, at most 8/ },
    { name: 'the embedded ledger', file: { chain: { fallbackEndpoints: ['ws://b:1'] } }, env: {}, field: 'chain.fallbackEndpoints', says: /chain\.adapter is embedded/ }
  ])('refuses $name in one line naming the field', async (r) => {
    await withFile(r.file)
    const err = await rejection(loadConfig({ home, env: r.env }))
    expect(err.field).toBe(r.field)
    expect(err.message).toMatch(r.says)
    expect(err.message).not.toContain('\n')
  })
})
