import type { KeyObject } from 'node:crypto'
import * as nodeCrypto from 'node:crypto'
import type { Clock } from '../../util/clock.js'
import { Bid, Envelope, Offer, type SignerCert } from '../../wire/market.js'
import { type CertCache, DOMAIN, ed25519VerifyRaw, signedBytes, ss58 } from '../../market/signing/index.js'
import {
  validateBidLifetime, validateBidParty, validateBidSchema, validateOfferLifetime, validateOfferParty, validateOfferSchema
} from '../../market/validation/index.js'
import { MessageErrorCode, bidErrors, offerErrors, type BidErrorCode, type MessageErrors, type OfferErrorCode } from '../../market/validation/errors.js'
import { MAX_ENVELOPE_BYTES } from '../../market/validation/constants.js'
import type { BoundedMap } from '../../util/bounded-map.js'
import { bytesEqual } from '../../util/bytes.js'
import { BID_SCHEMA, Canonical, ENVELOPE_SCHEMA, OFFER_SCHEMA, scan, type Schema } from './canonical.js'
import { TOPIC_BIDS, TOPIC_OFFERS } from './topics.js'
import type { VerifyPool } from './verify-pool.js'
import { epochSeconds, type SlotSequences } from './slot-sequences.js'

/**
 * Gossip validation as a table (STYLE: Lodestar's gossip validation): for each topic, what differs
 * between the message types (`TopicRules`: decoder, canonical schema, the market/validation domain
 * checks, signature domain) and its steps in the order they run, cheapest first. Every step is a
 * function tagged with the rules it enforces; docs/protocol.md §2.5 lists the same order with each
 * code and verdict. The signature comes last, outside the list, since it runs either here or in a
 * VerifyPool.
 */

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
  return (gossipIds.get(data) ?? messageDigest(data)).toString('base64')
}

/** the first 20 bytes of SHA-256 of the wire bytes: the message id before its encoding */
export function messageDigest (data: Uint8Array): Buffer {
  return sha256(data).subarray(0, 20)
}

/**
 * SHA-256 in one call (`crypto.hash`, Node 20.12 and later): no Hash object per message (the id
 * is hashed once per message received; 2.5 µs a message id against 3.3 µs through `createHash`
 * on this machine). Older runtimes fall back to `createHash`.
 */
const sha256: (data: Uint8Array) => Buffer = typeof nodeCrypto.hash === 'function'
  ? (data) => nodeCrypto.hash('sha256', data, 'buffer')
  : (data) => nodeCrypto.createHash('sha256').update(data).digest()

/**
 * The ids gossipsub computed (its msgIdFn, `gossipMessageDigest`) by the very byte array it then
 * hands the topic validator: the seen-cache step takes the id from here instead of hashing the
 * same bytes a second time. Weak: an entry lives only as long as gossipsub holds the message.
 */
const gossipIds = new WeakMap<Uint8Array, Buffer>()

/** `messageDigest` for gossipsub's msgIdFn: remembered for the validator of the same bytes */
export function gossipMessageDigest (data: Uint8Array): Buffer {
  const d = messageDigest(data)
  gossipIds.set(data, d)
  return d
}

/** What every market message body carries, whatever its type: the fields the pipeline reads. */
interface MarketBody {
  id: string
  sequence: bigint
}

/** A verified certificate: the signing key, and the hotkey's ss58 name. */
interface CertifiedKey { key: KeyObject, address?: string }

/**
 * What the steps learn about one message, filled in as they run: a step reads only what an earlier
 * step of the table set (`data` after the size cap, `env` after the envelope decode, and so on).
 */
export class Candidate<B extends MarketBody> {
  /** our own exact-size copy of the wire bytes: everything decoded is a view into it */
  data!: Uint8Array
  env!: Envelope
  signer!: SignerCert
  body!: B
  msgId!: string
  /** `o:`/`b:` + hotkey base64 + `/` + id: the sequence slot */
  slot!: string
  /** set by the certificate step, or left for the validator's certificate turn (see `deferSlowCert`) */
  cert?: CertifiedKey

  constructor (
    readonly wire: Uint8Array,
    readonly now: number,
    /** an uncached certificate is left unverified, for a turn of the event loop of its own */
    readonly deferSlowCert: boolean
  ) {}
}

/** The state the steps share between messages: the validator's caches. */
export interface ValidationState {
  readonly clock: Clock
  readonly certCache: CertCache
  /** accepted message ids until their expiry (in `epochSeconds`) */
  readonly seen: BoundedMap<string, number>
  /** the highest accepted sequence of each slot, until its message's expiry */
  readonly slots: SlotSequences
  /** waits for the turn in which a certificate not seen before is verified (and cached) */
  readonly certTurn: (signer: SignerCert) => Promise<void>
}

/** Everything that differs between the message types. */
export interface TopicRules<B extends MarketBody> {
  readonly topic: string
  /** how this type's checks throw (OfferError, BidError) */
  readonly errors: MessageErrors<OfferErrorCode | BidErrorCode>
  /** decodes a body, repeated fields capped during decoding, before any allocation they control */
  readonly decode: (bytes: Uint8Array) => B
  readonly encode: (body: B) => Uint8Array
  /** the canonical form of the body (canonical.ts) */
  readonly canonical: Schema
  /** market/validation: schema (§2.4), lifetime, party */
  readonly schema: (body: B) => void
  readonly lifetime: (body: B, now: number) => void
  readonly party: (body: B, hotkey: Uint8Array) => void
  /** the body's expiry, ms since the epoch */
  readonly expiresAt: (body: B) => number
  /** slot key prefix: offers and bids of one party may share an id */
  readonly slotPrefix: string
  /** the signature's domain tag, and its index for the VerifyPool */
  readonly domain: string
  readonly poolDomain: 0 | 1
}

export type StepName = 'size' | 'envelope' | 'body' | 'schema' | 'seen' | 'lifetime' | 'sequence' | 'party' | 'certificate'

/** One check of the table; throws the topic's error (or a market/validation one) to refuse. */
export interface Step<B extends MarketBody> {
  readonly name: StepName
  readonly run: (m: Candidate<B>, t: TopicRules<B>, s: ValidationState) => void
}

/** One row of the table: a topic's rules, its steps in order, and what an accepted message becomes. */
export interface TopicValidation<B extends MarketBody, V extends ValidatedMessage> extends TopicRules<B> {
  readonly steps: ReadonlyArray<Step<B>>
  readonly accepted: (body: B, data: Uint8Array, signer: string, key: string, msgId: string) => V
}

// ---------------------------------------------------------------- the steps, cheapest first


/** the one-pass canonical check, with the re-encoding fallback for a non-ASCII string */
function isCanonical (bytes: Uint8Array, s: Schema, encode: () => Uint8Array): boolean {
  const r = scan(bytes, s)
  return r === Canonical.YES || (r === Canonical.UNSURE && bytesEqual(encode(), bytes))
}

function size<B extends MarketBody> (): Step<B> {
  return {
    name: 'size',
    run (m, t) {
      // [REJECT] the envelope is larger than the hard cap
      if (m.wire.byteLength > MAX_ENVELOPE_BYTES) throw t.errors.reject(MessageErrorCode.TOO_LARGE)
      // our own exact-size copy: what an accepted message keeps never pins the frame it arrived in
      m.data = new Uint8Array(m.wire.byteLength)
      m.data.set(m.wire)
    }
  }
}

function envelope<B extends MarketBody> (): Step<B> {
  return {
    name: 'envelope',
    run (m, t) {
      let env: Envelope
      try {
        env = Envelope.decode(m.data)
      } catch {
        // [REJECT] the bytes are not an envelope
        throw t.errors.reject(MessageErrorCode.MALFORMED)
      }
      // [REJECT] the envelope carries no certificate, or is not in canonical form (one message, one
      // encoding, one id)
      if (env.signer == null || !isCanonical(m.data, ENVELOPE_SCHEMA, () => Envelope.encode(env))) throw t.errors.reject(MessageErrorCode.NON_CANONICAL)
      m.env = env
      m.signer = env.signer
    }
  }
}

function body<B extends MarketBody> (): Step<B> {
  return {
    name: 'body',
    run (m, t) {
      let b: B
      try {
        b = t.decode(m.env.body)
      } catch {
        // [REJECT] the body does not decode, or a repeated field is over its limit
        throw t.errors.reject(MessageErrorCode.MALFORMED, 'body')
      }
      // [REJECT] the body is not in canonical form
      if (!isCanonical(m.env.body, t.canonical, () => t.encode(b))) throw t.errors.reject(MessageErrorCode.NON_CANONICAL, 'body')
      m.body = b
    }
  }
}

function schema<B extends MarketBody> (): Step<B> {
  // [REJECT] a field outside its schema (§2.4): BAD_VERSION, BAD_FIELD with the field's path
  return { name: 'schema', run (m, t) { t.schema(m.body) } }
}

function seen<B extends MarketBody> (): Step<B> {
  return {
    name: 'seen',
    run (m, t, s) {
      // the frame's bytes, not our copy: gossipsub already hashed that very array (`gossipIds`)
      m.msgId = messageId(m.wire)
      // [IGNORE] already seen (a replay, or the same message along another path)
      if (s.seen.has(m.msgId)) throw t.errors.ignore(MessageErrorCode.DUPLICATE)
    }
  }
}

function lifetime<B extends MarketBody> (): Step<B> {
  // [IGNORE] dated beyond the clock-skew tolerance, or expired; [REJECT] a life longer than allowed
  return { name: 'lifetime', run (m, t) { t.lifetime(m.body, m.now) } }
}

function sequence<B extends MarketBody> (): Step<B> {
  return {
    name: 'sequence',
    run (m, t, s) {
      // slots are keyed by the hotkey bytes; the ss58 form (a blake2 checksum) comes from the cert cache
      m.slot = slotKey(t.slotPrefix, m.signer.hotkey, m.body.id)
      // [IGNORE] an equal or lower sequence than the one we hold for this slot (replay or reordering)
      if (s.slots.isStale(m.slot, m.body.sequence)) throw t.errors.ignore(MessageErrorCode.STALE_SEQUENCE)
    }
  }
}

/**
 * `<prefix>:<hotkey bytes>/<id>` as one flat latin1 string (the id passed the schema: ASCII). The
 * seen-sequence map keeps one per slot for as long as the message lives, so it is built in one
 * piece: a template of a fresh base64 string and the id would be kept as a tree of three strings,
 * about three times the size.
 */
function slotKey (prefix: string, hotkey: Uint8Array, id: string): string {
  const b = Buffer.allocUnsafe(prefix.length + 2 + hotkey.byteLength + id.length)
  let at = b.write(prefix, 0, 'latin1')
  b[at++] = 58 // ':'
  b.set(hotkey, at)
  at += hotkey.byteLength
  b[at++] = 47 // '/'
  b.write(id, at, 'latin1')
  return b.toString('latin1')
}

function party<B extends MarketBody> (): Step<B> {
  // [REJECT] the message names a party (supplier, renter) other than the certificate's hotkey
  return { name: 'party', run (m, t) { t.party(m.body, m.signer.hotkey) } }
}

function certificate<B extends MarketBody> (): Step<B> {
  return {
    name: 'certificate',
    run (m, t, s) { m.cert = certify(m, t, s.certCache, m.now, m.deferSlowCert) }
  }
}

/** the certificate check; with `deferSlow`, an unknown certificate is left for the validator's turn */
function certify<B extends MarketBody> (m: Candidate<B>, t: TopicRules<B>, cache: CertCache, now: number, deferSlow: boolean): CertifiedKey | undefined {
  const cert = deferSlow ? cache.lookup(m.signer, now) : cache.check(m.signer, now)
  if (cert === undefined) return undefined
  // [REJECT] the signer's certificate is malformed, expired or not signed by its hotkey
  if (cert.verdict === 'malformed') throw t.errors.reject(MessageErrorCode.CERT_MALFORMED)
  if (cert.verdict === 'expired') throw t.errors.reject(MessageErrorCode.CERT_EXPIRED)
  if (cert.verdict !== 'ok' || cert.key == null) throw t.errors.reject(MessageErrorCode.CERT_BAD_SIGNATURE)
  return { key: cert.key, address: cert.address }
}

/** decode limits: repeated fields are capped during decoding, before any allocation they control */
const OFFER_LIMITS = { limits: { gpus: 16, teeKinds: 4, addrs: 8, images: 16 } }
const BID_LIMITS = { limits: { addrs: 8, requirements: { teeKinds: 4, regions: 16 } } }

// ---------------------------------------------------------------- the table

/** /bazaar/offers/1: a supplier's offer (or its cancel), signed by the supplier's certified key. */
export const OFFER_VALIDATION: TopicValidation<Offer, ValidatedOffer> = {
  topic: TOPIC_OFFERS,
  errors: offerErrors,
  decode: (bytes) => Offer.decode(bytes, OFFER_LIMITS),
  encode: (o) => Offer.encode(o),
  canonical: OFFER_SCHEMA,
  schema: validateOfferSchema,
  lifetime: validateOfferLifetime,
  party: validateOfferParty,
  expiresAt: (o) => Number(o.expiresAt),
  slotPrefix: 'o',
  domain: DOMAIN.offer,
  poolDomain: 0,
  steps: [size(), envelope(), body(), schema(), seen(), lifetime(), sequence(), party(), certificate()],
  accepted: (offer, data, signer, key, msgId) => ({ kind: 'offer', offer, data, signer, key, msgId })
}

/** /bazaar/bids/1: a renter's bid (or its cancel), signed by the renter's certified key. */
export const BID_VALIDATION: TopicValidation<Bid, ValidatedBid> = {
  topic: TOPIC_BIDS,
  errors: bidErrors,
  decode: (bytes) => Bid.decode(bytes, BID_LIMITS),
  encode: (b) => Bid.encode(b),
  canonical: BID_SCHEMA,
  schema: validateBidSchema,
  lifetime: validateBidLifetime,
  party: validateBidParty,
  expiresAt: (b) => Number(b.expiresAt),
  slotPrefix: 'b',
  domain: DOMAIN.bid,
  poolDomain: 1,
  steps: [size(), envelope(), body(), schema(), seen(), lifetime(), sequence(), party(), certificate()],
  accepted: (bid, data, signer, key, msgId) => ({ kind: 'bid', bid, data, signer, key, msgId })
}

// ---------------------------------------------------------------- running a row

/**
 * Runs one topic's row of the table against shared state. Remembers nothing until `commit`: a
 * refused message, or a copy that failed its signature, never shadows the good one.
 */
export class TopicValidator<B extends MarketBody, V extends ValidatedMessage> {
  constructor (private readonly t: TopicValidation<B, V>, private readonly s: ValidationState) {}

  /** every step of the row, then the signature, on the calling thread */
  validate (wire: Uint8Array): V {
    const m = this.check(wire, false)
    // [REJECT] the certified key did not sign this body
    if (m.cert == null || !ed25519VerifyRaw(m.signer.signingKey, m.cert.key, signedBytes(this.t.domain, m.env.body), m.env.signature)) throw this.t.errors.reject(MessageErrorCode.BAD_SIGNATURE)
    return this.commit(m)
  }

  /**
   * The same steps; an uncached certificate waits for its own turn of the event loop, and the
   * signature goes to `pool` (or is checked here, without one).
   */
  async validateAsync (wire: Uint8Array, pool?: VerifyPool): Promise<V> {
    const m = this.check(wire, true)
    if (m.cert == null) {
      try {
        await this.s.certTurn(m.signer)
      } catch (err) {
        // the turn's own refusal (its queue is full) is this message type's
        throw this.t.errors.retype(err)
      }
      // the turn cached the verdict: this lookup is a hit, or throws the certificate's refusal
      m.cert = certify(m, this.t, this.s.certCache, this.s.clock.now(), false)
    }
    const cert = m.cert
    // without a pool the (cheap) ed25519 check runs here; the certificate was paced all the same
    const v = pool != null
      ? await pool.verify(m.signer.signingKey, m.env.signature, this.t.poolDomain, m.env.body)
      : cert != null && ed25519VerifyRaw(m.signer.signingKey, cert.key, signedBytes(this.t.domain, m.env.body), m.env.signature) ? 'valid' : 'invalid'
    // [IGNORE] the verifiers are saturated: dropped, not the sender's fault
    if (v === 'busy') throw this.t.errors.ignore(MessageErrorCode.OVERLOADED)
    // [REJECT] the certified key did not sign this body
    if (v !== 'valid') throw this.t.errors.reject(MessageErrorCode.BAD_SIGNATURE)
    return this.commit(m)
  }

  /** every step of the row in order; remembers nothing */
  private check (wire: Uint8Array, deferSlowCert: boolean): Candidate<B> {
    const m = new Candidate<B>(wire, this.s.clock.now(), deferSlowCert)
    for (const step of this.t.steps) step.run(m, this.t, this.s)
    return m
  }

  /**
   * Remembers an accepted message. Another copy of it, or a newer message of its slot, may have
   * been accepted while its signature was being verified: those checks run again here.
   */
  private commit (m: Candidate<B>): V {
    // [IGNORE] already seen (accepted while this copy was being verified)
    if (this.s.seen.has(m.msgId)) throw this.t.errors.ignore(MessageErrorCode.DUPLICATE)
    // [IGNORE] a newer message of the slot was accepted meanwhile
    if (this.s.slots.isStale(m.slot, m.body.sequence)) throw this.t.errors.ignore(MessageErrorCode.STALE_SEQUENCE)
    const expiresAt = this.t.expiresAt(m.body)
    this.s.seen.set(m.msgId, epochSeconds(expiresAt))
    this.s.slots.set(m.slot, m.body.sequence, expiresAt)
    const signer = m.cert?.address ?? ss58(m.signer.hotkey)
    return this.t.accepted(m.body, m.data, signer, `${signer}/${m.body.id}`, m.msgId)
  }
}
