/**
 * Funding the account a renter's escrows are paid from (`bazaar wallet fund`).
 *
 * A renter daemon opens each escrow from the node's hotkey account (it signs with the hotkey, so
 * the coldkey can stay offline), and it pays the open's and the close's fees and the multisig
 * deposit in TAO from that same account. What the escrow holds depends on the runtime (adapter.ts):
 * - where `subtensorModule.transferStake` exists, alpha of the subnet that the hotkey account owns
 *   as a coldkey, staked under the subnet owner's hotkey (`SubtensorChain.hotkeyFor`), so funding
 *   is a TAO transfer from the coldkey to the hotkey account and an `addStake` signed by the hotkey
 *   account under that hotkey;
 * - elsewhere (runtime 218) free TAO of the hotkey account, so funding is the transfer alone.
 *
 * Alpha the coldkey already owns on the subnet can be moved instead of bought (`moveAlpha`), signed
 * by the coldkey: under that same hotkey, `transferStake` to the hotkey account; under another
 * hotkey (a validator it staked to with btcli, or the node's own hotkey), first `moveStake` to the
 * subnet owner's hotkey, then `transferStake` of what arrived. Two extrinsics, not one batch: each
 * move swaps through the subnet's pool and pays its fee in alpha, so what the second moves is known
 * only once the first has landed. A second step that fails leaves the alpha with the coldkey under
 * the owner's hotkey, where `fund --amount` with the amount the error states moves it on.
 *
 * The hotkey account's own free TAO is spent first: the transfer sends only what the account lacks
 * for the stake and the fee reserve. A run whose stake failed after its transfer landed is
 * therefore taken up by running the same command again, which then sends nothing more.
 * `wallet stake` is not this: it buys alpha owned by the coldkey, which no escrow can spend.
 */
import type { ApiPromise } from '@polkadot/api'
import type { INumber } from '@polkadot/types/types'
import type { AccountPair } from '../../util/sr25519.js'
import { SubtensorChain, type Inclusion } from '../../escrow/chain/subtensor/index.js'
import { alphaByHotkey, alphaOf, freeOf, poolOf, quoteStake, submitted, swapOut, type StakeQuote } from './chain.js'
import { quoteRentOnChain } from './rent-quote.js'
import { WalletError, WalletErrorCode } from './errors.js'

/** Rentals whose fees the default reserve covers (each: the open, an approval and an execution). */
export const FEE_RESERVE_RENTALS = 10n

export interface FundRequest {
  coldkey: string
  /** the node's hotkey account: escrows are opened from it */
  account: string
  netuid: number
  /**
   * TAO (rao) to add: staked as alpha on an alpha runtime, sent as TAO on a TAO runtime. 0 with a
   * `feeReserve`: only the TAO for fees (a supplier, which pays fees and no escrows)
   */
  amount: bigint
  /**
   * alpha runtime: alpha (rao) the coldkey owns on the subnet, moved to the account instead of
   * buying alpha with TAO: from under the escrow hotkey where it holds that much there, else from
   * under the hotkey holding the most; `amount` is then 0
   */
  moveAlpha?: bigint
  /** with `moveAlpha`: the hotkey to move it from (default: the escrow hotkey where the coldkey holds that much there, else the hotkey holding the most) */
  moveFrom?: string
  /** TAO (rao) the account is to keep free for fees and deposits; default `defaultFeeReserve` */
  feeReserve?: bigint
}

export interface FundPlan {
  asset: 'alpha' | 'tao'
  netuid: number
  coldkey: string
  account: string
  amount: bigint
  feeReserve: bigint
  /** how the reserve was sized, for the output */
  feeReserveFrom: 'default' | 'given'
  /** free TAO of the account and of the coldkey now */
  accountFree: bigint
  coldkeyFree: bigint
  /** TAO the coldkey sends to the account (0: the account's free TAO covers it) and that transfer's fee */
  transfer: bigint
  transferFee: bigint
  /** alpha runtime: the hotkey the escrows' alpha is staked under, and the account's addStake */
  escrowHotkey?: string
  stake?: StakeQuote
  /**
   * the coldkey's `transferStake` of its alpha under `escrowHotkey` to the account, with what it
   * holds there, the fee and the pool's fee rate (parts of 65,535); `from`: first its `moveStake`
   * of `alpha` from under another hotkey, where it holds `held`, to `escrowHotkey`, and that fee
   */
  move?: { alpha: bigint, coldkeyAlpha: bigint, txFee: bigint, feeRate: bigint, from?: { hotkey: string, held: bigint, txFee: bigint } }
  /** what escrows can spend now: the account's alpha under `escrowHotkey`, or its free TAO */
  escrowFunds: bigint
}

export interface FundResult {
  plan: FundPlan
  transfer?: Inclusion
  stake?: Inclusion
  /** the coldkey's `moveStake` to the escrow hotkey (`plan.move.from`), then its `transferStake` */
  moveToEscrowHotkey?: Inclusion
  move?: Inclusion
  /** alpha (rao) the `transferStake` moved: `plan.move.alpha`, or what the `moveStake` brought */
  moved?: bigint
  /** read back from storage after the last extrinsic */
  escrowFunds: bigint
  accountFree: bigint
}

/**
 * TAO an escrow account should keep free: what a node needs to settle at all (the adapter's
 * `feeFunds`: one pending approval's multisig deposit, held until the close executes, the
 * existential deposit and a margin of fees), which a renter's rental and a supplier's start check,
 * plus the fees of `FEE_RESERVE_RENTALS` rentals (the open, the close's approval and its
 * execution, as the runtime prices them for an escrow of `budget`), so that ten rentals later the
 * account still passes that check.
 */
export async function defaultFeeReserve (api: ApiPromise, req: { account: string, netuid: number, budget: bigint }): Promise<bigint> {
  const q = await quoteRentOnChain(api, { payer: req.account, budget: req.budget, netuid: req.netuid })
  const { needed } = await new SubtensorChain(api, { api, netuid: req.netuid }, false).feeFunds(req.account)
  return needed + FEE_RESERVE_RENTALS * (q.openFee + q.closeApproveFee + q.closeExecuteFee)
}

function existentialDeposit (api: ApiPromise): bigint {
  return (api.consts as unknown as { balances: { existentialDeposit: INumber } }).balances.existentialDeposit.toBigInt()
}

/**
 * What funding would send and stake, read from the chain, with nothing signed. Typed refusals
 * (WalletError) for what the chain would refuse: a subnet without an owner hotkey on an alpha
 * runtime, a coldkey short of the transfer, a reserve below the existential deposit.
 */
export async function planFund (api: ApiPromise, req: FundRequest): Promise<FundPlan> {
  const moving = req.moveAlpha ?? 0n
  if (req.amount < 0n || moving < 0n || (moving > 0n && req.amount > 0n) || (req.amount === 0n && moving === 0n && req.feeReserve == null)) {
    throw new WalletError(WalletErrorCode.STAKE_REFUSED, 'the amount must be above 0, in TAO to spend or in alpha to move')
  }
  const chain = new SubtensorChain(api, { api, netuid: req.netuid }, false)
  const asset = (await chain.assetFor(req.netuid)).kind
  if (moving > 0n && asset !== 'alpha') throw new WalletError(WalletErrorCode.STAKE_REFUSED, 'escrows on this runtime hold TAO, not alpha: fund them with an amount in TAO')
  const ed = existentialDeposit(api)
  const feeReserve = req.feeReserve ?? await defaultFeeReserve(api, { account: req.account, netuid: req.netuid, budget: req.amount + moving })
  if (feeReserve < ed) {
    throw new WalletError(WalletErrorCode.STAKE_REFUSED, `the fee reserve must be at least the chain's existential deposit, ${ed} rao of TAO: below it the account could be reaped`)
  }
  const [accountFree, coldkeyFree] = await Promise.all([freeOf(api, req.account), freeOf(api, req.coldkey)])
  let transfer: bigint
  let escrowHotkey: string | undefined
  let escrowFunds: bigint
  if (asset === 'alpha' && req.amount + moving > 0n) {
    try {
      escrowHotkey = await chain.hotkeyFor(req.netuid)
    } catch {
      throw new WalletError(WalletErrorCode.STAKE_REFUSED, `subnet ${req.netuid} has no owner hotkey: escrows stake its alpha under it, so there is nothing to fund yet`)
    }
    const want = req.amount + feeReserve
    transfer = want > accountFree ? want - accountFree : 0n
    escrowFunds = await alphaOf(api, escrowHotkey, req.account, req.netuid)
  } else if (asset === 'alpha') {
    // the fee reserve alone: topped up to it, nothing staked (a subnet without an owner hotkey has
    // no escrow alpha to show)
    transfer = feeReserve > accountFree ? feeReserve - accountFree : 0n
    escrowHotkey = await chain.hotkeyFor(req.netuid).catch(() => undefined)
    escrowFunds = escrowHotkey != null ? await alphaOf(api, escrowHotkey, req.account, req.netuid) : 0n
  } else {
    // a TAO escrow spends free TAO, so the amount is always sent; the reserve tops up what is there
    transfer = req.amount + (feeReserve > accountFree ? feeReserve - accountFree : 0n)
    escrowFunds = accountFree
  }
  const transferFee = transfer > 0n ? (await api.tx.balances.transferKeepAlive(req.account, transfer).paymentInfo(req.coldkey)).partialFee.toBigInt() : 0n
  if (transfer > 0n && coldkeyFree < transfer + transferFee + ed) {
    throw new WalletError(WalletErrorCode.INSUFFICIENT_FUNDS,
      `the coldkey ${req.coldkey} has ${coldkeyFree} rao of TAO free; sending ${transfer} to the hotkey account needs ${transfer + transferFee + ed} (with the fee and the existential deposit it keeps)`)
  }
  let move: FundPlan['move']
  if (moving > 0n) {
    const coldkeyAlpha = await alphaOf(api, escrowHotkey!, req.coldkey, req.netuid)
    // where the alpha comes from when not from under the escrow hotkey itself
    let source: { hotkey: string, held: bigint } | undefined
    if (req.moveFrom != null && req.moveFrom !== escrowHotkey) {
      source = { hotkey: req.moveFrom, held: await alphaOf(api, req.moveFrom, req.coldkey, req.netuid) }
      if (source.held < moving) {
        throw new WalletError(WalletErrorCode.INSUFFICIENT_FUNDS, `the coldkey ${req.coldkey} holds ${source.held} rao of subnet ${req.netuid}'s alpha under ${req.moveFrom}; moving ${moving} needs that much there`)
      }
    } else if (coldkeyAlpha < moving && req.moveFrom == null) {
      // [refuse] no one hotkey holds the amount: gathering it from several is left to the operator
      const most = (await alphaByHotkey(api, req.coldkey, req.netuid, [req.account])).find((h) => h.hotkey !== escrowHotkey)
      if (most == null || most.alpha < moving) {
        const other = most == null ? 'and none under another hotkey' : `and at most ${most.alpha} under another hotkey (${most.hotkey})`
        throw new WalletError(WalletErrorCode.INSUFFICIENT_FUNDS,
          `the coldkey ${req.coldkey} holds ${coldkeyAlpha} rao of subnet ${req.netuid}'s alpha under ${escrowHotkey!} (the subnet owner's hotkey, which escrows stake under) ${other}; moving ${moving} needs that much under one hotkey`)
      }
      source = { hotkey: most.hotkey, held: most.alpha }
    } else if (coldkeyAlpha < moving) {
      throw new WalletError(WalletErrorCode.INSUFFICIENT_FUNDS, `the coldkey ${req.coldkey} holds ${coldkeyAlpha} rao of subnet ${req.netuid}'s alpha under ${escrowHotkey!} (the subnet owner's hotkey, which escrows stake under); moving ${moving} needs that much there`)
    }
    const from = source != null
      ? { ...source, txFee: (await api.tx.subtensorModule.moveStake(source.hotkey, escrowHotkey!, req.netuid, req.netuid, moving).paymentInfo(req.coldkey)).partialFee.toBigInt() }
      : undefined
    const txFee = (await api.tx.subtensorModule.transferStake(req.account, escrowHotkey!, req.netuid, req.netuid, moving).paymentInfo(req.coldkey)).partialFee.toBigInt()
    const fees = txFee + (from?.txFee ?? 0n)
    if (coldkeyFree < transfer + transferFee + fees + ed) {
      throw new WalletError(WalletErrorCode.INSUFFICIENT_FUNDS, `the coldkey ${req.coldkey} has ${coldkeyFree} rao of TAO free; the move's fee${from != null ? 's' : ''}${transfer > 0n ? ' and the transfer' : ''} need ${transfer + transferFee + fees + ed} (with the existential deposit it keeps)`)
    }
    move = { alpha: moving, coldkeyAlpha, txFee, feeRate: (await poolOf(api, req.netuid)).feeRate, ...(from != null ? { from } : {}) }
  }
  let stake: StakeQuote | undefined
  if (escrowHotkey != null && req.amount > 0n) {
    stake = await quoteStake(api, { coldkey: req.account, hotkey: escrowHotkey, netuid: req.netuid, tao: req.amount }, { free: accountFree + transfer })
    if (feeReserve < stake.txFee + ed) {
      throw new WalletError(WalletErrorCode.STAKE_REFUSED, `the fee reserve must cover the stake's own fee and the existential deposit: at least ${stake.txFee + ed} rao of TAO`)
    }
  }
  return {
    asset, netuid: req.netuid, coldkey: req.coldkey, account: req.account, amount: req.amount, feeReserve,
    feeReserveFrom: req.feeReserve != null ? 'given' : 'default', accountFree, coldkeyFree, transfer, transferFee,
    ...(escrowHotkey != null ? { escrowHotkey } : {}), ...(stake != null ? { stake } : {}), ...(move != null ? { move } : {}), escrowFunds
  }
}

/**
 * Carries a plan out: the coldkey's transfer (where the plan has one), then the account's
 * `addStake` or the coldkey's `transferStake` (alpha runtime), each waited for until final. A stake
 * or move that fails leaves the transfer in the account, and the error says that running the
 * command again does the rest.
 */
export async function fund (api: ApiPromise, keys: { coldkey: AccountPair, account: AccountPair }, plan: FundPlan, opts: { signal?: AbortSignal, finality?: boolean } = {}): Promise<FundResult> {
  const wait = { finality: opts.finality ?? true, signal: opts.signal }
  let transfer: Inclusion | undefined
  if (plan.transfer > 0n) {
    transfer = await submitted(api, api.tx.balances.transferKeepAlive(plan.account, plan.transfer), keys.coldkey, 'the transfer to the hotkey account', wait)
  }
  let stake: Inclusion | undefined
  if (plan.stake != null) {
    try {
      stake = await submitted(api, api.tx.subtensorModule.addStake(plan.stake.hotkey, plan.netuid, plan.amount), keys.account, 'the hotkey account\'s stake', wait)
    } catch (err) {
      const sent = transfer != null ? `the transfer of ${plan.transfer} rao landed and stays in the hotkey account; ` : ''
      throw new WalletError(WalletErrorCode.SUBMIT_FAILED, `${(err as Error).message}; ${sent}the same command stakes it (it sends only what the account lacks)`, { cause: err })
    }
  }
  let moveToEscrowHotkey: Inclusion | undefined
  let move: Inclusion | undefined
  let moved: bigint | undefined
  if (plan.move != null) {
    const sent = transfer != null ? `the transfer of ${plan.transfer} rao landed and stays in the hotkey account; ` : ''
    moved = plan.move.alpha
    if (plan.move.from != null) {
      const before = await alphaOf(api, plan.escrowHotkey!, plan.coldkey, plan.netuid)
      try {
        moveToEscrowHotkey = await submitted(api, api.tx.subtensorModule.moveStake(plan.move.from.hotkey, plan.escrowHotkey!, plan.netuid, plan.netuid, plan.move.alpha), keys.coldkey, `the coldkey's move of its alpha from under ${plan.move.from.hotkey} to the subnet owner's hotkey`, wait)
      } catch (err) {
        throw new WalletError(WalletErrorCode.SUBMIT_FAILED, `${(err as Error).message}; ${sent}nothing was moved to the hotkey account`, { cause: err })
      }
      // what the move brought, after the pool's fee: the coldkey's alpha there grew by it (and by
      // nothing else: dividends of its stake there would be its own alpha all the same); never more
      // than was moved
      const grew = await alphaOf(api, plan.escrowHotkey!, plan.coldkey, plan.netuid) - before
      moved = grew < plan.move.alpha ? grew : plan.move.alpha
    }
    try {
      if (moved <= 0n) throw new Error('the move to the subnet owner\'s hotkey brought no alpha')
      move = await submitted(api, api.tx.subtensorModule.transferStake(plan.account, plan.escrowHotkey!, plan.netuid, plan.netuid, moved), keys.coldkey, 'the coldkey\'s move of its alpha to the hotkey account', wait)
    } catch (err) {
      const again = plan.move.from != null
        ? `the move to the subnet owner's hotkey landed: the coldkey holds ${moved} rao of it there, and fund --amount ${moved}α --raw moves it on`
        : 'the same command moves it (it sends only what the account lacks)'
      throw new WalletError(WalletErrorCode.SUBMIT_FAILED, `${(err as Error).message}; ${sent}${again}`, { cause: err })
    }
  }
  const accountFree = await freeOf(api, plan.account)
  return {
    plan, ...(transfer != null ? { transfer } : {}), ...(stake != null ? { stake } : {}), ...(moveToEscrowHotkey != null ? { moveToEscrowHotkey } : {}),
    ...(move != null ? { move, moved } : {}), escrowFunds: await escrowFundsOf(api, plan, accountFree), accountFree
  }
}

/** What escrows can spend after a fund or withdraw: the account's alpha under the escrow hotkey, or its free TAO. */
async function escrowFundsOf (api: ApiPromise, plan: { asset: 'alpha' | 'tao', escrowHotkey?: string, account: string, netuid: number }, accountFree: bigint): Promise<bigint> {
  if (plan.asset === 'tao') return accountFree
  return plan.escrowHotkey != null ? await alphaOf(api, plan.escrowHotkey, plan.account, plan.netuid) : 0n
}

/** rao of TAO or alpha in one whole unit */
const UNIT = 1_000_000_000n

export interface WithdrawRequest {
  coldkey: string
  account: string
  netuid: number
  /** escrow funds to take back (alpha on an alpha runtime, TAO on a TAO runtime); absent: all of them */
  amount?: bigint
}

export interface WithdrawPlan {
  asset: 'alpha' | 'tao'
  netuid: number
  coldkey: string
  account: string
  /** what escrows can spend now, and what this takes of it */
  escrowFunds: bigint
  amount: bigint
  /** alpha runtime: the hotkey the escrow stake is under, and the TAO the unstake is expected to bring */
  escrowHotkey?: string
  expectedTao?: bigint
  /** TAO runtime: what stays free in the account for fees (the default reserve of `fund`) */
  feeReserve?: bigint
  /** free TAO of the account now */
  accountFree: bigint
}

export interface WithdrawResult {
  plan: WithdrawPlan
  unstake?: Inclusion
  transfer?: Inclusion
  /** TAO sent to the coldkey */
  sent: bigint
  escrowFunds: bigint
  accountFree: bigint
}

/**
 * What taking escrow funds back to the coldkey would do, with nothing signed: on an alpha runtime
 * the account unstakes `amount` alpha (all of it by default) from under the escrow hotkey, and the
 * TAO that brings goes to the coldkey, the account's own free TAO (its fee reserve) staying; on a TAO
 * runtime the account sends `amount` TAO (by default all above `fund`'s fee reserve). WalletError
 * for an amount above the funds, or nothing to take.
 */
export async function planWithdraw (api: ApiPromise, req: WithdrawRequest): Promise<WithdrawPlan> {
  const chain = new SubtensorChain(api, { api, netuid: req.netuid }, false)
  const asset = (await chain.assetFor(req.netuid)).kind
  const accountFree = await freeOf(api, req.account)
  const base = { asset, netuid: req.netuid, coldkey: req.coldkey, account: req.account, accountFree }
  if (asset === 'alpha') {
    let escrowHotkey: string
    try {
      escrowHotkey = await chain.hotkeyFor(req.netuid)
    } catch {
      throw new WalletError(WalletErrorCode.STAKE_REFUSED, `subnet ${req.netuid} has no owner hotkey: there are no escrow funds on it`)
    }
    const escrowFunds = await alphaOf(api, escrowHotkey, req.account, req.netuid)
    const amount = checkedAmount(req.amount, escrowFunds, 'α')
    const expectedTao = await taoForAlpha(api, req.netuid, amount)
    return { ...base, escrowFunds, amount, escrowHotkey, expectedTao }
  }
  const feeReserve = await defaultFeeReserve(api, { account: req.account, netuid: req.netuid, budget: UNIT })
  const spendable = accountFree > feeReserve ? accountFree - feeReserve : 0n
  const amount = checkedAmount(req.amount, spendable, 'τ')
  return { ...base, escrowFunds: accountFree, amount, feeReserve }
}

function checkedAmount (asked: bigint | undefined, available: bigint, symbol: string): bigint {
  const amount = asked ?? available
  if (amount <= 0n) throw new WalletError(WalletErrorCode.INSUFFICIENT_FUNDS, 'the hotkey account holds no escrow funds to take back')
  if (amount > available) throw new WalletError(WalletErrorCode.INSUFFICIENT_FUNDS, `the hotkey account can give back at most ${available} rao ${symbol}; asked for ${amount}`)
  return amount
}

/** TAO (rao) that selling `alpha` into the subnet's pool is expected to bring: the pool's fee, then the constant-product swap */
async function taoForAlpha (api: ApiPromise, netuid: number, alpha: bigint): Promise<bigint> {
  const pool = await poolOf(api, netuid)
  return swapOut(alpha, pool.feeRate, pool.alpha, pool.tao).amount
}

/**
 * Carries a withdrawal out: the account's `removeStake` (alpha runtime), then its transfer to the
 * coldkey of what the unstake brought (read from its free balance before and after), or of the
 * amount (TAO runtime). An unstake whose transfer fails leaves the TAO in the account, and the error
 * says so.
 */
export async function withdraw (api: ApiPromise, keys: { account: AccountPair }, plan: WithdrawPlan, opts: { signal?: AbortSignal, finality?: boolean } = {}): Promise<WithdrawResult> {
  const wait = { finality: opts.finality ?? true, signal: opts.signal }
  let unstake: Inclusion | undefined
  let sent = plan.amount
  if (plan.escrowHotkey != null) {
    const before = await freeOf(api, plan.account)
    unstake = await submitted(api, api.tx.subtensorModule.removeStake(plan.escrowHotkey, plan.netuid, plan.amount), keys.account, 'the unstake from the escrow stake', wait)
    const after = await freeOf(api, plan.account)
    sent = after > before ? after - before : 0n
  }
  let transfer: Inclusion | undefined
  if (sent > 0n) {
    try {
      transfer = await submitted(api, api.tx.balances.transferKeepAlive(plan.coldkey, sent), keys.account, 'the transfer to the coldkey', wait)
    } catch (err) {
      const kept = unstake != null ? `; the unstaked ${sent} rao of TAO stay free in the hotkey account` : ''
      throw new WalletError(WalletErrorCode.SUBMIT_FAILED, `${(err as Error).message}${kept}`, { cause: err })
    }
  }
  const accountFree = await freeOf(api, plan.account)
  return { plan, ...(unstake != null ? { unstake } : {}), ...(transfer != null ? { transfer } : {}), sent, escrowFunds: await escrowFundsOf(api, plan, accountFree), accountFree }
}
