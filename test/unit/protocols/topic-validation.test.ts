import { createHash } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { MarketMessageValidator, msgIdBytes, msgIdString } from '../../../src/protocols/gossip/validate.js'
import { BID_VALIDATION, OFFER_VALIDATION, messageId } from '../../../src/protocols/gossip/topic-validation.js'
import { refusalOf } from '../../../src/protocols/gossip/verdict.js'
import { TOPIC_BIDS, TOPIC_OFFERS } from '../../../src/protocols/gossip/topics.js'
import { BidError, MessageError, MessageErrorCode, OfferError, reject } from '../../../src/market/validation/errors.js'
import { validateBidSchema, validateOfferSchema } from '../../../src/market/validation/index.js'
import { DOMAIN, MessageSigner } from '../../../src/market/signing/index.js'
import { Bid, Envelope, Offer, type SignerCert } from '../../../src/wire/market.js'
import { ManualClock } from '../../../src/util/clock.js'
import { GossipAction } from '../../../src/util/errors.js'
import { devPair } from '../../helpers/keys.js'
import { makeBid, makeOffer } from '../../helpers/market.js'

const NOW = Date.UTC(2026, 5, 1)
const { REJECT, IGNORE } = GossipAction
const C = MessageErrorCode

let alice: MessageSigner
let bob: MessageSigner
/** alice's hotkey, its certificate past its notAfter */
let aliceLapsed: MessageSigner
let offer: Offer
let bid: Bid

beforeAll(async () => {
  const a = await devPair('Alice')
  alice = MessageSigner.create(a, { now: NOW - 1000, ttlMs: 3600_000 })
  bob = MessageSigner.create(await devPair('Bob'), { now: NOW - 1000, ttlMs: 3600_000 })
  aliceLapsed = MessageSigner.create(a, { now: NOW - 7200_000, ttlMs: 3600_000 })
  offer = await makeOffer(alice, NOW)
  bid = makeBid(alice, NOW)
})

type Kind = 'offer' | 'bid'
const topicOf = (k: Kind): string => k === 'offer' ? TOPIC_OFFERS : TOPIC_BIDS
const domainOf = (k: Kind): string => k === 'offer' ? DOMAIN.offer : DOMAIN.bid
const ErrorOf = (k: Kind): typeof OfferError | typeof BidError => k === 'offer' ? OfferError : BidError

/** a body of either kind with some fields changed, encoded */
function body (k: Kind, over: Partial<Offer & Bid> = {}): Uint8Array {
  return k === 'offer' ? Offer.encode({ ...offer, ...over }) : Bid.encode({ ...bid, ...over })
}
/** an envelope around `b`: signed by `by` (default: the certificate's own key) under `cert` */
function seal (k: Kind, b: Uint8Array, cert: SignerCert = alice.cert, by: MessageSigner = alice, domain = domainOf(k)): Uint8Array {
  return Envelope.encode({ body: new Uint8Array(b), signer: cert, signature: by.sign(domain, b) })
}
const sealed = (k: Kind, over: Partial<Offer & Bid> = {}): Uint8Array => seal(k, body(k, over))
/** the party field of either kind */
const partyIs = (k: Kind, hotkey: Uint8Array<ArrayBuffer>): Partial<Offer & Bid> => k === 'offer' ? { supplier: hotkey } : { renter: hotkey }

function refusal (run: () => unknown): { type: string, code: string, action: GossipAction, field?: string } {
  try {
    run()
  } catch (err) {
    if (err instanceof MessageError) return { type: err.name, code: err.code, action: err.action, field: err.field }
    throw err
  }
  return { type: 'ACCEPTED', code: 'OK', action: IGNORE }
}

async function refusalAsync (p: Promise<unknown>): Promise<ReturnType<typeof refusal>> {
  try {
    await p
  } catch (err) {
    if (err instanceof MessageError) return { type: err.name, code: err.code, action: err.action, field: err.field }
    throw err
  }
  return { type: 'ACCEPTED', code: 'OK', action: IGNORE }
}

interface Case {
  name: string
  /** the step of the table that refuses it */
  step: string
  data: (k: Kind) => Uint8Array
  /** what the validator accepted before (for the seen-cache and the sequence) */
  before?: (k: Kind) => Uint8Array
  code: MessageErrorCode
  action: GossipAction
  field?: string
}

/** one invalid message per check of the table, for both topics */
const perStep: Case[] = [
  { step: 'size', name: 'an envelope over 8 KiB', data: (k) => seal(k, new Uint8Array(8300)), code: C.TOO_LARGE, action: REJECT },
  { step: 'envelope', name: 'bytes that are not an envelope', data: () => new Uint8Array(64).fill(0xff), code: C.MALFORMED, action: REJECT },
  { step: 'envelope', name: 'an envelope without a certificate', data: (k) => Envelope.encode({ body: new Uint8Array(body(k)), signature: alice.sign(domainOf(k), body(k)) }), code: C.NON_CANONICAL, action: REJECT },
  { step: 'body', name: 'a body that does not decode', data: (k) => seal(k, new Uint8Array([0x0a, 0x50, 0x01])), code: C.MALFORMED, action: REJECT, field: 'body' },
  { step: 'body', name: 'a default field written explicitly', data: (k) => seal(k, new Uint8Array([...body(k), 0x78, 0x00])), code: C.NON_CANONICAL, action: REJECT, field: 'body' },
  { step: 'schema', name: 'an unknown version', data: (k) => sealed(k, { version: 2 }), code: C.BAD_VERSION, action: REJECT, field: 'version' },
  { step: 'schema', name: 'an id outside its pattern (a shared field check)', data: (k) => sealed(k, { id: 'Not An Id' }), code: C.BAD_FIELD, action: REJECT, field: 'id' },
  { step: 'seen', name: 'a message accepted before', before: (k) => sealed(k), data: (k) => sealed(k), code: C.DUPLICATE, action: IGNORE },
  { step: 'lifetime', name: 'dated beyond the clock skew', data: (k) => sealed(k, { createdAt: BigInt(NOW + 60_000), expiresAt: BigInt(NOW + 120_000) }), code: C.FUTURE_DATED, action: IGNORE },
  { step: 'lifetime', name: 'expired', data: (k) => sealed(k, { createdAt: BigInt(NOW - 20_000), expiresAt: BigInt(NOW) }), code: C.EXPIRED, action: IGNORE },
  { step: 'lifetime', name: 'a life over 24 h', data: (k) => sealed(k, { expiresAt: BigInt(NOW + 25 * 3600_000) }), code: C.TTL_TOO_LONG, action: REJECT },
  { step: 'sequence', name: 'a lower sequence than the one held', before: (k) => sealed(k, { sequence: 5n }), data: (k) => sealed(k, { sequence: 4n, createdAt: BigInt(NOW + 1) }), code: C.STALE_SEQUENCE, action: IGNORE },
  { step: 'party', name: 'the party is not the certificate\'s hotkey', data: (k) => sealed(k, partyIs(k, bob.hotkey)), code: C.SIGNER_MISMATCH, action: REJECT },
  { step: 'certificate', name: 'a signing key of 31 bytes', data: (k) => seal(k, body(k), { ...alice.cert, signingKey: alice.cert.signingKey.slice(0, 31) }), code: C.CERT_MALFORMED, action: REJECT },
  { step: 'certificate', name: 'a certificate past its notAfter', data: (k) => seal(k, body(k), aliceLapsed.cert, aliceLapsed), code: C.CERT_EXPIRED, action: REJECT },
  { step: 'certificate', name: 'a certificate its hotkey did not sign', data: (k) => seal(k, body(k), { ...alice.cert, notAfter: alice.cert.notAfter + 1n }), code: C.CERT_BAD_SIGNATURE, action: REJECT },
  { step: 'signature', name: 'a body signed by another key', data: (k) => seal(k, body(k), alice.cert, bob), code: C.BAD_SIGNATURE, action: REJECT },
  { step: 'signature', name: 'a signature under the other kind\'s domain', data: (k) => seal(k, body(k), alice.cert, alice, k === 'offer' ? DOMAIN.bid : DOMAIN.offer), code: C.BAD_SIGNATURE, action: REJECT }
]

/**
 * Messages that fail two checks: the cheaper one (earlier in the table) decides. Each pair is the
 * earlier step's failure added to a message that fails a later step.
 */
const order: Case[] = [
  { step: 'size', name: 'oversize with a bad signature', data: (k) => seal(k, new Uint8Array(8300), alice.cert, bob), code: C.TOO_LARGE, action: REJECT },
  { step: 'envelope', name: 'truncated, with a lapsed certificate', data: (k) => seal(k, body(k), aliceLapsed.cert, aliceLapsed).subarray(0, 40), code: C.MALFORMED, action: REJECT },
  { step: 'schema', name: 'a bad field in an expired message', data: (k) => sealed(k, { id: 'Not An Id', createdAt: BigInt(NOW - 20_000), expiresAt: BigInt(NOW - 1) }), code: C.BAD_FIELD, action: REJECT, field: 'id' },
  { step: 'schema', name: 'a bad field in a message signed by another key', data: (k) => seal(k, body(k, { version: 3 }), alice.cert, bob), code: C.BAD_VERSION, action: REJECT, field: 'version' },
  { step: 'lifetime', name: 'expired and a stale sequence', before: (k) => sealed(k, { sequence: 5n }), data: (k) => sealed(k, { sequence: 4n, createdAt: BigInt(NOW - 20_000), expiresAt: BigInt(NOW - 1) }), code: C.EXPIRED, action: IGNORE },
  { step: 'lifetime', name: 'expired and naming another party', data: (k) => sealed(k, { ...partyIs(k, bob.hotkey), createdAt: BigInt(NOW - 20_000), expiresAt: BigInt(NOW - 1) }), code: C.EXPIRED, action: IGNORE },
  { step: 'sequence', name: 'a stale sequence naming another party', before: (k) => sealed(k, { sequence: 5n }), data: (k) => sealed(k, { ...partyIs(k, bob.hotkey), sequence: 4n }), code: C.STALE_SEQUENCE, action: IGNORE },
  { step: 'party', name: 'another party under a certificate its hotkey did not sign', data: (k) => seal(k, body(k, partyIs(k, bob.hotkey)), { ...alice.cert, notAfter: alice.cert.notAfter + 1n }), code: C.SIGNER_MISMATCH, action: REJECT },
  { step: 'certificate', name: 'a lapsed certificate and a bad signature', data: (k) => seal(k, body(k), aliceLapsed.cert, bob), code: C.CERT_EXPIRED, action: REJECT }
]

const fresh = (): MarketMessageValidator => new MarketMessageValidator({ clock: new ManualClock(NOW) })

describe('gossip validation table', () => {
  it('each topic runs its steps cheapest first, in the order of docs/protocol.md §2.5', () => {
    const steps = ['size', 'envelope', 'body', 'schema', 'seen', 'lifetime', 'sequence', 'party', 'certificate']
    expect(OFFER_VALIDATION.steps.map((s) => s.name)).toEqual(steps)
    expect(BID_VALIDATION.steps.map((s) => s.name)).toEqual(steps)
    expect([OFFER_VALIDATION.topic, BID_VALIDATION.topic]).toEqual([TOPIC_OFFERS, TOPIC_BIDS])
  })

  it('accepts a good offer and a good bid, on both paths', async () => {
    for (const k of ['offer', 'bid'] as const) {
      expect(fresh().validate(topicOf(k), sealed(k)).kind).toBe(k)
      expect((await fresh().validateAsync(topicOf(k), sealed(k))).kind).toBe(k)
    }
  })

  for (const k of ['offer', 'bid'] as const) {
    const type = ErrorOf(k).name
    describe(`${k}s: one refusal per step`, () => {
      it.each(perStep)(`$step: $name → $code ($action)`, async ({ data, before, code, action, field }) => {
        const v = fresh()
        if (before != null) v.validate(topicOf(k), before(k))
        expect(refusal(() => v.validate(topicOf(k), data(k)))).toEqual({ type, code, action, field })
        // the pooled path (here without a pool) reaches the same verdict through the same steps
        const w = fresh()
        if (before != null) await w.validateAsync(topicOf(k), before(k))
        expect(await refusalAsync(w.validateAsync(topicOf(k), data(k)))).toEqual({ type, code, action, field })
      })
    })

    describe(`${k}s: a message failing two checks fails on the cheaper`, () => {
      it.each(order)(`$step: $name → $code`, ({ data, before, code, action, field }) => {
        const v = fresh()
        if (before != null) v.validate(topicOf(k), before(k))
        expect(refusal(() => v.validate(topicOf(k), data(k)))).toEqual({ type, code, action, field })
      })
    })
  }

  it('a duplicate is IGNOREd before its expiry is looked at', () => {
    const clock = new ManualClock(NOW)
    const v = new MarketMessageValidator({ clock })
    const m = sealed('offer', { expiresAt: BigInt(NOW + 1000) })
    v.validate(TOPIC_OFFERS, m)
    clock.advance(5000)
    expect(refusal(() => v.validate(TOPIC_OFFERS, m)).code).toBe(C.DUPLICATE)
    // once pruned, the same bytes are refused as what they now are: expired
    v.prune()
    expect(refusal(() => v.validate(TOPIC_OFFERS, m)).code).toBe(C.EXPIRED)
  })

  it('takes the id gossipsub computed for the same bytes, and it is the id of those bytes', () => {
    const m = sealed('offer')
    const copy = m.slice()
    // gossipsub's msgIdFn runs first, on the array it then hands the topic validator
    const gossipId = msgIdString(msgIdBytes(m))
    expect(gossipId).toBe(messageId(copy))
    expect(Buffer.from(gossipId, 'base64')).toEqual(createHash('sha256').update(copy).digest().subarray(0, 20))
    const v = fresh()
    expect(v.validate(TOPIC_OFFERS, m).msgId).toBe(gossipId)
    // a copy of the same bytes, never seen by msgIdFn, hashes to the same id: a duplicate
    expect(refusal(() => v.validate(TOPIC_OFFERS, copy)).code).toBe(C.DUPLICATE)
  })

  it('a refusal decided before the topic is a plain MessageError', () => {
    expect(refusal(() => fresh().validate('/bazaar/other/1', sealed('offer')))).toEqual({ type: 'MessageError', code: C.UNKNOWN_TOPIC, action: REJECT, field: undefined })
  })
})

describe('market validators throw their own type', () => {
  it.each([
    { name: 'offer: its own check', run: () => { validateOfferSchema({ ...offer, version: 9 }) }, type: 'OfferError', code: C.BAD_VERSION, field: 'version' },
    { name: 'offer: a shared field check', run: () => { validateOfferSchema({ ...offer, region: 'EU WEST' }) }, type: 'OfferError', code: C.BAD_FIELD, field: 'region' },
    { name: 'bid: its own check', run: () => { validateBidSchema({ ...bid, durationS: 0 }) }, type: 'BidError', code: C.BAD_FIELD, field: 'durationS' },
    { name: 'bid: a shared field check', run: () => { validateBidSchema({ ...bid, id: '' }) }, type: 'BidError', code: C.BAD_FIELD, field: 'id' }
  ])('$name → $type $code', ({ run, type, code, field }) => {
    expect(refusal(run)).toEqual({ type, code, action: REJECT, field })
  })
})

describe('the verdict adapter', () => {
  it.each([
    { name: 'an OfferError REJECT', err: () => new OfferError(REJECT, C.BAD_SIGNATURE), result: TopicValidatorResult.Reject, label: 'reject', code: 'BAD_SIGNATURE' },
    { name: 'a BidError IGNORE', err: () => new BidError(IGNORE, C.EXPIRED), result: TopicValidatorResult.Ignore, label: 'ignore', code: 'EXPIRED' },
    { name: 'a MessageError before the topic', err: () => reject(C.UNKNOWN_TOPIC), result: TopicValidatorResult.Reject, label: 'reject', code: 'UNKNOWN_TOPIC' },
    { name: 'an untyped error (a local bug) never penalises the peer', err: () => new TypeError('x is undefined'), result: TopicValidatorResult.Ignore, label: 'ignore', code: 'INTERNAL' },
    { name: 'a thrown non-error', err: () => 'oops', result: TopicValidatorResult.Ignore, label: 'ignore', code: 'INTERNAL' }
  ])('$name → $label $code', ({ err, result, label, code }) => {
    const r = refusalOf(err())
    expect(r.result).toBe(result)
    expect(r.label).toBe(label)
    expect(r.code).toBe(code)
    expect(r.action).toBe(label === 'reject' ? REJECT : IGNORE)
  })
})
