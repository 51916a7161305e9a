import { existsSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Command, CommandContext, ParsedArgs } from '../command.js'
import { flag, str } from '../command.js'
import { UsageError, UserError } from '../../util/errors.js'

const usage = `usage: bazaar chain start [--spec <file> | --fork <ws>] [options]

Runs a local Bittensor chain on 127.0.0.1 until SIGINT or SIGTERM: the real runtime under
chopsticks (an optional dependency, installed by npm ci). Blocks are built as soon as an extrinsic
arrives and are final at once. Prints the ws endpoint once the chain is ready.

  --spec <file>      a subtensor chain spec, raw (genesis.raw) or plain (genesis.runtimeGenesis).
                     Specs come from the opentensor/subtensor repository, e.g.
                     scripts/specs/raonet.json (runtime 218, escrows in TAO) or a plain dev spec
                     built with node-subtensor build-spec (runtime 293, escrows in alpha)
  --fork <ws>        a local fork of a live network instead (e.g. wss://test.finney.opentensor.ai:443):
                     its state at the head, read lazily; nothing reaches the live network
  --port <n>         ws port (default 9944)
  --fund <names>     dev accounts to fund, comma-separated (alice,bob,...): the coldkey //Name and
                     the hotkey //Name//hot (the keys of bazaar init --dev <name>) get 100,000 TAO
                     each and, where escrows hold alpha, stake 1,000 TAO into the subnet's alpha
                     under its owner hotkey
  --netuid <n>       the subnet escrows use (default 1). From a spec, a subnet without an owner
                     hotkey gets //Alice//hot, and its pool 10^8 TAO and 10^8 alpha of depth
                     (a fork keeps the live pools and prices)
  --json             one JSON line on stdout when ready: {"ws","runtime","asset",...}
  -h, --help         this help`

const MAX_FUND = 32
const FUND_TAO = 100_000n * 1_000_000_000n
const STAKE_TAO = 1_000n * 1_000_000_000n

/** The line `bazaar chain start --json` prints once the chain is ready. */
export interface ChainStartJson {
  ws: string
  /** the runtime's spec version */
  runtime: number
  specName: string
  chain: string
  /** what escrows hold on this runtime */
  asset: 'alpha' | 'tao'
  netuid: number
  /** the hotkey escrow alpha is staked under (alpha runtimes) */
  subnetHotkey?: string
  fork?: string
  funded: Array<{ name: string, coldkey: string, hotkey: string }>
  log: string
}

function parsePort (v: string | undefined): number {
  if (v == null) return 9944
  if (!/^[0-9]{1,5}$/.test(v) || Number(v) < 1 || Number(v) > 65535) throw new UsageError(`--port must be 1..65535, got ${JSON.stringify(v.slice(0, 20))}`)
  return Number(v)
}

function parseNetuid (v: string | undefined): number {
  if (v == null) return 1
  if (!/^[0-9]{1,5}$/.test(v) || Number(v) > 65535) throw new UsageError(`--netuid must be 0..65535, got ${JSON.stringify(v.slice(0, 20))}`)
  return Number(v)
}

async function parseFund (v: string | undefined): Promise<string[]> {
  if (v == null || v.trim() === '') return []
  const { normalizeDevName } = await import('../../node/keystore/accounts.js')
  const names = v.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (names.length > MAX_FUND) throw new UsageError(`--fund names at most ${MAX_FUND} accounts`)
  try {
    return [...new Set(names.map((n) => normalizeDevName(n)))]
  } catch (err) {
    throw new UsageError(`--fund: ${(err as Error).message}`)
  }
}

async function start (args: ParsedArgs, ctx: CommandContext): Promise<number> {
  const specArg = str(args, 'spec')
  const fork = str(args, 'fork')
  if ((specArg == null) === (fork == null)) throw new UsageError('give --spec <chain spec file> or --fork <ws endpoint> (one of them)')
  if (fork != null && !/^wss?:\/\/[^\s]{1,2000}$/i.test(fork)) throw new UsageError('--fork expects a ws:// or wss:// endpoint')
  let spec: string | undefined
  if (specArg != null) {
    if (specArg.trim() === '') throw new UsageError('--spec is empty: name the chain spec file')
    spec = resolve(specArg)
    if (!existsSync(spec)) throw new UsageError(`no chain spec at ${specArg} (specs come from the opentensor/subtensor repository)`)
    if (!statSync(spec).isFile()) throw new UsageError(`the chain spec ${specArg} is not a file (specs come from the opentensor/subtensor repository)`)
  }
  const port = parsePort(str(args, 'port'))
  const netuid = parseNetuid(str(args, 'netuid'))
  const names = await parseFund(str(args, 'fund'))
  const json = flag(args, 'json')

  const { readChainSpec, startDevchain } = await import('../../escrow/chain/subtensor/devchain.js')
  // a spec that is no chain spec is its one line, before the line that says a chain starts
  if (spec != null) {
    try {
      await readChainSpec(spec)
    } catch (err) {
      throw new UserError((err as Error).message, { code: (err as { code?: string }).code ?? 'SPEC_INVALID', cause: err })
    }
  }
  const started = new AbortController()
  const onSignal = (): void => { started.abort() }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  ctx.signal.addEventListener('abort', onSignal, { once: true })
  const cleanupSignals = (): void => {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    ctx.signal.removeEventListener('abort', onSignal)
  }
  if (!json) ctx.err(fork != null ? `starting a local fork of ${fork} ...` : `starting chopsticks on ${specArg} (up to a minute) ...`)
  let chain
  try {
    chain = await startDevchain({ spec, fork, port, signal: started.signal })
  } catch (err) {
    cleanupSignals()
    if (started.signal.aborted) return 130
    throw new UserError(`${(err as Error).message}`, { code: (err as { code?: string }).code ?? 'START_FAILED', cause: err })
  }
  try {
    const out = await prepare(chain.url, { netuid, names, fork: fork != null })
    const line: ChainStartJson = { ws: chain.url, ...out, netuid, log: chain.logFile }
    if (fork != null) line.fork = fork
    if (json) {
      ctx.out(JSON.stringify(line))
    } else {
      ctx.out(chain.url)
      ctx.err(`runtime ${line.specName} ${line.runtime} (${line.chain}); escrows hold ${line.asset === 'alpha' ? `alpha of netuid ${netuid}${line.subnetHotkey != null ? `, staked under ${line.subnetHotkey}` : ''}` : 'TAO (no subtensorModule.transferStake)'}`)
      for (const f of line.funded) ctx.err(`funded //${f.name} ${f.coldkey} and //${f.name}//hot ${f.hotkey}`)
      ctx.err(`chopsticks log: ${chain.logFile}; Ctrl-C stops the chain`)
    }
  } catch (err) {
    cleanupSignals()
    await chain.stop()
    if (started.signal.aborted) return 130
    throw new UserError(`the chain started but could not be prepared: ${(err as Error).message} (chopsticks log: ${chain.logFile})`, { code: (err as { code?: string }).code ?? 'START_FAILED', cause: err })
  }
  // run until a signal, or until chopsticks ends on its own (a failure)
  const exited = new Promise<number | null>((resolve) => { chain.process.once('exit', (code) => { resolve(code) }) })
  const stopped = new Promise<void>((resolve) => {
    if (started.signal.aborted) resolve()
    else started.signal.addEventListener('abort', () => { resolve() }, { once: true })
  })
  const which = await Promise.race([exited.then((code) => ({ exited: code })), stopped.then(() => ({ exited: undefined }))])
  cleanupSignals()
  if (which.exited !== undefined) {
    throw new UserError(`chopsticks exited unexpectedly (code ${String(which.exited)}; log: ${chain.logFile})`, { code: 'CHAIN_EXITED' })
  }
  await chain.stop()
  if (!json) ctx.err('chain stopped')
  return 0
}

/** Funds the named dev accounts and readies the subnet; returns what the output reports. */
async function prepare (url: string, o: { netuid: number, names: string[], fork: boolean }): Promise<Omit<ChainStartJson, 'ws' | 'netuid' | 'log' | 'fork'>> {
  const { ApiPromise, WsProvider } = await import('@polkadot/api')
  const { deriveAccounts } = await import('../../node/keystore/accounts.js')
  const { fundTao, provisionSubnet, stakeAlpha } = await import('../../escrow/chain/subtensor/provision.js')
  const api = await ApiPromise.create({ provider: new WsProvider(url, 1_000), noInitWarn: true, throwOnConnect: true })
  try {
    const runtime = api.runtimeVersion.specVersion.toNumber()
    const specName = api.runtimeVersion.specName.toString()
    const chainName = (await api.rpc.system.chain()).toString()
    const asset = api.tx.subtensorModule?.transferStake != null ? 'alpha' : 'tao'
    const accounts = await Promise.all(o.names.map(async (name) => ({ name, ...await deriveAccounts({ kind: 'dev', name }) })))
    await fundTao(api, accounts.flatMap((a) => [a.coldkey.address, a.hotkey.address]), FUND_TAO)
    const owner = await deriveAccounts({ kind: 'dev', name: 'Alice' })
    const sub = await provisionSubnet(api, { netuid: o.netuid, ownerColdkey: owner.coldkey.address, ownerHotkey: owner.hotkey.address, deepenPool: !o.fork })
    if (asset === 'alpha') {
      if (sub.subnetHotkey == null) throw new UserError(`subnet ${o.netuid} has no owner hotkey to stake under`, { code: 'SUBNET_UNUSABLE' })
      for (const a of accounts) {
        await stakeAlpha(api, a.coldkey, sub.subnetHotkey, o.netuid, STAKE_TAO)
        await stakeAlpha(api, a.hotkey, sub.subnetHotkey, o.netuid, STAKE_TAO)
      }
    }
    const out: Omit<ChainStartJson, 'ws' | 'netuid' | 'log' | 'fork'> = {
      runtime, specName, chain: chainName, asset,
      funded: accounts.map((a) => ({ name: a.name.toLowerCase(), coldkey: a.coldkey.address, hotkey: a.hotkey.address }))
    }
    if (asset === 'alpha' && sub.subnetHotkey != null) out.subnetHotkey = sub.subnetHotkey
    return out
  } finally {
    await api.disconnect()
  }
}

/** `bazaar chain start`: a local Bittensor chain for trying the market on one machine. */
export const chainCommand: Command = {
  name: 'chain',
  usage,
  options: {
    spec: { type: 'string' },
    fork: { type: 'string' },
    port: { type: 'string' },
    fund: { type: 'string' },
    netuid: { type: 'string' },
    json: { type: 'boolean' }
  },
  allowPositionals: true,
  async run (args, ctx) {
    const [sub, ...extra] = args.positionals
    if (sub !== 'start') throw new UsageError(sub == null ? 'missing subcommand (bazaar chain start --help)' : `unknown subcommand '${sub.slice(0, 40)}' (only start)`)
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]!.slice(0, 40)}'`)
    return await start(args, ctx)
  }
}
