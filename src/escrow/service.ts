/**
 * What `bazaar escrow ls|show|close|refund` and the control API do, as functions over the chain
 * port and the node's escrow database. The CLI and the control API are thin wrappers around this.
 */
import type { AccountPair } from '../util/sr25519.js'
import { systemClock, type Clock } from '../util/clock.js'
import { amountToString } from './amount.js'
import type { ArbiterClient } from './arbiter/service.js'
import { signArbiterRequest } from './arbiter/request-signature.js'
import type { ApproveResult, ChainFee, ChainPort, ChainRecord, EscrowOnChain } from './chain/port.js'
import { BazaarError } from '../util/errors.js'
import { decodeRecord, settlementOfClose } from './chain/records.js'
import { EscrowError, throwIfAborted } from './errors.js'
import { ARBITER_ESCROW_RETENTION_MS } from './constants.js'
import { closeSettlement, refundSettlement } from './rules/settlement.js'
import { SettleQueue } from './settle-queue.js'
import { mapBounded } from '../util/abortable.js'
import { sameAccount } from './rules/terms.js'
import { checkVoucher } from './rules/voucher.js'
import type { EscrowRole, LevelEscrowStore, LocalEscrow } from './store/escrows.js'
import type { VoucherStore } from './store/vouchers.js'
import type { EscrowTerms, Settlement, SignedVoucher } from './types.js'

/** escrows of the database handed to one chain sweep */
const SWEEP_PAGE = 1000
/** escrows `list` reads from the chain side by side */
export const LIST_READS = 8
/** the most escrows `list` shows: those stored last */
export const LIST_MAX = 1000
/**
 * How long after its expiry an escrow still counts for `scanStart`: a renter refunds an expired
 * escrow 10 minutes after its expiry, so an hour covers a daemon restarted around then. One stopped
 * for longer reads from `chain.scanFromBlock` for older ones.
 */
export const SCAN_AFTER_EXPIRY_MS = 3_600_000

export interface EscrowServiceComponents {
  chain: ChainPort
  escrows: LevelEscrowStore
  vouchers: VoucherStore
  /** this node's account: the payer or the payee of the escrows it settles */
  account: AccountPair
  /** reaches an arbiter for closes and refunds without the other party */
  arbiter?: ArbiterClient
  clock?: Clock
}

/** One escrow as `ls` shows it; amounts are decimal strings of base units. */
export interface EscrowSummary {
  escrowId: string
  role: EscrowRole
  status: EscrowOnChain['status'] | 'unknown'
  amount: string
  balance: string
  netuid: number
  payer: string
  payee: string
  arbiter: string
  expiresAt: number
  latestVoucher?: { cumulative: string, sequence: string }
}

export interface EscrowDetail extends EscrowSummary {
  agreementHash: string
  voucherKey: string
  account?: string
  asset?: EscrowOnChain['asset']
  records: ChainRecord[]
}

export interface SettleResult {
  settlement: Settlement
  /** true when this call's approval executed the settlement on chain */
  executed: boolean
  record?: ChainRecord
  /** transaction fees this party's approval paid (rao of TAO), where the chain reports them */
  fees?: ChainFee[]
  /**
   * what this call found done before it, rather than did: `approved`, this party's approval of
   * `settlement` was given by an earlier call and waits for the other party's (as after a first
   * close whose approval was left pending); `settled`, the escrow had settled before this
   * cooperative close, and `settlement` and `record` say how (its close or refund record)
   */
  already?: 'approved' | 'settled'
}

export type CloseMode = 'cooperative' | 'arbiter'

export class EscrowService {
  private readonly c: EscrowServiceComponents
  private readonly clock: Clock
  /** closes and refunds, one at a time per escrow; a repeated request joins the one in flight */
  private readonly settling = new SettleQueue<SettleResult>()
  constructor (components: EscrowServiceComponents) {
    this.c = components
    this.clock = components.clock ?? systemClock
  }

  /** the account this node pays escrows from and is paid to (its hotkey's) */
  get address (): string { return this.c.account.address }

  private roleOf (terms: EscrowTerms): EscrowRole | undefined {
    const me = this.c.account.address
    if (sameAccount(terms.payer, me)) return 'payer'
    if (sameAccount(terms.payee, me)) return 'payee'
    if (sameAccount(terms.arbiter, me)) return 'arbiter'
    return undefined
  }

  /**
   * Remembers an escrow this node takes part in (after an agreement, before or after open). With
   * `onChain`, the escrow as read from the chain, it also keeps the block of its open record.
   */
  async track (terms: EscrowTerms, opts: { onChain?: Pick<EscrowOnChain, 'records'> } = {}): Promise<LocalEscrow> {
    const role = this.roleOf(terms)
    if (role == null) throw new EscrowError('NOT_A_PARTY', 'this account is not a party of the escrow')
    const openBlock = opts.onChain?.records.find((r) => r.kind === 'open')?.blockNumber
    const prior = await this.c.escrows.get(terms.escrowId)
    if (prior != null) {
      if (openBlock == null || prior.openBlock != null) return prior
      const seen: LocalEscrow = { ...prior, openBlock }
      await this.c.escrows.put(seen)
      return seen
    }
    const local: LocalEscrow = { terms, role, createdAt: this.clock.now(), ...(openBlock != null ? { openBlock } : {}) }
    await this.c.escrows.put(local)
    return local
  }

  /**
   * What the chain showed opened (`ChainCatchUp.opened`), kept with the open blocks, and how many
   * escrows it kept or gave a block to. An arbiter hears of an escrow from the chain alone until a
   * party asks it, which for a close with the arbiter or a refund comes at the rental's end: it
   * keeps each escrow naming it, so a restarted arbiter reads the chain back to the oldest one
   * still in play (`scanStart`) and finds a long rental's escrow opened before the scan's usual
   * window. Escrows this node pays or is paid from are kept by their roles' own paths, and here
   * only given the open block they lack (one a renter's open that it did not see land, or a
   * supplier's before its escrow check, was kept without it): a node does not take up an escrow
   * naming it that it never agreed to. Another payer's open under the same id changes nothing. An
   * arbiter does not take up an escrow expired longer ago than its unasked escrows are kept
   * (ARBITER_ESCROW_RETENTION_MS, `LevelEscrowStore.pruneArbitrated`).
   */
  async keepOpened (opened: ReadonlyArray<{ terms: EscrowTerms, records: ChainRecord[] }>): Promise<number> {
    let kept = 0
    for (const o of opened) {
      const role = this.roleOf(o.terms)
      if (role == null) continue
      const openBlock = o.records.find((r) => r.kind === 'open')?.blockNumber
      const prior = await this.c.escrows.get(o.terms.escrowId)
      if (prior != null) {
        if (sameAccount(prior.terms.payer, o.terms.payer) && prior.openBlock == null && openBlock != null) {
          await this.c.escrows.put({ ...prior, openBlock })
          kept++
        }
        continue
      }
      // one the pruning would drop at once (a scan from far back) is not taken up
      if (role !== 'arbiter' || o.terms.expiresAt < this.clock.now() - ARBITER_ESCROW_RETENTION_MS) continue
      await this.c.escrows.put({ terms: o.terms, role, createdAt: this.clock.now(), ...(openBlock != null ? { openBlock } : {}), unasked: true })
      kept++
    }
    return kept
  }

  /** Opens the escrow on chain as its payer and tracks it, with the block it opened in. */
  async open (terms: EscrowTerms, opts: { signal?: AbortSignal } = {}): Promise<EscrowOnChain> {
    if (this.roleOf(terms) !== 'payer') throw new EscrowError('NOT_A_PARTY', 'only the payer opens an escrow')
    await this.track(terms)
    const opened = await this.c.chain.open(terms, this.c.account, opts)
    await this.track(terms, { onChain: opened })
    return opened
  }

  /**
   * The block a restarted daemon reads escrow records from at least: the oldest open block of the
   * escrows this node pays, is paid from or arbitrates that may still be in play (unexpired, or
   * expired less than `SCAN_AFTER_EXPIRY_MS` ago, within which a renter refunds an expired one).
   * Without it a daemon stopped for longer than the chain adapter's window (1200 blocks), or an
   * arbiter restarted during a rental longer than it, would not find them on its own.
   * undefined where no such escrow's open block is known (those tracked before it was kept).
   */
  async scanStart (now: number = this.clock.now()): Promise<number | undefined> {
    let oldest: number | undefined
    for await (const e of this.c.escrows.all()) {
      if (e.openBlock == null || e.terms.expiresAt + SCAN_AFTER_EXPIRY_MS <= now) continue
      if (oldest == null || e.openBlock < oldest) oldest = e.openBlock
    }
    return oldest
  }

  /**
   * The escrows of the database as the chain shows them: the LIST_MAX this node stored last, the
   * latest first (an arbiter keeps every escrow naming it, so the database grows with the market;
   * the ones still in play are the recent ones). LIST_READS are read side by side: each read is a
   * round trip or more to the chain's node, and one after another a thousand of them took minutes
   * at a public endpoint's round trip, past the CLI's 30 s wait; the subtensor adapter's reads in
   * flight share one block scan.
   */
  async list (opts: { signal?: AbortSignal } = {}): Promise<EscrowSummary[]> {
    const locals = await this.c.escrows.recent(LIST_MAX)
    return await mapBounded(locals, LIST_READS, async (local, signal) => {
      throwIfAborted(signal)
      const chain = await this.c.chain.get(local.terms.escrowId, { signal, payer: local.terms.payer })
      return await this.summary(local, chain, { signal })
    }, opts.signal)
  }

  async show (escrowId: string, opts: { signal?: AbortSignal } = {}): Promise<EscrowDetail> {
    const local = await this.local(escrowId)
    const chain = await this.c.chain.get(escrowId, { ...opts, payer: local.terms.payer })
    const detail: EscrowDetail = {
      ...(await this.summary(local, chain, opts)),
      agreementHash: local.terms.agreementHash,
      voucherKey: local.terms.voucherKey,
      records: chain?.records ?? []
    }
    if (chain != null) {
      detail.account = chain.account
      detail.asset = chain.asset
    }
    return detail
  }

  /**
   * Closes with the latest stored voucher. 'cooperative' approves the cooperative settlement (it
   * executes once the other party approves the same one); 'arbiter' (payee only) asks the arbiter
   * to co-sign a close with the latest voucher, then approves it, which executes it.
   *
   * One settling operation per escrow at a time (SettleQueue): a close of the same mode already in
   * flight for this escrow is joined and its outcome returned; any other waits for it to end.
   *
   * Asked again after an earlier close left this party's approval pending, it answers with that
   * approval (`already: 'approved'`, not executed) rather than the chain's ALREADY_APPROVED; a
   * cooperative close of an escrow that settled meanwhile answers how it settled
   * (`already: 'settled'`) rather than ESCROW_NOT_OPEN. A close with the arbiter of a settled escrow
   * is still refused (ESCROW_NOT_OPEN): there is nothing left to ask the arbiter for.
   *
   * A payee's cooperative close executes the payer's pending approval of a close on a later voucher
   * than its own latest where there is one (`payersBetterClose`).
   *
   * `ifApproved` (cooperative only): the close executes the other party's pending approval of the
   * same cooperative settlement (or, for the payee, of a better one) where there is one, and sends
   * nothing otherwise (`executed: false`, at once): a payee whose session is gone executes a payer's
   * approval already on chain without waiting for one that may never come.
   */
  async close (escrowId: string, opts: { mode?: CloseMode, signal?: AbortSignal, ifApproved?: boolean } = {}): Promise<SettleResult> {
    const mode = opts.mode ?? 'cooperative'
    const ifApproved = mode === 'cooperative' && opts.ifApproved === true
    // a close only as the second approval is an operation of its own: joining a cooperative close
    // in flight (which may send a first approval) would not be that
    const op = ifApproved ? 'close:cooperative-if-approved' : `close:${mode}`
    return await this.settling.run(escrowId, op, async (signal) => await this.closeNow(escrowId, mode, { signal, ifApproved }), opts)
  }

  private async closeNow (escrowId: string, mode: CloseMode, opts: { signal: AbortSignal, ifApproved?: boolean }): Promise<SettleResult> {
    const onChain = await this.onChain(escrowId, opts)
    if (onChain.status !== 'open') return this.settledAnswer(onChain, mode)
    const terms = onChain.terms
    const role = this.roleOf(terms)
    if (role !== 'payer' && role !== 'payee') throw new EscrowError('NOT_A_PARTY', 'only payer or payee close')
    const latest = await this.c.vouchers.latest(escrowId, opts)
    if (mode === 'cooperative') {
      const settlement = closeSettlement(terms, latest, 'cooperative')
      try {
        if (role !== 'payee') return await this.approve(terms, settlement, opts)
        // the payer's approval of a close on a later voucher than this node's latest (see
        // `payersBetterClose`) before this node's own, and once more after waiting for its own
        const better = await this.payersBetterClose(terms, settlement, opts)
        if (better != null) return better
        const r = await this.approve(terms, settlement, opts)
        return r.executed || r.already != null || opts.ifApproved === true ? r : (await this.payersBetterClose(terms, settlement, opts)) ?? r
      } catch (err) {
        // the other party's approval executed it (or the escrow settled otherwise) between the read
        // above and this approval: how it settled is the answer
        if (!(err instanceof BazaarError && err.code === 'ESCROW_NOT_OPEN')) throw err
        const now = await this.c.chain.get(escrowId, { ...opts, payer: terms.payer })
        if (now == null || now.status === 'open') throw err
        return this.settledAnswer(now, mode)
      }
    }
    if (role !== 'payee') throw new EscrowError('NOT_A_PARTY', 'only the payee closes with the arbiter')
    if (latest == null) throw new EscrowError('NO_VOUCHER', 'no voucher to close with')
    const settlement = closeSettlement(terms, latest, 'voucher')
    return await this.withArbiter(terms, settlement, latest, opts)
  }

  /**
   * The payee executes the payer's pending approval of a cooperative close that pays the payee at
   * least what `own` (the close on its own latest voucher) pays, the most paying one where there
   * are several; undefined where there is none. It closes on a voucher the payer signed and stored
   * that never reached the payee (lost on the way, refused, or sent as the payee's node was killed),
   * which the payee could otherwise claim only with the arbiter, on its own older voucher. The
   * payer's approval on chain is its consent; the voucher's signature is not needed for it.
   */
  private async payersBetterClose (terms: EscrowTerms, own: Settlement, opts: { signal?: AbortSignal }): Promise<SettleResult | undefined> {
    if (this.c.chain.pending == null) return undefined
    const share = (s: Settlement): bigint => s.payouts.reduce((sum, p) => sameAccount(p.to, terms.payee) ? sum + p.amount : sum, 0n)
    let best: Settlement | undefined
    for (const p of await this.c.chain.pending(terms.escrowId, { ...opts, payer: terms.payer })) {
      if (p.settlement.kind !== 'cooperative' || !p.approvals.some((a) => sameAccount(a, terms.payer))) continue
      if (share(p.settlement) >= share(best ?? own)) best = p.settlement
    }
    return best != null ? await this.approve(terms, best, { ...opts, ifApproved: true }) : undefined
  }

  /**
   * The answer to a close of an escrow that is no longer open: to a party's cooperative close, how
   * it settled (its close or refund record); to anything else, ESCROW_NOT_OPEN. A close record that
   * does not read back (remarks are public) is ESCROW_NOT_OPEN too.
   */
  private settledAnswer (e: EscrowOnChain, mode: CloseMode): SettleResult {
    const role = this.roleOf(e.terms)
    const record = mode === 'cooperative' && (role === 'payer' || role === 'payee') ? [...e.records].reverse().find((x) => x.kind !== 'open') : undefined
    const settlement = record != null ? settlementOfRecord(record) : undefined
    if (record == null || settlement == null) throw new EscrowError('ESCROW_NOT_OPEN', `escrow is ${e.status}`)
    return { settlement, executed: false, record, already: 'settled' }
  }

  /**
   * Cancels this party's approvals of settled escrows that never executed (their deposits come
   * back), where the chain keeps such state; the fees paid. An arbiter marks each escrow it keeps
   * that the sweep found nothing left on (`swept`): later sweeps pass over it, and the pruning
   * drops it a week past its expiry.
   */
  async sweep (opts: { signal?: AbortSignal } = {}): Promise<ChainFee[]> {
    if (this.c.chain.sweep == null) return []
    // the escrows of this node's own database too, a page at a time: the chain adapter may not
    // have seen their blocks
    const fees: ChainFee[] = []
    let after: string | undefined
    do {
      const page = await this.c.escrows.list(SWEEP_PAGE, after)
      // an escrow this arbiter was never asked about left nothing on its per-escrow key, and one
      // a sweep found nothing left on has nothing more
      const known = page.filter((e) => e.unasked !== true && e.swept !== true).map((e) => e.terms)
      const swept: Array<{ escrowId: string, payer: string }> = []
      try {
        fees.push(...await this.c.chain.sweep(this.c.account, { ...opts, known, onSwept: (escrowId, payer) => { swept.push({ escrowId, payer }) } }))
      } finally {
        await this.markSwept(swept)
      }
      after = page.length === SWEEP_PAGE ? page[page.length - 1]!.terms.escrowId : undefined
    } while (after != null)
    return fees
  }

  /** marks `swept` the escrows this node arbitrates among those a sweep found nothing left on */
  private async markSwept (swept: ReadonlyArray<{ escrowId: string, payer: string }>): Promise<void> {
    for (const { escrowId, payer } of swept) {
      const local = await this.c.escrows.get(escrowId)
      if (local?.role !== 'arbiter' || local.swept === true || !sameAccount(local.terms.payer, payer)) continue
      await this.c.escrows.put({ ...local, swept: true })
    }
  }

  /**
   * Refunds everything to the payer with the arbiter; the arbiter only agrees after expiry. Where
   * the arbiter already co-signed the payee's close on a voucher of this escrow (VOUCHER_CLOSE_PENDING,
   * with that voucher), this approves that close instead, once the voucher checks out against the
   * escrow's voucher key: it executes, pays the payee the voucher and returns the rest, and the
   * result's settlement is that close. Serialized with the escrow's closes like `close`.
   */
  async refund (escrowId: string, opts: { signal?: AbortSignal } = {}): Promise<SettleResult> {
    return await this.settling.run(escrowId, 'refund', async (signal) => await this.refundNow(escrowId, { signal }), opts)
  }

  private async refundNow (escrowId: string, opts: { signal: AbortSignal }): Promise<SettleResult> {
    const terms = await this.liveTerms(escrowId, opts)
    if (this.roleOf(terms) !== 'payer') throw new EscrowError('NOT_A_PARTY', 'only the payer refunds')
    const settlement = refundSettlement(terms)
    try {
      return await this.withArbiter(terms, settlement, undefined, opts)
    } catch (err) {
      const pending = err instanceof EscrowError && err.detail?.reason === 'VOUCHER_CLOSE_PENDING' ? err.detail.voucher as SignedVoucher | undefined : undefined
      if (pending == null) throw err
      // [REJECT] a voucher this escrow's key did not sign (only the payer's own vouchers are paid)
      const bad = checkVoucher({ terms, status: 'open' }, pending)
      if (bad != null) throw new EscrowError('ARBITER_REFUSED', `the arbiter named a close on a voucher that does not check out (${bad})`, { reason: 'VOUCHER_CLOSE_PENDING' })
      return await this.approve(terms, closeSettlement(terms, pending, 'voucher'), opts)
    }
  }

  /**
   * The arbiter approves first, then this party: a refusal leaves nothing pending. Retries after a
   * crash converge: an arbiter that approved before answers ALREADY_APPROVED and this party's
   * approval executes; an arbiter whose approval executes (this party approved before) ends it.
   * An arbiter's word that its approval executed is checked on chain: where the escrow is still
   * open, this party approves as if it had not.
   */
  private async withArbiter (terms: EscrowTerms, settlement: Settlement, voucher: SignedVoucher | undefined, opts: { signal?: AbortSignal }): Promise<SettleResult> {
    if (this.c.arbiter == null) throw new EscrowError('ARBITER_REFUSED', 'no arbiter configured', { reason: 'NO_ARBITER' })
    const req = signArbiterRequest(voucher != null ? { terms, settlement, voucher } : { terms, settlement }, this.c.account)
    const r = await this.c.arbiter.request(req, opts)
    if (!r.approved && r.reason !== 'ALREADY_APPROVED') {
      throw new EscrowError('ARBITER_REFUSED', 'the arbiter refused', { reason: r.reason, ...(r.voucher != null ? { voucher: r.voucher } : {}) })
    }
    if (r.approved && r.executed) {
      const now = await this.c.chain.get(terms.escrowId, { ...opts, payer: terms.payer })
      if (now != null && now.status !== 'open') {
        const record = [...now.records].reverse().find((x) => x.kind !== 'open') ?? r.record
        return record != null ? { settlement, executed: true, record } : { settlement, executed: true }
      }
    }
    return await this.approve(terms, settlement, opts)
  }

  /**
   * this party's approval of a settlement of the escrow of `terms` (its payer names it on chain). An
   * approval this party gave before (an earlier close whose approval is still pending) is that
   * approval, not an error: the chain's ALREADY_APPROVED (embedded ledger) or its idempotent answer
   * (subtensor) comes back as `already: 'approved'`, not executed.
   */
  private async approve (terms: EscrowTerms, settlement: Settlement, opts: { signal?: AbortSignal, ifApproved?: boolean }): Promise<SettleResult> {
    let r: ApproveResult
    try {
      r = await this.c.chain.approve(settlement, this.c.account, { ...opts, payer: terms.payer })
    } catch (err) {
      if (err instanceof EscrowError && err.code === 'ALREADY_APPROVED') return { settlement, executed: false, already: 'approved' }
      throw err
    }
    const out: SettleResult = r.record != null ? { settlement, executed: r.executed, record: r.record } : { settlement, executed: r.executed }
    if (r.fees != null) out.fees = r.fees
    if (r.alreadyApproved === true && !r.executed) out.already = 'approved'
    return out
  }

  private async local (escrowId: string): Promise<LocalEscrow> {
    const local = await this.c.escrows.get(escrowId)
    if (local == null) throw new EscrowError('UNKNOWN_ESCROW', 'escrow not tracked by this node')
    return local
  }

  /**
   * The terms as recorded on chain (the truth), for an escrow still open: the escrow of this id
   * whose payer the node's own record names (anyone may open another under the same public id)
   */
  private async liveTerms (escrowId: string, opts: { signal?: AbortSignal }): Promise<EscrowTerms> {
    const chain = await this.onChain(escrowId, opts)
    if (chain.status !== 'open') throw new EscrowError('ESCROW_NOT_OPEN', `escrow is ${chain.status}`)
    return chain.terms
  }

  /** the escrow of this id as the chain holds it, whose payer the node's own record names */
  private async onChain (escrowId: string, opts: { signal?: AbortSignal }): Promise<EscrowOnChain> {
    const local = await this.c.escrows.get(escrowId)
    const chain = await this.c.chain.get(escrowId, { ...opts, ...(local != null ? { payer: local.terms.payer } : {}) })
    if (chain == null) throw new EscrowError('UNKNOWN_ESCROW', 'escrow not on chain')
    return chain
  }

  private async summary (local: LocalEscrow, chain: EscrowOnChain | undefined, opts: { signal?: AbortSignal }): Promise<EscrowSummary> {
    const t = local.terms
    const s: EscrowSummary = {
      escrowId: t.escrowId,
      role: local.role,
      status: chain?.status ?? 'unknown',
      amount: amountToString(t.amount),
      balance: amountToString(chain?.balance ?? 0n),
      netuid: t.netuid,
      payer: t.payer,
      payee: t.payee,
      arbiter: t.arbiter,
      expiresAt: t.expiresAt
    }
    const v = await this.c.vouchers.latest(t.escrowId, opts)
    if (v != null) s.latestVoucher = { cumulative: amountToString(v.cumulative), sequence: v.sequence.toString() }
    return s
  }
}

/** the settlement a close or refund record states (its voucher's signature '': a record does not keep it) */
function settlementOfRecord (record: ChainRecord): Settlement | undefined {
  const doc = decodeRecord(record.remark)
  return doc == null || doc.kind === 'open' ? undefined : settlementOfClose(doc)
}
