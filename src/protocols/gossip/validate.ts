import { createHash, type KeyObject } from 'node:crypto'
import type { Clock } from '../../util/clock.js'
import { GossipAction } from '../../util/errors.js'
import { Bid, Envelope, Offer, type SignerCert } from '../../wire/market.js'
import { CertCache, DOMAIN, ed25519Verify, signedBytes, ss58 } from '../../market/signing/index.js'
import { validateBidSchema, validateOfferSchema } from '../../market/validation/index.js'
import { MessageError, MessageErrorCode, ignore, reject } from '../../market/validation/errors.js'
import { MAX_CLOCK_SKEW_MS, MAX_ENVELOPE_BYTES, MAX_TTL_MS } from '../../market/validation/constants.js'
import { BoundedMap } from './bounded.js'
import { TOPIC_BIDS, TOPIC_OFFERS } from './topics.js'
import { BID_SCHEMA, Canonical, ENVELOPE_SCHEMA, OFFER_SCHEMA, scan, type Schema } from './canonical.js'
import type { VerifyPool } from './verify-pool.js'

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

/** distinct uncached certificates that may wait for their turn (about 6 ms of CPU each) */
const MAX_CERT_QUEUE = 1024

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

/** A message that passed every check but its signature, with what the signature check needs. */
interface Checked {
  isOffer: boolean
  data: Uint8Array
  env: Envelope
  body: Offer | Bid
  msgId: string
  expiresAt: number
  /** `o:`/`b:` + hotkey base64 + `/` + id: the sequence slot */
  slot: string
  cert: { key?: KeyObject, address?: string }
}

/**
 * Validation of an untrusted market message, cheapest check first (STYLE: Lodestar's gossip
 * validation): size cap → bounded decode → canonical encoding → schema → seen-cache → expiry and
 * clock skew → sequence → certificate (cached sr25519) → signature (ed25519). The order and the
 * verdict of each check are docs/protocol.md §2.5.
 *
 * `validate` runs every check on the calling thread; `validateAsync` hands the ed25519 signature,
 * still the last check, to a VerifyPool and gives its verdict when a worker answered.
 *
 * Throws (or rejects with) a MessageError whose action says whether to penalise the forwarding
 * peer. Only after every check passed does it remember the message id and the slot's sequence.
 *
 * What an accepted message keeps, it owns: the envelope is copied out of the buffer it arrived in
 * (a gossipsub RPC frame, a stream chunk) before it is decoded, so the body's fields are views into
 * that exact-size copy and a held offer never pins a whole frame.
 */
export class MarketMessageValidator {
  private readonly clock: Clock
  readonly certCache: CertCache
  private readonly seen: BoundedMap<string, number>
  private readonly slots: BoundedMap<string, { sequence: bigint, expiresAt: number }>
  /** uncached certificate checks run one per event-loop turn, in arrival order */
  private certQueue: Promise<void> = Promise.resolve()
  /** turns queued, by certificate signature */
  private readonly certTurns = new Map<string, Promise<void>>()

  constructor (init: MarketValidatorInit) {
    this.clock = init.clock
    this.certCache = init.certCache ?? new CertCache()
    this.seen = new BoundedMap(init.maxSeen ?? 100_000)
    this.slots = new BoundedMap(init.maxSlots ?? 200_000)
  }

  validate (topic: string, data: Uint8Array): ValidatedMessage {
    const c = this.check(topic, data)
    // [REJECT] the certified key did not sign this body
    const domain = c.isOffer ? DOMAIN.offer : DOMAIN.bid
    if (c.cert.key == null || !ed25519Verify(c.cert.key, signedBytes(domain, c.env.body), c.env.signature)) throw reject(MessageErrorCode.BAD_SIGNATURE)
    return this.commit(c)
  }

  /**
   * The same checks in the same order, the signature verified by `pool` off the event loop (or
   * here, without one). A certificate not seen before is verified in its own turn of the event
   * loop (`certTurn`). The verdict comes when the worker answered.
   */
  async validateAsync (topic: string, data: Uint8Array, pool?: VerifyPool): Promise<ValidatedMessage> {
    const c = this.check(topic, data, true)
    if (c.cert.key == null) await this.certTurn(c)
    const signer = c.env.signer as SignerCert
    // without a pool the (cheap) ed25519 check runs here; the certificate was paced all the same
    const v = pool != null
      ? await pool.verify(signer.signingKey, c.env.signature, c.isOffer ? 0 : 1, c.env.body)
      : ed25519Verify(c.cert.key as KeyObject, signedBytes(c.isOffer ? DOMAIN.offer : DOMAIN.bid, c.env.body), c.env.signature) ? 'valid' : 'invalid'
    // [IGNORE] the verifiers are saturated: dropped, not the sender's fault
    if (v === 'busy') throw ignore(MessageErrorCode.OVERLOADED)
    // [REJECT] the certified key did not sign this body
    if (v !== 'valid') throw reject(MessageErrorCode.BAD_SIGNATURE)
    return this.commit(c)
  }

  /**
   * The certificate check of a signer not seen before (an sr25519 verification, milliseconds of
   * CPU), one per turn of the event loop: a burst of new signers, or a peer that sends fresh
   * certificates on purpose, must not stall the event loop (connection keep-alives and every other
   * message wait on it). Bounded: past MAX_CERT_QUEUE waiting checks the message is dropped.
   */
  private async certTurn (c: Checked): Promise<void> {
    const signer = c.env.signer as SignerCert
    // messages of one signer wait on one turn: the first to run verifies, the others hit the cache
    const id = Buffer.from(signer.signature).toString('base64')
    let turn = this.certTurns.get(id)
    if (turn === undefined) {
      // [IGNORE] too many new certificates waiting: dropped, not the sender's fault
      if (this.certTurns.size >= MAX_CERT_QUEUE) throw ignore(MessageErrorCode.OVERLOADED)
      turn = this.certQueue.then(async () => {
        await new Promise((resolve) => setImmediate(resolve))
        this.certTurns.delete(id)
        // the slow check, in this turn of its own; its result lands in the cache
        this.certCache.check(signer, this.clock.now())
      })
      // a failed turn must not stop the ones after it
      this.certQueue = turn.catch(() => {})
      this.certTurns.set(id, turn)
    }
    await turn
    c.cert = this.certStep(signer, this.clock.now(), false)
  }

  /** the certificate check; with `deferSlow`, an unknown certificate is left for `certTurn` */
  private certStep (signer: SignerCert, now: number, deferSlow: boolean): { key?: KeyObject, address?: string } {
    const cert = deferSlow ? this.certCache.lookup(signer, now) : this.certCache.check(signer, now)
    if (cert === undefined) return {}
    // [REJECT] the signer's certificate is malformed, expired or not signed by its hotkey
    if (cert.verdict === 'malformed') throw reject(MessageErrorCode.CERT_MALFORMED)
    if (cert.verdict === 'expired') throw reject(MessageErrorCode.CERT_EXPIRED)
    if (cert.verdict !== 'ok' || cert.key == null) throw reject(MessageErrorCode.CERT_BAD_SIGNATURE)
    return cert
  }

  /** every check but the envelope signature; remembers nothing */
  private check (topic: string, wire: Uint8Array, deferSlowCert = false): Checked {
    if (topic !== TOPIC_OFFERS && topic !== TOPIC_BIDS) throw reject(MessageErrorCode.UNKNOWN_TOPIC)
    // [REJECT] the envelope is larger than the hard cap
    if (wire.byteLength > MAX_ENVELOPE_BYTES) throw reject(MessageErrorCode.TOO_LARGE)
    // our own exact-size copy: everything decoded below is a view into it, never into `wire`'s buffer
    const data = new Uint8Array(wire.byteLength)
    data.set(wire)
    let env: Envelope
    try {
      env = Envelope.decode(data)
    } catch {
      // [REJECT] the bytes are not an envelope
      throw reject(MessageErrorCode.MALFORMED)
    }
    // [REJECT] the envelope is not in canonical form (one message, one encoding, one id)
    if (env.signer == null || !isCanonical(data, ENVELOPE_SCHEMA, () => Envelope.encode(env))) throw reject(MessageErrorCode.NON_CANONICAL)

    const isOffer = topic === TOPIC_OFFERS
    let body: Offer | Bid
    try {
      body = isOffer ? Offer.decode(env.body, OFFER_LIMITS) : Bid.decode(env.body, BID_LIMITS)
    } catch {
      // [REJECT] the body does not decode, or a repeated field is over its limit
      throw reject(MessageErrorCode.MALFORMED, 'body')
    }
    const canonical = isOffer
      ? isCanonical(env.body, OFFER_SCHEMA, () => Offer.encode(body as Offer))
      : isCanonical(env.body, BID_SCHEMA, () => Bid.encode(body as Bid))
    if (!canonical) throw reject(MessageErrorCode.NON_CANONICAL, 'body')
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
    const slot = `${isOffer ? 'o' : 'b'}:${Buffer.from(env.signer.hotkey).toString('base64')}/${body.id}`
    const held = this.slots.get(slot)
    // [IGNORE] an equal or lower sequence than the one we hold for this slot (replay or reordering)
    if (held != null && body.sequence <= held.sequence) throw ignore(MessageErrorCode.STALE_SEQUENCE)

    const cert = this.certStep(env.signer, now, deferSlowCert)
    return { isOffer, data, env, body, msgId, expiresAt, slot, cert }
  }

  /**
   * Remembers an accepted message. Another copy of it, or a newer message of its slot, may have
   * been accepted while its signature was being verified: those checks run again here.
   */
  private commit (c: Checked): ValidatedMessage {
    // [IGNORE] already seen (accepted while this copy was being verified)
    if (this.seen.has(c.msgId)) throw ignore(MessageErrorCode.DUPLICATE)
    const held = this.slots.get(c.slot)
    // [IGNORE] a newer message of the slot was accepted meanwhile
    if (held != null && c.body.sequence <= held.sequence) throw ignore(MessageErrorCode.STALE_SEQUENCE)
    this.seen.set(c.msgId, c.expiresAt)
    this.slots.set(c.slot, { sequence: c.body.sequence, expiresAt: c.expiresAt })
    const signer = c.cert.address ?? ss58((c.env.signer as SignerCert).hotkey)
    const key = `${signer}/${c.body.id}`
    return c.isOffer
      ? { kind: 'offer', offer: c.body as Offer, data: c.data, signer, key, msgId: c.msgId }
      : { kind: 'bid', bid: c.body as Bid, data: c.data, signer, key, msgId: c.msgId }
  }

  /** forgets expired slots and ids; the node calls this on a timer */
  prune (): void {
    const now = this.clock.now()
    this.seen.prune((exp) => exp <= now)
    this.slots.prune((s) => s.expiresAt <= now)
  }
}

/** the one-pass canonical check, with the re-encoding fallback for a non-ASCII string */
function isCanonical (bytes: Uint8Array, s: Schema, encode: () => Uint8Array): boolean {
  const r = scan(bytes, s)
  return r === Canonical.YES || (r === Canonical.UNSURE && same(encode(), bytes))
}

/** Maps any error to the gossipsub verdict: an untyped error (a local bug) only IGNOREs. */
export function gossipActionOf (err: unknown): GossipAction {
  return err instanceof MessageError ? err.action : GossipAction.IGNORE
}

export function errorCodeOf (err: unknown): string {
  return err instanceof MessageError ? err.code : 'INTERNAL'
}
