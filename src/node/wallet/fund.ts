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
 * The hotkey account's own free TAO is spent first: the transfer sends only what the account lacks
 * for the stake and the fee reserve. A run whose stake failed after its transfer landed is
 * therefore taken up by running the same command again, which then sends nothing more.
 * `wallet stake` is not this: it buys alpha owned by the coldkey, which no escrow can spend.
 */
import type { ApiPromise } from '@polkadot/api'
import type { INumber } from '@polkadot/types/types'
import type { AccountPair } from '../../util/sr25519.js'
import { SubtensorChain, type Inclusion } from '../../escrow/chain/subtensor/index.js'
import { alphaOf, freeOf, quoteStake, submitted, type StakeQuote } from './chain.js'
import { quoteRentOnChain } from './rent-quote.js'
import { WalletError, WalletErrorCode } from './errors.js'

/** Rentals whose fees the default reserve covers (each: the open, an approval and an execution). */
export const FEE_RESERVE_RENTALS = 10n

export interface FundRequest {
  coldkey: string
  /** the node's hotkey account: escrows are opened from it */
  account: string
  netuid: number
  /** TAO (rao) to add: staked as alpha on an alpha runtime, sent as TAO on a TAO runtime */
  amount: bigint
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
  /** what escrows can spend now: the account's alpha under `escrowHotkey`, or its free TAO */
  escrowFunds: bigint
}

export interface FundResult {
  plan: FundPlan
  transfer?: Inclusion
  stake?: Inclusion
  /** read back from storage after the last extrinsic */
  escrowFunds: bigint
  accountFree: bigint
}

/**
 * TAO an escrow account should keep free: the fees of `FEE_RESERVE_RENTALS` rentals (the open, the
 * close's approval and its execution, as the runtime prices them for an escrow of `budget`), one
 * pending approval's multisig deposit (DepositBase + 2 x DepositFactor, held until the close
 * executes) and the existential deposit.
 */
export async function defaultFeeReserve (api: ApiPromise, req: { account: string, netuid: number, budget: bigint }): Promise<bigint> {
  const q = await quoteRentOnChain(api, { payer: req.account, budget: req.budget, netuid: req.netuid })
  const c = api.consts as unknown as { multisig: { depositBase: INumber, depositFactor: INumber } }
  const deposit = c.multisig.depositBase.toBigInt() + 2n * c.multisig.depositFactor.toBigInt()
  return FEE_RESERVE_RENTALS * (q.openFee + q.closeApproveFee + q.closeExecuteFee) + deposit + existentialDeposit(api)
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
  if (req.amount <= 0n) throw new WalletError(WalletErrorCode.STAKE_REFUSED, 'the amount must be above 0')
  const chain = new SubtensorChain(api, { api, netuid: req.netuid }, false)
  const asset = (await chain.assetFor(req.netuid)).kind
  const ed = existentialDeposit(api)
  const feeReserve = req.feeReserve ?? await defaultFeeReserve(api, { account: req.account, netuid: req.netuid, budget: req.amount })
  if (feeReserve < ed) {
    throw new WalletError(WalletErrorCode.STAKE_REFUSED, `the fee reserve must be at least the chain's existential deposit, ${ed} rao of TAO: below it the account could be reaped`)
  }
  const [accountFree, coldkeyFree] = await Promise.all([freeOf(api, req.account), freeOf(api, req.coldkey)])
  let transfer: bigint
  let escrowHotkey: string | undefined
  let escrowFunds: bigint
  if (asset === 'alpha') {
    try {
      escrowHotkey = await chain.hotkeyFor(req.netuid)
    } catch {
      throw new WalletError(WalletErrorCode.STAKE_REFUSED, `subnet ${req.netuid} has no owner hotkey: escrows stake its alpha under it, so there is nothing to fund yet`)
    }
    const want = req.amount + feeReserve
    transfer = want > accountFree ? want - accountFree : 0n
    escrowFunds = await alphaOf(api, escrowHotkey, req.account, req.netuid)
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
  let stake: StakeQuote | undefined
  if (escrowHotkey != null) {
    stake = await quoteStake(api, { coldkey: req.account, hotkey: escrowHotkey, netuid: req.netuid, tao: req.amount }, { free: accountFree + transfer })
    if (feeReserve < stake.txFee + ed) {
      throw new WalletError(WalletErrorCode.STAKE_REFUSED, `the fee reserve must cover the stake's own fee and the existential deposit: at least ${stake.txFee + ed} rao of TAO`)
    }
  }
  return {
    asset, netuid: req.netuid, coldkey: req.coldkey, account: req.account, amount: req.amount, feeReserve,
    feeReserveFrom: req.feeReserve != null ? 'given' : 'default', accountFree, coldkeyFree, transfer, transferFee,
    ...(escrowHotkey != null ? { escrowHotkey } : {}), ...(stake != null ? { stake } : {}), escrowFunds
  }
}

/**
 * Carries a plan out: the coldkey's transfer (where the plan has one), then the account's
 * `addStake` (alpha runtime), each waited for until final. A stake that fails leaves the transfer
 * in the account, and the error says that running the command again stakes it.
 */
export async function fund (api: ApiPromise, keys: { coldkey: AccountPair, account: AccountPair }, plan: FundPlan, opts: { signal?: AbortSignal, finality?: boolean } = {}): Promise<FundResult> {
  const wait = { finality: opts.finality ?? true, signal: opts.signal }
  let transfer: Inclusion | undefined
  if (plan.transfer > 0n) {
    const tx = await api.tx.balances.transferKeepAlive(plan.account, plan.transfer).signAsync(keys.coldkey)
    transfer = await submitted(api, tx, 'the transfer to the hotkey account', wait)
  }
  let stake: Inclusion | undefined
  if (plan.stake != null) {
    try {
      const tx = await api.tx.subtensorModule.addStake(plan.stake.hotkey, plan.netuid, plan.amount).signAsync(keys.account)
      stake = await submitted(api, tx, 'the hotkey account\'s stake', wait)
    } catch (err) {
      const sent = transfer != null ? `the transfer of ${plan.transfer} rao landed and stays in the hotkey account; ` : ''
      throw new WalletError(WalletErrorCode.SUBMIT_FAILED, `${(err as Error).message}; ${sent}the same command stakes it (it sends only what the account lacks)`, { cause: err })
    }
  }
  const accountFree = await freeOf(api, plan.account)
  const escrowFunds = plan.escrowHotkey != null ? await alphaOf(api, plan.escrowHotkey, plan.account, plan.netuid) : accountFree
  return { plan, ...(transfer != null ? { transfer } : {}), ...(stake != null ? { stake } : {}), escrowFunds, accountFree }
}
