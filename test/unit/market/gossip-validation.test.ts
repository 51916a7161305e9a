import { beforeAll, describe, expect, it } from 'vitest'
import { MarketMessageValidator } from '../../../src/protocols/gossip/validate.js'
import { sealBid, sealOffer } from '../../../src/protocols/gossip/envelope.js'
import { TOPIC_BIDS, TOPIC_OFFERS } from '../../../src/protocols/gossip/topics.js'
import { MessageError, MessageErrorCode } from '../../../src/market/validation/errors.js'
import { DOMAIN, MessageSigner } from '../../../src/market/signing/index.js'
import { Envelope, Offer } from '../../../src/wire/market.js'
import { ManualClock } from '../../../src/util/clock.js'
import { GossipAction } from '../../../src/util/errors.js'
import { devPair } from '../../helpers/keys.js'
import { makeBid, makeOffer } from '../../helpers/market.js'

const NOW = Date.UTC(2026, 5, 1)

let alice: MessageSigner
let bob: MessageSigner
let good: Offer

beforeAll(async () => {
  alice = MessageSigner.create(await devPair('Alice'), { now: NOW - 1000, ttlMs: 3600_000 })
  bob = MessageSigner.create(await devPair('Bob'), { now: NOW - 1000, ttlMs: 3600_000 })
  good = await makeOffer(alice, NOW)
})

function fresh (): MarketMessageValidator {
  return new MarketMessageValidator({ clock: new ManualClock(NOW) })
}

function codeOf (fn: () => unknown): { code: string, action: GossipAction, field?: string } {
  try {
    fn()
  } catch (err) {
    if (err instanceof MessageError) return { code: err.code, action: err.action, field: err.field }
    throw err
  }
  throw new Error('accepted')
}

/** re-signs a body that was tampered with after encoding, so only the targeted check can fail */
function resealRaw (body: Uint8Array, signer: MessageSigner): Uint8Array {
  return Envelope.encode({ body: new Uint8Array(body), signer: signer.cert, signature: signer.sign(DOMAIN.offer, body) })
}

describe('market message validation', () => {
  it('accepts a good offer and a good bid', () => {
    const v = fresh()
    expect(v.validate(TOPIC_OFFERS, sealOffer(good, alice)).kind).toBe('offer')
    expect(v.validate(TOPIC_BIDS, sealBid(makeBid(bob, NOW), bob)).kind).toBe('bid')
  })

  const cases: Array<{ name: string, data: () => Uint8Array, topic?: string, code: MessageErrorCode, action: GossipAction, field?: string }> = [
    { name: 'truncated', data: () => sealOffer(good, alice).subarray(0, 50), code: MessageErrorCode.MALFORMED, action: GossipAction.REJECT },
    { name: 'oversize', data: () => new Uint8Array(9000), code: MessageErrorCode.TOO_LARGE, action: GossipAction.REJECT },
    { name: 'random bytes', data: () => new Uint8Array(200).fill(0xff), code: MessageErrorCode.MALFORMED, action: GossipAction.REJECT },
    {
      name: 'wrong signature (signed by another key)',
      data: () => { const body = Offer.encode(good); return Envelope.encode({ body, signer: alice.cert, signature: bob.sign(DOMAIN.offer, body) }) },
      code: MessageErrorCode.BAD_SIGNATURE,
      action: GossipAction.REJECT
    },
    {
      name: 'signature for another message kind',
      data: () => { const body = Offer.encode(good); return Envelope.encode({ body, signer: alice.cert, signature: alice.sign(DOMAIN.bid, body) }) },
      code: MessageErrorCode.BAD_SIGNATURE,
      action: GossipAction.REJECT
    },
    { name: 'offer claimed for another supplier', data: () => sealOffer({ ...good, supplier: bob.hotkey }, alice), code: MessageErrorCode.SIGNER_MISMATCH, action: GossipAction.REJECT },
    {
      name: 'forged certificate',
      data: () => { const body = Offer.encode({ ...good, supplier: bob.hotkey }); return Envelope.encode({ body, signer: { ...alice.cert, hotkey: bob.hotkey }, signature: alice.sign(DOMAIN.offer, body) }) },
      code: MessageErrorCode.CERT_BAD_SIGNATURE,
      action: GossipAction.REJECT
    },
    { name: 'expired', data: () => sealOffer({ ...good, createdAt: BigInt(NOW - 20_000), expiresAt: BigInt(NOW - 1) }, alice), code: MessageErrorCode.EXPIRED, action: GossipAction.IGNORE },
    { name: 'future-dated', data: () => sealOffer({ ...good, createdAt: BigInt(NOW + 60_000), expiresAt: BigInt(NOW + 120_000) }, alice), code: MessageErrorCode.FUTURE_DATED, action: GossipAction.IGNORE },
    { name: 'life longer than allowed', data: () => sealOffer({ ...good, expiresAt: BigInt(NOW + 48 * 3600_000) }, alice), code: MessageErrorCode.TTL_TOO_LONG, action: GossipAction.REJECT },
    { name: 'unknown version', data: () => sealOffer({ ...good, version: 2 }, alice), code: MessageErrorCode.BAD_VERSION, action: GossipAction.REJECT },
    { name: 'bad id', data: () => sealOffer({ ...good, id: 'Bad Id!' }, alice), code: MessageErrorCode.BAD_FIELD, action: GossipAction.REJECT, field: 'id' },
    { name: 'zero price', data: () => sealOffer({ ...good, pricePerGpuHour: 0n }, alice), code: MessageErrorCode.BAD_FIELD, action: GossipAction.REJECT, field: 'pricePerGpuHour' },
    { name: 'no GPUs', data: () => sealOffer({ ...good, gpus: [] }, alice), code: MessageErrorCode.BAD_FIELD, action: GossipAction.REJECT, field: 'gpus' },
    { name: 'unknown TEE kind', data: () => sealOffer({ ...good, teeKinds: ['sgx-ish'] }, alice), code: MessageErrorCode.BAD_FIELD, action: GossipAction.REJECT, field: 'teeKinds' },
    { name: 'enclave peer not a peer id', data: () => sealOffer({ ...good, enclavePeer: new Uint8Array([1, 2, 3]) }, alice), code: MessageErrorCode.BAD_FIELD, action: GossipAction.REJECT, field: 'enclavePeer' },
    { name: 'max duration below min', data: () => sealOffer({ ...good, minDurationS: 100, maxDurationS: 50 }, alice), code: MessageErrorCode.BAD_FIELD, action: GossipAction.REJECT, field: 'maxDurationS' },
    {
      // field 3 (supplier, bytes) tagged as a varint: the decoder reads it by field number, so the
      // re-encoding differs and the canonical check refuses it
      name: 'wrong field type',
      data: () => { const bad = new Uint8Array(Offer.encode(good)); expect(bad[9]).toBe(0x1a); bad[9] = 0x18; return resealRaw(bad, alice) },
      code: MessageErrorCode.NON_CANONICAL,
      action: GossipAction.REJECT
    },
    {
      name: 'non-canonical body (a default field written explicitly)',
      data: () => { const body = Offer.encode(good); const padded = new Uint8Array([...body, 0x78, 0x00]); return resealRaw(padded, alice) },
      code: MessageErrorCode.NON_CANONICAL,
      action: GossipAction.REJECT
    },
    {
      name: 'too many GPU entries',
      data: () => sealOffer({ ...good, gpus: Array.from({ length: 20 }, () => ({ model: 'h100-80gb', memoryMib: 1, count: 1 })) }, alice),
      code: MessageErrorCode.MALFORMED,
      action: GossipAction.REJECT
    },
    { name: 'bid on the offers topic', data: () => sealBid(makeBid(alice, NOW), alice), code: MessageErrorCode.MALFORMED, action: GossipAction.REJECT },
    { name: 'unknown topic', topic: '/bazaar/other/1', data: () => sealOffer(good, alice), code: MessageErrorCode.UNKNOWN_TOPIC, action: GossipAction.REJECT },
    { name: 'negative sequence', data: () => sealOffer({ ...good, sequence: -1n }, alice), code: MessageErrorCode.BAD_FIELD, action: GossipAction.REJECT, field: 'sequence' },
    { name: 'sequence of 2^63 (decodes negative)', data: () => sealOffer({ ...good, sequence: 1n << 63n }, alice), code: MessageErrorCode.BAD_FIELD, action: GossipAction.REJECT, field: 'sequence' },
    { name: 'bid with a negative sequence', topic: TOPIC_BIDS, data: () => sealBid(makeBid(bob, NOW, { sequence: -5n }), bob), code: MessageErrorCode.BAD_FIELD, action: GossipAction.REJECT, field: 'sequence' },
    { name: 'cancel with a negative sequence', data: () => sealOffer({ ...good, sequence: -1n, cancelled: true }, alice), code: MessageErrorCode.BAD_FIELD, action: GossipAction.REJECT, field: 'sequence' },
    // a cancel's fields may be empty, but what it carries is checked (its envelope is kept and served)
    { name: 'cancel carrying an enclave peer that is not one', data: () => sealOffer({ ...good, cancelled: true, enclavePeer: new Uint8Array(300).fill(7) }, alice), code: MessageErrorCode.BAD_FIELD, action: GossipAction.REJECT, field: 'enclavePeer' },
    { name: 'cancel carrying a junk address', data: () => sealOffer({ ...good, cancelled: true, addrs: [new Uint8Array(65).fill(0x41)] }, alice), code: MessageErrorCode.BAD_FIELD, action: GossipAction.REJECT, field: 'addrs' },
    { name: 'cancel with max duration below min', data: () => sealOffer({ ...good, cancelled: true, minDurationS: 100, maxDurationS: 50 }, alice), code: MessageErrorCode.BAD_FIELD, action: GossipAction.REJECT, field: 'maxDurationS' },
    { name: 'cancel carrying a GPU of no count', data: () => sealOffer({ ...good, cancelled: true, gpus: [{ model: 'h100-80gb', memoryMib: 1, count: 0 }] }, alice), code: MessageErrorCode.BAD_FIELD, action: GossipAction.REJECT, field: 'gpus[0].count' },
    { name: 'bid cancel with an over-long duration', topic: TOPIC_BIDS, data: () => sealBid(makeBid(bob, NOW, { cancelled: true, durationS: 10 ** 9 }), bob), code: MessageErrorCode.BAD_FIELD, action: GossipAction.REJECT, field: 'durationS' },
    { name: 'bid with zero count', topic: TOPIC_BIDS, data: () => sealBid(makeBid(bob, NOW, { requirements: { gpu: 'h100', minMemoryMib: 0, count: 0, teeKinds: [], regions: [] } }), bob), code: MessageErrorCode.BAD_FIELD, action: GossipAction.REJECT, field: 'requirements.count' }
  ]

  it.each(cases)('refuses: $name → $code', ({ data, topic, code, action, field }) => {
    const r = codeOf(() => fresh().validate(topic ?? TOPIC_OFFERS, data()))
    expect(r.code).toBe(code)
    expect(r.action).toBe(action)
    if (field != null) expect(r.field).toBe(field)
  })

  it('a refused field says what it must be', () => {
    const messageOf = (data: Uint8Array, topic = TOPIC_OFFERS): string => { try { fresh().validate(topic, data) } catch (err) { return (err as Error).message } return 'accepted' }
    expect(messageOf(sealOffer({ ...good, pricePerGpuHour: 0n }, alice))).toBe('pricePerGpuHour: expected a price of 1 to 2^63 - 1 base units per GPU-hour')
    expect(messageOf(sealOffer({ ...good, cancelled: true, gpus: [{ model: 'h100-80gb', memoryMib: 1, count: 0 }] }, alice))).toBe('gpus[0].count: expected 1 to 1,024 GPUs')
    expect(messageOf(sealBid(makeBid(bob, NOW, { durationS: 0 }), bob), TOPIC_BIDS)).toBe('durationS: expected 1 s to 30 days')
  })

  it('accepts a cancel whose other fields are empty, and one that carries its offer\'s or bid\'s fields', () => {
    const empty = { ...good, enclavePeer: new Uint8Array(0), gpus: [], teeKinds: [], region: '', pricePerGpuHour: 0n, minDurationS: 0, maxDurationS: 0, addrs: [], cancelled: true }
    expect(fresh().validate(TOPIC_OFFERS, sealOffer(empty, alice)).kind).toBe('offer')
    expect(fresh().validate(TOPIC_OFFERS, sealOffer({ ...good, cancelled: true }, alice)).kind).toBe('offer')
    expect(fresh().validate(TOPIC_BIDS, sealBid(makeBid(bob, NOW, { cancelled: true }), bob)).kind).toBe('bid')
    expect(fresh().validate(TOPIC_BIDS, sealBid(makeBid(bob, NOW, { cancelled: true, requirements: undefined, maxPricePerGpuHour: 0n, durationS: 0, addrs: [] }), bob)).kind).toBe('bid')
  })

  it('ignores a replay and a stale sequence, accepts a replacement', () => {
    const v = fresh()
    const first = sealOffer({ ...good, sequence: 5n }, alice)
    v.validate(TOPIC_OFFERS, first)
    expect(codeOf(() => v.validate(TOPIC_OFFERS, first)).code).toBe(MessageErrorCode.DUPLICATE)
    expect(codeOf(() => v.validate(TOPIC_OFFERS, sealOffer({ ...good, sequence: 4n, pricePerGpuHour: 1n }, alice))).code).toBe(MessageErrorCode.STALE_SEQUENCE)
    expect(v.validate(TOPIC_OFFERS, sealOffer({ ...good, sequence: 6n, pricePerGpuHour: 1n }, alice)).kind).toBe('offer')
    // a cancel is a higher sequence with the flag set
    const cancel = v.validate(TOPIC_OFFERS, sealOffer({ ...good, sequence: 7n, cancelled: true }, alice))
    expect(cancel.kind === 'offer' && cancel.offer.cancelled).toBe(true)
  })

  it('never remembers a refused message (a bad copy cannot shadow the good one)', () => {
    const v = fresh()
    const bodyBytes = Offer.encode(good)
    const forged = Envelope.encode({ body: bodyBytes, signer: alice.cert, signature: bob.sign(DOMAIN.offer, bodyBytes) })
    expect(codeOf(() => v.validate(TOPIC_OFFERS, forged)).code).toBe(MessageErrorCode.BAD_SIGNATURE)
    expect(v.validate(TOPIC_OFFERS, sealOffer(good, alice)).kind).toBe('offer')
  })
})
