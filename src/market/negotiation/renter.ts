import type { Accept, AgreementTerms, Committed, Confirm, Propose, SignedAgreement } from '../../wire/agreement.js'
import type { Bid, Envelope, Offer } from '../../wire/market.js'
import { systemClock, type Clock } from '../../util/clock.js'
import type { OrderBook } from '../book/order-book.js'
import { hex } from '../book/keys.js'
import { signAgreementHash, verifyPartySignature } from '../agreement/sign.js'
import type { AgreementStore } from '../agreement/store.js'
import { agreementHash, buildTerms, encodeTerms, type BuildTermsOptions } from '../agreement/terms.js'
import { bytesEqual } from '../../util/bytes.js'
import { NegotiationError } from '../errors.js'
import { matchBid } from '../match.js'
import { CertCache } from '../signing/cert.js'
import type { MessageSigner } from '../signing/signer.js'
import type { Match } from '../types.js'

export interface RenterNegotiatorInit {
  signer: MessageSigner
  store: AgreementStore
  clock?: Clock
  certs?: CertCache
}

/** A proposal in flight. */
export interface Proposal {
  offer: Offer
  terms: AgreementTerms
  hash: Uint8Array<ArrayBuffer>
  /** hex of `hash`: the agreement id in stores and capacity ledgers */
  id: string
  propose: Propose
}

export type ProposalOptions = Omit<BuildTermsOptions, 'now'> & { bidEnvelope?: Envelope }

/**
 * The renter side of negotiation, independent of transport: `prepare` builds and signs the terms
 * for a match; `accepted` verifies the supplier's countersignature and stores the agreement as
 * pending (before the Confirm goes out); `committed` marks it active.
 */
export class RenterNegotiator {
  readonly signer: MessageSigner
  private readonly store: AgreementStore
  private readonly clock: Clock
  private readonly certs: CertCache

  constructor (init: RenterNegotiatorInit) {
    this.signer = init.signer
    this.store = init.store
    this.clock = init.clock ?? systemClock
    this.certs = init.certs ?? new CertCache()
  }

  prepare (bid: Bid, offer: Offer, opts: ProposalOptions): Proposal {
    if (!bytesEqual(bid.renter, this.signer.hotkey)) throw new NegotiationError('TERMS_MISMATCH', 'the bid is not ours')
    const terms = buildTerms(bid, offer, { ...opts, now: this.clock.now() })
    const bytes = encodeTerms(terms)
    const hash = agreementHash(bytes)
    const propose: Propose = {
      terms: bytes,
      renterCert: this.signer.cert,
      renterSignature: signAgreementHash(this.signer, hash),
      ...(opts.bidEnvelope != null ? { bid: opts.bidEnvelope } : {})
    }
    return { offer, terms, hash, id: hex(hash), propose }
  }

  /** Verifies the supplier's Accept and stores the agreement (pending); returns the Confirm to send. */
  async accepted (p: Proposal, accept: Accept, peer: string): Promise<{ agreement: SignedAgreement, confirm: Confirm }> {
    // the countersignature must come from the offer's supplier, certified for that hotkey
    verifyPartySignature(this.certs, accept.supplierCert, p.offer.supplier, p.hash, accept.supplierSignature, this.clock.now())
    const agreement: SignedAgreement = {
      terms: p.propose.terms,
      renterCert: p.propose.renterCert,
      renterSignature: p.propose.renterSignature,
      supplierCert: accept.supplierCert,
      supplierSignature: accept.supplierSignature
    }
    await this.store.put(agreement, 'renter', 'pending', this.clock.now(), peer)
    return { agreement, confirm: { hash: p.hash } }
  }

  /** The supplier committed: the agreement is active. */
  async committed (p: Proposal, c: Committed): Promise<void> {
    if (!bytesEqual(c.hash, p.hash)) throw new NegotiationError('TERMS_MISMATCH', 'committed names another agreement')
    await this.store.setStatus(p.id, 'active', this.clock.now())
  }

  /** The exchange broke after Accept: keep the record but mark it lapsed. */
  async lapsed (p: Proposal): Promise<void> {
    await this.store.setStatus(p.id, 'lapsed', this.clock.now()).catch(() => {})
  }
}

export interface RentOptions<T> {
  /** negotiates one match; throws NegotiationError (or any error) when it fails */
  attempt: (match: Match) => Promise<T>
  /** stop after this many offers tried; default 8 */
  maxAttempts?: number
  /** offers already known to refuse */
  exclude?: Iterable<string>
  /** only offers that state GPU CC evidence (see MatchOptions.requireGpuCc) */
  requireGpuCc?: boolean
  now?: number
  signal?: AbortSignal
}

export interface RentResult<T> {
  match: Match
  result: T
  /** what the offers tried before answered, in order */
  refusals: Array<{ offerKey: string, error: unknown }>
}

/**
 * Matches the bid and negotiates; when a supplier refuses (lost race for the last GPU, changed
 * price, offer gone, or any fault), the offer is excluded and the bid re-matched at once to the next
 * compatible offer. Throws NegotiationError NO_MATCH when none is left, ABORTED on the signal, and
 * NO_FUNDS at once when `attempt` finds the renter's own account short (a supplier's NO_FUNDS
 * moves on to the next offer like any refusal).
 */
export async function rent<T> (book: OrderBook, bid: Bid, opts: RentOptions<T>): Promise<RentResult<T>> {
  const exclude = new Set(opts.exclude ?? [])
  const refusals: RentResult<T>['refusals'] = []
  const max = opts.maxAttempts ?? 8
  for (let i = 0; i < max; i++) {
    if (opts.signal?.aborted === true) throw new NegotiationError('ABORTED', 'aborted')
    const match = matchBid(book, bid, { exclude, now: opts.now, requireGpuCc: opts.requireGpuCc })
    if (match == null) break
    try {
      return { match, result: await opts.attempt(match), refusals }
    } catch (err) {
      // the renter's own finding that its account is short (not a supplier's word, which a lying
      // supplier could give every renter): the next offer, no cheaper, would be short too
      if (err instanceof NegotiationError && err.code === 'NO_FUNDS' && !err.remote) throw err
      refusals.push({ offerKey: match.entry.key, error: err })
      exclude.add(match.entry.key)
    }
  }
  const err = new NegotiationError('NO_MATCH', refusedText(refusals))
  Object.assign(err, { refusals })
  throw err
}

/**
 * Why no offer took the bid, by the suppliers' refusals: their codes, with a hint where every one
 * was the same passing state (GPUs taken since the offer was signed, a cooldown).
 */
export function refusedText (refusals: ReadonlyArray<{ error: unknown }>): string {
  if (refusals.length === 0) return 'no compatible offer accepted the bid'
  const codes = new Map<string, number>()
  for (const r of refusals) {
    const code = (r.error as { code?: unknown }).code
    const key = typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code) ? code : 'ERROR'
    codes.set(key, (codes.get(key) ?? 0) + 1)
  }
  const list = [...codes].map(([c, n]) => n > 1 ? `${c} ×${n}` : c).join(', ')
  const only = codes.size === 1 ? [...codes.keys()][0] : undefined
  const one = refusals.length === 1
  const hint = only === 'NO_CAPACITY'
    ? one ? ': its GPUs were taken since it was offered; try again once a rental ends' : ': their GPUs were taken since they were offered; try again once a rental ends'
    : only === 'RENTER_COOLDOWN' ? `: ${one ? 'its supplier holds' : 'their suppliers hold'} off this renter for a while after its earlier agreements failed` : ''
  return `${one ? 'the one compatible offer' : `all ${refusals.length} compatible offers`} refused the bid (${list})${hint}`
}
