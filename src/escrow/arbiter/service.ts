/**
 * The arbiter role (`bazaar arbiter`): checks a request against the rules and the chain's view of
 * the escrow, and approves through the chain port with its own key only what the rules allow.
 * Requests for one escrow are handled one at a time, so two racing requests cannot both pass a
 * check made against the same state.
 */
import type { AccountPair } from '../../util/sr25519.js'
import { systemClock, type Clock } from '../../util/clock.js'
import type { ChainFee, ChainPort, ChainRecord, EscrowOnChain } from '../chain/port.js'
import { EscrowError, throwIfAborted } from '../errors.js'
import { sameAccount } from '../rules/terms.js'
import { checkVoucher } from '../rules/voucher.js'
import type { LevelEscrowStore } from '../store/escrows.js'
import { payerScope, type VoucherStore } from '../store/vouchers.js'
import { decide, type ArbiterRefusal, type ArbiterRequest } from './rules.js'
import { checkRequestSignature } from './request-signature.js'
import { KeyedSerialQueue } from '../../util/serial.js'
import type { SignedVoucher } from '../types.js'

export type ArbiterResponse =
  | { approved: true, executed: boolean, record?: ChainRecord }
  /**
   * `voucher` comes with VOUCHER_CLOSE_PENDING: the voucher of the close this arbiter co-signed, so
   * the payer can approve that close (it pays the payee the voucher and returns the rest)
   */
  | { approved: false, reason: ArbiterRefusal, voucher?: SignedVoucher }

/** What a party calls to reach an arbiter: in process, or over `/bazaar/arbiter/2.0.0` later. */
export interface ArbiterClient {
  request (req: ArbiterRequest, opts?: { signal?: AbortSignal }): Promise<ArbiterResponse>
}

export interface ArbiterComponents {
  chain: ChainPort
  /** the arbiter's account; must be the `arbiter` of the escrows it serves */
  key: AccountPair
  clock?: Clock
  /** remembers the highest voucher seen per escrow (and payer), so a stale voucher is refused */
  vouchers?: VoucherStore
  /**
   * keeps the terms of each escrow this arbiter approves for (role `arbiter`), with its open
   * block: the node's sweep reads them, so what the arbiter left on an escrow is found after a
   * restart too, whatever blocks its chain adapter scanned
   */
  escrows?: Pick<LevelEscrowStore, 'get' | 'put'>
}

export class Arbiter implements ArbiterClient {
  private readonly chain: ChainPort
  private readonly key: AccountPair
  private readonly clock: Clock
  private readonly vouchers?: VoucherStore
  private readonly escrows?: Pick<LevelEscrowStore, 'get' | 'put'>
  private readonly locks = new KeyedSerialQueue<string>()

  constructor (c: ArbiterComponents) {
    this.chain = c.chain
    this.key = c.key
    this.clock = c.clock ?? systemClock
    if (c.vouchers != null) this.vouchers = c.vouchers
    if (c.escrows != null) this.escrows = c.escrows
  }

  get address (): string { return this.key.address }

  /**
   * Brings back what the chain keeps per escrow for this arbiter once the escrow is settled (the
   * subtensor adapter's per-escrow keys and their top-ups); the fees paid for it.
   */
  async sweep (opts: { signal?: AbortSignal } = {}): Promise<ChainFee[]> {
    return await this.chain.sweep?.(this.key, opts) ?? []
  }

  /**
   * The highest voucher this arbiter co-signed a close on for this escrow: kept per payer, since
   * another payer's escrow under the same id must neither stale this one's vouchers nor hold up its
   * refund. What an arbiter stored before vouchers were kept per payer, under the id alone, counts
   * only where it is a valid voucher of this escrow (signed by its voucher key, within its amount).
   */
  private async highestVoucher (escrow: EscrowOnChain, opts: { signal?: AbortSignal }): Promise<SignedVoucher | undefined> {
    if (this.vouchers == null) return undefined
    const id = escrow.terms.escrowId
    const scoped = await this.vouchers.latest(id, { ...opts, scope: payerScope(escrow.terms.payer) })
    if (scoped != null) return scoped
    const unscoped = await this.vouchers.latest(id, opts)
    return unscoped != null && checkVoucher({ terms: escrow.terms, status: 'open' }, unscoped) == null ? unscoped : undefined
  }

  async request (req: ArbiterRequest, opts: { signal?: AbortSignal } = {}): Promise<ArbiterResponse> {
    const id = req.settlement?.escrowId
    if (typeof id !== 'string') return { approved: false, reason: 'MALFORMED_SETTLEMENT' }
    return await this.locks.run(id, async () => await this.handle(req, opts))
  }

  private async handle (req: ArbiterRequest, opts: { signal?: AbortSignal }): Promise<ArbiterResponse> {
    throwIfAborted(opts.signal)
    // [REJECT] a request not signed by the party whose remedy it is, before any chain access
    // (the rules then check the signed terms' parties against the chain's)
    const unsigned = checkRequestSignature(req)
    if (unsigned != null) return { approved: false, reason: unsigned }
    // the escrow of the request's payer: anyone may open one under the same (public) id
    const escrow = await this.chain.get(req.settlement.escrowId, { ...opts, payer: req.terms.payer })
    // [REJECT] an escrow this arbiter does not serve
    if (escrow != null && !sameAccount(escrow.terms.arbiter, this.key.address)) return { approved: false, reason: 'NOT_SIGNATORY' }
    const highest = escrow != null ? await this.highestVoucher(escrow, opts) : undefined
    const decision = decide(req, { escrow, now: this.clock.now(), highest })
    if (!decision.approve) {
      if (decision.reason === 'VOUCHER_CLOSE_PENDING' && highest != null) return { approved: false, reason: decision.reason, voucher: highest }
      return { approved: false, reason: decision.reason }
    }
    // remember the voucher before co-signing, so no lower voucher is approved after a crash
    if (req.voucher != null && escrow != null && this.vouchers != null &&
      checkVoucher({ terms: escrow.terms, status: 'open', best: highest }, req.voucher) == null) {
      await this.vouchers.put(req.voucher, { ...opts, scope: payerScope(escrow.terms.payer) })
    }
    if (escrow != null && this.escrows != null) {
      // kept with its open block (a restart reads back to it), and as asked (the sweep then
      // empties its per-escrow key): the first kept of its id stays, another payer's copy aside
      const prior = await this.escrows.get(escrow.terms.escrowId)
      const openBlock = prior?.openBlock ?? escrow.records.find((r) => r.kind === 'open')?.blockNumber
      const samePayer = prior != null && sameAccount(prior.terms.payer, escrow.terms.payer)
      if (prior == null || (samePayer && (prior.unasked === true || prior.openBlock !== openBlock))) {
        await this.escrows.put({ terms: escrow.terms, role: 'arbiter', createdAt: prior?.createdAt ?? this.clock.now(), ...(openBlock != null ? { openBlock } : {}) })
      }
    }
    // what this arbiter's per-escrow keys still hold for escrows settled since (top-ups, returned
    // deposits) goes back to it first; a failure here must not cost the party its approval
    await this.sweep(opts).catch(() => {})
    try {
      const r = await this.chain.approve(req.settlement, this.key, { ...opts, payer: escrow!.terms.payer })
      return r.record != null ? { approved: true, executed: r.executed, record: r.record } : { approved: true, executed: r.executed }
    } catch (err) {
      if (err instanceof EscrowError) return { approved: false, reason: err.code }
      throw err
    }
  }
}
