/**
 * The embedded ledger: an in-process chain with the semantics of the subtensor adapter, for
 * one-process devnets and fast tests.
 *
 * - Accounts hold balances in the escrow asset (the alpha of `netuid`), in base units.
 * - Each escrow has its own account, controlled 2-of-3 by payer, payee and arbiter like
 *   pallet_multisig: a settlement executes when two distinct signatories have approved the same
 *   settlement bytes, and only when its payouts sum to the locked amount.
 * - Every state change makes a block (number + 1, hash chained to the parent); opens, closes and
 *   refunds leave records in the format of records.ts.
 * - Signatures are checked by the ledger: the payer signs the open bytes, each approver the
 *   settlement bytes (settlement-bytes.ts), verified as sr25519 (the node's accounts) against the
 *   signer's ss58 address.
 * - With `path`, the state lives in a level directory; every change is written (fsync) before the
 *   call resolves, so a restarted process finds the same ledger. One process opens a path at a time.
 */
import type { AccountPair } from '../../../util/sr25519.js'
import { blake2b256, multisigAccountId } from '../../../util/blake2.js'
import { concatBytes } from '../../../util/bytes.js'
import { fromHex, toHex0x } from '../../../util/hex.js'
import { sr25519Verify } from '../../../util/sr25519.js'
import { decodeSs58, encodeSs58 } from '../../../util/ss58.js'
import { Level } from 'level'
import { LEVEL_OPTIONS } from '../../../util/level-options.js'
import { systemClock, type Clock } from '../../../util/clock.js'
import { MAX_PENDING_SETTLEMENTS, SS58_PREFIX } from '../../constants.js'
import { EscrowError, throwIfAborted } from '../../errors.js'
import { checkSettlementShape } from '../../rules/settlement.js'
import { checkTerms, isAddress, sameAccount } from '../../rules/terms.js'
import type {
  ApproveOptions, ApproveResult, ChainPort, ChainPortInfo, ChainRecord, EscrowAsset, EscrowOnChain, EscrowTermsOnChain, PendingSettlement, RecordKind, Settlement
} from '../port.js'
import { closeRecord, encodeRecord, openRecord } from '../records.js'
import { openBytes, settlementBytes, settlementHash } from '../settlement-bytes.js'
import { fromJson, toJson } from './codec.js'
import { SerialQueue } from '../../../util/serial.js'

export interface EmbeddedLedgerInit {
  /** the subnet whose alpha the ledger holds */
  netuid: number
  /** level directory for durable state; absent keeps the ledger in memory */
  path?: string
  /** balances credited when the ledger is created (ignored when `path` already holds a ledger) */
  genesis?: Array<{ address: string, amount: bigint }>
  clock?: Clock
}


interface LedgerEscrow {
  terms: EscrowTermsOnChain
  asset: EscrowAsset
  account: string
  status: EscrowOnChain['status']
  balance: bigint
  records: ChainRecord[]
  pending: PendingSettlement[]
}

export interface LedgerHead { number: number, hash: string }

/** Key layout of the level store; versioned, never reuse a retired prefix. */
const KEY_HEAD = 'ledger-v1/head'
const KEY_ACCOUNT = 'ledger-v1/account/'
const KEY_ESCROW = 'ledger-v1/escrow/'
const GENESIS_HASH = toHex0x(new Uint8Array(32))

/** Normalises an ss58 address to prefix 42; throws for anything else. */
function normalise (address: string): string {
  return encodeSs58(decodeSs58(address).accountId, SS58_PREFIX)
}

/**
 * The escrow's own account: blake2-256("bazaar/escrow" || the 2-of-3 multisig account of the three
 * signatories (pallet_multisig derivation) || escrow id). One account per escrow, so that two escrows
 * between the same parties never share funds.
 */
export function escrowAccount (terms: EscrowTermsOnChain): string {
  const multi = multisigAccountId([terms.payer, terms.payee, terms.arbiter].map((a) => decodeSs58(a).accountId), 2)
  return encodeSs58(blake2b256(concatBytes([utf8('bazaar/escrow'), multi, fromHex(terms.escrowId)])), SS58_PREFIX)
}

const encoder = new TextEncoder()
function utf8 (text: string): Uint8Array {
  return encoder.encode(text)
}

/** Changes of one state transition, written in one batch. */
interface Change {
  accounts: Map<string, bigint>
  escrows: Map<string, LedgerEscrow>
  record?: { kind: RecordKind, escrowId: string, remark: string }
  tx: Uint8Array
}

export class EmbeddedLedger implements ChainPort {
  private readonly netuid: number
  private readonly clock: Clock
  private readonly path?: string
  private readonly db?: Level<string, string>
  private readonly accounts = new Map<string, bigint>()
  private readonly escrows = new Map<string, LedgerEscrow>()
  private headState: LedgerHead = { number: 0, hash: GENESIS_HASH }
  private readonly queue = new SerialQueue()
  private closed = false

  private constructor (init: EmbeddedLedgerInit, db?: Level<string, string>) {
    this.netuid = init.netuid
    this.clock = init.clock ?? systemClock
    if (init.path != null) this.path = init.path
    if (db != null) this.db = db
  }

  /** Opens (or creates) a ledger; loads the persisted state when `path` holds one. */
  static async open (init: EmbeddedLedgerInit): Promise<EmbeddedLedger> {
    let db: Level<string, string> | undefined
    if (init.path != null) {
      db = new Level<string, string>(init.path, LEVEL_OPTIONS)
      await db.open()
    }
    const ledger = new EmbeddedLedger(init, db)
    const loaded = await ledger.load()
    if (!loaded) {
      for (const g of init.genesis ?? []) await ledger.mint(g.address, g.amount)
    }
    return ledger
  }

  private async load (): Promise<boolean> {
    if (this.db == null) return false
    const head = await this.db.get(KEY_HEAD)
    if (head == null) return false
    this.headState = fromJson<LedgerHead>(head)
    for await (const [k, v] of this.db.iterator({ gte: KEY_ACCOUNT, lt: KEY_ACCOUNT + '\xff' })) {
      this.accounts.set(k.slice(KEY_ACCOUNT.length), fromJson<bigint>(v))
    }
    for await (const [k, v] of this.db.iterator({ gte: KEY_ESCROW, lt: KEY_ESCROW + '\xff' })) {
      this.escrows.set(k.slice(KEY_ESCROW.length), fromJson<LedgerEscrow>(v))
    }
    return true
  }

  /** Runs state changes one at a time, in call order. */
  private async exclusive<T> (fn: () => Promise<T>): Promise<T> {
    return await this.queue.run(async () => {
      if (this.closed) throw new EscrowError('LEDGER_CLOSED', 'ledger closed')
      return await fn()
    })
  }

  /** Makes a block of one change: durable first (when persisted), then visible in memory. */
  private async commit (change: Change): Promise<ChainRecord | undefined> {
    const number = this.headState.number + 1
    const txHash = toHex0x(blake2b256(concatBytes([change.tx, utf8(`#${number}`)])))
    const hash = toHex0x(blake2b256(concatBytes([fromHex(this.headState.hash), utf8(`#${number}`), fromHex(txHash)])))
    const head = { number, hash }
    let record: ChainRecord | undefined
    if (change.record != null) {
      record = { kind: change.record.kind, escrowId: change.record.escrowId, blockNumber: number, blockHash: hash, txHash, remark: change.record.remark }
      const e = change.escrows.get(change.record.escrowId)
      if (e != null) e.records = [...e.records, record]
    }
    if (this.db != null) {
      const ops: Array<{ type: 'put', key: string, value: string }> = [{ type: 'put', key: KEY_HEAD, value: toJson(head) }]
      for (const [a, v] of change.accounts) ops.push({ type: 'put', key: KEY_ACCOUNT + a, value: toJson(v) })
      for (const [id, e] of change.escrows) ops.push({ type: 'put', key: KEY_ESCROW + id, value: toJson(e) })
      await this.db.batch(ops, { sync: true })
    }
    for (const [a, v] of change.accounts) this.accounts.set(a, v)
    for (const [id, e] of change.escrows) this.escrows.set(id, e)
    this.headState = head
    return record
  }

  async info (): Promise<ChainPortInfo> {
    return {
      adapter: 'embedded',
      asset: { kind: 'alpha', netuid: this.netuid },
      notes: [this.path != null ? `in-process ledger persisted in ${this.path}` : 'in-process ledger in memory'],
      chain: 'embedded'
    }
  }

  /** The latest block. */
  head (): LedgerHead {
    return { ...this.headState }
  }

  /** Credits `amount` to `address` out of nothing: the devnet faucet. */
  async mint (address: string, amount: bigint): Promise<void> {
    if (!isAddress(address)) throw new EscrowError('INVALID_TERMS', 'bad address')
    if (typeof amount !== 'bigint' || amount <= 0n) throw new EscrowError('INVALID_TERMS', 'amount must be positive')
    const a = normalise(address)
    await this.exclusive(async () => {
      await this.commit({ accounts: new Map([[a, (this.accounts.get(a) ?? 0n) + amount]]), escrows: new Map(), tx: utf8(`mint:${a}:${amount}`) })
    })
  }

  async open (terms: EscrowTermsOnChain, payer: AccountPair, opts: { signal?: AbortSignal } = {}): Promise<EscrowOnChain> {
    throwIfAborted(opts.signal)
    const bytes = openBytes(terms, { kind: 'alpha', netuid: this.netuid })
    return await this.submitOpen(terms, payer.address, payer.sign(bytes), opts)
  }

  /** Opens an escrow from the payer's signature over `openBytes(terms, asset)`. */
  async submitOpen (terms: EscrowTermsOnChain, signer: string, signature: Uint8Array, opts: { signal?: AbortSignal } = {}): Promise<EscrowOnChain> {
    throwIfAborted(opts.signal)
    return await this.exclusive(async () => {
      const code = checkTerms(terms, this.clock.now())
      if (code != null) throw new EscrowError(code, 'invalid escrow terms')
      if (terms.netuid !== this.netuid) throw new EscrowError('WRONG_NETUID', `ledger holds netuid ${this.netuid}`)
      if (this.escrows.has(terms.escrowId)) throw new EscrowError('ESCROW_EXISTS', 'escrow id already used')
      const asset: EscrowAsset = { kind: 'alpha', netuid: this.netuid }
      const payer = normalise(terms.payer)
      // [REJECT] only the payer funds its escrow
      if (!isAddress(signer) || normalise(signer) !== payer) throw new EscrowError('NOT_SIGNATORY', 'the payer must open')
      if (!sr25519Verify(openBytes(terms, asset), signature, decodeSs58(payer).accountId)) throw new EscrowError('BAD_SIGNATURE', 'open not signed by the payer')
      const have = this.accounts.get(payer) ?? 0n
      if (have < terms.amount) throw new EscrowError('INSUFFICIENT_BALANCE', 'payer balance below the amount')
      const account = escrowAccount(terms)
      const escrow: LedgerEscrow = { terms: { ...terms }, asset, account, status: 'open', balance: terms.amount, records: [], pending: [] }
      const remark = encodeRecord(openRecord(terms, asset))
      await this.commit({
        accounts: new Map([[payer, have - terms.amount]]),
        escrows: new Map([[terms.escrowId, escrow]]),
        record: { kind: 'open', escrowId: terms.escrowId, remark },
        tx: utf8(remark)
      })
      return this.view(escrow)
    })
  }

  /** `payer`: the escrow's payer as the approver knows it; another is UNKNOWN_ESCROW (ids are unique here) */
  async approve (settlement: Settlement, approver: AccountPair, opts: ApproveOptions = {}): Promise<ApproveResult> {
    throwIfAborted(opts.signal)
    const e = this.escrows.get(settlement.escrowId)
    if (e != null && opts.payer != null && !sameAccount(e.terms.payer, opts.payer)) throw new EscrowError('UNKNOWN_ESCROW', 'no escrow of this id with that payer')
    let bytes: Uint8Array
    try {
      bytes = settlementBytes(settlement)
    } catch {
      throw new EscrowError('MALFORMED_SETTLEMENT', 'settlement cannot be encoded')
    }
    return await this.submitApproval(settlement, approver.address, approver.sign(bytes), opts)
  }

  /**
   * One signatory's approval: `signature` over `settlementBytes(settlement)` by `signer`. The second
   * approval of the same settlement by another signatory executes it.
   */
  async submitApproval (settlement: Settlement, signer: string, signature: Uint8Array, opts: { signal?: AbortSignal, ifApproved?: boolean } = {}): Promise<ApproveResult> {
    throwIfAborted(opts.signal)
    return await this.exclusive(async () => {
      const current = this.escrows.get(settlement.escrowId)
      if (current == null) throw new EscrowError('UNKNOWN_ESCROW', 'no such escrow')
      // [REJECT] a second close of the same escrow
      if (current.status !== 'open') throw new EscrowError('ESCROW_NOT_OPEN', `escrow is ${current.status}`)
      const shape = checkSettlementShape(settlement, current.balance)
      if (shape != null) throw new EscrowError(shape, 'settlement refused')
      if (!settlement.payouts.every((p) => isAddress(p.to))) throw new EscrowError('MALFORMED_SETTLEMENT', 'payout to a bad address')
      const t = current.terms
      const signatories = [t.payer, t.payee, t.arbiter].map(normalise)
      if (!isAddress(signer)) throw new EscrowError('NOT_SIGNATORY', 'bad signer address')
      const who = normalise(signer)
      // [REJECT] only payer, payee and arbiter approve
      if (!signatories.includes(who)) throw new EscrowError('NOT_SIGNATORY', 'not a signatory of this escrow')
      const bytes = settlementBytes(settlement)
      if (!sr25519Verify(bytes, signature, decodeSs58(who).accountId)) throw new EscrowError('BAD_SIGNATURE', 'approval not signed by the signer')
      const hash = settlementHash(settlement)
      const prior = current.pending.find((p) => p.hash === hash)
      if (prior?.approvals.includes(who) === true) throw new EscrowError('ALREADY_APPROVED', 'this signatory already approved')
      // only as the second approval: nothing of this settlement is pending, so nothing is written
      if (opts.ifApproved === true && prior == null) return { executed: false }
      if (prior == null && current.pending.length >= MAX_PENDING_SETTLEMENTS) throw new EscrowError('TOO_MANY_PENDING', 'too many pending settlements')
      const approvals = [...(prior?.approvals ?? []), who]
      if (approvals.length < 2) {
        const pending = [...current.pending, { hash, settlement: cloneSettlement(settlement), approvals }]
        await this.commit({ accounts: new Map(), escrows: new Map([[t.escrowId, { ...current, pending }]]), tx: concatBytes([bytes, utf8(who)]) })
        return { executed: false }
      }
      // two distinct signatories: execute the payouts and write the close record
      const accounts = new Map<string, bigint>()
      for (const p of settlement.payouts) {
        const to = normalise(p.to)
        accounts.set(to, (accounts.get(to) ?? this.accounts.get(to) ?? 0n) + p.amount)
      }
      const kind: RecordKind = settlement.kind === 'refund' ? 'refund' : 'close'
      const remark = encodeRecord(closeRecord(settlement))
      const next: LedgerEscrow = { ...current, status: kind === 'refund' ? 'refunded' : 'closed', balance: 0n, pending: [] }
      const record = await this.commit({
        accounts,
        escrows: new Map([[t.escrowId, next]]),
        record: { kind, escrowId: t.escrowId, remark },
        tx: concatBytes([bytes, utf8(remark)])
      })
      return record != null ? { executed: true, record } : { executed: true }
    })
  }

  /** Settlements of an escrow that have one approval and wait for a second (`payer`: see `get`). */
  async pending (escrowId: string, opts: { signal?: AbortSignal, payer?: string } = {}): Promise<PendingSettlement[]> {
    throwIfAborted(opts.signal)
    const e = this.escrows.get(escrowId)
    if (e == null || e.status !== 'open' || (opts.payer != null && !sameAccount(e.terms.payer, opts.payer))) return []
    return e.pending.map((p) => ({ hash: p.hash, settlement: cloneSettlement(p.settlement), approvals: [...p.approvals] }))
  }

  /** `payer`: the escrow of this id only where that account is its payer (ids are unique here) */
  async get (escrowId: string, opts: { signal?: AbortSignal, payer?: string } = {}): Promise<EscrowOnChain | undefined> {
    throwIfAborted(opts.signal)
    const e = this.escrows.get(escrowId)
    if (e == null || (opts.payer != null && !sameAccount(e.terms.payer, opts.payer))) return undefined
    return this.view(e)
  }

  /** Every escrow on the ledger (devnet inspection). */
  async list (): Promise<EscrowOnChain[]> {
    return [...this.escrows.values()].map((e) => this.view(e))
  }

  async balance (address: string, opts: { signal?: AbortSignal } = {}): Promise<bigint> {
    throwIfAborted(opts.signal)
    if (!isAddress(address)) throw new EscrowError('INVALID_TERMS', 'bad address')
    const a = normalise(address)
    const escrow = [...this.escrows.values()].find((e) => e.account === a)
    return escrow?.balance ?? this.accounts.get(a) ?? 0n
  }

  async close (): Promise<void> {
    if (this.closed) return
    await this.queue.idle()
    this.closed = true
    await this.db?.close()
  }

  private view (e: LedgerEscrow): EscrowOnChain {
    return {
      terms: { ...e.terms },
      asset: { ...e.asset },
      account: e.account,
      status: e.status,
      balance: e.balance,
      records: e.records.map((r) => ({ ...r }))
    }
  }
}

function cloneSettlement (s: Settlement): Settlement {
  const c: Settlement = { escrowId: s.escrowId, kind: s.kind, payouts: s.payouts.map((p) => ({ to: p.to, amount: p.amount })) }
  if (s.voucher != null) c.voucher = { ...s.voucher }
  return c
}

/** Opens an embedded ledger; the factory `bazaar devnet` uses. */
export async function embeddedLedger (init: EmbeddedLedgerInit): Promise<EmbeddedLedger> {
  return await EmbeddedLedger.open(init)
}
