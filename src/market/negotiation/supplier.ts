import type { Accept, AgreementTerms, Committed, Confirm, Propose, SignedAgreement } from '../../wire/agreement.js'
import type { Offer } from '../../wire/market.js'
import { systemClock, type Clock } from '../../util/clock.js'
import { AgreementStore } from '../agreement/store.js'
import { signAgreementHash, verifyPartySignature } from '../agreement/sign.js'
import { agreementBudget, agreementHash, decodeTerms } from '../agreement/terms.js'
import { offerImages, runtimeServes } from '../match.js'
import { bytesEqual } from '../../util/bytes.js'
import { hex } from '../book/keys.js'
import { DEFAULT_HOLD_MS, DEFAULT_MAX_WAITING_PER_RENTER, MAX_START_WINDOW_MS, MIN_SETTLE_WINDOW_MS } from '../constants.js'
import { NegotiationError } from '../errors.js'
import { CertCache } from '../signing/cert.js'
import type { RenterCooldown } from './cooldown.js'
import type { MessageSigner } from '../signing/signer.js'
import type { CapacityGuard, OfferSource } from '../types.js'

/** How far a proposal's createdAt may be from the supplier's clock. */
const CLOCK_SKEW_MS = 5 * 60_000

export interface SupplierNegotiatorInit {
  signer: MessageSigner
  capacity: CapacityGuard
  offers: OfferSource
  store: AgreementStore
  clock?: Clock
  certs?: CertCache
  /** how long capacity stays held waiting for the renter's Confirm */
  holdMs?: number
  /** arbiters this supplier accepts in escrow terms; default any 32-byte key */
  acceptArbiter?: (arbiter: Uint8Array) => boolean
  /**
   * Committing GPUs costs a renter nothing until its escrow is on chain, so one renter may hold at
   * most this many agreements with the supplier that have not started: those held for its Confirm
   * and those `waiting` counts (committed, no session yet). Past it, RENTER_LIMIT. Default
   * DEFAULT_MAX_WAITING_PER_RENTER.
   */
  maxWaitingPerRenter?: number
  /** committed agreements of a renter (hotkey hex) that no session has started; default none */
  waiting?: (renter: string) => number
  /**
   * renters whose holds ended without a job: one in its cooldown is refused RENTER_COOLDOWN, and a
   * hold it never confirms counts against it (`unconfirmed`). The node records the lapses and
   * withdrawals of committed agreements in the same one. Absent: no cooldown.
   */
  cooldown?: Pick<RenterCooldown, 'remaining' | 'record'>
  /**
   * a last check of a proposal whose renter is authenticated, before any GPU is held (the node's:
   * the renter's funds on chain); throws a NegotiationError to refuse
   */
  admit?: (terms: AgreementTerms) => Promise<void>
  /**
   * an agreement is active: called before it stops counting as held, so that `waiting` counts it
   * from here with no gap (the node hands it to the agreement lifecycle)
   */
  onCommitted?: (agreementId: string, terms: AgreementTerms) => void
}

/** A proposal the supplier accepted and holds capacity for. */
export interface Held {
  hash: string
  accept: Accept
  agreement: SignedAgreement
  terms: AgreementTerms
}

/**
 * The supplier side of negotiation, independent of transport: `propose` re-checks the terms
 * against the supplier's current offer and capacity, holds the GPUs and countersigns; `confirm`
 * commits once the renter has stored the agreement; `abandon` releases a hold the renter never
 * confirmed. Every refusal is a NegotiationError with a code the renter can act on.
 */
export class SupplierNegotiator {
  readonly signer: MessageSigner
  private readonly capacity: CapacityGuard
  private readonly offers: OfferSource
  private readonly store: AgreementStore
  private readonly clock: Clock
  private readonly certs: CertCache
  readonly holdMs: number
  private readonly acceptArbiter: (a: Uint8Array) => boolean
  private readonly held = new Map<string, Held>()
  private readonly init: SupplierNegotiatorInit

  constructor (init: SupplierNegotiatorInit) {
    this.signer = init.signer
    this.capacity = init.capacity
    this.offers = init.offers
    this.store = init.store
    this.clock = init.clock ?? systemClock
    this.certs = init.certs ?? new CertCache()
    this.holdMs = init.holdMs ?? DEFAULT_HOLD_MS
    this.acceptArbiter = init.acceptArbiter ?? ((a) => a.byteLength === 32)
    this.init = init
  }

  /** Checks a proposal, holds capacity, stores the agreement as pending and countersigns. */
  async propose (p: Propose, peer: string): Promise<Held> {
    const now = this.clock.now()
    const terms = decodeTerms(p.terms)
    // [REJECT] the proposal is for another supplier
    if (!bytesEqual(terms.supplier, this.signer.hotkey)) throw new NegotiationError('TERMS_MISMATCH', 'terms name another supplier')
    const offer = this.offers.get(terms.offerId)
    // [IGNORE] the offer is gone: cancelled, expired or unknown
    if (offer == null || offer.cancelled || Number(offer.expiresAt) <= now) {
      throw new NegotiationError('OFFER_GONE', 'offer no longer stands', { offerSequence: offer?.sequence })
    }
    // [REJECT] terms citing a sequence the supplier never signed
    if (terms.offerSequence > offer.sequence) throw new NegotiationError('TERMS_MISMATCH', 'offer sequence from the future')
    // an older sequence is fine when the current offer still carries every term (a plain
    // re-publication); a changed price or shape is caught term by term below
    checkTermsAgainstOffer(terms, offer, now, this.acceptArbiter)
    const hash = agreementHash(p.terms)
    const id = hex(hash)
    // [REJECT] a replayed proposal: these exact terms were already negotiated
    if (this.held.has(id) || (await this.store.get(id)) != null) throw new NegotiationError('TERMS_MISMATCH', 'agreement already exists')
    verifyPartySignature(this.certs, p.renterCert, terms.renter, hash, p.renterSignature, now)
    await this.admitRenter(terms)
    // [IGNORE] counted again with no await before the hold: proposals of one renter whose `admit`
    // ended together each passed the first count before any of them was held
    this.checkRenterLimit(terms)
    // the synchronous hold is what serialises racing renters: exactly one gets the last GPU
    if (!this.capacity.hold(id, terms.gpuModel, terms.gpuCount, this.holdMs)) {
      throw new NegotiationError('NO_CAPACITY', 'not enough free GPUs')
    }
    try {
      const agreement: SignedAgreement = {
        terms: p.terms,
        renterCert: p.renterCert,
        renterSignature: p.renterSignature,
        supplierCert: this.signer.cert,
        supplierSignature: signAgreementHash(this.signer, hash)
      }
      const accept: Accept = {
        supplierCert: this.signer.cert,
        supplierSignature: agreement.supplierSignature,
        holdUntil: BigInt(now + this.holdMs)
      }
      const h: Held = { hash: id, accept, agreement, terms }
      // held from the moment its GPUs are: the renter's limit counts it while the record is written
      this.held.set(id, h)
      await this.store.put(agreement, 'supplier', 'pending', now, peer)
      return h
    } catch (err) {
      this.held.delete(id)
      this.capacity.release(id)
      throw new NegotiationError('STORE_FAILED', 'could not store the agreement', { cause: err })
    }
  }

  /**
   * [IGNORE] RENTER_COOLDOWN and RENTER_LIMIT first (no chain read for a renter refused by them),
   * then the node's own check (`admit`)
   */
  private async admitRenter (terms: AgreementTerms): Promise<void> {
    const wait = this.init.cooldown?.remaining(hex(terms.renter)) ?? 0
    if (wait > 0) throw new NegotiationError('RENTER_COOLDOWN', `the renter's recent holds here ended without a job: ${Math.ceil(wait / 1000)} s before it may propose again`)
    this.checkRenterLimit(terms)
    await this.init.admit?.(terms)
  }

  /** RENTER_LIMIT when the renter holds as many unstarted agreements as it may */
  private checkRenterLimit (terms: AgreementTerms): void {
    const max = this.init.maxWaitingPerRenter ?? DEFAULT_MAX_WAITING_PER_RENTER
    let n = this.init.waiting?.(hex(terms.renter)) ?? 0
    for (const h of this.held.values()) if (bytesEqual(h.terms.renter, terms.renter)) n++
    if (n >= max) throw new NegotiationError('RENTER_LIMIT', `the renter holds ${max} agreements that have not started`)
  }

  /** The renter stored the agreement: commit the held capacity and mark it active. */
  async confirm (hash: string, c: Confirm): Promise<Committed> {
    const h = this.held.get(hash)
    if (h == null) throw new NegotiationError('TIMEOUT', 'no hold for this agreement')
    // held (and counted against its renter's limit) until it is active: from there the caller's
    // `waiting` counts it (see SupplierNegotiatorInit)
    try {
      if (hex(c.hash) !== hash) {
        this.capacity.release(hash)
        throw new NegotiationError('TERMS_MISMATCH', 'confirm names another agreement')
      }
      // [IGNORE] the hold lapsed before the confirm arrived
      if (!this.capacity.commit(hash)) {
        this.init.cooldown?.record(hex(h.terms.renter), 'unconfirmed')
        await this.store.setStatus(hash, 'lapsed', this.clock.now())
        throw new NegotiationError('TIMEOUT', 'hold lapsed')
      }
      try {
        await this.store.setStatus(hash, 'active', this.clock.now())
      } catch (err) {
        this.capacity.release(hash)
        throw new NegotiationError('STORE_FAILED', 'could not store the commitment', { cause: err })
      }
      this.init.onCommitted?.(hash, h.terms)
      return { hash: c.hash }
    } finally {
      this.held.delete(hash)
    }
  }

  /**
   * The renter went away or refused: release the hold and mark the agreement lapsed. It counts
   * against the renter's cooldown (`unconfirmed`).
   */
  async abandon (hash: string): Promise<void> {
    const h = this.held.get(hash)
    if (h == null || !this.held.delete(hash)) return
    this.init.cooldown?.record(hex(h.terms.renter), 'unconfirmed')
    this.capacity.release(hash)
    await this.store.setStatus(hash, 'lapsed', this.clock.now()).catch(() => {})
  }
}

/**
 * Every term of the proposal against the supplier's current offer. Throws TERMS_MISMATCH or
 * PRICE_CHANGED.
 */
export function checkTermsAgainstOffer (terms: AgreementTerms, offer: Offer, now: number, acceptArbiter: (a: Uint8Array) => boolean): void {
  const fail = (what: string): never => { throw new NegotiationError('TERMS_MISMATCH', what) }
  if (terms.pricePerGpuHour !== offer.pricePerGpuHour) throw new NegotiationError('PRICE_CHANGED', 'price differs from the offer', { offerSequence: offer.sequence })
  if (!bytesEqual(terms.enclavePeer, offer.enclavePeer)) fail('enclave peer')
  if (terms.netuid !== offer.netuid) fail('netuid')
  if (terms.region !== offer.region) fail('region')
  if (!offer.teeKinds.includes(terms.teeKind)) fail('tee kind')
  // [REJECT] a job this supplier will not run (an image on a process supplier, or one outside its
  // images; no image on a container supplier): refused now, before the renter opens an escrow
  if (!runtimeServes(offerImages(offer), terms.image)) fail(terms.image === undefined ? 'runtime: this supplier runs jobs in containers, the job names no image' : 'image: this supplier does not run the job\'s image')
  const gpu = offer.gpus.find((g) => g.model === terms.gpuModel && g.memoryMib === terms.memoryMib)
  if (gpu == null) fail('gpu model')
  if (terms.gpuCount <= 0 || (gpu != null && terms.gpuCount > gpu.count)) throw new NegotiationError('NO_CAPACITY', 'more GPUs than offered')
  if (terms.durationS <= 0 || terms.durationS < offer.minDurationS || (offer.maxDurationS !== 0 && terms.durationS > offer.maxDurationS)) fail('duration')
  if (terms.budget !== agreementBudget(terms.pricePerGpuHour, terms.gpuCount, terms.durationS)) fail('budget')
  const created = Number(terms.createdAt)
  if (Math.abs(created - now) > CLOCK_SKEW_MS) fail('createdAt')
  if (Number(terms.startBy) <= now || Number(terms.startBy) > now + MAX_START_WINDOW_MS) fail('startBy')
  const escrow = terms.escrow
  if (escrow == null || !acceptArbiter(escrow.arbiter)) fail('arbiter')
  // [REJECT] the renter could refund before a job started at its startBy has run its duration and been settled
  if (escrow != null && Number(escrow.expiresAt) < Number(terms.startBy) + terms.durationS * 1000 + MIN_SETTLE_WINDOW_MS) fail('escrow expiry')
}
