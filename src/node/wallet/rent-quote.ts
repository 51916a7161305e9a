/**
 * What a rental would cost on chain before anything is locked (`bazaar rent --dry-run`): the budget
 * in alpha, its TAO value at the subnet pool's current price, the transaction fees of the escrow's
 * open and close, and on an alpha runtime the swap allowance the open moves in on top of the budget.
 *
 * The fees are the runtime's own (`TransactionPaymentApi` through `paymentInfo`) for the same calls
 * the subtensor adapter submits (adapter.ts): `utility.batchAll([fund, remarkWithEvent(open)])`
 * from the payer, then the payer's `multisig.asMulti(batchAll([payouts..., remarkWithEvent(close)]))`
 * as the first approval and the payee's as the second, which executes it. The counterparties are not known before
 * matching, so placeholder accounts stand in; a fee depends on the call's length and weight, not on
 * which accounts it names.
 */
import { randomBytes } from 'node:crypto'
import type { ApiPromise } from '@polkadot/api'
import { u8aToHex } from '@polkadot/util'
import { cryptoWaitReady, encodeAddress, sr25519PairFromSeed } from '@polkadot/util-crypto'
import { SubtensorChain, escrowSignatories } from '../../escrow/chain/subtensor/index.js'
import { otherSignatories } from '../../escrow/chain/subtensor/keys.js'
import { closeRecord, encodeRecord, openRecord } from '../../escrow/chain/records.js'
import type { EscrowTermsOnChain, Settlement } from '../../escrow/index.js'
import { alphaPrice } from './chain.js'
import { systemClock, type Clock } from '../../util/clock.js'

const UNIT = 1_000_000_000n
/** pallet_multisig threshold of an escrow (2 of payer, payee, arbiter) */
const THRESHOLD = 2

export interface RentChainQuote {
  /** the escrow's asset on this runtime */
  asset: 'alpha' | 'tao'
  netuid: number
  specVersion: number
  /** rao of TAO per whole alpha (the pool's current price) */
  price: bigint
  /** the budget's TAO value at that price (the budget itself where the escrow is in TAO) */
  taoValue: bigint
  /** TAO fee of the open extrinsic (payer) */
  openFee: bigint
  /** alpha moved in at open on top of the budget to cover the swap fee of the move (0 for TAO) */
  swapAllowance: bigint
  /** TAO fees of the close: the first approval and the executing approval */
  closeApproveFee: bigint
  closeExecuteFee: bigint
  /** what the payer holds now in the escrow's asset (what an escrow can take), and in free TAO for fees */
  funds: bigint
  feeFree: bigint
  /** the least free TAO an escrow's open and close need (deposit, existential deposit, fees) */
  feeNeeded: bigint
  notes: string[]
}

/**
 * The on-chain costs of an escrow of `budget` (rao of the escrow's asset) opened by `payer` on
 * `netuid`, computed without signing or submitting anything.
 */
export async function quoteRentOnChain (api: ApiPromise, req: { payer: string, budget: bigint, netuid: number, hotkey?: string, clock?: Clock }): Promise<RentChainQuote> {
  await cryptoWaitReady()
  const chain = new SubtensorChain(api, { api, netuid: req.netuid, ...(req.hotkey != null ? { hotkey: req.hotkey } : {}) }, false)
  const info = await chain.info()
  const asset = await chain.assetFor(req.netuid)
  const notes: string[] = [...info.notes]
  // stand-ins for the counterparties: distinct, valid, and named nowhere else
  const payee = placeholder()
  const arbiter = placeholder()
  const terms: EscrowTermsOnChain = {
    escrowId: u8aToHex(randomBytes(32)),
    agreementHash: u8aToHex(randomBytes(32)),
    payer: req.payer,
    payee,
    arbiter,
    amount: req.budget,
    netuid: req.netuid,
    voucherKey: u8aToHex(randomBytes(32)),
    // a day from now: the fees do not depend on it, only the record's shape does
    expiresAt: (req.clock ?? systemClock).now() + 86_400_000
  }
  const sigs = escrowSignatories(terms)
  const doc: Record<string, unknown> = { ...openRecord(terms, asset) }
  let fund
  let swapAllowance = 0n
  let hotkey: string | undefined
  if (asset.kind === 'alpha') {
    try {
      hotkey = await chain.hotkeyFor(req.netuid)
    } catch {
      hotkey = req.hotkey ?? placeholder()
      notes.push(`subnet ${req.netuid} has no owner hotkey: the escrow needs a configured one`)
    }
    swapAllowance = await chain.feeAllowance(req.budget, req.netuid)
    doc.hotkey = hotkey
    doc.funded = (req.budget + swapAllowance).toString()
    fund = api.tx.subtensorModule.transferStake(sigs.account, hotkey, req.netuid, req.netuid, req.budget + swapAllowance)
  } else {
    doc.assetReason = asset.reason
    fund = api.tx.balances.transferKeepAlive(sigs.account, req.budget)
  }
  const open = api.tx.utility.batchAll([fund, api.tx.system.remarkWithEvent(encodeRecord(doc as never))])
  const openFee = (await open.paymentInfo(req.payer)).partialFee.toBigInt()

  // the close a cooperative settlement submits: both payouts and the close record
  const half = req.budget / 2n
  const settlement: Settlement = {
    escrowId: terms.escrowId,
    kind: 'cooperative',
    payouts: [{ to: payee, amount: half }, { to: req.payer, amount: req.budget - half }],
    voucher: { cumulative: half, sequence: 1_000_000n, signature: u8aToHex(randomBytes(64)) }
  }
  const payouts = settlement.payouts.map((p) => asset.kind === 'alpha'
    ? api.tx.subtensorModule.transferStake(p.to, hotkey!, req.netuid, req.netuid, p.amount)
    : api.tx.balances.transferAllowDeath(p.to, p.amount))
  const call = api.tx.utility.batchAll([...payouts, api.tx.system.remarkWithEvent(encodeRecord(closeRecord(settlement)))])
  const weight = (await call.paymentInfo(sigs.account)).weight
  const others = otherSignatories([sigs.payer, sigs.payee, sigs.arbiter], req.payer)
  // the payer's first approval carries the call, as the adapter sends it (a payee can read it back)
  const approve = api.tx.multisig.asMulti(THRESHOLD, others, null, call.method, weight)
  const execute = api.tx.multisig.asMulti(THRESHOLD, others, { height: 1, index: 1 }, call.method, weight)
  const [closeApproveFee, closeExecuteFee] = await Promise.all([
    approve.paymentInfo(req.payer).then((i) => i.partialFee.toBigInt()),
    execute.paymentInfo(req.payer).then((i) => i.partialFee.toBigInt())
  ])
  const price = asset.kind === 'alpha' ? await alphaPrice(api, req.netuid) : UNIT
  // a subnet without an owner hotkey holds no escrow alpha for anyone (the note above says so)
  const funds = await chain.balance(req.payer, { netuid: req.netuid }).catch(() => 0n)
  const fees = await chain.feeFunds(req.payer)
  return {
    asset: asset.kind,
    netuid: req.netuid,
    specVersion: info.specVersion ?? api.runtimeVersion.specVersion.toNumber(),
    price,
    taoValue: req.budget * price / UNIT,
    openFee,
    swapAllowance,
    closeApproveFee,
    closeExecuteFee,
    funds,
    feeFree: fees.free,
    feeNeeded: fees.needed,
    notes
  }
}

/** A fresh sr25519 account (a valid Ristretto point: the arbiter's key is soft-derived from it). */
function placeholder (): string {
  return encodeAddress(sr25519PairFromSeed(randomBytes(32)).publicKey, 42)
}
