import { createHash } from 'node:crypto'
import type { Clock } from '../../util/clock.js'
import { GossipAction } from '../../util/errors.js'
import { Bid, Envelope, Offer } from '../schema/market.js'
import { CertCache, DOMAIN, ed25519Verify, signedBytes, ss58 } from '../../market/signing/index.js'
import { validateBidSchema, validateOfferSchema } from '../../market/validation/index.js'
import { MessageError, MessageErrorCode, ignore, reject } from '../../market/validation/errors.js'
import { MAX_CLOCK_SKEW_MS, MAX_ENVELOPE_BYTES, MAX_TTL_MS } from '../../market/validation/constants.js'
import { BoundedMap } from './bounded.js'
import { TOPIC_BIDS, TOPIC_OFFERS } from './topics.js'

export interface ValidatedOffer {
  kind: 'offer'
  offer: Offer
  /** the wire bytes (the envelope), as signed and as forwarded */
  data: Uint8Array
  /** ss58 of the supplier hotkey */
  signer: string
  /** `${signer}/${id}`: the slot a later sequence replaces */
  key: string
  msgId: string
}

export interface ValidatedBid {
  kind: 'bid'
  bid: Bid
  data: Uint8Array
  signer: string
  key: string
  msgId: string
}

export type ValidatedMessage = ValidatedOffer | ValidatedBid

/**
 * Content-derived message id (SHA-256 of the wire bytes, first 20 bytes, base64). With gossipsub's
 * StrictNoSign the id depends only on the data, so the same signed message relayed by different
 * peers is one message, as in Ethereum's consensus gossip.
 */
export function messageId (data: Uint8Array): string {
  return createHash('sha256').update(data).digest().subarray(0, 20).toString('base64')
}

export function msgIdBytes (data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest().subarray(0, 20))
}

function same (a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0
}

/** decode limits: repeated fields are capped during decoding, before any allocation they control */
const OFFER_LIMITS = { limits: { gpus: 16, teeKinds: 4, addrs: 8 } }
const BID_LIMITS = { limits: { addrs: 8, requirements: { teeKinds: 4, regions: 16 } } }

export interface MarketValidatorInit {
  clock: Clock
  certCache?: CertCache
  /** how many message ids to remember for replay detection */
  maxSeen?: number
  /** how many (signer, id) slots to track sequences for */
  maxSlots?: number
}

/**
 * Validation of an untrusted market message, cheapest check first (STYLE: Lodestar's gossip
 * validation): size cap → bounded decode → canonical encoding → schema → seen-cache → expiry and
 * clock skew → sequence → certificate (cached sr25519) → signature (ed25519).
 *
 * Throws a MessageError whose action says whether to penalise the forwarding peer. Only after every
 * check passed does it remember the message id and the slot's sequence.
 */
export class MarketMessageValidator {
  private readonly clock: Clock
  readonly certCache: CertCache
  private readonly seen: BoundedMap<string, number>
  private readonly slots: BoundedMap<string, { sequence: bigint, expiresAt: number }>

  constructor (init: MarketValidatorInit) {
    this.clock = init.clock
    this.certCache = init.certCache ?? new CertCache()
    this.seen = new BoundedMap(init.maxSeen ?? 100_000)
    this.slots = new BoundedMap(init.maxSlots ?? 200_000)
  }

  validate (topic: string, data: Uint8Array): ValidatedMessage {
    if (topic !== TOPIC_OFFERS && topic !== TOPIC_BIDS) throw reject(MessageErrorCode.UNKNOWN_TOPIC)
    // [REJECT] the envelope is larger than the hard cap
    if (data.byteLength > MAX_ENVELOPE_BYTES) throw reject(MessageErrorCode.TOO_LARGE)
    let env: Envelope
    try {
      env = Envelope.decode(data)
    } catch {
      // [REJECT] the bytes are not an envelope
      throw reject(MessageErrorCode.MALFORMED)
    }
    // [REJECT] the envelope is not in canonical form (one message, one encoding, one id)
    if (env.signer == null || !same(Envelope.encode(env), data)) throw reject(MessageErrorCode.NON_CANONICAL)

    const isOffer = topic === TOPIC_OFFERS
    let body: Offer | Bid
    try {
      body = isOffer ? Offer.decode(env.body, OFFER_LIMITS) : Bid.decode(env.body, BID_LIMITS)
    } catch {
      // [REJECT] the body does not decode, or a repeated field is over its limit
      throw reject(MessageErrorCode.MALFORMED, 'body')
    }
    const reencoded = isOffer ? Offer.encode(body as Offer) : Bid.encode(body as Bid)
    if (!same(reencoded, env.body)) throw reject(MessageErrorCode.NON_CANONICAL, 'body')
    if (isOffer) validateOfferSchema(body as Offer)
    else validateBidSchema(body as Bid)

    const party = isOffer ? (body as Offer).supplier : (body as Bid).renter
    // [REJECT] the message names a party other than the certificate's hotkey
    if (!same(party, env.signer.hotkey)) throw reject(MessageErrorCode.SIGNER_MISMATCH)

    const msgId = messageId(data)
    // [IGNORE] already seen (a replay, or the same message along another path)
    if (this.seen.has(msgId)) throw ignore(MessageErrorCode.DUPLICATE)

    const now = this.clock.now()
    const createdAt = Number(body.createdAt)
    const expiresAt = Number(body.expiresAt)
    // [IGNORE] created further in the future than the clock-skew tolerance
    if (createdAt > now + MAX_CLOCK_SKEW_MS) throw ignore(MessageErrorCode.FUTURE_DATED)
    // [IGNORE] the message's expiry is in the past
    if (expiresAt <= now) throw ignore(MessageErrorCode.EXPIRED)
    // [REJECT] the message claims a longer life than any message may have
    if (expiresAt <= createdAt || expiresAt - createdAt > MAX_TTL_MS) throw reject(MessageErrorCode.TTL_TOO_LONG)

    // slots are keyed by the hotkey bytes; the ss58 form (a blake2 checksum) comes from the cert cache
    const key = `${isOffer ? 'o' : 'b'}:${Buffer.from(env.signer.hotkey).toString('base64')}/${body.id}`
    const slot = this.slots.get(key)
    // [IGNORE] an equal or lower sequence than the one we hold for this slot (replay or reordering)
    if (slot != null && body.sequence <= slot.sequence) throw ignore(MessageErrorCode.STALE_SEQUENCE)

    const cert = this.certCache.check(env.signer, now)
    // [REJECT] the signer's certificate is malformed, expired or not signed by its hotkey
    if (cert.verdict === 'malformed') throw reject(MessageErrorCode.CERT_MALFORMED)
    if (cert.verdict === 'expired') throw reject(MessageErrorCode.CERT_EXPIRED)
    if (cert.verdict !== 'ok' || cert.key == null) throw reject(MessageErrorCode.CERT_BAD_SIGNATURE)
    // [REJECT] the certified key did not sign this body
    const domain = isOffer ? DOMAIN.offer : DOMAIN.bid
    if (!ed25519Verify(cert.key, signedBytes(domain, env.body), env.signature)) throw reject(MessageErrorCode.BAD_SIGNATURE)

    this.seen.set(msgId, expiresAt)
    this.slots.set(key, { sequence: body.sequence, expiresAt })
    const signer = cert.address ?? ss58(env.signer.hotkey)
    const slotKey = `${signer}/${body.id}`
    return isOffer
      ? { kind: 'offer', offer: body as Offer, data, signer, key: slotKey, msgId }
      : { kind: 'bid', bid: body as Bid, data, signer, key: slotKey, msgId }
  }

  /** forgets expired slots and ids; the node calls this on a timer */
  prune (): void {
    const now = this.clock.now()
    this.seen.prune((exp) => exp <= now)
    this.slots.prune((s) => s.expiresAt <= now)
  }
}

/** Maps any error to the gossipsub verdict: an untyped error (a local bug) only IGNOREs. */
export function gossipActionOf (err: unknown): GossipAction {
  return err instanceof MessageError ? err.action : GossipAction.IGNORE
}

export function errorCodeOf (err: unknown): string {
  return err instanceof MessageError ? err.code : 'INTERNAL'
}
