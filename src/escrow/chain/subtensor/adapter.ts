/**
 * The `subtensor` chain adapter: the escrow on a Substrate chain running the Bittensor runtime,
 * through `@polkadot/api`.
 *
 * - Escrow account: a 2-of-3 pallet_multisig account of payer, payee and the arbiter's per-escrow
 *   key (see keys.ts for why each escrow has its own account).
 * - Open: the payer signs `utility.batchAll([fund, system.remarkWithEvent(open record)])`, one
 *   atomic extrinsic: either the escrow is funded and recorded, or nothing happened.
 * - Asset, read from the runtime metadata: where `subtensorModule.transferStake` exists, the fund
 *   call moves the payer's alpha of `netuid` (staked under `hotkey`) to the escrow account as
 *   coldkey, and payouts move it on to the payee's and payer's coldkeys under the same hotkey.
 *   Where it does not (runtime 218), the escrow is in TAO (`balances.transferKeepAlive`), and the
 *   open record and `info()` say so.
 * - Close and refund: the settlement's call is `utility.batchAll([payouts..., remarkWithEvent(close
 *   record)])` dispatched from the escrow account. The first approver submits
 *   `multisig.approveAsMulti` with the call's hash, or `multisig.asMulti` with the call where it
 *   is the payer approving a cooperative close (pallet_multisig reserves
 *   `DepositBase + 2 * DepositFactor` from it until execution); the second submits
 *   `multisig.asMulti` with the full call and the timepoint of the first, which executes it.
 *   pallet_multisig removes the operation before dispatching, so a batch that fails inside
 *   (`MultisigExecuted { result: Err }`) leaves the escrow open and the approvals spent.
 * - Every state change resolves only once its block is included and final (submit.ts), and the
 *   records are read back from blocks (scan.ts) rather than trusted from the submitter.
 *
 * Nothing stays behind, to the rao:
 * - An alpha escrow's settlement moves out exactly what the escrow account held at its open block
 *   (read by both approvers from that block's state, so both build the same call): the payee's
 *   share, then all the rest to the payer, which returns the fee allowance left over from the open.
 *   pallet_subtensor refuses to move stake worth less than its minimum (`DefaultMinStake`, 0.002
 *   TAO on runtimes 218 and 293; `AmountTooLow`), so the open moves in two minimums more than the
 *   amount (the payer's part is never below it), and a payee share under two minimums is carried
 *   into the refund (`carried` in the close record): a stake move of it would fail the whole batch,
 *   and clearing it would destroy it, while carried it stays with the payer who paid it.
 * - A cooperative close has one first approver and one executor, fixed by the terms: the payer
 *   approves (`asMulti`, the call in the extrinsic, so that a payee that never received the voucher
 *   it pays can read it back: `pending`), the payee waits until that approval is on chain and executes
 *   (`asMulti`). Neither sends an extrinsic that can lose the race.
 * - Approvals that did not execute (a cooperative approval overtaken by an arbiter close) are
 *   cancelled by their signer after the escrow settles, which returns the multisig deposit; the
 *   arbiter's per-escrow key sends what it holds back to the arbiter (`sweep`).
 */
import { ApiPromise } from '@polkadot/api'
import type { SubmittableExtrinsic } from '@polkadot/api/types'
import type { AccountPair } from '../../../util/sr25519.js'
import type { Option, Result } from '@polkadot/types'
import type { Call, DispatchError } from '@polkadot/types/interfaces'
import type { Codec, INumber } from '@polkadot/types/types'
import { isHex, u8aToHex, u8aToString } from '@polkadot/util'
import { decodeAddress, encodeAddress } from '@polkadot/util-crypto'
import type {
  ApproveOptions, ApproveResult, ChainCatchUp, ChainFee, ChainConnectionEvent, ChainPort, ChainPortInfo, ChainRecord, EscrowAsset, EscrowChainStatus, EscrowOnChain,
  EscrowTermsOnChain, PendingSettlement, Settlement, SweepOptions
} from '../port.js'
import { closeRecord, decodeRecord, encodeRecord, openRecord, settlementOfClose, type CloseRecord } from '../records.js'
import { systemClock, type Clock } from '../../../util/clock.js'
import { isStatePruned, SubtensorError } from './errors.js'
import { ChainConnection, type WatchedApi } from './connection.js'
import { HEALTH_MISSES, HealthWatch } from './health.js'
import { ResettableProvider } from './provider.js'
import { ESCROW_THRESHOLD, arbiterPath, escrowSignatories, otherSignatories, SS58_PREFIX, type EscrowSignatories } from './keys.js'
import { accountHex, recordsInBlock, type FoundRecord, type SubtensorOpenRecord } from './scan.js'
import { answered, describeDispatchError, retrying, sleep as sleepFor, submitAndWait, type Inclusion } from './submit.js'
import { BoundedMap, BoundedSet } from '../../../util/bounded-map.js'
import { EscrowIndex } from './escrow-index.js'
import { ScanCursor, scanInOrder } from './block-window.js'
import { KeyedSerialQueue } from '../../../util/serial.js'

export type SubtensorOperation = 'open' | 'approve' | 'execute' | 'arbiter-topup' | 'arbiter-sweep' | 'cancel'

export interface SubtensorChainInit {
  /** ws endpoint (`ws://127.0.0.1:9944`, `wss://entrypoint-finney.opentensor.ai`) */
  url?: string
  /**
   * More nodes of the same chain, tried in this order after `url`: at connect where one before does
   * not answer, and later whenever the node in use goes away or stops answering (provider.ts)
   */
  fallbacks?: readonly string[]
  /** an API the caller owns instead of `url`; `close()` leaves it connected */
  api?: ApiPromise
  /**
   * hotkey the escrow's alpha is staked under (the payer must hold alpha of `netuid` under it);
   * default: the subnet owner's hotkey, `subtensorModule.subnetOwnerHotkey(netuid)`
   */
  hotkey?: string
  /** the subnet whose alpha escrows use; `info()` and `balance()` speak of it (default 0) */
  netuid?: number
  /** wait for finality before a state change is reported (default true) */
  finality?: boolean
  /** first block to look for records in; default `lookbackBlocks` before the finalized head */
  fromBlock?: number
  /** default 1200 (4 hours of 12 s blocks) */
  lookbackBlocks?: number
  /** blocks the scan reads ahead of the one it applies (default SCAN_WINDOW; 1 reads one at a time) */
  scanWindow?: number
  /**
   * A flat allowance (basis points of the amount) the payer moves in at open on top of the amount,
   * instead of one sized from the subnet's swap fee rate (see `feeAllowance`). Runtime 293's
   * `transferStake` runs through the subnet's swap and the moved alpha pays its fee, so without an
   * allowance the escrow would hold a little less than the amount and a settlement paying the
   * full amount would fail. What the allowance leaves over stays in the escrow account.
   */
  alphaFeeAllowanceBps?: number
  /** TAO (rao) the arbiter moves to its per-escrow key when that key cannot pay a deposit and fees */
  arbiterFloat?: bigint
  /** give up on inclusion after this long (default 120 s) */
  timeoutMs?: number
  /** polls, retries and waits (inclusion, the cooperative close) run on it; the system clock by default */
  clock?: Clock
  /**
   * how long the payee of a cooperative close waits for the payer's approval to appear on chain
   * before it gives up without sending anything (default 60 s)
   */
  cooperativeWaitMs?: number
  /**
   * pallet_subtensor's `DefaultMinStake` in rao of TAO: the least stake a transfer may move (the
   * runtime checks the TAO worth of the alpha). Not in the metadata; 2,000,000 on runtimes 218 and
   * 293, measured on 293 (2,000,001 alpha rao refused, 2,100,000 moved at a price of about 1).
   */
  minStakeRao?: bigint
  /**
   * this node's account: `catchUp` reports the escrows naming it (payer, payee or arbiter) that the
   * reads since the last catch-up found opened (`ChainCatchUp.opened`), so the node can keep their
   * open blocks (an arbiter hears of an escrow only from the chain, until a party asks it)
   */
  party?: string
  /** called with every extrinsic the adapter got included, for fees and timings (bench) */
  onInclusion?: (op: SubtensorOperation, inclusion: Inclusion) => void
}

/** `pallet_multisig::Multisig` as stored under (account, call hash). */
interface PendingMultisig extends Codec {
  when: Codec
  approvals: Array<{ toU8a: () => Uint8Array }>
}

/**
 * Blocks the scan reads at once, ahead of the one it applies. Each block costs round trips to the
 * node (its hash, then its body and its events side by side), so one block at a time reads a
 * public endpoint's 1200 blocks in minutes, past a supplier's escrow check that waits for the scan:
 * at a 50 ms round trip, 4 blocks/s one at a time, 24 blocks/s eight at a time and 36 blocks/s
 * sixteen at a time (`npm run bench:scan`). Records are still applied in block order. Sixteen
 * blocks are about fifty requests in flight on the one socket, little for a node.
 */
export const SCAN_WINDOW = 16

/**
 * How far before its usual start `scanFrom` may take the scan: a day of finney's 12 s blocks. The
 * scan reads every block from its start before any escrow is found (a supplier's escrow check
 * waits for it), so an escrow a restarted daemon holds from further back, one of a rental of days,
 * is left to `chain.scanFromBlock` (the daemon's log names it) rather than holding up every new
 * rental for the hour that reading a month of blocks would take.
 */
export const SCAN_FROM_MAX_BLOCKS = 7_200
/**
 * Where a scan starts that would start at `usual`, asked by `scanFrom` to reach back to `floor`:
 * the earlier of the two, but never more than SCAN_FROM_MAX_BLOCKS before `usual`.
 */
export function scanStartOf (usual: number, floor?: number): number {
  return floor == null ? usual : Math.min(usual, Math.max(floor, usual - SCAN_FROM_MAX_BLOCKS))
}

/** Most pending approvals `pending` reads for one escrow (three signatories make a handful) */
const MAX_PENDING_READ = 16
/** Most escrows kept in the index; closed ones are dropped first past it. */
const MAX_INDEXED = 50_000
/**
 * Most escrows naming `init.party` held for the next `catchUp` (the chain follower drains them every
 * 12 s; a first scan of 1,200 blocks of a busy market is what could come near it). Past it the
 * index still finds them; only their report is lost.
 */
const OPENED_MAX = 10_000
/**
 * Most `Keys` entries `registeredHotkeys` reads for one subnet: far above a subnet's UID limit
 * (`MaxAllowedUids`, a few thousand at most), far below what would strain memory.
 */
const MAX_SUBNET_UIDS = 65_536
/** keys per `state_getKeysPaged` call: the node's own limit */
const KEYS_PAGE = 1000
/**
 * TAO a settling party keeps for fees beside the multisig deposit: 0.01 τ, about twenty closes at
 * the fees measured on runtimes 218 and 293 (an approval 0.00018 τ, an execution 0.00028 τ)
 */
const SETTLE_FEE_MARGIN = 10_000_000n
/** how many times one transaction is signed again after another process took its nonce */
const MAX_NONCE_ATTEMPTS = 4

/** what an alpha escrow's account held at its open block, and the least alpha a transfer could move then */
interface OpenState { held: bigint, minAlpha: bigint }

/** a record found in a block, with its escrow's open state where read with it (an alpha open) */
type Found = FoundRecord & { atOpen?: OpenState }

interface Indexed {
  terms: EscrowTermsOnChain
  asset: EscrowAsset
  hotkey?: string
  /** alpha moved in at open (amount + fee allowance) */
  funded?: bigint
  /** what the escrow account held at its open block, and the least alpha a transfer may move then */
  atOpen?: OpenState
  sigs: EscrowSignatories
  records: ChainRecord[]
  status: EscrowChainStatus
}

/** Creates a subtensor chain port connected to `init.url` (or using `init.api`). */
export async function createSubtensorChain (init: SubtensorChainInit, opts: { signal?: AbortSignal } = {}): Promise<SubtensorChain> {
  let api = init.api
  const owned = api == null
  let watched: ResettableProvider | undefined
  if (api == null) {
    if (init.url == null) throw new SubtensorError('CHAIN_UNAVAILABLE', 'no endpoint given')
    const endpoints = [init.url, ...(init.fallbacks ?? []).filter((e) => e !== init.url)]
    const failed: string[] = []
    // each endpoint in turn until one answers: a WsProvider, which reconnects on its own every 1 s
    // after a drop (callers retry across it, submit.ts), behind one the health watch can drop a
    // silent socket of (provider.ts); both go on round the endpoints from the one that answered
    for (let i = 0; i < endpoints.length && api == null; i++) {
      const provider = new ResettableProvider(endpoints, undefined, i)
      try {
        api = await raceAbort(ApiPromise.create({ provider, noInitWarn: true, throwOnConnect: true }), opts.signal)
        watched = provider
      } catch (err) {
        await provider.disconnect().catch(() => {})
        if (err instanceof SubtensorError) throw err
        if (endpoints.length === 1) throw new SubtensorError('CHAIN_UNAVAILABLE', `cannot connect to ${init.url}`, { cause: err })
        failed.push(`${endpoints[i]!} (${oneLine(err)})`)
      }
    }
    if (api == null) throw new SubtensorError('CHAIN_UNAVAILABLE', `cannot connect to any of ${failed.join(', ')}`)
  }
  const chain = new SubtensorChain(api, init, owned, watched)
  try {
    await chain.info()
  } catch (err) {
    await chain.close().catch(() => {})
    throw err
  }
  return chain
}

/**
 * An error's first line, at most 160 characters, for a message naming several. A websocket that
 * could not connect fails with an ErrorEvent that says nothing (no message, no error in Node's
 * WebSocket): that is "no connection".
 */
function oneLine (err: unknown): string {
  const said = (e: unknown): string | undefined => {
    const m = (e as { message?: unknown } | undefined)?.message
    return typeof m === 'string' && m !== '' ? m : undefined
  }
  const line = (said(err) ?? said((err as { error?: unknown } | undefined)?.error) ?? (err instanceof Error ? String(err) : 'no connection')).split('\n')[0]!
  return line.length > 160 ? `${line.slice(0, 157)}...` : line
}

async function raceAbort<T> (p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal == null) return await p
  signal.throwIfAborted()
  return await new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(new SubtensorError('ABORTED', 'aborted')) }
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
  })
}

/** see SubtensorChain.seenLagMs: two of a finney block of 12 s, until the runtime says its own */
export const SEEN_LAG_MS = 24_000
/**
 * The least and most `seenLagMs` taken from a runtime's block time: a node's time to hear of and
 * import a block does not shrink with a fast dev chain's 1 s blocks, and a runtime claiming hour-long
 * blocks must not keep a supplier's GPUs waiting for an escrow that far
 */
export const SEEN_LAG_BOUNDS_MS = { min: 6_000, max: 60_000 } as const

/**
 * The runtime's block time in ms, from its constants (no call to the node): Aura's `SlotDuration`,
 * BABE's `ExpectedBlockTime`, else twice the timestamp pallet's `MinimumPeriod` (subtensor sets it
 * to half a slot). undefined where none reads as a positive whole number.
 */
export function runtimeBlockTimeMs (consts: Record<string, Record<string, unknown> | undefined> | undefined): number | undefined {
  if (consts == null) return undefined
  const read = (v: unknown): number | undefined => {
    const n = Number((v as { toString?: () => string } | undefined)?.toString?.())
    return Number.isSafeInteger(n) && n > 0 ? n : undefined
  }
  return read(consts.aura?.slotDuration) ?? read(consts.babe?.expectedBlockTime) ?? ((p) => p == null ? undefined : 2 * p)(read(consts.timestamp?.minimumPeriod))
}

/** `seenLagMs` for a runtime of the given block time: two blocks, within SEEN_LAG_BOUNDS_MS */
export function seenLagFor (blockTimeMs: number | undefined): number {
  if (blockTimeMs == null) return SEEN_LAG_MS
  return Math.min(SEEN_LAG_BOUNDS_MS.max, Math.max(SEEN_LAG_BOUNDS_MS.min, 2 * blockTimeMs))
}

export class SubtensorChain implements ChainPort {
  /**
   * Two of the runtime's blocks (read by `info()`, which connecting calls; 24 s before it): the
   * renter's `open` resolves once final on its node, and this node's finalized head (what `get`
   * reads up to) may trail it by a block, or by the time this node takes to import one
   */
  get seenLagMs (): number { return this.blockLag ?? SEEN_LAG_MS }
  private blockLag: number | undefined
  readonly api: ApiPromise
  private readonly init: SubtensorChainInit
  private readonly ownsApi: boolean
  private readonly index = new EscrowIndex<Indexed>(MAX_INDEXED)
  /** the next block the scan applies, once it has started */
  private cursor: ScanCursor | undefined
  private syncing: Promise<ChainCatchUp> | undefined
  private cachedInfo: ChainPortInfo | undefined
  /** `init.party` as account hex, where given and valid */
  private readonly party: string | undefined

  /** the connection's state, and whether the endpoint still serves the chain opened (connection.ts) */
  readonly connection: ChainConnection
  /** the watch on a node that stops answering on its open socket, where the adapter owns the provider */
  private readonly health?: HealthWatch

  /**
   * `provider`: the API's provider, where the adapter opened it: the adapter then watches the
   * node's answers and drops a silent socket (health.ts); `close()` ends the watch
   */
  constructor (api: ApiPromise, init: SubtensorChainInit, ownsApi: boolean, private readonly provider?: ResettableProvider) {
    this.api = api
    this.init = init
    this.ownsApi = ownsApi
    try { this.party = init.party != null ? accountHex(init.party) : undefined } catch { this.party = undefined }
    // which node the socket is on matters only where there are several (events name it; a node behind waits)
    this.connection = new ChainConnection(api as unknown as WatchedApi, this.clock, provider != null && provider.endpoints.length > 1 ? () => provider.endpoint : undefined)
    if (provider != null) {
      this.health = new HealthWatch({
        clock: this.clock,
        probe: async () => await provider.send('system_health', []),
        connected: () => provider.isConnected,
        // the reads in flight fail at once and are made again on the new socket (`retrying`)
        onUnresponsive: () => { this.connection.dropUnresponsive(() => provider.reset(`no answer to ${HEALTH_MISSES} health checks in a row`)) }
      })
      this.health.start()
    }
  }

  connected (): boolean { return this.connection.usable }

  /** the node the socket is on now (connected or trying), where the adapter opened it */
  get endpoint (): string | undefined { return this.provider?.endpoint }

  onConnection (fn: (e: ChainConnectionEvent) => void): () => void { return this.connection.onEvent(fn) }

  private get finality (): boolean { return this.init.finality ?? true }
  private get clock (): Clock { return this.init.clock ?? systemClock }

  /** Reads what this runtime can do from its metadata (cached per connection). */
  async info (): Promise<ChainPortInfo> {
    if (this.cachedInfo != null) return this.cachedInfo
    const api = this.api
    const specVersion = api.runtimeVersion.specVersion.toNumber()
    const missing: string[] = []
    if (api.tx.multisig?.asMulti == null || api.tx.multisig?.approveAsMulti == null) missing.push('multisig.asMulti/approveAsMulti')
    if (api.tx.utility?.batchAll == null) missing.push('utility.batchAll')
    if (api.tx.system?.remarkWithEvent == null) missing.push('system.remarkWithEvent')
    if (missing.length > 0) throw new SubtensorError('RUNTIME_UNSUPPORTED', `runtime ${specVersion} lacks ${missing.join(', ')}`)
    const chain = (await answered(api.rpc.system.chain(), 'system_chain', { clock: this.clock })).toString()
    const hasTransferStake = api.tx.subtensorModule?.transferStake != null
    const notes: string[] = []
    let asset: EscrowAsset
    if (hasTransferStake) {
      asset = { kind: 'alpha', netuid: this.init.netuid ?? 0 }
      notes.push(`runtime ${specVersion} has subtensorModule.transferStake: escrows hold alpha of their netuid`)
    } else {
      const reason = `runtime ${specVersion} has no subtensorModule.transferStake`
      asset = { kind: 'tao', netuid: this.init.netuid ?? 0, reason }
      notes.push(`${reason}: escrows are funded in TAO, not alpha`)
    }
    notes.push(this.finality ? 'state changes are reported once final' : 'state changes are reported once included (finality not awaited)')
    const blockMs = runtimeBlockTimeMs(api.consts as unknown as Record<string, Record<string, unknown> | undefined> | undefined)
    this.blockLag = seenLagFor(blockMs)
    notes.push(blockMs == null
      ? `the runtime states no block time: an escrow not yet seen is read again for ${this.blockLag / 1000} s`
      : `blocks of ${blockMs / 1000} s: an escrow not yet seen is read again for ${this.blockLag / 1000} s`)
    this.cachedInfo = { adapter: 'subtensor', asset, notes, chain, specVersion, genesis: api.genesisHash.toHex() }
    return this.cachedInfo
  }

  /** The asset an escrow on `netuid` uses on this runtime. */
  async assetFor (netuid: number): Promise<EscrowAsset> {
    const a = (await this.info()).asset
    return a.kind === 'alpha' ? { kind: 'alpha', netuid } : { kind: 'tao', netuid, reason: a.reason }
  }

  /** The hotkey alpha escrows on `netuid` are staked under. */
  async hotkeyFor (netuid: number): Promise<string> {
    if (this.init.hotkey != null) return this.init.hotkey
    const hk = await this.api.query.subtensorModule.subnetOwnerHotkey(netuid)
    const addr = encodeAddress((hk as unknown as { toU8a: () => Uint8Array }).toU8a(), SS58_PREFIX)
    if (addr === encodeAddress(new Uint8Array(32), SS58_PREFIX)) throw new SubtensorError('TERMS_INVALID', `subnet ${netuid} has no owner hotkey; give the adapter a hotkey`)
    return addr
  }

  /**
   * The hotkeys holding a UID on subnet `netuid`, from `SubtensorModule.Keys` (netuid → uid →
   * hotkey), as lowercase hex of their public keys without `0x`. Read in pages at one block (the
   * finalized head, or the best without finality), so a registration landing meanwhile cannot
   * show one page a subnet the next page no longer has. `.entries()` would follow the endpoint's
   * pages for as long as it sends full ones; here a subnet of more than `MAX_SUBNET_UIDS` entries
   * (a few thousand is the most a runtime allows) fails rather than filling memory.
   */
  async registeredHotkeys (netuid: number, opts: { signal?: AbortSignal } = {}): Promise<ReadonlySet<string>> {
    this.connection.assertSameChain()
    if (!Number.isInteger(netuid) || netuid < 0 || netuid > 65535) throw new SubtensorError('TERMS_INVALID', 'netuid must be a u16')
    const api = this.api
    if (api.query.subtensorModule?.keys == null) {
      throw new SubtensorError('RUNTIME_UNSUPPORTED', `runtime ${api.runtimeVersion.specVersion.toNumber()} has no subtensorModule.keys storage`)
    }
    const retry = { clock: this.clock, deadline: this.clock.now() + 60_000, signal: opts.signal }
    const at = await retrying(api, async () => {
      const hash = this.finality ? await api.rpc.chain.getFinalizedHead() : await api.rpc.chain.getBlockHash()
      return await api.at(hash)
    }, { ...retry, method: 'chain_getFinalizedHead' })
    const prefix = at.query.subtensorModule.keys.keyPrefix(netuid)
    const hotkeys = new Set<string>()
    let read = 0
    let startKey: string | undefined
    while (true) {
      const page = await retrying(api, async () => await at.query.subtensorModule.keys.entriesPaged({ args: [netuid], pageSize: KEYS_PAGE, startKey }), { ...retry, method: 'subtensorModule.keys' })
      read += page.length
      // [bound] a hostile endpoint may send pages without end
      if (read > MAX_SUBNET_UIDS) throw new SubtensorError('CHAIN_UNAVAILABLE', `subnet ${netuid} lists more than ${MAX_SUBNET_UIDS} UIDs; refusing the endpoint's answer`)
      for (const [key, value] of page) {
        // [IGNORE] a key outside this subnet's map, or a value that is not a 32-byte account
        if (!key.toHex().startsWith(prefix)) continue
        const bytes = value.toU8a()
        if (bytes.length === 32) hotkeys.add(u8aToHex(bytes, undefined, false))
      }
      if (page.length < KEYS_PAGE) return hotkeys
      startKey = page[page.length - 1]![0].toHex()
    }
  }

  /**
   * The alpha moved in on top of `amount` at open so that the escrow holds at least `amount` after
   * the swap fee of the move. Sized from the subnet's fee rate (`swap.feeRate(netuid)`, parts of
   * 65535; 196 on runtime 293, measured as a 29.9 bps loss per transferStake):
   * `ceil(amount * 65535 / (65535 - rate)) - amount`, plus 0.001% and 1 rao for rounding. With
   * `alphaFeeAllowanceBps` set, or no swap pallet, a flat allowance in basis points (default 100).
   */
  async feeAllowance (amount: bigint, netuid: number): Promise<bigint> {
    const bps = this.init.alphaFeeAllowanceBps
    const rateQuery = this.api.query.swap?.feeRate
    if (bps == null && rateQuery != null) {
      const rate = BigInt((await rateQuery(netuid)).toString())
      if (rate >= 0n && rate < 65_535n) {
        const moved = (amount * 65_535n + (65_535n - rate) - 1n) / (65_535n - rate)
        return moved - amount + (amount + 99_999n) / 100_000n + 1n
      }
    }
    const a = (amount * BigInt(bps ?? 100) + 9_999n) / 10_000n
    return a > 0n ? a : 1n
  }

  /**
   * The least alpha of `netuid` a stake transfer may move: `minStakeRao` of TAO at the pool's
   * price (SubnetTAO / SubnetAlphaIn), rounded up, plus 10% for the swap's own price impact.
   * Read at `blockHash` where given, so both approvers of a settlement get the same figure.
   */
  async minStakeAlpha (netuid: number, blockHash?: string): Promise<bigint> {
    const min = this.init.minStakeRao ?? 2_000_000n
    const at = blockHash != null ? await this.api.at(blockHash) : this.api
    const q = at.query.subtensorModule
    if (q?.subnetTAO == null || q?.subnetAlphaIn == null) return min
    const [tao, alphaIn] = await Promise.all([q.subnetTAO(netuid), q.subnetAlphaIn(netuid)])
    const t = BigInt(tao.toString())
    const a = BigInt(alphaIn.toString())
    if (t === 0n || a === 0n) return min
    const alpha = (min * a + t - 1n) / t
    return alpha + alpha / 10n + 1n
  }

  /** The escrow account and signatories for these terms (pure; no chain access). */
  accounts (terms: Pick<EscrowTermsOnChain, 'escrowId' | 'payer' | 'payee' | 'arbiter'>): EscrowSignatories {
    return escrowSignatories(terms)
  }

  async open (terms: EscrowTermsOnChain, payer: AccountPair, opts: { signal?: AbortSignal } = {}): Promise<EscrowOnChain> {
    await this.connection.checked()
    validateTerms(terms)
    if (accountHex(payer.address) !== accountHex(terms.payer)) throw new SubtensorError('NOT_A_PARTY', 'the signer is not the payer of these terms')
    const sigs = escrowSignatories(terms)
    await this.sync(opts.signal)
    if (this.index.find(terms.escrowId, terms.payer) != null) throw new SubtensorError('ESCROW_EXISTS', `escrow ${terms.escrowId} is already open on chain`)
    const asset = await this.assetFor(terms.netuid)
    const api = this.api
    const read = { clock: this.clock, deadline: this.clock.now() + 60_000, signal: opts.signal }
    let fund: SubmittableExtrinsic<'promise'>
    const doc: SubtensorOpenRecord = openRecord(terms, asset)
    if (asset.kind === 'alpha') {
      const hotkey = await retrying(api, async () => await this.hotkeyFor(terms.netuid), { ...read, method: 'subtensorModule.subnetOwnerHotkey' })
      doc.hotkey = hotkey
      // two minimum stakes over the amount, so the payer's part of any settlement can be moved
      const extra = 2n * await retrying(api, async () => await this.minStakeAlpha(terms.netuid), { ...read, method: 'subtensorModule.subnetTAO' })
      const funded = terms.amount + extra + await retrying(api, async () => await this.feeAllowance(terms.amount + extra, terms.netuid), { ...read, method: 'swap.feeRate' })
      doc.funded = funded.toString()
      fund = api.tx.subtensorModule.transferStake(sigs.account, hotkey, terms.netuid, terms.netuid, funded)
    } else {
      doc.assetReason = asset.reason
      fund = api.tx.balances.transferKeepAlive(sigs.account, terms.amount)
    }
    const tx = api.tx.utility.batchAll([fund, api.tx.system.remarkWithEvent(encodeRecord(doc))])
    const inc = await this.send('open', tx, payer, opts.signal)
    await this.indexBlock(inc.blockHash)
    const got = this.index.find(terms.escrowId, terms.payer)
    if (got == null) throw new SubtensorError('EXTRINSIC_FAILED', `open of ${terms.escrowId} was included but its record is not in block ${inc.blockNumber}`)
    return await this.view(got, opts.signal)
  }

  async approve (settlement: Settlement, approver: AccountPair, opts: ApproveOptions = {}): Promise<ApproveResult> {
    await this.connection.checked()
    const fees: ChainFee[] = []
    await this.sync(opts.signal)
    // the escrow meant, by its payer: given, or the one the approver and the payouts fit
    const payer = opts.payer ?? this.locate(settlement, approver)?.terms.payer
    let r: ApproveResult
    try {
      r = await this.approveOnce(settlement, approver, fees, { ...opts, payer })
    } catch (err) {
      // Two approvals of an arbiter path sent at once (never a cooperative close, whose order is
      // fixed): both can read "no pending multisig" and send a first approval; the later one then
      // fails with NoTimepoint because the multisig exists. Read again and approve as the second.
      if (err instanceof SubtensorError && err.code === 'EXTRINSIC_FAILED' && err.details?.reason === 'multisig.NoTimepoint') {
        r = await this.approveOnce(settlement, approver, fees, { ...opts, payer })
      } else {
        throw err
      }
    }
    if (r.executed) {
      // what this signer still has pending or parked for this escrow goes back to it
      const esc = this.index.find(settlement.escrowId, payer)
      if (esc != null) {
        const signer = this.signerFor(esc, approver)
        await this.cancelStale(esc, signer, fees, opts.signal)
        if (signer !== approver) await this.sweepKey(signer, approver.address, fees, opts.signal)
      }
    }
    return { ...r, fees }
  }

  /**
   * Which of the escrows opened under a settlement's id the approver means, where none is named: the
   * only one, else the first the approver is a party of whose payer and payee the payouts go to.
   */
  private locate (settlement: Settlement, approver: AccountPair): Indexed | undefined {
    const all = this.index.withId(settlement.escrowId)
    if (all.length <= 1) return all[0]
    const me = accountHex(approver.address)
    const fits = (e: Indexed): boolean => {
      const t = e.terms
      const party = [t.payer, t.payee, t.arbiter].some((a) => accountHex(a) === me)
      const to = new Set([accountHex(t.payer), accountHex(t.payee)])
      return party && settlement.payouts.every((p) => { try { return to.has(accountHex(p.to)) } catch { return false } })
    }
    return all.find(fits) ?? all[0]
  }

  private async approveOnce (settlement: Settlement, approver: AccountPair, fees: ChainFee[], opts: ApproveOptions): Promise<ApproveResult> {
    const api = this.api
    await this.sync(opts.signal)
    const esc = this.index.find(settlement.escrowId, opts.payer)
    if (esc == null) throw new SubtensorError('ESCROW_UNKNOWN', `no open record for escrow ${settlement.escrowId}`)
    if (esc.status !== 'open') throw new SubtensorError('ESCROW_NOT_OPEN', `escrow ${settlement.escrowId} is ${esc.status}`)
    const signer = this.signerFor(esc, approver)
    const call = await this.settlementCall(esc, settlement)
    const callHash = call.method.hash
    const others = otherSignatories([esc.sigs.payer, esc.sigs.payee, esc.sigs.arbiter], signer.address)
    const deadline = this.clock.now() + 60_000
    const readPending = async (): Promise<Option<PendingMultisig>> => await retrying(api, async () => await api.query.multisig.multisigs(esc.sigs.account, callHash), { clock: this.clock, deadline, signal: opts.signal, method: 'multisig.multisigs' }) as unknown as Option<PendingMultisig>
    let pending = await readPending()
    // only as the second approval: none of this call is pending, so nothing is sent
    if (opts.ifApproved === true && pending.isNone) return { executed: false }
    if (settlement.kind === 'cooperative' && accountHex(signer.address) === accountHex(esc.sigs.payee) && pending.isNone) {
      // [order] a cooperative close is approved by the payer and executed by the payee: the payee
      // waits for the payer's approval rather than racing it with a first approval of its own
      const until = this.clock.now() + (this.init.cooperativeWaitMs ?? 60_000)
      while (pending.isNone && this.clock.now() < until) {
        // the payer approves one cooperative close: its approval of another settlement (on a
        // voucher this payee never received) means this one is not coming; the caller may execute
        // that one (`pending`)
        if (await this.payerApprovedAnother(esc, callHash.toHex(), opts.signal)) return { executed: false }
        await sleepFor(500, opts.signal, this.clock)
        await this.sync(opts.signal)
        if (esc.status !== 'open') throw new SubtensorError('ESCROW_NOT_OPEN', `escrow ${settlement.escrowId} settled meanwhile`)
        pending = await readPending()
      }
      if (pending.isNone) return { executed: false }
    }
    const weight = (await retrying(api, async () => await call.paymentInfo(esc.sigs.account), { clock: this.clock, deadline, signal: opts.signal, method: 'payment_queryInfo' })).weight
    if (signer !== approver) await this.topUpArbiter(signer, approver, fees, opts.signal)
    if (pending.isNone) {
      // First approval; the deposit is reserved from the signer and storage keeps the hash alone.
      // The payer's approval of a cooperative close sends its call in the extrinsic (`asMulti`), so
      // that a payee that never received the voucher it pays can read the call back (`pending`) and
      // execute it. It pays the fee of the call's declared weight, refunded in part after. Every
      // other first approval sends the hash alone: its executor builds the same call itself.
      const withCall = settlement.kind === 'cooperative' && accountHex(signer.address) === accountHex(esc.sigs.payer)
      const tx = withCall
        ? api.tx.multisig.asMulti(ESCROW_THRESHOLD, others, null, call, weight)
        : api.tx.multisig.approveAsMulti(ESCROW_THRESHOLD, others, null, callHash, weight)
      await this.send('approve', tx, signer, opts.signal, fees)
      return { executed: false }
    }
    const ms = pending.unwrap()
    if (ms.approvals.some((a: { toU8a: () => Uint8Array }) => accountHex(encodeAddress(a.toU8a(), SS58_PREFIX)) === accountHex(signer.address))) {
      // this signer approved this settlement already: idempotent
      return { executed: false, alreadyApproved: true }
    }
    const inc = await this.send('execute', api.tx.multisig.asMulti(ESCROW_THRESHOLD, others, ms.when, call, weight), signer, opts.signal, fees)
    const executed = inc.events.find((e) => api.events.multisig.MultisigExecuted.is(e.event))
    if (executed == null || !api.events.multisig.MultisigExecuted.is(executed.event)) {
      throw new SubtensorError('SETTLEMENT_FAILED', `no MultisigExecuted event in block ${inc.blockNumber}`)
    }
    const result = (executed.event.data as unknown as { result: Result<Codec, DispatchError> }).result
    if (result.isErr) {
      const reason = describeDispatchError(api, result.asErr)
      throw new SubtensorError('SETTLEMENT_FAILED', `the settlement batch failed on chain: ${reason}`, { details: { reason, blockHash: inc.blockHash } })
    }
    await this.indexBlock(inc.blockHash)
    const rec = esc.records.find((r) => r.txHash === inc.txHash)
    if (rec == null) throw new SubtensorError('SETTLEMENT_FAILED', `settlement executed but no close record in block ${inc.blockNumber}`)
    return { executed: true, record: rec }
  }

  /**
   * The approvals pending on the escrow's multisig account whose call went on chain with them (a
   * first approval made with `asMulti`): each call is read from the extrinsic at the approval's
   * timepoint, and listed only where it is the very call this adapter builds for the settlement
   * its close record states, so that a payee executing it gets what the record says. Approvals by
   * hash alone, and calls whose block cannot be read, are left out.
   */
  async pending (escrowId: string, opts: { signal?: AbortSignal, payer?: string } = {}): Promise<PendingSettlement[]> {
    await this.connection.checked()
    await this.sync(opts.signal)
    const esc = this.index.find(escrowId, opts.payer)
    if (esc == null || esc.status !== 'open') return []
    const entries = await this.multisigEntries(esc, opts.signal)
    const parties: Array<[string, string]> = [[esc.sigs.payer, esc.terms.payer], [esc.sigs.payee, esc.terms.payee], [esc.sigs.arbiter, esc.terms.arbiter]]
    const out: PendingSettlement[] = []
    // three signatories share the account: a handful of entries at most, bounded anyway
    for (const [key, value] of entries.slice(0, MAX_PENDING_READ)) {
      const ms = value as unknown as Option<PendingMultisig>
      if (ms.isNone) continue
      const m = ms.unwrap()
      const hash = (key.args[1] as unknown as Codec).toHex()
      const settlement = await this.pendingCall(esc, m.when as unknown as { height: INumber, index: INumber }, hash, opts.signal).catch(() => undefined)
      if (settlement == null) continue
      const approvals = m.approvals.map((a) => parties.find(([sig]) => accountHex(sig) === u8aToHex(a.toU8a()))?.[1]).filter((a): a is string => a != null)
      out.push({ hash, settlement, approvals })
    }
    return out
  }

  /** every approval pending on the escrow's multisig account, by call hash */
  private async multisigEntries (esc: Pick<Indexed, 'sigs'>, signal?: AbortSignal): Promise<Array<[{ args: unknown[] }, unknown]>> {
    const api = this.api
    return await retrying(api, async () => await api.query.multisig.multisigs.entries(esc.sigs.account), { clock: this.clock, deadline: this.clock.now() + 60_000, signal, method: 'multisig.multisigs' }) as unknown as Array<[{ args: unknown[] }, unknown]>
  }

  /** whether the payer of `esc` has an approval pending of a call other than `callHash` */
  private async payerApprovedAnother (esc: Indexed, callHash: string, signal?: AbortSignal): Promise<boolean> {
    const entries = await this.multisigEntries(esc, signal)
    const payer = accountHex(esc.sigs.payer)
    return entries.some(([key, value]) => {
      const ms = value as unknown as Option<PendingMultisig>
      return (key.args[1] as unknown as Codec).toHex() !== callHash && ms.isSome && ms.unwrap().approvals.some((a) => u8aToHex(a.toU8a()) === payer)
    })
  }

  /** the settlement whose call the extrinsic at `when` carried, where it hashes to `hash` and is the call this adapter builds for it */
  private async pendingCall (esc: Indexed, when: { height: INumber, index: INumber }, hash: string, signal?: AbortSignal): Promise<Settlement | undefined> {
    const api = this.api
    const deadline = this.clock.now() + 60_000
    const blockHash = await retrying(api, async () => await api.rpc.chain.getBlockHash(when.height.toNumber()), { clock: this.clock, deadline, signal, method: 'chain_getBlockHash' })
    const block = await retrying(api, async () => await api.rpc.chain.getBlock(blockHash), { clock: this.clock, deadline, signal, method: 'chain_getBlock' })
    const ex = block.block.extrinsics[when.index.toNumber()]
    const top = ex?.method as unknown as Call | undefined
    // [IGNORE] an approval by hash alone: its call is nowhere on chain
    if (top == null || top.section !== 'multisig' || top.method !== 'asMulti') return undefined
    const call = top.args[3] as unknown as Call
    if (call.hash.toHex() !== hash || call.section !== 'utility' || call.method !== 'batchAll') return undefined
    const calls = call.args[0] as unknown as Call[]
    const remark = calls[calls.length - 1]
    if (remark == null || remark.section !== 'system' || remark.method !== 'remarkWithEvent') return undefined
    const doc = decodeRecord(u8aToString((remark.args[0] as unknown as { toU8a: (bare: boolean) => Uint8Array }).toU8a(true)))
    if (doc == null || doc.kind === 'open' || doc.escrowId !== esc.terms.escrowId) return undefined
    const settlement = settlementOfClose(doc)
    // [IGNORE] a call other than the one this adapter builds for what its record states
    if (settlement == null || (await this.settlementCall(esc, settlement)).method.hash.toHex() !== hash) return undefined
    return settlement
  }

  /**
   * Cancels what `signer` approved for a settled escrow and was never executed (its deposit comes
   * back): for example the payee's cooperative approval when the close went through the arbiter.
   */
  private async cancelStale (esc: Pick<Indexed, 'sigs'>, signer: AccountPair, fees: ChainFee[], signal?: AbortSignal): Promise<void> {
    const api = this.api
    const entries = await this.multisigEntries(esc, signal)
    const others = otherSignatories([esc.sigs.payer, esc.sigs.payee, esc.sigs.arbiter], signer.address)
    for (const [key, value] of entries) {
      const ms = (value as unknown as Option<PendingMultisig & { depositor: { toU8a: () => Uint8Array } }>)
      if (ms.isNone) continue
      const m = ms.unwrap()
      if (accountHex(encodeAddress(m.depositor.toU8a(), SS58_PREFIX)) !== accountHex(signer.address)) continue
      const hash = key.args[1] as unknown as Codec
      await this.send('cancel', api.tx.multisig.cancelAsMulti(ESCROW_THRESHOLD, others, m.when, hash), signer, signal, fees)
    }
  }

  /**
   * Sends everything a per-escrow key holds (free, nothing reserved) back to `to`. Returns false
   * where the key still has a deposit reserved (an approval not yet executed or cancelled).
   */
  private async sweepKey (key: AccountPair, to: string, fees: ChainFee[], signal?: AbortSignal): Promise<boolean> {
    const api = this.api
    const acc = await retrying(api, async () => await api.query.system.account(key.address), { clock: this.clock, deadline: this.clock.now() + 60_000, signal, method: 'system.account' }) as unknown as { data: { free: INumber, reserved: INumber } }
    if (acc.data.reserved.toBigInt() > 0n) return false
    if (acc.data.free.toBigInt() === 0n) return true
    // transferAll with keep_alive false: the fee comes off first, the rest moves and the key is reaped
    await this.send('arbiter-sweep', api.tx.balances.transferAll(to, false), key, signal, fees)
    return true
  }

  /**
   * "Nothing stays behind" for one party, over every escrow the adapter knows that is settled:
   * approvals `owner` made that never executed are cancelled (their deposits come back), and where
   * `owner` is the arbiter, each per-escrow key sends what it holds back to `owner`. Keys with a
   * deposit still reserved are left for a later call; each escrow is done once per process.
   *
   * `known`: terms from the caller's own database. An escrow among them that the index lacks (it
   * settled before the blocks this process scanned) is swept too once its account holds nothing
   * on chain, in TAO or as alpha under any hotkey: with nothing to pay out, no approval on it can
   * still settle anything, so cancelling one costs nobody a settlement.
   */
  async sweep (owner: AccountPair, opts: SweepOptions = {}): Promise<ChainFee[]> {
    await this.connection.checked()
    await this.sync(opts.signal)
    const fees: ChainFee[] = []
    const me = accountHex(owner.address)
    const sweepOne = async (id: string, terms: EscrowTermsOnChain, sigs: EscrowSignatories): Promise<void> => {
      const isArbiter = accountHex(terms.arbiter) === me
      const signer = isArbiter ? owner.derive(arbiterPath(id)) : owner
      await this.cancelStale({ sigs }, signer, fees, opts.signal)
      if (!isArbiter || await this.sweepKey(signer, owner.address, fees, opts.signal)) {
        this.swept.add(sigs.account)
        opts.onSwept?.(id, terms.payer)
      }
    }
    const isParty = (t: EscrowTermsOnChain): boolean => [t.arbiter, t.payer, t.payee].some((a) => accountHex(a) === me)
    for (const esc of [...this.index.entries()]) {
      if (esc.status === 'open' || this.swept.has(esc.sigs.account) || !isParty(esc.terms)) continue
      await sweepOne(esc.terms.escrowId, esc.terms, esc.sigs)
    }
    for (const terms of opts.known ?? []) {
      const id = terms.escrowId
      if (this.index.find(id, terms.payer) != null || !isParty(terms)) continue
      let sigs: EscrowSignatories
      try { sigs = escrowSignatories(terms) } catch { continue }
      if (this.swept.has(sigs.account)) continue
      if (!await this.holdsNothing(sigs.account, terms.netuid, opts.signal)) continue
      await sweepOne(id, terms, sigs)
    }
    return fees
  }

  /** whether `account` holds no TAO (free or reserved) and no alpha of `netuid` under any hotkey */
  private async holdsNothing (account: string, netuid: number, signal?: AbortSignal): Promise<boolean> {
    const api = this.api
    return await retrying(api, async () => {
      const acc = await api.query.system.account(account) as unknown as { data: { free: INumber, reserved: INumber } }
      if (acc.data.free.toBigInt() > 0n || acc.data.reserved.toBigInt() > 0n) return false
      const staking = api.query.subtensorModule?.stakingHotkeys
      const hotkeys = new Set<string>(staking != null ? ((await staking(account)) as unknown as Array<{ toString: () => string }>).map((h) => h.toString()) : [])
      if ((await this.info()).asset.kind === 'alpha') hotkeys.add(await this.hotkeyFor(netuid))
      for (const hk of hotkeys) {
        if (await this.alphaBalance(account, hk, netuid) > 0n) return false
      }
      return true
    }, { clock: this.clock, deadline: this.clock.now() + 60_000, signal, method: 'system.account and stake' })
  }

  /** escrow accounts swept by this process */
  private readonly swept = new BoundedSet<string>(MAX_INDEXED)


  async get (escrowId: string, opts: { signal?: AbortSignal, payer?: string } = {}): Promise<EscrowOnChain | undefined> {
    this.connection.assertSameChain()
    await this.sync(opts.signal)
    const esc = this.index.find(escrowId, opts.payer)
    return esc == null ? undefined : await this.view(esc, opts.signal)
  }

  /**
   * Spendable balance in the escrow asset: TAO on a runtime without transferStake; otherwise the
   * alpha of `opts.netuid` (default the adapter's `netuid`) that `address` holds as coldkey under
   * `hotkeyFor(netuid)`.
   */
  async balance (address: string, opts: { signal?: AbortSignal, netuid?: number } = {}): Promise<bigint> {
    this.connection.assertSameChain()
    const info = await this.info()
    return await retrying(this.api, async () => {
      if (info.asset.kind === 'tao') return await this.taoBalance(address)
      const netuid = opts.netuid ?? info.asset.netuid
      return await this.alphaBalance(address, await this.hotkeyFor(netuid), netuid)
    }, { clock: this.clock, deadline: this.clock.now() + 60_000, signal: opts.signal, method: info.asset.kind === 'tao' ? 'system.account' : 'stakeInfoRuntimeApi' })
  }

  async feeFunds (address: string, opts: { signal?: AbortSignal } = {}): Promise<{ free: bigint, needed: bigint }> {
    this.connection.assertSameChain()
    const free = await retrying(this.api, async () => await this.taoBalance(address), { clock: this.clock, deadline: this.clock.now() + 60_000, signal: opts.signal, method: 'system.account' })
    const c = this.api.consts as unknown as { multisig: { depositBase: INumber, depositFactor: INumber }, balances: { existentialDeposit: INumber } }
    const deposit = c.multisig.depositBase.toBigInt() + 2n * c.multisig.depositFactor.toBigInt()
    return { free, needed: deposit + c.balances.existentialDeposit.toBigInt() + SETTLE_FEE_MARGIN }
  }

  /** Free TAO minus what is frozen. */
  async taoBalance (address: string): Promise<bigint> {
    const acc = await this.api.query.system.account(address) as unknown as { data: { free: INumber, frozen?: INumber } }
    const free = acc.data.free.toBigInt()
    const frozen = acc.data.frozen?.toBigInt() ?? 0n
    return free > frozen ? free - frozen : 0n
  }

  /** Alpha of `netuid` that `coldkey` holds under `hotkey`, as the runtime's stake-info API values it. */
  async alphaBalance (coldkey: string, hotkey: string, netuid: number): Promise<bigint> {
    const info = await this.api.call.stakeInfoRuntimeApi.getStakeInfoForHotkeyColdkeyNetuid(hotkey, coldkey, netuid)
    const opt = info as unknown as { isSome: boolean, unwrap: () => { stake: { toBigInt: () => bigint } } }
    return opt.isSome ? opt.unwrap().stake.toBigInt() : 0n
  }

  async close (): Promise<void> {
    // a block read no caller's signal ends (one shared by several) ends here
    this.closing.abort()
    this.health?.stop()
    this.connection.stop()
    if (this.ownsApi) await this.api.disconnect()
  }

  // --- internals ---

  private signerFor (esc: Indexed, approver: AccountPair): AccountPair {
    const a = accountHex(approver.address)
    if (a === accountHex(esc.sigs.payer) || a === accountHex(esc.sigs.payee)) return approver
    if (a === accountHex(esc.terms.arbiter)) {
      const child = approver.derive(arbiterPath(esc.terms.escrowId))
      if (accountHex(child.address) !== accountHex(esc.sigs.arbiter)) throw new SubtensorError('NOT_A_PARTY', 'arbiter key does not derive the escrow signatory')
      return child
    }
    throw new SubtensorError('NOT_A_PARTY', `${approver.address} is not a party of escrow ${esc.terms.escrowId}`)
  }

  /**
   * What an alpha escrow held at its open block and the least alpha a stake transfer could move
   * then. Both come from that block's state, which no later block changes, so payer, payee and
   * arbiter all build the same settlement call from them.
   */
  private async openState (esc: Indexed): Promise<OpenState> {
    const open = esc.records[0]!
    try {
      esc.atOpen ??= await this.stateAtOpen(open.blockHash, esc.hotkey!, esc.sigs.account, esc.asset.netuid)
    } catch (err) {
      if (!isStatePruned(err)) throw err
      throw new SubtensorError('STATE_PRUNED', `the node no longer keeps the state of block #${open.blockNumber}, the open block of escrow ${esc.terms.escrowId}, which its settlement needs (it prunes state): settle it through an archive node`, { cause: err })
    }
    return esc.atOpen
  }

  private async stateAtOpen (blockHash: string, hotkey: string, account: string, netuid: number): Promise<OpenState> {
    const read = { clock: this.clock, deadline: this.clock.now() + 60_000 }
    const at = await retrying(this.api, async () => await this.api.at(blockHash), { ...read, method: 'state_getRuntimeVersion' })
    const held = await retrying(this.api, async () => {
      const info = await at.call.stakeInfoRuntimeApi.getStakeInfoForHotkeyColdkeyNetuid(hotkey, account, netuid)
      const opt = info as unknown as { isSome: boolean, unwrap: () => { stake: { toBigInt: () => bigint } } }
      return opt.isSome ? opt.unwrap().stake.toBigInt() : 0n
    }, { ...read, method: 'stakeInfoRuntimeApi' })
    const minAlpha = await retrying(this.api, async () => await this.minStakeAlpha(netuid, blockHash), { ...read, method: 'subtensorModule.subnetTAO' })
    return { held, minAlpha }
  }

  /**
   * A block's escrow records, each alpha open with its open state read at once: a settlement needs
   * that block's state, which a node that prunes state (a lite node: the last 256 blocks by
   * default) no longer has by the time a rental of more than about an hour settles. The blocks are
   * read as they come (the daemon's chain follower), so the state is still there. A failed read of
   * it is left to the settlement, as before.
   */
  private async recordsAt (blockHash: string): Promise<Found[]> {
    const found: Found[] = await recordsInBlock(this.api, blockHash)
    await Promise.all(found.map(async (f) => {
      const open = this.fundedAlphaOpen(f)
      if (open != null) f.atOpen = await this.stateAtOpen(f.blockHash, open.hotkey, open.account, open.netuid).catch(() => undefined)
    }))
    return found
  }

  /** an alpha open record that the index takes (see `apply`): its hotkey, escrow account and subnet */
  private fundedAlphaOpen (f: FoundRecord): { hotkey: string, account: string, netuid: number } | undefined {
    if (f.doc.kind !== 'open') return undefined
    const parsed = parseOpen(f.doc)
    if (parsed?.hotkey == null || parsed.asset.kind !== 'alpha') return undefined
    if (accountHex(f.sender) !== accountHex(parsed.terms.payer)) return undefined
    let sigs: EscrowSignatories
    try { sigs = escrowSignatories(parsed.terms) } catch { return undefined }
    if (!this.fundsEscrow(f.siblings, parsed, sigs.account)) return undefined
    return { hotkey: parsed.hotkey, account: sigs.account, netuid: parsed.asset.netuid }
  }

  /**
   * The call both approvers must build identically: payouts (payee first, then payer), then the
   * close record. The settlement's payouts go only to payer and payee and never exceed the escrow
   * amount. On an alpha escrow the chain moves everything the escrow held at open: the payer's
   * payout takes the rest, and a payee share below two minimum stakes is carried into it (see the
   * file's comment).
   */
  async settlementCall (esc: Indexed, s: Settlement): Promise<SubmittableExtrinsic<'promise'>> {
    const api = this.api
    if (s.escrowId !== esc.terms.escrowId) throw new SubtensorError('SETTLEMENT_INVALID', 'settlement is for another escrow')
    if (s.payouts.length > 2) throw new SubtensorError('SETTLEMENT_INVALID', 'at most two payouts (payee, payer)')
    const payer = accountHex(esc.terms.payer)
    const payee = accountHex(esc.terms.payee)
    let toPayee = 0n
    let toPayer = 0n
    for (const p of s.payouts) {
      if (typeof p.amount !== 'bigint' || p.amount < 0n) throw new SubtensorError('SETTLEMENT_INVALID', 'payout amounts must be non-negative bigints')
      let who: string
      try { who = accountHex(p.to) } catch { throw new SubtensorError('SETTLEMENT_INVALID', `bad payout address ${p.to}`) }
      if (who === payee) toPayee += p.amount
      else if (who === payer) toPayer += p.amount
      else throw new SubtensorError('SETTLEMENT_INVALID', 'payouts go to payer or payee only')
    }
    if (toPayee + toPayer > esc.terms.amount) throw new SubtensorError('SETTLEMENT_INVALID', `payouts ${toPayee + toPayer} exceed the escrow amount ${esc.terms.amount}`)
    const rec = closeRecord(s)
    const calls: Array<SubmittableExtrinsic<'promise'>> = []
    if (esc.asset.kind === 'alpha') {
      const { held, minAlpha } = await this.openState(esc)
      let payeeMoves = toPayee
      if (payeeMoves > 0n && payeeMoves < 2n * minAlpha) {
        rec.carried = payeeMoves.toString()
        payeeMoves = 0n
      }
      // everything else the escrow holds, including what the settlement leaves unassigned (a
      // settlement never pays the payee more than its voucher; the payer paid all of it)
      const payerMoves = held - payeeMoves
      if (payerMoves < 0n) throw new SubtensorError('SETTLEMENT_INVALID', `the escrow held ${held} at open, less than the payee's ${payeeMoves}`)
      rec.moved = []
      if (payeeMoves > 0n) {
        calls.push(api.tx.subtensorModule.transferStake(esc.terms.payee, esc.hotkey!, esc.asset.netuid, esc.asset.netuid, payeeMoves))
        rec.moved.push({ to: esc.terms.payee, amount: payeeMoves.toString() })
      }
      if (payerMoves > 0n) {
        calls.push(api.tx.subtensorModule.transferStake(esc.terms.payer, esc.hotkey!, esc.asset.netuid, esc.asset.netuid, payerMoves))
        rec.moved.push({ to: esc.terms.payer, amount: payerMoves.toString() })
      }
    } else {
      // a TAO escrow holds exactly its amount; whatever the settlement leaves unassigned is the payer's
      const rest = esc.terms.amount - toPayee
      if (toPayee > 0n) calls.push(api.tx.balances.transferAllowDeath(esc.terms.payee, toPayee))
      if (rest > 0n) calls.push(api.tx.balances.transferAllowDeath(esc.terms.payer, rest))
      if (rest !== toPayer) rec.moved = [...(toPayee > 0n ? [{ to: esc.terms.payee, amount: toPayee.toString() }] : []), { to: esc.terms.payer, amount: rest.toString() }]
    }
    calls.push(api.tx.system.remarkWithEvent(encodeRecord(rec)))
    return api.tx.utility.batchAll(calls)
  }

  /**
   * The arbiter's per-escrow key starts empty; before it signs, the arbiter moves enough TAO to it
   * for the multisig deposit (DepositBase + 2 x DepositFactor, returned on execution) and fees.
   * What is left goes back to the arbiter once the escrow is settled (`sweep`).
   */
  private async topUpArbiter (child: AccountPair, base: AccountPair, fees: ChainFee[], signal?: AbortSignal): Promise<void> {
    const api = this.api
    const c = api.consts as unknown as { multisig: { depositBase: INumber, depositFactor: INumber }, balances: { existentialDeposit: INumber } }
    const deposit = c.multisig.depositBase.toBigInt() + 2n * c.multisig.depositFactor.toBigInt()
    const ed = c.balances.existentialDeposit.toBigInt()
    const want = this.init.arbiterFloat ?? (deposit + ed + 100_000_000n) // + 0.1 TAO of fees
    const have = await retrying(api, async () => await this.taoBalance(child.address), { clock: this.clock, deadline: this.clock.now() + 60_000, signal, method: 'system.account' })
    if (have >= want) return
    await this.send('arbiter-topup', api.tx.balances.transferKeepAlive(child.address, want - have), base, signal, fees)
  }

  /**
   * Signs `tx` with `signer` and waits for it (see `submitAndWait`).
   *
   * One signer's transactions are signed and handed to the pool one at a time, each with the nonce
   * after the last one this adapter handed over: the node's count (`system_accountNextIndex`) can
   * lag a submission, and two transactions signed with one nonce leave one of them out of every
   * block (two escrows a renter opened at the same moment: one waited out its 120 s and failed).
   * A signer's turn ends once the pool holds its transaction, so the waits for inclusion overlap.
   * After a send that failed once in the pool, the next nonce is the node's count again: a
   * transaction the pool dropped must not leave a gap that holds back every later one. Where
   * another process signs with the same key (two daemons on one hotkey), both can pick one nonce;
   * the one that loses fails with NONCE_USED (refused by the pool, or seen used on chain while it
   * waited), never ran, and is signed again with a fresh nonce.
   */
  private async send (op: SubtensorOperation, tx: SubmittableExtrinsic<'promise'>, signer: AccountPair, signal?: AbortSignal, fees?: ChainFee[]): Promise<Inclusion> {
    const who = signer.address
    const deadline = this.clock.now() + (this.init.timeoutMs ?? 120_000)
    let inc: Inclusion | undefined
    for (let attempt = 1; inc == null; attempt++) {
      const { included, nonce } = await this.signing.run(who, async () => {
        // the nonce and the era's block come over RPC: retried across a reconnection too
        const counted = await retrying(this.api, async () => (await this.api.rpc.system.accountNextIndex(who)).toNumber(), { clock: this.clock, deadline, signal, method: 'system_accountNextIndex' })
        const nonce = Math.max(counted, this.nextNonces.get(who) ?? 0)
        const signed = await retrying(this.api, async () => await tx.signAsync(signer, { nonce }), { clock: this.clock, deadline, signal, method: 'chain_getHeader (signing)' })
        let inPool!: () => void
        const handed = new Promise<void>((resolve) => { inPool = resolve })
        const included = submitAndWait(this.api, signed, {
          finality: this.finality,
          timeoutMs: this.init.timeoutMs,
          signal,
          clock: this.clock,
          signedWith: { account: who, nonce },
          onSubmitted: () => { this.nextNonces.set(who, nonce + 1); inPool() }
        })
        // the turn ends once the pool holds it, or once the send failed before that
        await Promise.race([handed, included.then(() => {}, () => {})])
        // in an object: a promise returned as such would hold the turn until inclusion
        return { included, nonce }
      })
      try {
        inc = await included
      } catch (err) {
        if (this.nextNonces.get(who) === nonce + 1) this.nextNonces.delete(who)
        // another process signing with this key took the nonce: the transaction never ran, so it
        // is signed again with the chain's next one (a few times: each race costs the other side
        // a nonce too)
        if (err instanceof SubtensorError && err.code === 'NONCE_USED' && attempt < MAX_NONCE_ATTEMPTS) continue
        throw err
      }
    }
    fees?.push({ op, account: signer.address, fee: inc.fee })
    this.init.onInclusion?.(op, inc)
    return inc
  }

  /** one signer's transactions go to the pool one at a time (see `send`) */
  private readonly signing = new KeyedSerialQueue<string>()
  /** per signer, the nonce after the last transaction handed to the pool (arbiter keys are one per escrow: bounded) */
  private readonly nextNonces = new BoundedMap<string, number>(MAX_INDEXED)

  private async view (esc: Indexed, signal?: AbortSignal): Promise<EscrowOnChain> {
    const api = this.api
    const balance = await retrying(api, async () => esc.asset.kind === 'alpha'
      ? await this.alphaBalance(esc.sigs.account, esc.hotkey!, esc.asset.netuid)
      : await this.taoBalance(esc.sigs.account), { clock: this.clock, deadline: this.clock.now() + 60_000, signal, method: esc.asset.kind === 'alpha' ? 'stakeInfoRuntimeApi' : 'system.account' })
    return { terms: esc.terms, asset: esc.asset, account: esc.sigs.account, status: esc.status, balance, records: [...esc.records] }
  }

  /**
   * Records are read from `block` on at least, SCAN_FROM_MAX_BLOCKS before the usual start at
   * most: before the first scan, its start is the earlier of this and the usual one (`fromBlock`,
   * or `lookbackBlocks` before the head); after it, the blocks from there are read again (applying
   * a record twice changes nothing, and a close is only applied after its open, so a range cannot
   * be read alone).
   */
  scanFrom (block: number): void {
    if (!Number.isSafeInteger(block) || block < 1) return
    if (this.cursor == null) {
      this.scanFloor = Math.min(this.scanFloor ?? block, block)
    } else if (block < this.cursor.next) {
      this.cursor.rewind(scanStartOf(this.cursor.next, block))
      this.indexedBlocks.clear()
    }
  }

  /** the earliest block `scanFrom` asked for before the first scan */
  private scanFloor: number | undefined

  /**
   * Reads the blocks not yet read, up to the finalized head (the best head without finality), as
   * every escrow operation does before it looks at the index: a daemon that calls it at start and
   * then now and again spares its first rental, and any rental after a quiet spell, the scan.
   */
  async catchUp (opts: { signal?: AbortSignal } = {}): Promise<ChainCatchUp> {
    await this.connection.checked()
    // blocks passed over, and escrows naming this node found, by any read since the last catch-up
    return { ...await this.sync(opts.signal), ...this.drainGaps(), ...this.drainOpened() }
  }

  /**
   * Scans blocks not yet seen up to the finalized head (or the best head without finality).
   *
   * One scan at a time. A scan already running read its head before this call, so this call takes
   * the next one, which starts when it ends; every caller that comes meanwhile shares that next
   * scan. Before, each waiting caller made a scan of its own after the running one, one after
   * another: eight escrows read side by side (`bazaar escrow ls`) made eight scans of two round
   * trips each even with no new block. A caller's abort ends its wait, not a shared scan (each
   * read of one is bounded, and `close()` ends it).
   */
  private async sync (signal?: AbortSignal): Promise<ChainCatchUp> {
    if (this.syncing == null) return await this.syncNow(signal)
    this.nextSync ??= (async () => {
      try {
        while (this.syncing != null) await this.syncing.catch(() => {})
      } finally {
        this.nextSync = undefined
      }
      return await this.syncNow(this.closing.signal)
    })()
    return await raceAbort(this.nextSync, signal)
  }

  /** the scan after the running one, shared by the callers that came while it ran */
  private nextSync: Promise<ChainCatchUp> | undefined
  /** aborts at `close()`: what no caller's own signal ends (a shared scan's reads and their waits) */
  private readonly closing = new AbortController()

  private async syncNow (signal?: AbortSignal): Promise<ChainCatchUp> {
    this.syncing = this.syncOnce(signal)
    try { return await this.syncing } finally { this.syncing = undefined }
  }

  private async syncOnce (signal?: AbortSignal): Promise<ChainCatchUp> {
    const api = this.api
    const deadline = this.clock.now() + 120_000
    const head = await retrying(api, async () => {
      const h = this.finality ? await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead()) : await api.rpc.chain.getHeader()
      return h.number.toNumber()
    }, { clock: this.clock, deadline, signal, method: this.finality ? 'chain_getFinalizedHead' : 'chain_getHeader' })
    if (this.cursor == null) {
      const usual = this.init.fromBlock ?? Math.max(1, head - (this.init.lookbackBlocks ?? 1200))
      this.cursor = new ScanCursor(scanStartOf(usual, this.scanFloor))
    }
    const from = this.cursor.next
    const read = async (n: number): Promise<{ hash: string, found?: FoundRecord[] }> => {
      const hash = (await retrying(api, async () => await api.rpc.chain.getBlockHash(n), { clock: this.clock, deadline, signal, method: 'chain_getBlockHash' })).toHex()
      if (this.indexedBlocks.has(hash)) return { hash }
      const found = await retrying(api, async () => await this.recordsAt(hash), { clock: this.clock, deadline: this.clock.now() + 120_000, signal, method: 'chain_getBlock' })
      return { hash, found }
    }
    let blocks = 0
    while (true) {
      try {
        // blocks are read SCAN_WINDOW at a time and applied in order (a close only after its open)
        blocks += await scanInOrder(this.cursor, head, this.init.scanWindow ?? SCAN_WINDOW, read, (n, { hash, found }) => {
          if (found != null) {
            for (const f of found) this.apply(f)
            this.indexedBlocks.add(hash)
          }
          // the block a reconnect checks is still there (connection.ts): a chain started again is another one
          this.connection.saw(n, hash)
        }, signal)
        return { from, head, blocks }
      } catch (err) {
        if (!isStatePruned(err)) throw err
        // the node prunes state: the blocks it no longer has the state of are passed over, and said
        const gapFrom = this.cursor.next
        const kept = await this.firstKept(gapFrom, head, signal)
        this.cursor.skip(kept)
        this.gaps.push({ from: gapFrom, to: kept - 1 })
      }
    }
  }

  /** blocks passed over because the node had pruned their state, not yet told by `catchUp` */
  private gaps: Array<{ from: number, to: number }> = []

  /** escrows naming `init.party` found opened, not yet told by `catchUp` (at most OPENED_MAX) */
  private opened: Array<{ terms: EscrowTermsOnChain, records: ChainRecord[] }> = []

  private drainOpened (): { opened?: Array<{ terms: EscrowTermsOnChain, records: ChainRecord[] }> } {
    if (this.opened.length === 0) return {}
    const opened = this.opened
    this.opened = []
    return { opened }
  }

  private drainGaps (): { skipped?: Array<{ from: number, to: number }> } {
    if (this.gaps.length === 0) return {}
    const skipped = this.gaps.slice(0, 16)
    this.gaps = []
    return { skipped }
  }

  /**
   * The first block from `pruned` (whose state the node no longer has) to `head` whose state it
   * still has: nodes prune from the oldest block on, so a binary search finds it in about eleven
   * reads over a 1,200-block window.
   */
  private async firstKept (pruned: number, head: number, signal?: AbortSignal): Promise<number> {
    const api = this.api
    const deadline = this.clock.now() + 120_000
    const kept = async (n: number): Promise<boolean> => {
      const hash = (await retrying(api, async () => await api.rpc.chain.getBlockHash(n), { clock: this.clock, deadline, signal, method: 'chain_getBlockHash' })).toHex()
      try {
        await retrying(api, async () => await recordsInBlock(api, hash), { clock: this.clock, deadline, signal, method: 'chain_getBlock' })
        return true
      } catch (err) {
        if (isStatePruned(err)) return false
        throw err
      }
    }
    if (!await kept(head)) throw new SubtensorError('STATE_PRUNED', `the node has no state even for block #${head}, the head this daemon reads to`)
    let bad = pruned
    let good = head
    while (good - bad > 1) {
      const mid = Math.floor((bad + good) / 2)
      if (await kept(mid)) good = mid
      else bad = mid
    }
    return good
  }

  private readonly indexedBlocks = new BoundedSet<string>(4096)

  private async indexBlock (blockHash: string, signal?: AbortSignal): Promise<void> {
    if (this.indexedBlocks.has(blockHash)) return
    const found = await retrying(this.api, async () => await this.recordsAt(blockHash), { clock: this.clock, deadline: this.clock.now() + 120_000, signal, method: 'chain_getBlock' })
    for (const f of found) this.apply(f)
    this.indexedBlocks.add(blockHash)
  }

  /** Applies one executed record to the index; records that do not prove themselves are ignored. */
  private apply (f: Found): void {
    const rec: ChainRecord = { kind: f.doc.kind, escrowId: f.doc.escrowId, blockNumber: f.blockNumber, blockHash: f.blockHash, txHash: f.txHash, remark: f.remark }
    if (f.doc.kind === 'open') {
      const parsed = parseOpen(f.doc)
      if (parsed == null) return
      let sigs: EscrowSignatories
      try { sigs = escrowSignatories(parsed.terms) } catch { return }
      // [IGNORE] an open record not written by its payer
      if (accountHex(f.sender) !== accountHex(parsed.terms.payer)) return
      // [IGNORE] an open record whose batch did not fund the escrow account with its amount
      if (!this.fundsEscrow(f.siblings, parsed, sigs.account)) return
      // [IGNORE] a second open of an id by the same payer (each payer's first open of an id counts)
      const added = this.index.add({ ...parsed, sigs, records: [rec], status: 'open', ...(f.atOpen != null ? { atOpen: f.atOpen } : {}) })
      if (added && this.party != null && this.opened.length < OPENED_MAX &&
        [parsed.terms.payer, parsed.terms.payee, parsed.terms.arbiter].some((a) => accountHex(a) === this.party)) {
        this.opened.push({ terms: parsed.terms, records: [rec] })
      }
      return
    }
    // [IGNORE] a close record not executed by an escrow account of its id
    const esc = this.index.byAccount(f.doc.escrowId, f.sender)
    if (esc == null || esc.status !== 'open') return
    esc.records.push(rec)
    esc.status = (f.doc as CloseRecord).kind === 'refund' ? 'refunded' : 'closed'
  }

  private fundsEscrow (calls: Call[], p: { terms: EscrowTermsOnChain, asset: EscrowAsset, hotkey?: string, funded?: bigint }, account: string): boolean {
    const target = accountHex(account)
    return calls.some((c) => {
      const args = c.args as unknown as Array<{ toString: () => string, toU8a: () => Uint8Array }>
      try {
        if (p.asset.kind === 'alpha') {
          return c.section === 'subtensorModule' && c.method === 'transferStake' &&
            accountHex(args[0]!.toString()) === target && p.hotkey != null && accountHex(args[1]!.toString()) === accountHex(p.hotkey) &&
            Number(args[2]!.toString()) === p.asset.netuid && Number(args[3]!.toString()) === p.asset.netuid &&
            BigInt(args[4]!.toString()) === (p.funded ?? p.terms.amount)
        }
        return c.section === 'balances' && (c.method === 'transferKeepAlive' || c.method === 'transferAllowDeath') &&
          accountHex(args[0]!.toString()) === target && BigInt(args[1]!.toString()) === p.terms.amount
      } catch {
        return false
      }
    })
  }
}

const HEX32 = /^0x[0-9a-f]{64}$/

function validateTerms (t: EscrowTermsOnChain): void {
  if (!HEX32.test(t.escrowId)) throw new SubtensorError('TERMS_INVALID', 'escrowId must be 32 bytes of lowercase 0x-hex')
  if (!HEX32.test(t.agreementHash)) throw new SubtensorError('TERMS_INVALID', 'agreementHash must be 32 bytes of lowercase 0x-hex')
  if (typeof t.amount !== 'bigint' || t.amount <= 0n || t.amount >= 2n ** 64n) throw new SubtensorError('TERMS_INVALID', 'amount must be a positive u64')
  if (!Number.isInteger(t.netuid) || t.netuid < 0 || t.netuid > 65535) throw new SubtensorError('TERMS_INVALID', 'netuid must be a u16')
  if (!isHex(t.voucherKey, 256)) throw new SubtensorError('TERMS_INVALID', 'voucherKey must be a 32-byte 0x-hex key')
  if (!Number.isSafeInteger(t.expiresAt)) throw new SubtensorError('TERMS_INVALID', 'expiresAt must be ms since epoch')
  for (const a of [t.payer, t.payee, t.arbiter]) {
    try { decodeAddress(a) } catch { throw new SubtensorError('TERMS_INVALID', `bad address ${a}`) }
  }
}

/** Terms and asset from an open record read off chain (untrusted: every field checked). */
function parseOpen (d: SubtensorOpenRecord): { terms: EscrowTermsOnChain, asset: EscrowAsset, hotkey?: string, funded?: bigint } | undefined {
  if (typeof d.amount !== 'string' || !/^[1-9][0-9]{0,19}$/.test(d.amount)) return undefined
  if (d.asset !== 'alpha' && d.asset !== 'tao') return undefined
  const terms: EscrowTermsOnChain = {
    escrowId: d.escrowId,
    agreementHash: d.agreementHash,
    payer: d.payer,
    payee: d.payee,
    arbiter: d.arbiter,
    amount: BigInt(d.amount),
    netuid: d.netuid,
    voucherKey: d.voucherKey,
    expiresAt: d.expiresAt
  }
  try { validateTerms(terms) } catch { return undefined }
  if (d.asset === 'alpha') {
    if (typeof d.hotkey !== 'string') return undefined
    try { decodeAddress(d.hotkey) } catch { return undefined }
    let funded = terms.amount
    if (d.funded != null) {
      if (typeof d.funded !== 'string' || !/^[1-9][0-9]{0,19}$/.test(d.funded) || BigInt(d.funded) < terms.amount) return undefined
      funded = BigInt(d.funded)
    }
    return { terms, asset: { kind: 'alpha', netuid: d.netuid }, hotkey: d.hotkey, funded }
  }
  const reason = typeof d.assetReason === 'string' ? d.assetReason.slice(0, 200) : 'funded in TAO'
  return { terms, asset: { kind: 'tao', netuid: d.netuid, reason } }
}
