/**
 * The chains under test: an endpoint from `BAZAAR_TEST_CHAIN_WS`, or chopsticks started here on
 * each spec in `BAZAAR_TEST_CHAIN_SPEC` (comma-separated), or by default on both specs in
 * `../shared/chain/` (runtime 218, raw; runtime 293, plain). Without any, chain tests skip with a
 * note.
 */
import { existsSync, readFileSync } from 'node:fs'
import { createServer, connect, type Server, type Socket } from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ApiPromise, WsProvider } from '@polkadot/api'
import { Keyring } from '@polkadot/keyring'
import type { KeyringPair } from '@polkadot/keyring/types'
import type { SubmittableExtrinsic } from '@polkadot/api/types'
import type { EventRecord } from '@polkadot/types/interfaces'
import { mnemonicGenerate, cryptoWaitReady, blake2AsHex, encodeAddress, decodeAddress } from '@polkadot/util-crypto'
import { startDevchain, type Devchain } from '../../src/escrow/chain/subtensor/devchain.js'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
/** ../shared/chain beside the checkout */
export const SHARED_CHAIN = path.resolve(repoRoot, '../shared/chain')
const SHARED_SPECS = ['raonet-218.json', 'aura-dev-293.json']

/** One chain the tests run against: a spec chopsticks starts, or a running endpoint. */
export interface ChainTarget { name: string, spec?: string, ws?: string }

function targets (): ChainTarget[] {
  const ws = process.env.BAZAAR_TEST_CHAIN_WS
  if (ws != null && ws !== '') return [{ name: ws, ws }]
  const specs = process.env.BAZAAR_TEST_CHAIN_SPEC
  if (specs != null && specs !== '') return specs.split(',').map((s) => s.trim()).filter((s) => s !== '').map((spec) => ({ name: path.basename(spec), spec }))
  return SHARED_SPECS.map((f) => path.join(SHARED_CHAIN, f)).filter((f) => existsSync(f)).map((spec) => ({ name: path.basename(spec), spec }))
}

export const CHAIN_TARGETS: ChainTarget[] = targets()
export const HAVE_CHAIN = CHAIN_TARGETS.length > 0

export function skipNote (what: string): void {
  if (!HAVE_CHAIN) console.log(`[skip] ${what}: no chain spec in ${SHARED_CHAIN} (${SHARED_SPECS.join(', ')}); set BAZAAR_TEST_CHAIN_SPEC=<spec>[,<spec>] or BAZAAR_TEST_CHAIN_WS=ws://... to run`)
}

export interface TestChain {
  url: string
  devchain?: Devchain
  stop: () => Promise<void>
}

/** Starts (or names) the chain of `target`; `port` must be distinct per test file and target. */
export async function startTestChain (target: ChainTarget, port: number, signal?: AbortSignal): Promise<TestChain> {
  if (target.ws != null) return { url: target.ws, stop: async () => {} }
  const devchain = await startDevchain({ spec: target.spec!, port, signal })
  return { url: devchain.url, devchain, stop: async () => { await devchain.stop() } }
}

/**
 * Runs one setup step with its own deadline, so that a chain that stops answering fails the step by
 * name, with the end of chopsticks' log, rather than running out the hook's timeout anonymously.
 * `work` gets a signal that aborts at the deadline.
 */
export async function step<T> (name: string, ms: number, chain: TestChain | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      ac.abort()
      reject(new Error(`${name}: no answer within ${ms / 1000} s${logTail(chain)}`))
    }, ms)
  })
  try {
    return await Promise.race([work(ac.signal), late])
  } finally {
    clearTimeout(timer)
  }
}

/** The last lines of the chopsticks log behind `chain`, for a failure message. */
function logTail (chain: TestChain | undefined): string {
  const file = chain?.devchain?.logFile
  if (file == null) return ''
  try {
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n')
    return `\n--- ${file}, last lines:\n${lines.slice(-40).join('\n')}`
  } catch {
    return ` (chopsticks log ${file} unreadable)`
  }
}

export async function connectApi (url: string): Promise<ApiPromise> {
  return await ApiPromise.create({ provider: new WsProvider(url, 1_000), noInitWarn: true })
}

/** Fresh sr25519 keys per run, so reruns against a long-lived endpoint never collide. */
export async function freshKeys (names: string[]): Promise<Record<string, KeyringPair>> {
  await cryptoWaitReady()
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 })
  const out: Record<string, KeyringPair> = {}
  for (const n of names) out[n] = keyring.addFromUri(mnemonicGenerate(12), { name: n })
  return out
}

export function alice (): KeyringPair {
  return new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri('//Alice')
}

/** Gives `addr` `free` rao, with chopsticks' dev_setStorage (or a transfer from //Alice elsewhere). */
export async function fund (api: ApiPromise, addrs: string[], free: bigint): Promise<void> {
  try {
    await api.rpc('dev_setStorage' as never, { System: { Account: addrs.map((a) => [[a], { providers: 1, data: { free: free.toString() } }]) } } as never)
    return
  } catch {
    // not chopsticks: fall back to transfers from //Alice
  }
  const a = alice()
  for (const addr of addrs) await signAndWait(api.tx.balances.transferKeepAlive(addr, free), a)
}

/**
 * Signs and submits `tx`, and resolves with its events once it is in a block. polkadot-js reads a
 * block's events before it reports InBlock, and drops that report when the next status comes
 * first (its `switchMap`); chopsticks sends Finalized 100 ms after InBlock, so on a loaded machine
 * Finalized may be the only one that arrives, and it counts the same. A dispatch error, or a pool
 * that drops the extrinsic, rejects at once.
 */
export async function signAndWait (tx: SubmittableExtrinsic<'promise'>, signer: KeyringPair): Promise<EventRecord[]> {
  return await new Promise<EventRecord[]>((resolve, reject) => {
    tx.signAndSend(signer, ({ status, events, dispatchError }) => {
      if (dispatchError != null) reject(new Error(dispatchError.toString()))
      else if (status.isInBlock || status.isFinalized) resolve(events)
      else if (status.isInvalid || status.isDropped || status.isUsurped) reject(new Error(`extrinsic ${String(status.type)}`))
    }).catch(reject)
  })
}

export async function freeOf (api: ApiPromise, addr: string): Promise<bigint> {
  const acc = await api.query.system.account(addr) as unknown as { data: { free: { toBigInt: () => bigint } } }
  return acc.data.free.toBigInt()
}

/**
 * Alpha of `netuid` held by coldkey under hotkey, read from storage the way pallet_subtensor values
 * it: shares `Alpha(hotkey, coldkey, netuid)` (U64F64) times `TotalHotkeyAlpha(hotkey, netuid)`
 * over `TotalHotkeyShares(hotkey, netuid)` (U64F64), rounded down.
 */
export async function alphaOf (api: ApiPromise, hotkey: string, coldkey: string, netuid: number): Promise<bigint> {
  const q = api.query.subtensorModule
  const [shares, total, totalShares] = await Promise.all([
    q.alpha(hotkey, coldkey, netuid), q.totalHotkeyAlpha(hotkey, netuid), q.totalHotkeyShares(hotkey, netuid)
  ]) as unknown as Array<{ toBigInt?: () => bigint, bits?: { toBigInt: () => bigint }, toString: () => string }>
  const bits = (c: unknown): bigint => {
    const x = c as { bits?: { toBigInt: () => bigint }, toBigInt?: () => bigint, toJSON: () => unknown }
    if (x.bits != null) return x.bits.toBigInt()
    const j = x.toJSON() as { bits?: string | number } | string | number
    if (typeof j === 'object' && j?.bits != null) return BigInt(j.bits)
    return BigInt(j as string)
  }
  const s = bits(shares)
  const ts = bits(totalShares)
  const ta = BigInt((total as { toString: () => string }).toString())
  if (ts === 0n) return 0n
  return s * ta / ts
}

export interface RemarkOnChain { sender: string, remark: string, blockNumber: number }

/**
 * The escrow remarks executed in a block, found by the test itself: `system.Remarked` events and
 * the remark texts in the block's extrinsics (batches and multisig wrappers opened by hand), matched
 * by BlakeTwo256 hash.
 */
export async function remarksInBlock (api: ApiPromise, blockHash: string): Promise<RemarkOnChain[]> {
  const block = await api.rpc.chain.getBlock(blockHash)
  const events = await (await api.at(blockHash)).query.system.events() as unknown as EventRecord[]
  const texts = new Map<string, string>()
  const walk = (call: any): void => {
    if (call.section === 'system' && call.method === 'remarkWithEvent') {
      const bytes: Uint8Array = call.args[0].toU8a(true)
      texts.set(blake2AsHex(bytes, 256), new TextDecoder().decode(bytes))
    }
    for (const a of call.args ?? []) {
      if (Array.isArray(a)) a.forEach((c) => { if (c?.section != null) walk(c) })
      else if (a?.section != null && a?.method != null) walk(a)
    }
  }
  for (const ex of block.block.extrinsics) walk(ex.method)
  const out: RemarkOnChain[] = []
  for (const e of events) {
    if (e.event.section === 'system' && e.event.method === 'Remarked') {
      const [sender, hash] = e.event.data as unknown as [{ toU8a: () => Uint8Array }, { toHex: () => string }]
      const remark = texts.get(hash.toHex())
      if (remark != null) out.push({ sender: encodeAddress(sender.toU8a(), 42), remark, blockNumber: block.block.header.number.toNumber() })
    }
  }
  return out
}

export function sameAccount (a: string, b: string): boolean {
  return encodeAddress(decodeAddress(a), 42) === encodeAddress(decodeAddress(b), 42)
}

/**
 * A TCP relay in front of the chain whose connections the test can cut, to drop the adapter's
 * websocket on demand. With `delayMs`, everything the chain sends reaches the client that much
 * later, as over a link with that latency.
 */
export class CuttableRelay {
  private server: Server | undefined
  private readonly sockets = new Set<Socket>()
  /** while cut, the listener stays up and drops every connection: the adapter's reconnects are counted */
  private down = false
  private refusedCount = 0
  private acceptedCount = 0
  /** the relayed connections, to silence them (`silence`) */
  private readonly pairs = new Set<{ client: Socket, upstream: Socket }>()
  private readonly refusalWaiters: Array<{ n: number, resolve: () => void }> = []
  constructor (readonly listenPort: number, readonly targetPort: number, readonly delayMs = 0) {}
  get url (): string { return `ws://127.0.0.1:${this.listenPort}` }
  async start (): Promise<void> {
    this.down = false
    if (this.server != null) return
    this.server = createServer((client) => {
      if (this.down) {
        client.destroy()
        this.refusedCount++
        for (const w of this.refusalWaiters.filter((x) => this.refusedCount >= x.n)) {
          this.refusalWaiters.splice(this.refusalWaiters.indexOf(w), 1)
          w.resolve()
        }
        return
      }
      const upstream = connect({ host: '127.0.0.1', port: this.targetPort })
      this.acceptedCount++
      this.sockets.add(client); this.sockets.add(upstream)
      const pair = { client, upstream }
      this.pairs.add(pair)
      const drop = (): void => { client.destroy(); upstream.destroy(); this.sockets.delete(client); this.sockets.delete(upstream); this.pairs.delete(pair) }
      client.on('error', drop); upstream.on('error', drop); client.on('close', drop); upstream.on('close', drop)
      client.pipe(upstream)
      if (this.delayMs > 0) upstream.on('data', (d: Buffer) => { setTimeout(() => { if (!client.destroyed) client.write(d) }, this.delayMs) })
      else upstream.pipe(client)
    })
    await new Promise<void>((resolve) => this.server!.listen(this.listenPort, '127.0.0.1', resolve))
  }
  /** Drops every open connection and refuses new ones until `start()` (the adapter sees its websocket drop). */
  async cut (): Promise<void> {
    this.down = true
    for (const s of this.sockets) s.destroy()
    this.sockets.clear()
  }
  /**
   * The connections open now stop carrying anything either way and stay open (a node that stopped
   * answering on its socket, a half-open connection behind a proxy); new ones are relayed as before.
   * Relays without a delay only.
   */
  silence (): void {
    for (const { client, upstream } of this.pairs) {
      client.unpipe(upstream)
      upstream.unpipe(client)
    }
    this.pairs.clear()
  }
  /**
   * A node that hung: the connections open now stop carrying anything and stay open (`silence`),
   * and new ones are refused until `start()`.
   */
  hang (): void {
    this.silence()
    this.down = true
  }
  /** connections relayed since this relay was made */
  get accepted (): number { return this.acceptedCount }
  /** Resolves once `n` connections were refused since this relay was made (the adapter tried to reconnect). */
  async refused (n: number): Promise<void> {
    if (this.refusedCount >= n) return
    await new Promise<void>((resolve) => { this.refusalWaiters.push({ n, resolve }) })
  }
  get refusals (): number { return this.refusedCount }
  async stop (): Promise<void> {
    await this.cut()
    await new Promise<void>((resolve) => this.server?.close(() => { resolve() }) ?? resolve())
    this.server = undefined
  }
}
