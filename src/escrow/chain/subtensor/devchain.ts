/**
 * A local Bittensor chain for development, tests and benchmarks: chopsticks (Acala's Substrate
 * simulator) in genesis mode on a subtensor chain spec, as a child process on 127.0.0.1.
 *
 * Chopsticks (`@acala-network/chopsticks`) is an optional dependency of the project, installed by
 * `npm ci` and loaded from node_modules. It pulls in `sqlite3`, whose install script the project's
 * npm policy denies (`allowScripts`): sqlite3 is only loaded for chopsticks' `--db`, which is never
 * used here, so an unbuilt sqlite3 is harmless.
 *
 * Chain specs are never part of the repository; everything written here goes under the OS temp dir.
 *
 * - A raw spec (`genesis.raw.top`, e.g. subtensor's `scripts/specs/raonet.json`, runtime 218) is
 *   used as is.
 * - A plain spec (`genesis.runtimeGenesis.{code, patch|config}`, e.g. `aura-dev.json`, runtime 293)
 *   is made raw here: the runtime's own `GenesisBuilder_get_preset` gives the default config, the
 *   patch is merged over it (RFC 7386 JSON merge patch, as `sc-chain-spec` does), and
 *   `GenesisBuilder_build_state` run through chopsticks' wasm executor yields the genesis storage.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { pathToFileURL } from 'node:url'
import { compactAddLength, stringToU8a, u8aToHex, hexToU8a } from '@polkadot/util'
import { BazaarError } from '../../../util/errors.js'
import { makeDirs, writeFileAtomic } from '../../../util/fs.js'

export type DevchainErrorCode = 'CHOPSTICKS_MISSING' | 'SPEC_INVALID' | 'GENESIS_BUILD_FAILED' | 'START_FAILED' | 'FORK_FAILED' | 'PORT_IN_USE'

export class DevchainError extends BazaarError<DevchainErrorCode> {}

/** Bound on a spec file we read (runtimes are a few MB of hex). */
const MAX_SPEC_BYTES = 64 * 1024 * 1024

export interface DevchainOptions {
  /** path to a chain spec (raw or plain); exactly one of `spec` and `fork` */
  spec?: string
  /**
   * ws endpoint of a live chain to fork instead of a spec: chopsticks serves a local chain whose
   * state is read lazily from that endpoint at its head block
   */
  fork?: string
  port?: number
  /** where configs and generated raw specs go; default `<tmpdir>/bazaar-chopsticks` */
  workDir?: string
  /** genesis timestamp in ms (a multiple of the slot duration); default now rounded down */
  genesisTime?: number
  /** chopsticks' block production: `Instant` builds a block on each submitted extrinsic */
  buildBlockMode?: 'Instant' | 'Batch' | 'Manual'
  /** where the child's output goes; default a log file beside the config */
  logFile?: string
  signal?: AbortSignal
}

export interface Devchain {
  url: string
  port: number
  /** the runtime's Aura slot duration (ms) chopsticks was told to use; 0 where none */
  slotMs: number
  /** the chopsticks config that was started */
  configPath: string
  logFile: string
  /** the chopsticks process; `stop()` ends it */
  process: ChildProcess
  stop (): Promise<void>
}

/**
 * The files of chopsticks as installed in node_modules. `@acala-network/chopsticks-core` is
 * resolved from chopsticks' own location, so a nested copy of the version it was built with wins.
 */
function chopsticksPaths (): { bin: string, core: string, coreCjsExecutor: string } {
  let main: string
  try {
    main = createRequire(import.meta.url).resolve('@acala-network/chopsticks')
  } catch (err) {
    throw new DevchainError('CHOPSTICKS_MISSING', 'chopsticks (@acala-network/chopsticks, an optional dependency) is not installed: run npm ci without --omit=optional', { cause: err })
  }
  // main is <pkg>/dist/cjs/index.js
  const pkg = dirname(dirname(dirname(main)))
  const coreMain = createRequire(main).resolve('@acala-network/chopsticks-core')
  const corePkg = dirname(dirname(dirname(coreMain)))
  const bin = join(pkg, 'chopsticks.cjs')
  const core = join(corePkg, 'dist', 'esm', 'index.js')
  const coreCjsExecutor = join(corePkg, 'dist', 'cjs', 'wasm-executor', 'index.js')
  for (const f of [bin, core, coreCjsExecutor]) {
    if (!existsSync(f)) throw new DevchainError('CHOPSTICKS_MISSING', `chopsticks is installed without ${f}: reinstall with npm ci`)
  }
  return { bin, core, coreCjsExecutor }
}

/**
 * Runs chopsticks' CLI with its Aura slot-duration lookup answered by `slotMs`. Chopsticks asks the
 * runtime (`AuraApi_slot_duration`) without `allowUnresolvedImports`; runtime 293 imports BLS host
 * functions, so that lookup fails and chopsticks falls back to 12000 ms while the runtime uses
 * 1000 ms, and every block then panics in pallet_aura ("Timestamp slot must match CurrentSlot").
 * We read the real value from the runtime ourselves (with unresolved imports allowed) and hand it
 * to chopsticks' memoized lookup before its CLI starts.
 */
const LAUNCHER = `'use strict'
const [executor, bin, slotMs, ...rest] = process.argv.slice(2)
const slot = Number(slotMs)
if (slot > 0) {
  const ex = require(executor)
  ex.getAuraSlotDuration.cache = { has: () => true, get: () => Promise.resolve(slot), set () { return this }, delete: () => true, clear () {} }
}
process.argv = [process.argv[0], bin, ...rest]
require(bin)
`

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

/** RFC 7386 JSON merge patch, the rule `sc-chain-spec` applies to a genesis `patch`. */
export function mergePatch (target: Json, patch: Json): Json {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch
  const out: Record<string, Json> = (target !== null && typeof target === 'object' && !Array.isArray(target)) ? { ...target } : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k] ?? null, v)
  }
  return out
}

interface CoreModule {
  runTask: (task: { wasm: string, calls: Array<[string, string[]]>, mockSignatureHost: boolean, allowUnresolvedImports: boolean, runtimeLogLevel: number }, cb?: unknown) => Promise<{ Call: { result: string, storageDiff: Array<[string, string | null]> } } | { Error: string }>
  destroyWorker: () => Promise<void>
}

/** A storage view that is empty: genesis is built from nothing. */
const emptyStorage = {
  getStorage: async () => undefined,
  getNextKey: async () => undefined,
  offchainGetStorage: async () => undefined,
  // the dev chain's own time: its blocks are produced on wall time
  offchainTimestamp: async () => Date.now(),
  offchainRandomSeed: async () => u8aToHex(new Uint8Array(32)),
  offchainSubmitTransaction: async () => false
}

/**
 * Reads a chain spec and checks its shape (raw, or plain with a runtime and a genesis patch or
 * config): SPEC_INVALID names what is wrong. Cheap, so a command can check a spec before it says
 * that it starts a chain.
 */
export async function readChainSpec (specPath: string): Promise<{ text: string, spec: any }> {
  const text = await readFile(specPath, 'utf8').catch((err: unknown) => {
    throw new DevchainError('SPEC_INVALID', `cannot read chain spec ${specPath}`, { cause: err })
  })
  if (text.length > MAX_SPEC_BYTES) throw new DevchainError('SPEC_INVALID', `chain spec ${specPath} is larger than ${MAX_SPEC_BYTES} bytes`)
  let spec: any
  try {
    spec = JSON.parse(text)
  } catch (err) {
    throw new DevchainError('SPEC_INVALID', `chain spec ${specPath} is not JSON`, { cause: err })
  }
  if (spec?.genesis?.raw?.top != null) return { text, spec }
  const rg = spec?.genesis?.runtimeGenesis
  if (typeof rg?.code !== 'string' || (rg.patch == null && rg.config == null)) {
    throw new DevchainError('SPEC_INVALID', `chain spec ${specPath} has neither genesis.raw nor genesis.runtimeGenesis{code,patch|config}`)
  }
  return { text, spec }
}

/**
 * Returns the path of a raw spec for `specPath`: the file itself when it is raw, otherwise a raw
 * spec built from its runtime and written under `workDir` (cached by content hash).
 */
export async function ensureRawSpec (specPath: string, opts: { workDir?: string } = {}): Promise<string> {
  const { text, spec } = await readChainSpec(specPath)
  if (spec?.genesis?.raw?.top != null) return specPath
  const rg = spec.genesis.runtimeGenesis
  const workDir = opts.workDir ?? join(tmpdir(), 'bazaar-chopsticks')
  await makeDirs(workDir)
  const out = join(workDir, `raw-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.json`)
  if (existsSync(out)) return out

  const { core } = chopsticksPaths()
  const exec = await import(pathToFileURL(core).href) as CoreModule
  const call = async (method: string, args: string[]): Promise<{ result: string, storageDiff: Array<[string, string | null]> }> => await runtimeCall(exec, rg.code, method, args)
  try {
    let config: Json
    if (rg.config != null) {
      config = rg.config
    } else {
      // get_preset(None) -> Option<Vec<u8>>: the runtime's default genesis config as JSON
      const res = hexToU8a((await call('GenesisBuilder_get_preset', ['0x00'])).result)
      if (res[0] !== 1) throw new DevchainError('GENESIS_BUILD_FAILED', 'runtime has no default genesis preset')
      const { value, offset } = decodeCompactLength(res, 1)
      config = mergePatch(JSON.parse(new TextDecoder().decode(res.subarray(offset, offset + value))), rg.patch)
    }
    const arg = u8aToHex(compactAddLength(stringToU8a(JSON.stringify(config))))
    const built = await call('GenesisBuilder_build_state', [arg])
    // Result<(), String>: 0x00 is Ok
    if (!built.result.startsWith('0x00')) throw new DevchainError('GENESIS_BUILD_FAILED', `build_state refused the genesis config (${built.result.slice(0, 200)})`)
    const top: Record<string, string> = {}
    for (const [k, v] of built.storageDiff) if (v != null) top[k] = v
    top[u8aToHex(stringToU8a(':code'))] = rg.code
    const raw = { ...spec, genesis: { raw: { top, childrenDefault: {} } } }
    // renamed into place: another process starting a chain on the same spec may find the file
    // while this one writes it, and must see it whole or not at all
    await writeFileAtomic(out, JSON.stringify(raw))
    return out
  } finally {
    await exec.destroyWorker()
  }
}

async function runtimeCall (exec: CoreModule, wasm: string, method: string, args: string[]): Promise<{ result: string, storageDiff: Array<[string, string | null]> }> {
  // allowUnresolvedImports: runtime 293 imports BLS host functions chopsticks does not provide;
  // genesis building and the slot-duration query never call them.
  const r = await exec.runTask({ wasm, calls: [[method, args]], mockSignatureHost: false, allowUnresolvedImports: true, runtimeLogLevel: 0 }, emptyStorage)
  if ('Error' in r) throw new DevchainError('GENESIS_BUILD_FAILED', `${method}: ${r.Error}`)
  return r.Call
}

/** The runtime's Aura slot duration in ms (`AuraApi_slot_duration`), or 0 where it has no Aura. */
export async function auraSlotDuration (rawSpecPath: string): Promise<number> {
  const spec = JSON.parse(await readFile(rawSpecPath, 'utf8'))
  const code = spec?.genesis?.raw?.top?.[u8aToHex(stringToU8a(':code'))]
  if (typeof code !== 'string') throw new DevchainError('SPEC_INVALID', `raw spec ${rawSpecPath} has no :code`)
  const { core } = chopsticksPaths()
  const exec = await import(pathToFileURL(core).href) as CoreModule
  try {
    const r = await runtimeCall(exec, code, 'AuraApi_slot_duration', [])
    // SlotDuration is a u64 (little endian)
    return Number(new DataView(hexToU8a(r.result).buffer).getBigUint64(0, true))
  } catch {
    return 0
  } finally {
    await exec.destroyWorker()
  }
}

function decodeCompactLength (u8a: Uint8Array, at: number): { value: number, offset: number } {
  const b = u8a[at] ?? 0
  switch (b & 3) {
    case 0: return { value: b >> 2, offset: at + 1 }
    case 1: return { value: ((u8a[at + 1] ?? 0) << 6) | (b >> 2), offset: at + 2 }
    case 2: return { value: (((u8a[at + 3] ?? 0) << 22) | ((u8a[at + 2] ?? 0) << 14) | ((u8a[at + 1] ?? 0) << 6) | (b >> 2)) >>> 0, offset: at + 4 }
    default: throw new DevchainError('GENESIS_BUILD_FAILED', 'genesis preset longer than 2^30 bytes')
  }
}

/**
 * Throws PORT_IN_USE when 127.0.0.1:port cannot be bound: otherwise the readiness probe would find
 * whatever already listens there and take it for the new chain.
 */
async function checkPortFree (port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const srv = createServer()
    srv.once('error', (err: NodeJS.ErrnoException) => {
      reject(new DevchainError('PORT_IN_USE', `port ${port} on 127.0.0.1 is taken (${err.code ?? err.message}); choose another with --port`))
    })
    srv.listen(port, '127.0.0.1', () => { srv.close(() => { resolve() }) })
  })
}

/**
 * Resolves once something accepts TCP connections on 127.0.0.1:port. Wall time, not a clock: it
 * waits on a child process and a socket, which run on real time whatever a test's clock says.
 */
async function waitForPort (port: number, child: ChildProcess, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (true) {
    signal?.throwIfAborted()
    if (child.exitCode != null) throw new DevchainError('START_FAILED', `chopsticks exited with code ${child.exitCode}`)
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true) })
      s.on('error', () => { s.destroy(); resolve(false) })
    })
    if (ok) return
    if (Date.now() > deadline) throw new DevchainError('START_FAILED', `chopsticks did not listen on port ${port} within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

/**
 * One JSON-RPC call over HTTP (chopsticks serves HTTP and ws on the same port), given up at
 * `deadline` (wall time) or on `signal`: a chopsticks that takes the request and never answers
 * would otherwise hold it for undici's 300 s header timeout.
 */
async function rpc (port: number, method: string, params: unknown[], deadline: number, signal?: AbortSignal): Promise<unknown> {
  const late = AbortSignal.timeout(Math.max(1, deadline - Date.now()))
  let res: Response
  try {
    res = await fetch(`http://127.0.0.1:${port}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      signal: signal != null ? AbortSignal.any([signal, late]) : late
    })
  } catch (err) {
    if (late.aborted) throw new DevchainError('START_FAILED', `${method}: no answer from chopsticks by the deadline`, { cause: err })
    throw err
  }
  const body = await res.json() as { result?: unknown, error?: { message: string } }
  if (body.error != null) throw new DevchainError('START_FAILED', `${method}: ${body.error.message}`)
  return body.result
}

/**
 * `rpc`, tried again while chopsticks is alive but its HTTP server does not answer yet (a request
 * that fails below HTTP: refused, reset, or closed while chopsticks still builds its first block
 * on a loaded machine), until `timeoutMs`. An answer with a JSON-RPC error is final.
 */
export async function rpcOnceUp (port: number, child: Pick<ChildProcess, 'exitCode'>, method: string, params: unknown[], timeoutMs: number, signal?: AbortSignal): Promise<unknown> {
  const deadline = Date.now() + timeoutMs
  while (true) {
    signal?.throwIfAborted()
    try {
      return await rpc(port, method, params, deadline, signal)
    } catch (err) {
      // an answer with an error, or no answer by the deadline: final, and already said
      if (err instanceof DevchainError) throw err
      // fetch rejects with a TypeError ("fetch failed") for anything below HTTP; its cause says what
      if (!(err instanceof TypeError) || child.exitCode != null || Date.now() > deadline) {
        const cause = (err as { cause?: { code?: string, message?: string } }).cause
        throw cause != null ? new Error(`${(err as Error).message} (${cause.code ?? cause.message ?? 'no cause'})`, { cause: err }) : err
      }
    }
    // wall time: chopsticks is another process, busy on its own clock
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}

/**
 * The Aura slot duration of a live chain, asked of the chain itself (`state_call
 * AuraApi_slot_duration`); 0 where it has no Aura or does not answer. Chopsticks asks the forked
 * runtime itself, without unresolved imports allowed, and falls back to 12000 ms where that fails.
 */
async function remoteSlotDuration (endpoint: string, signal?: AbortSignal): Promise<number> {
  const { WsProvider } = await import('@polkadot/api')
  const provider = new WsProvider(endpoint, false)
  try {
    // a refused or failed connect is said at once (the provider does not retry: autoConnect off),
    // not after the 30 s bound; the websocket's error event carries no reason to add
    const failed = new Promise<never>((_resolve, reject) => {
      provider.on('error', () => { reject(new DevchainError('FORK_FAILED', `cannot reach ${endpoint}: the websocket connection failed`)) })
    })
    failed.catch(() => {})
    const connected = provider.connect().then(async () => await Promise.race([provider.isReady, failed]))
    // wall time: a bound on a websocket connect
    await Promise.race([connected, new Promise((_resolve, reject) => {
      const t = setTimeout(() => { reject(new DevchainError('FORK_FAILED', `cannot reach ${endpoint} within 30 s`)) }, 30_000)
      connected.finally(() => { clearTimeout(t) }).catch(() => {})
      signal?.addEventListener('abort', () => { clearTimeout(t); reject(new DevchainError('FORK_FAILED', 'aborted')) }, { once: true })
    })])
    const hex = await provider.send<string>('state_call', ['AuraApi_slot_duration', '0x'])
    const bytes = hexToU8a(hex)
    return bytes.length === 8 ? Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true)) : 0
  } catch (err) {
    if (err instanceof DevchainError) throw err
    return 0
  } finally {
    await provider.disconnect().catch(() => {})
  }
}

/**
 * Starts chopsticks on `opts.spec` (or forked from `opts.fork`) and resolves with its ws URL once
 * it listens and has built one block. From a spec, the genesis timestamp goes in through
 * `import-storage` (raonet's genesis has none, and chopsticks needs one to compute the next slot);
 * a fork takes the live chain's own timestamp and slot at its head.
 */
export async function startDevchain (opts: DevchainOptions): Promise<Devchain> {
  if ((opts.spec == null) === (opts.fork == null)) throw new DevchainError('SPEC_INVALID', 'give a chain spec or an endpoint to fork, not both or neither')
  if (opts.fork != null && !/^wss?:\/\/[^\s]{1,2000}$/i.test(opts.fork)) throw new DevchainError('FORK_FAILED', 'the endpoint to fork must be a ws:// or wss:// URL')
  const { bin, coreCjsExecutor } = chopsticksPaths()
  const workDir = opts.workDir ?? join(tmpdir(), 'bazaar-chopsticks')
  await makeDirs(workDir)
  const port = opts.port ?? 9944
  await checkPortFree(port)
  const launcher = join(workDir, 'chopsticks-launch.cjs')
  // shared by every chain started from this work dir: renamed into place, never seen half written
  await writeFileAtomic(launcher, LAUNCHER)
  const configPath = join(workDir, `chopsticks-${port}.yml`)
  const common = {
    host: '127.0.0.1',
    port,
    'build-block-mode': opts.buildBlockMode ?? 'Instant',
    // runtime 293 imports BLS host functions chopsticks does not provide; no block calls them
    'allow-unresolved-imports': true,
    'runtime-log-level': 0
  }
  let slotMs: number
  let config: Record<string, unknown>
  if (opts.fork != null) {
    slotMs = await remoteSlotDuration(opts.fork, opts.signal)
    config = { endpoint: opts.fork, ...common }
  } else {
    const raw = await ensureRawSpec(opts.spec!, { workDir })
    slotMs = await auraSlotDuration(raw)
    const slot = slotMs > 0 ? slotMs : 12_000
    // genesis at the current slot of wall time, the time the chain's block production runs on
    const now = opts.genesisTime ?? Math.floor(Date.now() / slot) * slot
    config = {
      genesis: raw,
      ...common,
      // Chopsticks builds block 1 during setup and applies import-storage over it afterwards, so the
      // timestamp and Aura's slot must be set together or the next block's slot goes backwards
      // (pallet_aura: "Slot must increase").
      'import-storage': slotMs > 0 ? { Timestamp: { Now: now }, Aura: { CurrentSlot: Math.floor(now / slot) } } : { Timestamp: { Now: now } }
    }
  }
  // YAML is a superset of JSON: write the config as JSON.
  await writeFileAtomic(configPath, JSON.stringify(config, null, 2))
  const logFile = opts.logFile ?? join(workDir, `chopsticks-${port}.log`)
  const { openSync, closeSync } = await import('node:fs')
  const fd = openSync(logFile, 'w')
  const child = spawn(process.execPath, [launcher, coreCjsExecutor, bin, String(slotMs), '--config', configPath], { stdio: ['ignore', fd, fd], cwd: workDir })
  closeSync(fd)
  const stop = async (): Promise<void> => {
    if (child.exitCode != null || child.signalCode != null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve() }))
    child.kill('SIGTERM')
    // wall time: the grace a real child process gets before SIGKILL
    const t = setTimeout(() => child.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(t)
  }
  try {
    await waitForPort(port, child, 180_000, opts.signal)
    // import-storage lands on top of the block chopsticks built during setup; one more block makes
    // the head a block whose hash the runtime itself recorded, so signatures with a mortal era
    // over it verify (otherwise the pool answers 1010 badProof)
    await rpcOnceUp(port, child, 'dev_newBlock', [{ count: 1 }], 120_000, opts.signal)
  } catch (err) {
    await stop()
    if (err instanceof DevchainError) throw new DevchainError(err.code, `${err.message} (chopsticks log: ${logFile})`, { cause: err })
    throw new DevchainError('START_FAILED', `chopsticks did not start: ${(err as Error).message} (chopsticks log: ${logFile})`, { cause: err })
  }
  return { url: `ws://127.0.0.1:${port}`, port, slotMs, configPath, logFile, process: child, stop }
}
