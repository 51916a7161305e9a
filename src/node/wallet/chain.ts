/**
 * Balances and staking of the node's accounts on a Bittensor chain (`@polkadot/api`): free TAO,
 * alpha stake per subnet, the subnet pool's price and the cost of buying alpha (`addStake`).
 *
 * Alpha held by a coldkey under a hotkey is stored as shares: `Alpha(hotkey, coldkey, netuid)`
 * (U64F64), worth `shares * TotalHotkeyAlpha(hotkey, netuid) / TotalHotkeyShares(hotkey, netuid)`
 * alpha, rounded down, the way pallet_subtensor values it.
 */
import type { ApiPromise } from '@polkadot/api'
import type { AccountPair } from '../../util/sr25519.js'
import type { SubmittableExtrinsic } from '@polkadot/api/types'
import type { Codec } from '@polkadot/types/types'
import { SubtensorError, submitAndWait, type Inclusion } from '../../escrow/chain/subtensor/index.js'
import { WalletError, WalletErrorCode } from './errors.js'

/** rao in one whole TAO or alpha */
const UNIT = 1_000_000_000n
/** `swap.feeRate` is parts of u16::MAX */
const FEE_RATE_DENOMINATOR = 65_535n

export interface AlphaStake {
  /**
   * whose stake: the coldkey's, or the hotkey account's own (owned by the hotkey as a coldkey: what
   * a renter's escrows spend, `wallet fund`)
   */
  owner: 'coldkey' | 'hotkey'
  netuid: number
  hotkey: string
  /** alpha in rao */
  alpha: bigint
  /** what the alpha is worth at the pool's current price, in TAO rao */
  taoValue: bigint
  /** rao of TAO per whole alpha */
  price: bigint
}

export interface WalletBalances {
  coldkey: { address: string, free: bigint }
  hotkey: { address: string, free: bigint }
  /** alpha of the coldkey and of the hotkey account, per (hotkey, subnet); empty on a runtime without alpha */
  stakes: AlphaStake[]
  /** what the runtime offers, said once in the output */
  notes: string[]
}

export interface StakeQuote {
  netuid: number
  hotkey: string
  /** TAO spent, rao */
  tao: bigint
  /** rao of TAO per whole alpha before the swap */
  price: bigint
  /** the pool's swap fee, rao of TAO */
  swapFee: bigint
  /** alpha expected, rao (the runtime's simulation where it has one, else from price and fee) */
  alpha: bigint
  /** the transaction fee of the addStake extrinsic, rao of TAO */
  txFee: bigint
  /** where the figures came from */
  source: 'runtime-simulation' | 'pool-reserves'
  /** free TAO of the coldkey now */
  free: bigint
}

export interface StakeResult {
  quote: StakeQuote
  inclusion: Inclusion
  /** the coldkey's alpha under the hotkey before and after, read from storage */
  alphaBefore: bigint
  alphaAfter: bigint
}

function hasAlpha (api: ApiPromise): boolean {
  return api.query.subtensorModule?.alpha != null && api.tx.subtensorModule?.addStake != null
}

/** Free TAO of both accounts, and their alpha per hotkey and subnet (one subnet with `netuid`). */
export async function readBalances (api: ApiPromise, who: { coldkey: string, hotkey: string }, opts: { netuid?: number } = {}): Promise<WalletBalances> {
  const [cold, hot] = await Promise.all([freeOf(api, who.coldkey), freeOf(api, who.hotkey)])
  const out: WalletBalances = { coldkey: { address: who.coldkey, free: cold }, hotkey: { address: who.hotkey, free: hot }, stakes: [], notes: [] }
  if (!hasAlpha(api)) {
    out.notes.push(`runtime ${api.runtimeVersion.specVersion.toNumber()} has no subnet alpha (subtensorModule.alpha)`)
    return out
  }
  const q = api.query.subtensorModule
  const prices = new Map<number, bigint>()
  // the coldkey's stake, and the hotkey account's own: the stake a renter's escrows are paid from
  for (const [owner, ownerAddress] of [['coldkey', who.coldkey], ['hotkey', who.hotkey]] as const) {
    for (const hotkey of await stakingHotkeys(api, ownerAddress, owner === 'coldkey' ? [who.hotkey] : [])) {
      const entries = await q.alpha.entries(hotkey, ownerAddress)
      for (const [key] of entries) {
        const netuid = Number((key.args[2] as Codec).toString())
        if (opts.netuid != null && netuid !== opts.netuid) continue
        const alpha = await alphaOf(api, hotkey, ownerAddress, netuid)
        if (alpha === 0n) continue
        let price = prices.get(netuid)
        if (price == null) { price = await alphaPrice(api, netuid); prices.set(netuid, price) }
        out.stakes.push({ owner, netuid, hotkey, alpha, price, taoValue: alpha * price / UNIT })
      }
    }
  }
  out.stakes.sort((a, b) => a.owner.localeCompare(b.owner) || a.netuid - b.netuid || a.hotkey.localeCompare(b.hotkey))
  return out
}

/** Free balance (rao) of an account. */
export async function freeOf (api: ApiPromise, address: string): Promise<bigint> {
  const acc = await api.query.system.account(address) as unknown as { data: { free: { toBigInt: () => bigint } } }
  return acc.data.free.toBigInt()
}

/** The coldkey's alpha (rao) of `netuid` under `hotkey`, valued from its shares as the pallet does. */
export async function alphaOf (api: ApiPromise, hotkey: string, coldkey: string, netuid: number): Promise<bigint> {
  const q = api.query.subtensorModule
  const [shares, total, totalShares] = await Promise.all([
    q.alpha(hotkey, coldkey, netuid), q.totalHotkeyAlpha(hotkey, netuid), q.totalHotkeyShares(hotkey, netuid)
  ])
  const s = fixedBits(shares)
  const ts = fixedBits(totalShares)
  if (ts === 0n) return 0n
  return s * BigInt(total.toString()) / ts
}

/** The hotkeys `coldkey` staked to (`StakingHotkeys`, where the runtime keeps it), with `also`. */
async function stakingHotkeys (api: ApiPromise, coldkey: string, also: readonly string[]): Promise<Set<string>> {
  const hotkeys = new Set<string>(also)
  const q = api.query.subtensorModule
  if (q.stakingHotkeys != null) {
    for (const h of (await q.stakingHotkeys(coldkey)) as unknown as Codec[]) hotkeys.add(h.toString())
  }
  return hotkeys
}

/**
 * The coldkey's alpha of `netuid` under each hotkey it staked to (`StakingHotkeys`, plus `also`),
 * most first; hotkeys holding none are left out.
 */
export async function alphaByHotkey (api: ApiPromise, coldkey: string, netuid: number, also: readonly string[] = []): Promise<Array<{ hotkey: string, alpha: bigint }>> {
  const out: Array<{ hotkey: string, alpha: bigint }> = []
  for (const hotkey of await stakingHotkeys(api, coldkey, also)) {
    const alpha = await alphaOf(api, hotkey, coldkey, netuid)
    if (alpha > 0n) out.push({ hotkey, alpha })
  }
  return out.sort((a, b) => (a.alpha === b.alpha ? a.hotkey.localeCompare(b.hotkey) : a.alpha > b.alpha ? -1 : 1))
}

/**
 * The pool's price of one alpha in rao of TAO: the runtime's `SwapRuntimeApi.current_alpha_price`
 * where it has it, else the reserves `SubnetTAO / SubnetAlphaIn`. The root subnet (0) is TAO itself.
 */
export async function alphaPrice (api: ApiPromise, netuid: number): Promise<bigint> {
  if (netuid === 0) return UNIT
  const call = (api.call as unknown as Record<string, Record<string, (...a: unknown[]) => Promise<Codec>> | undefined>).swapRuntimeApi
  if (call?.currentAlphaPrice != null) {
    try {
      return BigInt((await call.currentAlphaPrice(netuid)).toString())
    } catch {
      // an older runtime: fall back to the reserves
    }
  }
  const q = api.query.subtensorModule
  const [taoIn, alphaIn] = await Promise.all([q.subnetTAO(netuid), q.subnetAlphaIn(netuid)])
  const a = BigInt(alphaIn.toString())
  if (a === 0n) return 0n
  return BigInt(taoIn.toString()) * UNIT / a
}

/**
 * What buying alpha with `tao` rao costs and gives, before anything is signed: the pool's price,
 * the swap fee, the alpha expected and the extrinsic's fee. Refuses with a typed error what the
 * chain would refuse anyway: a runtime without alpha, a subnet whose token is not enabled, a
 * hotkey the chain does not know, too little free TAO (`opts.free`, else the coldkey's free TAO now).
 */
export async function quoteStake (api: ApiPromise, req: { coldkey: string, hotkey: string, netuid: number, tao: bigint }, opts: { free?: bigint } = {}): Promise<StakeQuote> {
  if (!hasAlpha(api)) {
    throw new WalletError(WalletErrorCode.STAKE_REFUSED, `runtime ${api.runtimeVersion.specVersion.toNumber()} has no subnet alpha to buy`)
  }
  const q = api.query.subtensorModule
  if (q.networksAdded != null && !((await q.networksAdded(req.netuid)) as unknown as { isTrue: boolean }).isTrue) {
    throw new WalletError(WalletErrorCode.STAKE_REFUSED, `subnet ${req.netuid} does not exist on this chain`)
  }
  if (q.subtokenEnabled != null && !((await q.subtokenEnabled(req.netuid)) as unknown as { isTrue: boolean }).isTrue) {
    throw new WalletError(WalletErrorCode.STAKE_REFUSED, `subnet ${req.netuid}'s token is not enabled yet: its alpha cannot be bought`)
  }
  if (q.owner != null) {
    const owner = (await q.owner(req.hotkey)) as unknown as { isEmpty: boolean, toU8a: () => Uint8Array }
    if (owner.isEmpty || owner.toU8a().every((b) => b === 0)) {
      throw new WalletError(WalletErrorCode.STAKE_REFUSED, `hotkey ${req.hotkey} is not registered on this chain (no owner coldkey)`)
    }
  }
  const price = await alphaPrice(api, req.netuid)
  let swapFee: bigint
  let alpha: bigint
  let source: StakeQuote['source']
  const call = (api.call as unknown as Record<string, Record<string, (...a: unknown[]) => Promise<Codec>> | undefined>).swapRuntimeApi
  const sim = call?.simSwapTaoForAlpha != null ? await call.simSwapTaoForAlpha(req.netuid, req.tao).catch(() => undefined) : undefined
  if (sim != null) {
    const j = sim.toJSON() as Record<string, string | number>
    alpha = BigInt(j.alphaAmount ?? 0)
    swapFee = BigInt(j.taoFee ?? 0)
    source = 'runtime-simulation'
  } else {
    // the pool's fee rate, then the constant-product swap of what is left over the reserves (a
    // single full-range position prices the same way): an estimate, labelled as one
    const pool = await poolOf(api, req.netuid)
    const out = swapOut(req.tao, pool.feeRate, pool.tao, pool.alpha)
    swapFee = out.fee
    alpha = pool.tao > 0n && pool.alpha > 0n ? out.amount : (price === 0n ? 0n : (req.tao - swapFee) * UNIT / price)
    source = 'pool-reserves'
  }
  const info = await api.tx.subtensorModule.addStake(req.hotkey, req.netuid, req.tao).paymentInfo(req.coldkey)
  const txFee = info.partialFee.toBigInt()
  // `opts.free`: what the staker will hold when it signs, where a transfer to it comes first
  const free = opts.free ?? await freeOf(api, req.coldkey)
  if (free < req.tao + txFee) {
    throw new WalletError(WalletErrorCode.INSUFFICIENT_FUNDS, `the coldkey ${req.coldkey} has ${free} rao of TAO free; buying needs ${req.tao + txFee} (amount and transaction fee)`)
  }
  return { netuid: req.netuid, hotkey: req.hotkey, tao: req.tao, price, swapFee, alpha, txFee, source, free }
}

/** A subnet's pool: its swap fee rate (parts of u16::MAX; 0 where the runtime has none) and its reserves, in rao. */
export async function poolOf (api: ApiPromise, netuid: number): Promise<{ feeRate: bigint, tao: bigint, alpha: bigint }> {
  const q = api.query.subtensorModule
  const [rate, tao, alpha] = await Promise.all([
    api.query.swap?.feeRate != null ? api.query.swap.feeRate(netuid) : undefined,
    q.subnetTAO(netuid), q.subnetAlphaIn(netuid)
  ])
  return { feeRate: rate != null ? BigInt(rate.toString()) : 0n, tao: BigInt(tao.toString()), alpha: BigInt(alpha.toString()) }
}

/**
 * What `amount` brings out of a constant-product pool after the pool's fee (taken from what goes
 * in): `reserveOut * net / (reserveIn + net)`. A single full-range position prices the same way,
 * so this is an estimate where the runtime has no swap simulation, labelled as one by its callers.
 */
export function swapOut (amount: bigint, feeRate: bigint, reserveIn: bigint, reserveOut: bigint): { amount: bigint, fee: bigint } {
  const fee = amount * feeRate / FEE_RATE_DENOMINATOR
  const net = amount - fee
  return { amount: reserveIn > 0n && reserveOut > 0n ? reserveOut * net / (reserveIn + net) : 0n, fee }
}

/**
 * Signs and submits `subtensorModule.addStake(hotkey, netuid, tao)` with the coldkey, waits for
 * inclusion (and finality), and reads the coldkey's alpha under the hotkey before and after.
 */
export async function addStake (api: ApiPromise, coldkey: AccountPair, quote: StakeQuote, opts: { finality?: boolean, signal?: AbortSignal } = {}): Promise<StakeResult> {
  const alphaBefore = await alphaOf(api, quote.hotkey, coldkey.address, quote.netuid)
  const inclusion = await submitted(api, api.tx.subtensorModule.addStake(quote.hotkey, quote.netuid, quote.tao), coldkey, 'the stake', { finality: opts.finality ?? true, signal: opts.signal })
  const alphaAfter = await alphaOf(api, quote.hotkey, coldkey.address, quote.netuid)
  return { quote, inclusion, alphaBefore, alphaAfter }
}

/** how many times a wallet command signs one transaction again after another signer of its key took the nonce */
const NONCE_ATTEMPTS = 3

/**
 * Signs `tx` with `signer` at the chain's next nonce for it and waits for it (`submitAndWait`). A
 * renter daemon signs its escrows with the same hotkey a wallet command may sign with (`fund`'s
 * stake, `withdraw`), so both can take one nonce: the loser never ran (refused by the pool, or seen
 * used on chain while it waited: NONCE_USED), and is signed again with a fresh nonce, a few times.
 * A transaction the chain refused, or one whose fate was not seen (the connection dropped, the
 * command was stopped), is one line naming `what` (WalletError SUBMIT_FAILED), never a stack.
 */
export async function submitted (api: ApiPromise, tx: SubmittableExtrinsic<'promise'>, signer: AccountPair, what: string, opts: { finality: boolean, signal?: AbortSignal }): Promise<Inclusion> {
  for (let attempt = 1; ; attempt++) {
    let signedWith: { account: string, nonce: number } | undefined
    try {
      const nonce = (await api.rpc.system.accountNextIndex(signer.address)).toNumber()
      signedWith = { account: signer.address, nonce }
      await tx.signAsync(signer, { nonce })
      return await submitAndWait(api, tx, { ...opts, signedWith })
    } catch (err) {
      if (opts.signal?.aborted === true) {
        throw new WalletError(WalletErrorCode.SUBMIT_FAILED, `stopped while waiting for ${what}${signedWith != null ? ` (transaction ${tx.hash.toHex()})` : ''}: it may still be included; bazaar wallet balance shows whether it was`, { cause: err })
      }
      const taken = err instanceof SubtensorError && err.code === 'NONCE_USED'
      if (taken && attempt < NONCE_ATTEMPTS) continue
      const why = taken ? `; another signer of ${signer.address} (a daemon of this home) took its nonce ${NONCE_ATTEMPTS} times: nothing of it ran, and the same command tries again` : ''
      throw new WalletError(WalletErrorCode.SUBMIT_FAILED, `${what} failed: ${(err as Error).message}${why}`, { cause: err })
    }
  }
}

/** The raw bits of a U64F64 value as @polkadot/api decodes it (`{ bits }` or a bare integer). */
function fixedBits (c: unknown): bigint {
  const x = c as { bits?: { toBigInt: () => bigint }, toJSON: () => unknown }
  if (x.bits != null) return x.bits.toBigInt()
  const j = x.toJSON() as { bits?: string | number } | string | number
  if (typeof j === 'object' && j?.bits != null) return BigInt(j.bits)
  return BigInt(j as string)
}
