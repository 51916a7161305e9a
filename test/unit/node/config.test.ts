import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkPolicy } from '../../../src/tee/policy.js'
import type { VerifiedEvidence } from '../../../src/tee/types.js'
import { subtensorInitOf } from '../../../src/node/services/chain.js'
import {
  attestationPolicyFromConfig, ConfigError, ConfigErrorCode, CONFIG_ENV_VARS, CONFIG_TEMPLATES, configFlagsFromArgs, defaultConfig, loadConfig, mergeLayers,
  PACKAGE_CONFIG_DIR, readConfigFile, readConfigTemplate, validateConfig, type BazaarConfig
} from '../../../src/node/config/index.js'

const PEER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY'

let home: string
let defaults: BazaarConfig

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'bazaar-config-'))
  defaults = await defaultConfig()
})
afterAll(async () => { await rm(home, { recursive: true, force: true }) })

async function writeHomeConfig (content: unknown): Promise<void> {
  await writeFile(path.join(home, 'config.json'), typeof content === 'string' ? content : JSON.stringify(content))
}

async function rejection (p: Promise<unknown>): Promise<ConfigError> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(ConfigError)
  return err as ConfigError
}

describe('defaults', () => {
  it('are read from the packaged config/default.json and match the documented values', () => {
    expect(defaults.listen).toEqual(['/ip4/0.0.0.0/tcp/0'])
    expect(defaults.mdns).toBe(true)
    expect(defaults.api).toEqual({ host: '127.0.0.1', port: 7545, allowRemote: false })
    expect(defaults.metering.tickS).toBe(10)
    // a fork bomb stops at 16384 processes of the supplier's user; files are not bounded by default
    expect(defaults.jobs).toEqual({ runtime: 'process', engine: 'auto', images: [], pull: 'missing', memoryMib: 0, processes: 16384, openFiles: 65536, fileMib: 0 })
    expect(defaults.chain.adapter).toBe('embedded')
    expect(defaults.gpus).toBeUndefined()
    expect(defaults.tee.crlFiles).toEqual([])
  })

  it('are frozen', async () => {
    const c = await loadConfig()
    expect(Object.isFrozen(c)).toBe(true)
    expect(Object.isFrozen(c.market.teeKinds)).toBe(true)
  })

  it.each(Object.keys(CONFIG_TEMPLATES))('example config %s is valid over the defaults', async (name) => {
    const t = await readConfigTemplate(name)
    // over the defaults file as a daemon layers it: a template's chain.network names an endpoint of
    // its chain.networks, which the validated config does not keep
    const file = await readConfigFile(PACKAGE_CONFIG_DIR + 'default.json', true)
    expect(() => validateConfig(mergeLayers(file ?? {}, t))).not.toThrow()
  })
})

describe('precedence: defaults < file < env < flags', () => {
  // each row sets api.port (and log.level) in some layers; the highest layer that sets it wins
  const rows: Array<{ name: string, file?: number, env?: number, flags?: number, want: number, from: string }> = [
    { name: 'defaults only', want: 7545, from: 'defaults' },
    { name: 'file over defaults', file: 8001, want: 8001, from: 'file' },
    { name: 'env over file', file: 8001, env: 8002, want: 8002, from: 'env' },
    { name: 'flags over env', file: 8001, env: 8002, flags: 8003, want: 8003, from: 'flags' },
    { name: 'flags over defaults', flags: 8003, want: 8003, from: 'flags' },
    { name: 'env over defaults', env: 8002, want: 8002, from: 'env' }
  ]
  it.each(rows)('$name', async (r) => {
    await writeHomeConfig(r.file != null ? { api: { port: r.file }, log: { level: 'warn' } } : {})
    const env = r.env != null ? { BAZAAR_API: `127.0.0.1:${r.env}`, BAZAAR_LOG_LEVEL: 'error' } : {}
    const flags = r.flags != null ? configFlagsFromArgs({ api: `127.0.0.1:${r.flags}`, 'log-level': 'debug' }) : undefined
    const c = await loadConfig({ home, env, flags })
    expect(c.api.port).toBe(r.want)
    expect(c.log.level).toBe({ defaults: 'info', file: 'warn', env: 'error', flags: 'debug' }[r.from])
    // objects merge by key: the other fields of api keep their default
    expect(c.api.allowRemote).toBe(false)
  })

  it('lists are replaced whole, not concatenated', async () => {
    await writeHomeConfig({ listen: ['/ip4/127.0.0.1/tcp/4001', '/ip4/127.0.0.1/tcp/4002'] })
    const c = await loadConfig({ home, env: { BAZAAR_LISTEN: '/ip4/127.0.0.1/tcp/5001' } })
    expect(c.listen).toEqual(['/ip4/127.0.0.1/tcp/5001'])
  })

  it('reads every documented environment variable', async () => {
    await writeHomeConfig({})
    const c = await loadConfig({
      home,
      env: {
        BAZAAR_LISTEN: '/ip4/127.0.0.1/tcp/1, /ip4/127.0.0.1/tcp/2',
        BAZAAR_BOOTSTRAP: `/ip4/10.0.0.1/tcp/4001/p2p/${PEER}`,
        BAZAAR_MDNS: 'false',
        BAZAAR_API: ':9000',
        BAZAAR_LOG_LEVEL: 'debug',
        BAZAAR_LOG_FORMAT: 'json',
        BAZAAR_ROLE: 'arbiter',
        BAZAAR_CHAIN: 'wss://example.org:443',
        BAZAAR_NETUID: '7',
        BAZAAR_ARBITER: ALICE,
        BAZAAR_REGION: 'us-east',
        BAZAAR_PRICE: '123',
        BAZAAR_TEE_PROVIDER: 'tdx',
        BAZAAR_ALLOW_SIMULATED: 'yes',
        BAZAAR_CHAIN_SCAN_FROM: '123456'
      }
    })
    expect(c.listen).toEqual(['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2'])
    expect(c.bootstrap).toEqual([`/ip4/10.0.0.1/tcp/4001/p2p/${PEER}`])
    expect(c.mdns).toBe(false)
    expect(c.api).toEqual({ host: '127.0.0.1', port: 9000, allowRemote: false })
    expect(c.log).toEqual({ level: 'debug', format: 'json' })
    expect(c.role).toBe('arbiter')
    expect(c.chain).toEqual({ adapter: 'subtensor', endpoint: 'wss://example.org:443', netuid: 7, arbiter: ALICE, sweepS: 600, scanFromBlock: 123456 })
    expect(c.market.region).toBe('us-east')
    expect(c.market.pricePerGpuHour).toBe('123')
    expect(c.tee.provider).toBe('tdx')
    expect(c.tee.allowSimulated).toBe(true)
    // the subtensor adapter reads escrow records from chain.scanFromBlock on
    expect(subtensorInitOf(c, 'wss://example.org:443')).toEqual({ url: 'wss://example.org:443', netuid: 7, fromBlock: 123456 })
    expect(subtensorInitOf(defaults, 'ws://x')).toEqual({ url: 'ws://x', netuid: defaults.chain.netuid })
  })

  it('an explicit config file replaces the home one and must exist', async () => {
    const other = path.join(home, 'other.json')
    await writeFile(other, JSON.stringify({ role: 'renter' }))
    expect((await loadConfig({ home, configFile: other })).role).toBe('renter')
    const err = await rejection(loadConfig({ configFile: path.join(home, 'missing.json') }))
    expect(err.code).toBe(ConfigErrorCode.UNREADABLE)
  })

  it('a home without config.json uses the defaults', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'bazaar-config-empty-'))
    try {
      expect(await loadConfig({ home: empty })).toEqual(defaults)
    } finally {
      await rm(empty, { recursive: true, force: true })
    }
  })
})

describe('invalid configs name their bad field', () => {
  const rows: Array<{ name: string, cfg: unknown, field: string, code?: ConfigErrorCode }> = [
    { name: 'listen not a list', cfg: { listen: '/ip4/0.0.0.0/tcp/1' }, field: 'listen' },
    { name: 'second listen addr malformed', cfg: { listen: ['/ip4/0.0.0.0/tcp/1', '/ip4/300.1.1.1/tcp/1'] }, field: 'listen[1]' },
    { name: 'listen addr not tcp', cfg: { listen: ['/ip4/0.0.0.0/udp/1'] }, field: 'listen[0]' },
    { name: 'listen addr not a string', cfg: { listen: [42] }, field: 'listen[0]' },
    { name: 'bootstrap without peer id', cfg: { bootstrap: ['/ip4/1.2.3.4/tcp/4001'] }, field: 'bootstrap[0]' },
    { name: 'bootstrap with bad peer id', cfg: { bootstrap: ['/ip4/1.2.3.4/tcp/4001/p2p/xyz'] }, field: 'bootstrap[0]' },
    { name: 'too many listen addrs', cfg: { listen: Array(65).fill('/ip4/0.0.0.0/tcp/0') }, field: 'listen' },
    { name: 'mdns not boolean', cfg: { mdns: 'yes' }, field: 'mdns' },
    { name: 'api port out of range', cfg: { api: { port: 70000 } }, field: 'api.port' },
    { name: 'api port fractional', cfg: { api: { port: 80.5 } }, field: 'api.port' },
    { name: 'api on a public host without allowRemote', cfg: { api: { host: '0.0.0.0' } }, field: 'api.host' },
    { name: 'api host garbage', cfg: { api: { host: 'a b' } }, field: 'api.host' },
    { name: 'log level unknown', cfg: { log: { level: 'verbose' } }, field: 'log.level' },
    { name: 'log format unknown', cfg: { log: { format: 'xml' } }, field: 'log.format' },
    { name: 'role unknown', cfg: { role: 'miner' }, field: 'role' },
    { name: 'chain adapter unknown', cfg: { chain: { adapter: 'evm' } }, field: 'chain.adapter' },
    { name: 'subtensor without endpoint', cfg: { chain: { adapter: 'subtensor' } }, field: 'chain.endpoint' },
    { name: 'chain endpoint http', cfg: { chain: { endpoint: 'http://x' } }, field: 'chain.endpoint' },
    { name: 'netuid negative', cfg: { chain: { netuid: -1 } }, field: 'chain.netuid' },
    { name: 'arbiter bad checksum', cfg: { chain: { arbiter: ALICE.slice(0, -1) + 'Z' } }, field: 'chain.arbiter' },
    { name: 'price as number', cfg: { market: { pricePerGpuHour: 100 } }, field: 'market.pricePerGpuHour' },
    { name: 'price decimal point', cfg: { market: { pricePerGpuHour: '1.5' } }, field: 'market.pricePerGpuHour' },
    { name: 'price leading zero', cfg: { market: { pricePerGpuHour: '01' } }, field: 'market.pricePerGpuHour' },
    { name: 'price beyond u128 digits', cfg: { market: { pricePerGpuHour: '1'.repeat(40) } }, field: 'market.pricePerGpuHour' },
    { name: 'min duration above max', cfg: { market: { minDurationS: 100, maxDurationS: 10 } }, field: 'market.minDurationS' },
    { name: 'republish not below ttl', cfg: { market: { offerTtlS: 60, republishS: 60 } }, field: 'market.republishS' },
    { name: 'tee kind unknown in market', cfg: { market: { teeKinds: ['sev-snp', 'sgx'] } }, field: 'market.teeKinds[1]' },
    { name: 'tee kind repeated', cfg: { market: { teeKinds: ['tdx', 'tdx'] } }, field: 'market.teeKinds[1]' },
    { name: 'region with spaces', cfg: { market: { region: 'eu west' } }, field: 'market.region' },
    // what an offer's own validation refuses is refused here, not at the supplier's start
    { name: 'region an offer cannot carry', cfg: { market: { region: 'EU_West.1' } }, field: 'market.region' },
    { name: 'region longer than an offer carries', cfg: { market: { region: 'a'.repeat(33) } }, field: 'market.region' },
    { name: 'max duration past an offer\'s 30 days', cfg: { market: { maxDurationS: 30 * 86400 + 1 } }, field: 'market.maxDurationS' },
    { name: 'price zero', cfg: { market: { pricePerGpuHour: '0' } }, field: 'market.pricePerGpuHour' },
    { name: 'price past 2^63 - 1', cfg: { market: { pricePerGpuHour: '9223372036854775808' } }, field: 'market.pricePerGpuHour' },
    { name: 'gpu price past 2^63 - 1', cfg: { gpus: [{ model: 'H100', memoryMib: 1, count: 1, pricePerGpuHour: '99999999999999999999' }] }, field: 'gpus[0].pricePerGpuHour' },
    { name: 'gpus not a list', cfg: { gpus: {} }, field: 'gpus' },
    { name: 'gpu memory zero', cfg: { gpus: [{ model: 'H100', memoryMib: 0, count: 1 }] }, field: 'gpus[0].memoryMib' },
    { name: 'gpu count missing', cfg: { gpus: [{ model: 'H100', memoryMib: 80000, count: 1 }, { model: 'A100', memoryMib: 40000 }] }, field: 'gpus[1].count' },
    { name: 'gpu price bad', cfg: { gpus: [{ model: 'H100', memoryMib: 1, count: 1, pricePerGpuHour: '-1' }] }, field: 'gpus[0].pricePerGpuHour' },
    { name: 'tee provider unknown', cfg: { tee: { provider: 'sgx' } }, field: 'tee.provider' },
    { name: 'snp measurement wrong length', cfg: { tee: { allowedMeasurements: { 'sev-snp': ['ab'] } } }, field: 'tee.allowedMeasurements.sev-snp[0]' },
    { name: 'tdx measurement uppercase', cfg: { tee: { allowedMeasurements: { tdx: ['AB'.repeat(48)] } } }, field: 'tee.allowedMeasurements.tdx[0]' },
    { name: 'simulated measurement short', cfg: { tee: { allowedMeasurements: { simulated: ['00'.repeat(47)] } } }, field: 'tee.allowedMeasurements.simulated[0]' },
    { name: 'measurement repeated', cfg: { tee: { allowedMeasurements: { tdx: ['ab'.repeat(48), 'ab'.repeat(48)] } } }, field: 'tee.allowedMeasurements.tdx[1]' },
    { name: 'measurements of an unknown kind', cfg: { tee: { allowedMeasurements: { sgx: [] } } }, field: 'tee.allowedMeasurements.sgx', code: ConfigErrorCode.UNKNOWN_FIELD },
    { name: 'an SNP TCB component over a byte', cfg: { tee: { minTcb: { 'sev-snp': { snp: 256 } } } }, field: 'tee.minTcb.sev-snp.snp' },
    { name: 'an SNP TCB component that does not exist', cfg: { tee: { minTcb: { 'sev-snp': { ucode: 1 } } } }, field: 'tee.minTcb.sev-snp.ucode', code: ConfigErrorCode.UNKNOWN_FIELD },
    { name: 'a TDX TEE_TCB_SVN of 15 bytes', cfg: { tee: { minTcb: { tdx: '00'.repeat(15) } } }, field: 'tee.minTcb.tdx' },
    { name: 'a minimum TCB of an unknown kind', cfg: { tee: { minTcb: { sgx: {} } } }, field: 'tee.minTcb.sgx', code: ConfigErrorCode.UNKNOWN_FIELD },
    { name: 'a VMPL past 3', cfg: { tee: { snpMaxVmpl: 4 } }, field: 'tee.snpMaxVmpl' },
    { name: 'allowMigratable not a boolean', cfg: { tee: { allowMigratable: 'yes' } }, field: 'tee.allowMigratable' },
    { name: 'a TDX TCB status Intel does not name', cfg: { tee: { tdxTcbStatuses: ['UpToDate', 'Fine'] } }, field: 'tee.tdxTcbStatuses[1]' },
    { name: 'TDX collateral files not a list', cfg: { tee: { tdxCollateralFiles: '/etc/tcb.json' } }, field: 'tee.tdxCollateralFiles' },
    { name: 'evidence age zero', cfg: { tee: { maxEvidenceAgeS: 0 } }, field: 'tee.maxEvidenceAgeS' },
    { name: 'crl files not a list', cfg: { tee: { crlFiles: '/etc/amd.crl' } }, field: 'tee.crlFiles' },
    { name: 'crl file empty', cfg: { tee: { crlFiles: ['/a.crl', ''] } }, field: 'tee.crlFiles[1]' },
    { name: 'crl file repeated', cfg: { tee: { crlFiles: ['/a.crl', '/a.crl'] } }, field: 'tee.crlFiles[1]' },
    { name: 'crl files over the limit', cfg: { tee: { crlFiles: Array.from({ length: 17 }, (_, i) => `/c${i}.crl`) } }, field: 'tee.crlFiles' },
    { name: 'grace below tick', cfg: { metering: { tickS: 10, graceS: 5 } }, field: 'metering.graceS' },
    { name: 're-attach wait negative', cfg: { metering: { reattachS: -1 } }, field: 'metering.reattachS' },
    { name: 're-attach wait past a day', cfg: { metering: { reattachS: 86401 } }, field: 'metering.reattachS' },
    { name: 'job open files under 64', cfg: { jobs: { openFiles: 10 } }, field: 'jobs.openFiles' },
    { name: 'job processes negative', cfg: { jobs: { processes: -1 } }, field: 'jobs.processes' },
    { name: 'job file size not an integer', cfg: { jobs: { fileMib: 1.5 } }, field: 'jobs.fileMib' },
    { name: 'a job memory limit the process runtime cannot set', cfg: { jobs: { memoryMib: 1024 } }, field: 'jobs.memoryMib' },
    { name: 'images for the process runtime, which runs none', cfg: { jobs: { images: ['docker.io/pytorch/pytorch:*'] } }, field: 'jobs.images' },
    { name: 'an unknown job runtime', cfg: { jobs: { runtime: 'vm' } }, field: 'jobs.runtime' },
    { name: 'an unknown container engine', cfg: { jobs: { runtime: 'container', engine: 'lxc' } }, field: 'jobs.engine' },
    { name: 'an image pattern with a space', cfg: { jobs: { runtime: 'container', images: ['pytorch pytorch'] } }, field: 'jobs.images[0]' },
    { name: 'an image pattern starting with a dash', cfg: { jobs: { runtime: 'container', images: ['--privileged'] } }, field: 'jobs.images[0]' },
    { name: 'a star inside an image pattern', cfg: { jobs: { runtime: 'container', images: ['docker.io/*/x'] } }, field: 'jobs.images[0]' },
    { name: 'more image patterns than an offer carries (16)', cfg: { jobs: { runtime: 'container', images: Array.from({ length: 17 }, (_, i) => `ghcr.io/org/x${i}:*`) } }, field: 'jobs.images' },
    { name: 'an image pattern longer than an offer carries (256)', cfg: { jobs: { runtime: 'container', images: [`ghcr.io/${'a'.repeat(249)}`] } }, field: 'jobs.images[0]' },
    { name: 'a pull policy of always', cfg: { jobs: { runtime: 'container', pull: 'always' } }, field: 'jobs.pull' },
    { name: 'a job memory limit past the bound', cfg: { jobs: { runtime: 'container', memoryMib: 16777217 } }, field: 'jobs.memoryMib' },
    { name: 'sweep period not a number', cfg: { chain: { sweepS: 'hourly' } }, field: 'chain.sweepS' },
    { name: 'scan from block 0', cfg: { chain: { scanFromBlock: 0 } }, field: 'chain.scanFromBlock' },
    { name: 'scan from a block that is not a number', cfg: { chain: { scanFromBlock: '1e6' } }, field: 'chain.scanFromBlock' },
    { name: 'unknown top-level field', cfg: { listenAddrs: [] }, field: 'listenAddrs', code: ConfigErrorCode.UNKNOWN_FIELD },
    { name: 'typo in a nested field', cfg: { market: { pricePerGpuHr: '1' } }, field: 'market.pricePerGpuHr', code: ConfigErrorCode.UNKNOWN_FIELD },
    { name: '__proto__ key', cfg: '{"__proto__": {"mdns": false}}', field: '__proto__', code: ConfigErrorCode.UNKNOWN_FIELD },
    { name: 'api not an object', cfg: { api: 7545 }, field: 'api' }
  ]
  it.each(rows)('$name → $field', async (r) => {
    await writeHomeConfig(r.cfg)
    const err = await rejection(loadConfig({ home }))
    expect(err.code).toBe(r.code ?? ConfigErrorCode.INVALID_FIELD)
    expect(err.field).toBe(r.field)
    expect(err.source).toBe('file')
    expect(err.exitCode).toBe(1)
  })

  it('allowedMeasurements: a kind left out accepts any, a listed kind only its list (the policy meaning)', async () => {
    await writeHomeConfig({ tee: { allowedMeasurements: { 'sev-snp': ['ab'.repeat(48)], tdx: [] } } })
    const c = await loadConfig({ home })
    expect(c.tee.allowedMeasurements).toEqual({ 'sev-snp': ['ab'.repeat(48)], tdx: [] })
    expect('simulated' in c.tee.allowedMeasurements).toBe(false)
    expect(defaults.tee.allowedMeasurements).toEqual({})
  })

  it('maps onto the attestation policy', async () => {
    await writeHomeConfig({ market: { teeKinds: ['tdx', 'simulated'] }, tee: { allowSimulated: true, maxEvidenceAgeS: 90, allowedMeasurements: { tdx: ['cd'.repeat(48)] } } })
    expect(attestationPolicyFromConfig(await loadConfig({ home }))).toEqual({
      kinds: ['tdx', 'simulated'],
      measurements: { tdx: ['cd'.repeat(48)] },
      maxEvidenceAgeMs: 90_000,
      allowSimulated: true,
      allowDebug: false,
      allowMigratable: false
    })
    expect(attestationPolicyFromConfig(defaults)).toMatchObject({ kinds: ['sev-snp', 'tdx'], measurements: {}, allowSimulated: false, allowMigratable: false, maxEvidenceAgeMs: 60_000 })
    expect(attestationPolicyFromConfig(defaults)).not.toHaveProperty('minTcb')
    expect(attestationPolicyFromConfig(defaults)).not.toHaveProperty('snpMaxVmpl')
    expect(attestationPolicyFromConfig(defaults)).not.toHaveProperty('tdxTcbStatuses')
  })

  it('carries the lowest TCB and the highest SEV-SNP VMPL into the policy, which then refuses evidence under them', async () => {
    await writeHomeConfig({ tee: { minTcb: { 'sev-snp': { snp: 22, microcode: 213 }, tdx: '05' + '00'.repeat(15) }, snpMaxVmpl: 0, tdxTcbStatuses: ['UpToDate', 'SWHardeningNeeded'] } })
    const policy = attestationPolicyFromConfig(await loadConfig({ home }))
    expect(policy).toMatchObject({ minTcb: { 'sev-snp': { snp: 22, microcode: 213 }, tdx: '05' + '00'.repeat(15) }, snpMaxVmpl: 0, tdxTcbStatuses: ['UpToDate', 'SWHardeningNeeded'] })
    const snp = (tcb: { snp: number, microcode: number }, vmpl: number): VerifiedEvidence => ({
      kind: 'sev-snp', reportData: new Uint8Array(64), measurement: new Uint8Array(48), debug: false, migratable: false, snpTcb: { bootloader: 10, tee: 0, ...tcb }, fields: { vmpl }, chain: []
    })
    const tdx = (svn0: number): VerifiedEvidence => ({
      kind: 'tdx', reportData: new Uint8Array(64), measurement: new Uint8Array(48), debug: false, migratable: false, tdxTcbSvn: Uint8Array.of(svn0, ...new Uint8Array(15)), fields: {}, chain: []
    })
    const verdict = (v: VerifiedEvidence): string | undefined => { try { checkPolicy(v, policy, { now: 0 }); return undefined } catch (e) { return (e as { code?: string }).code } }
    expect(verdict(snp({ snp: 22, microcode: 213 }, 0))).toBeUndefined()
    expect(verdict(snp({ snp: 21, microcode: 213 }, 0))).toBe('TCB_TOO_LOW')
    expect(verdict(snp({ snp: 22, microcode: 212 }, 0))).toBe('TCB_TOO_LOW')
    expect(verdict(snp({ snp: 22, microcode: 213 }, 1))).toBe('MEASUREMENT_REFUSED')
    expect(verdict(tdx(5))).toBe('TCB_TOO_LOW') // no TCB status evaluated (no collateral for it)
    expect(verdict({ ...tdx(5), tdxTcbStatus: 'SWHardeningNeeded' })).toBeUndefined()
    expect(verdict({ ...tdx(5), tdxTcbStatus: 'OutOfDate' })).toBe('TCB_TOO_LOW')
    expect(verdict({ ...tdx(4), tdxTcbStatus: 'UpToDate' })).toBe('TCB_TOO_LOW')
  })

  it('accepts migratable guests only with tee.allowMigratable', async () => {
    await writeHomeConfig({ tee: { allowMigratable: true } })
    const policy = attestationPolicyFromConfig(await loadConfig({ home }))
    expect(policy.allowMigratable).toBe(true)
    const tdx: VerifiedEvidence = { kind: 'tdx', reportData: new Uint8Array(64), measurement: new Uint8Array(48), debug: false, migratable: true, fields: {}, chain: [] }
    expect(() => checkPolicy(tdx, policy, { now: 0 })).not.toThrow()
    expect(() => checkPolicy(tdx, attestationPolicyFromConfig(defaults), { now: 0 })).toThrow(expect.objectContaining({ code: 'MIGRATION_REFUSED' }))
  })

  it('allows a remote API host only with allowRemote', async () => {
    await writeHomeConfig({ api: { host: '0.0.0.0', allowRemote: true } })
    expect((await loadConfig({ home })).api.host).toBe('0.0.0.0')
  })

  it.each([
    { name: 'file not JSON', text: '{ listen: [] }' },
    { name: 'file is an array', text: '[]' },
    { name: 'file too large', text: JSON.stringify({ $comment: 'x'.repeat(300 * 1024) }) },
    // 10 KB of brackets: merging and validating would recurse past the stack
    { name: 'lists nested 5,000 deep', text: `{"listen":${'['.repeat(5000)}1${']'.repeat(5000)}}` },
    { name: 'objects nested 5,000 deep', text: `{"api":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}` },
    { name: 'nested past the bound', text: `{"api":${'{"a":'.repeat(16)}1${'}'.repeat(16)}}` }
  ])('$name → INVALID_FILE', async ({ text }) => {
    await writeHomeConfig(text)
    expect((await rejection(loadConfig({ home }))).code).toBe(ConfigErrorCode.INVALID_FILE)
  })
})

describe('bad values from the environment and flags name their field and source', () => {
  const rows: Array<{ name: string, env?: Record<string, string>, flags?: Record<string, unknown>, field: string, source: string }> = [
    { name: 'BAZAAR_NETUID not a number', env: { BAZAAR_NETUID: 'one' }, field: 'chain.netuid', source: 'env' },
    { name: 'BAZAAR_MDNS not a boolean', env: { BAZAAR_MDNS: 'maybe' }, field: 'mdns', source: 'env' },
    { name: 'BAZAAR_API port garbage', env: { BAZAAR_API: '127.0.0.1:http' }, field: 'api.port', source: 'env' },
    { name: 'BAZAAR_API public host', env: { BAZAAR_API: '0.0.0.0:7545' }, field: 'api.host', source: 'env' },
    { name: 'BAZAAR_BOOTSTRAP second entry bad', env: { BAZAAR_BOOTSTRAP: `/ip4/1.1.1.1/tcp/1/p2p/${PEER},/ip4/1.1.1.1/tcp/2` }, field: 'bootstrap[1]', source: 'env' },
    { name: 'BAZAAR_CHAIN unknown adapter', env: { BAZAAR_CHAIN: 'ethereum' }, field: 'chain.adapter', source: 'env' },
    { name: '--listen bad multiaddr', flags: { listen: ['/ip4/127.0.0.1/tcp/1', 'not-an-addr'] }, field: 'listen[1]', source: 'flags' },
    { name: '--role unknown', flags: { role: 'seller' }, field: 'role', source: 'flags' },
    { name: '--netuid beyond u16', flags: { netuid: '70000' }, field: 'chain.netuid', source: 'flags' }
  ]
  it.each(rows)('$name', async (r) => {
    await writeHomeConfig({})
    const err = await rejection(loadConfig({ home, env: r.env, flags: r.flags != null ? configFlagsFromArgs(r.flags) : undefined }))
    expect(err.field).toBe(r.field)
    expect(err.source).toBe(r.source)
  })

  it.each<[string, Record<string, unknown>, Record<string, unknown>, string]>([
    ['api a number, with --api', { api: 5 }, { api: '127.0.0.1:28001' }, 'api'],
    ['log a string, with --log-level', { log: 'x' }, { 'log-level': 'info' }, 'log'],
    ['chain null, with --netuid', { chain: null }, { netuid: '3' }, 'chain'],
    ['tee.gpuAccept a list, with --role', { tee: { gpuAccept: [] } }, { role: 'renter' }, 'tee.gpuAccept']
  ])('a config section of the wrong type is named as itself, from the file, whatever a flag sets beside it (%s)', async (_n, file, flags, field) => {
    await writeHomeConfig(file)
    const err = await rejection(loadConfig({ home, flags: configFlagsFromArgs(flags) }))
    expect(err.field).toBe(field)
    expect(err.source).toBe('file')
    expect(err.message).toMatch(new RegExp(`^${field.replace('.', '\\.')} must be an object, got .*\\(from .*config\\.json\\)$`))
  })

  it('--no-mdns and repeated --bootstrap map onto the config', async () => {
    await writeHomeConfig({})
    const c = await loadConfig({ home, flags: configFlagsFromArgs({ 'no-mdns': true, bootstrap: [`/ip4/1.1.1.1/tcp/1/p2p/${PEER}`, `/ip4/1.1.1.2/tcp/1/p2p/${PEER}`] }) })
    expect(c.mdns).toBe(false)
    expect(c.bootstrap).toHaveLength(2)
  })
})

describe('random configs get a ConfigError or a valid config, never another error', () => {
  /** every path to a leaf of the defaults, e.g. ['market', 'region'] */
  function leafPaths (v: unknown, at: string[] = []): string[][] {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return [at]
    return Object.entries(v).flatMap(([k, x]) => leafPaths(x, [...at, k]))
  }
  function setAt (root: Record<string, unknown>, p: string[], value: unknown): void {
    let o = root
    for (const k of p.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>
    o[p[p.length - 1]] = value
  }
  async function onlyConfigErrors (p: Promise<unknown>): Promise<void> {
    const err = await p.then(() => undefined, (e: unknown) => e)
    if (err !== undefined && !(err instanceof ConfigError)) throw new Error(`untyped ${(err as Error)?.name}: ${(err as Error)?.message}`)
  }
  const runs = (n: number): number => Number(process.env.BAZAAR_FUZZ_RUNS ?? n)

  it('the defaults with random values at random fields, from the flags layer and from a config file', async () => {
    const paths = leafPaths(defaults)
    const edits = fc.array(fc.tuple(fc.constantFrom(...paths), fc.oneof(fc.jsonValue(), fc.string(), fc.integer(), fc.double(), fc.constant(undefined))), { minLength: 1, maxLength: 4 })
    await fc.assert(fc.asyncProperty(edits, fc.boolean(), async (es, asFile) => {
      const layer: Record<string, unknown> = {}
      // a leaf, or (when the path is long) the object above it, gets the random value
      for (const [p, v] of es) setAt(layer, p.length > 1 && es.length > 2 ? p.slice(0, -1) : p, v)
      if (asFile) {
        await writeHomeConfig(layer)
        await onlyConfigErrors(loadConfig({ home }))
      } else {
        await onlyConfigErrors(loadConfig({ flags: layer as never }))
      }
    }), { numRuns: runs(300) })
    await rm(path.join(home, 'config.json'), { force: true })
  })

  it('random JSON, random bytes and random environment variables', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'), fc.string(), fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b).toString('latin1'))), async (text) => {
      await writeHomeConfig(text)
      await onlyConfigErrors(loadConfig({ home }))
    }), { numRuns: runs(200) })
    await rm(path.join(home, 'config.json'), { force: true })
    await fc.assert(fc.asyncProperty(fc.dictionary(fc.constantFrom(...Object.keys(CONFIG_ENV_VARS)), fc.string({ maxLength: 40 })), async (env) => {
      await onlyConfigErrors(loadConfig({ env }))
    }), { numRuns: runs(300) })
  })
})
