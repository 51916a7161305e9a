/**
 * `bazaar chain start` as a user runs it: the built CLI as a separate process on each spec of
 * ../shared/chain, the funding it promises checked with the test's own queries, a fork of that
 * chain (the `--fork` code path, on a local endpoint), and a clean stop on SIGINT/SIGTERM.
 */
import type { ApiPromise } from '@polkadot/api'
import { Keyring } from '@polkadot/keyring'
import { cryptoWaitReady } from '@polkadot/util-crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bazaar, CliProcess, ensureBuilt } from '../helpers/cli.js'
import { CHAIN_TARGETS, connectApi, freeOf, HAVE_CHAIN, skipNote } from './harness.js'

skipNote('bazaar chain start')

const TAO = 1_000_000_000n
const PORT = 19_960

interface StartLine { ws: string, runtime: number, asset: 'alpha' | 'tao', netuid: number, subnetHotkey?: string, fork?: string, funded: Array<{ name: string, coldkey: string, hotkey: string }> }

/** Starts `bazaar chain start <args> --json` and resolves with its JSON line once it is ready. */
async function startCli (args: string[]): Promise<{ proc: CliProcess, line: StartLine }> {
  const proc = new CliProcess(['chain', 'start', ...args, '--json'])
  const m = await proc.waitFor(/^\{.*\}$/m, 240_000)
  return { proc, line: JSON.parse(m[0]) as StartLine }
}

describe('bazaar chain start: operator mistakes', () => {
  beforeAll(() => { ensureBuilt() })
  it.each([
    [['chain'], 'missing subcommand'],
    [['chain', 'start'], '--spec'],
    [['chain', 'start', '--spec', '/nonexistent/spec.json'], 'no chain spec'],
    [['chain', 'start', '--spec', 'x.json', '--fork', 'ws://127.0.0.1:1'], 'one of them'],
    [['chain', 'start', '--fork', 'http://127.0.0.1:1'], 'ws://'],
    [['chain', 'start', '--fork', 'ws://127.0.0.1:1', '--port', '0'], '--port'],
    [['chain', 'start', '--fork', 'ws://127.0.0.1:1', '--fund', 'al/ice'], '--fund'],
    [['chain', 'start', '--bogus'], 'bogus']
  ])('%j is one line and exit code 2', (args, says) => {
    const r = bazaar(args)
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toContain(says)
  })

  it('says in its help where specs come from', () => {
    const r = bazaar(['chain', 'start', '--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('opentensor/subtensor')
  })
})

describe.skipIf(!HAVE_CHAIN || CHAIN_TARGETS.some((t) => t.spec == null)).each((HAVE_CHAIN ? CHAIN_TARGETS : [{ name: 'no chain' }]).map((t, i) => ({ ...t, i })))('bazaar chain start on $name', (target) => {
  const port = PORT + 2 * target.i
  let started: { proc: CliProcess, line: StartLine }
  let api: ApiPromise

  beforeAll(async () => {
    ensureBuilt()
    await cryptoWaitReady()
    started = await startCli(['--spec', target.spec!, '--port', String(port), '--fund', 'alice,Dave'])
    api = await connectApi(started.line.ws)
  }, 300_000)

  afterAll(async () => {
    await api?.disconnect()
    if (started != null) expect(await started.proc.stop('SIGINT')).toBe(0)
  })

  it('prints the endpoint, the runtime and the asset the runtime supports', async () => {
    const { line } = started
    expect(line.ws).toBe(`ws://127.0.0.1:${port}`)
    expect(line.runtime).toBe(api.runtimeVersion.specVersion.toNumber())
    expect(line.asset).toBe(api.tx.subtensorModule?.transferStake != null ? 'alpha' : 'tao')
    expect(line.funded.map((f) => f.name)).toEqual(['alice', 'dave'])
  })

  it('funds the dev keys of bazaar init --dev, and stakes alpha where escrows hold alpha', async () => {
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 })
    for (const f of started.line.funded) {
      const name = f.name[0]!.toUpperCase() + f.name.slice(1)
      expect(f.coldkey).toBe(keyring.addFromUri(`//${name}`).address)
      expect(f.hotkey).toBe(keyring.addFromUri(`//${name}//hot`).address)
      for (const a of [f.coldkey, f.hotkey]) {
        expect(await freeOf(api, a) >= 99_000n * TAO).toBe(true)
        if (started.line.asset === 'alpha') {
          const info = await api.call.stakeInfoRuntimeApi.getStakeInfoForHotkeyColdkeyNetuid(started.line.subnetHotkey!, a, started.line.netuid)
          const opt = info as unknown as { isSome: boolean, unwrap: () => { stake: { toBigInt: () => bigint } } }
          expect(opt.isSome && opt.unwrap().stake.toBigInt() > 900n * TAO).toBe(true)
        }
      }
    }
  })

  it.runIf(target.i === 0)('forks the running chain (--fork), funds there, leaves the original untouched, stops on SIGTERM', async () => {
    const forkPort = port + 1
    const fork = await startCli(['--fork', started.line.ws, '--port', String(forkPort), '--fund', 'eve'])
    const forkApi = await connectApi(fork.line.ws)
    try {
      expect(fork.line.fork).toBe(started.line.ws)
      expect(fork.line.runtime).toBe(started.line.runtime)
      const eve = fork.line.funded[0]!.coldkey
      // state read from the original (alice funded there) and written only in the fork (eve)
      expect(await freeOf(forkApi, started.line.funded[0]!.coldkey) >= 99_000n * TAO).toBe(true)
      expect(await freeOf(forkApi, eve) >= 99_000n * TAO).toBe(true)
      expect(await freeOf(api, eve)).toBe(0n)
    } finally {
      await forkApi.disconnect()
      expect(await fork.proc.stop('SIGTERM')).toBe(0)
    }
  }, 300_000)

  it('refuses a port that is taken, in one line', () => {
    const r = bazaar(['chain', 'start', '--spec', target.spec!, '--port', String(port)], { timeoutMs: 120_000 })
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('bazaar chain:'))).toHaveLength(1)
    expect(r.stderr).toContain('is taken')
  })
})
