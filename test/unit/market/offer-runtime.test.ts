import { beforeAll, describe, expect, it } from 'vitest'
import { OrderBook } from '../../../src/market/book/order-book.js'
import { termsCompatible } from '../../../src/market/match.js'
import { bookRows, formatBook } from '../../../src/market/book/format.js'
import { validateOfferSchema } from '../../../src/market/validation/offer.js'
import { validateBidSchema } from '../../../src/market/validation/bid.js'
import { MessageError, MessageErrorCode } from '../../../src/market/validation/errors.js'
import { MarketMessageValidator } from '../../../src/protocols/gossip/validate.js'
import { sealBid, sealOffer } from '../../../src/protocols/gossip/envelope.js'
import { TOPIC_BIDS, TOPIC_OFFERS } from '../../../src/protocols/gossip/topics.js'
import { MessageSigner } from '../../../src/market/signing/index.js'
import { Bid, Offer } from '../../../src/wire/market.js'
import { ManualClock } from '../../../src/util/clock.js'
import { GossipAction } from '../../../src/util/errors.js'
import { devPair } from '../../helpers/keys.js'
import { makeBid, makeOffer } from '../../helpers/market.js'
import { T0, mkBid, mkOffer } from './book-fixtures.js'

const offer = (o: Partial<Offer> = {}): Offer => mkOffer({ enclavePeer: new Uint8Array([0x00, 0x24, 0x08, 0x01, 0x12, 0x20, ...new Uint8Array(32).fill(7)]), ...o })
const requirements = (image?: string): NonNullable<Bid['requirements']> => ({ gpu: 'h100', minMemoryMib: 0, count: 1, teeKinds: [], regions: [], ...(image !== undefined ? { image } : {}) })
const PYTORCH = 'docker.io/pytorch/pytorch:2.4.0-cuda12.1-cudnn9-runtime'

function refusal (fn: () => void): { code: string, action: GossipAction, field?: string } | 'ACCEPTED' {
  try {
    fn()
  } catch (err) {
    if (err instanceof MessageError) return { code: err.code, action: err.action, field: err.field }
    throw err
  }
  return 'ACCEPTED'
}

describe('Offer.runtime and Offer.images (how the supplier runs jobs)', () => {
  it('an offer without them encodes exactly as before the fields existed; container and images round-trip', () => {
    const plain = Offer.encode(offer())
    expect(Buffer.from(Offer.encode({ ...offer(), runtime: undefined, images: [] })).equals(Buffer.from(plain))).toBe(true)
    expect(Offer.decode(plain).runtime).toBeUndefined()
    expect(Offer.decode(plain).images).toEqual([])
    const c = Offer.encode(offer({ runtime: 'container', images: ['ghcr.io/*'] }))
    // field 18 (tag 0x92 0x01) "container", then field 19 (tag 0x9a 0x01) "ghcr.io/*"
    expect(Buffer.from(c.subarray(plain.byteLength)).toString('hex')).toBe('9201' + '09' + Buffer.from('container').toString('hex') + '9a01' + '09' + Buffer.from('ghcr.io/*').toString('hex'))
    expect(Offer.decode(c)).toMatchObject({ runtime: 'container', images: ['ghcr.io/*'] })
  })

  const long = (n: number): string => `ghcr.io/${'a'.repeat(n - 'ghcr.io/'.length)}`
  const offerCases: Array<{ name: string, o: Partial<Offer>, code?: MessageErrorCode, field?: string }> = [
    { name: 'processes (no runtime)', o: {} },
    { name: 'containers of any image', o: { runtime: 'container' } },
    { name: 'containers of exact and prefix patterns', o: { runtime: 'container', images: ['docker.io/pytorch/pytorch:*', 'ghcr.io/org/train@sha256:' + 'a'.repeat(64), 'localhost:5000/x:1'] } },
    { name: '16 patterns of 256 characters', o: { runtime: 'container', images: Array.from({ length: 16 }, (_, i) => long(255) + String.fromCharCode(97 + i)) } },
    { name: 'the default runtime written out', o: { runtime: 'process' }, code: MessageErrorCode.NON_CANONICAL, field: 'runtime' },
    { name: 'an empty runtime written out', o: { runtime: '' }, code: MessageErrorCode.NON_CANONICAL, field: 'runtime' },
    { name: 'an unknown runtime', o: { runtime: 'gvisor' }, code: MessageErrorCode.BAD_FIELD, field: 'runtime' },
    { name: 'images with the process runtime', o: { images: ['docker.io/pytorch/pytorch:*'] }, code: MessageErrorCode.BAD_FIELD, field: 'images' },
    { name: '17 patterns', o: { runtime: 'container', images: Array.from({ length: 17 }, (_, i) => `ghcr.io/org/x${i}:1`) }, code: MessageErrorCode.BAD_FIELD, field: 'images' },
    { name: 'a pattern of 257 characters', o: { runtime: 'container', images: [long(257)] }, code: MessageErrorCode.BAD_FIELD, field: 'images[0]' },
    { name: 'an empty pattern', o: { runtime: 'container', images: [''] }, code: MessageErrorCode.BAD_FIELD, field: 'images[0]' },
    { name: 'a star inside a pattern', o: { runtime: 'container', images: ['docker.io/*/x'] }, code: MessageErrorCode.BAD_FIELD, field: 'images[0]' },
    { name: 'a transport, not a registry reference', o: { runtime: 'container', images: ['ghcr.io/x:1', 'docker-archive:/tmp/x.tar'] }, code: MessageErrorCode.BAD_FIELD, field: 'images[1]' },
    { name: 'a pattern twice', o: { runtime: 'container', images: ['ghcr.io/x:1', 'ghcr.io/x:1'] }, code: MessageErrorCode.BAD_FIELD, field: 'images[1]' }
  ]
  for (const c of offerCases) {
    it(`schema: ${c.name} → ${c.code ?? 'accepted'}`, () => {
      const got = refusal(() => { validateOfferSchema(offer(c.o)) })
      expect(got).toEqual(c.code === undefined ? 'ACCEPTED' : { code: c.code, action: GossipAction.REJECT, field: c.field })
    })
  }

  const bidCases: Array<{ name: string, image?: string, code?: MessageErrorCode }> = [
    { name: 'no image (a process job)' },
    { name: 'an image', image: PYTORCH },
    { name: 'an image of 512 characters', image: `ghcr.io/${'a'.repeat(504)}` },
    { name: 'an empty image written out', image: '', code: MessageErrorCode.NON_CANONICAL },
    { name: 'an image of 513 characters', image: `ghcr.io/${'a'.repeat(505)}`, code: MessageErrorCode.BAD_FIELD },
    { name: 'a pattern, not an image', image: 'docker.io/pytorch/pytorch:*', code: MessageErrorCode.BAD_FIELD },
    { name: 'something an engine reads as a flag', image: '--privileged', code: MessageErrorCode.BAD_FIELD }
  ]
  for (const c of bidCases) {
    it(`bid schema: ${c.name} → ${c.code ?? 'accepted'}`, () => {
      const got = refusal(() => { validateBidSchema(mkBid({ requirements: requirements(c.image) })) })
      expect(got).toEqual(c.code === undefined ? 'ACCEPTED' : { code: c.code, action: GossipAction.REJECT, field: 'requirements.image' })
    })
  }

  describe('on the gossip topics', () => {
    let alice: MessageSigner
    const NOW = Date.UTC(2026, 5, 1)
    beforeAll(async () => { alice = MessageSigner.create(await devPair('Alice'), { now: NOW - 1000, ttlMs: 3600_000 }) })
    const validate = (topic: string, data: Uint8Array): ReturnType<typeof refusal> => refusal(() => { new MarketMessageValidator({ clock: new ManualClock(NOW) }).validate(topic, data) })

    it('accepts a container offer and an image bid; refuses the non-canonical and the unbounded with their codes', async () => {
      expect(validate(TOPIC_OFFERS, sealOffer(await makeOffer(alice, NOW, { runtime: 'container', images: ['docker.io/pytorch/pytorch:*'] }), alice))).toBe('ACCEPTED')
      expect(validate(TOPIC_BIDS, sealBid(makeBid(alice, NOW, { requirements: requirements(PYTORCH) }), alice))).toBe('ACCEPTED')
      expect(validate(TOPIC_OFFERS, sealOffer(await makeOffer(alice, NOW, { runtime: 'process' }), alice))).toEqual({ code: 'NON_CANONICAL', action: GossipAction.REJECT, field: 'runtime' })
      // an empty string is refused by the one-pass canonical check, before the schema
      expect(validate(TOPIC_OFFERS, sealOffer(await makeOffer(alice, NOW, { runtime: '' }), alice))).toMatchObject({ code: 'NON_CANONICAL', action: GossipAction.REJECT })
      expect(validate(TOPIC_BIDS, sealBid(makeBid(alice, NOW, { requirements: requirements('') }), alice))).toMatchObject({ code: 'NON_CANONICAL', action: GossipAction.REJECT })
      // past 16 patterns the decoder stops reading them (a bounded decode), before any check
      const many = await makeOffer(alice, NOW, { runtime: 'container', images: Array.from({ length: 17 }, (_, i) => `ghcr.io/org/x${i}:1`) })
      expect(validate(TOPIC_OFFERS, sealOffer(many, alice))).toMatchObject({ code: 'MALFORMED', action: GossipAction.REJECT })
      expect(validate(TOPIC_OFFERS, sealOffer(await makeOffer(alice, NOW, { images: ['ghcr.io/x:1'] }), alice))).toEqual({ code: 'BAD_FIELD', action: GossipAction.REJECT, field: 'images' })
    })

    it('a refusal tells the publisher what the field must be', async () => {
      const err = (() => { try { validateOfferSchema(offer({ images: ['ghcr.io/x:1'] })) } catch (e) { return e as MessageError } })()
      expect(err?.message).toMatch(/^images: expected with runtime "container" only/)
      const bidErr = (() => { try { validateBidSchema(mkBid({ requirements: requirements('oci:/x') })) } catch (e) { return e as MessageError } })()
      expect(bidErr?.message).toMatch(/^requirements\.image: expected an image reference/)
    })
  })

  it('the book shows the runtime and images (rows, the table)', () => {
    const book = new OrderBook({ clock: new ManualClock(T0) })
    book.upsertOffer(mkOffer({ id: 'plain', pricePerGpuHour: 1n }))
    book.upsertOffer(mkOffer({ id: 'any', pricePerGpuHour: 2n, runtime: 'container' }))
    book.upsertOffer(mkOffer({ id: 'some', pricePerGpuHour: 3n, runtime: 'container', images: ['docker.io/pytorch/pytorch:*', 'ghcr.io/x:1'] }))
    expect(bookRows(book.offers()).map((r) => [r.id, r.runtime, r.images])).toEqual([
      ['plain', 'process', []],
      ['any', 'container', []],
      ['some', 'container', ['docker.io/pytorch/pytorch:*', 'ghcr.io/x:1']]
    ])
    const table = formatBook(book.offers(), { now: T0 }).split('\n')
    expect(table[0]).toMatch(/ RUNTIME /)
    expect(table[1]).toMatch(/ process /)
    expect(table[2]).toMatch(/ container /)
    expect(table[3]).toMatch(/ container:docker\.io\/pytorch\/pytorch:\* \+1 /)
  })

  it('the book filters on the runtime and on an image as matching would take it (--runtime, --image)', () => {
    const book = new OrderBook({ clock: new ManualClock(T0) })
    book.upsertOffer(mkOffer({ id: 'plain', pricePerGpuHour: 1n }))
    book.upsertOffer(mkOffer({ id: 'any', pricePerGpuHour: 2n, runtime: 'container' }))
    book.upsertOffer(mkOffer({ id: 'pytorch', pricePerGpuHour: 3n, runtime: 'container', images: ['docker.io/pytorch/pytorch:*'] }))
    book.upsertOffer(mkOffer({ id: 'exact', pricePerGpuHour: 4n, runtime: 'container', images: ['ghcr.io/org/train:1'] }))
    const ids = (f: Parameters<OrderBook['offers']>[0]): string[] => book.offers(f).map((e) => e.offer.id)
    expect(ids({})).toEqual(['plain', 'any', 'pytorch', 'exact'])
    expect(ids({ runtime: 'process' })).toEqual(['plain'])
    expect(ids({ runtime: 'container' })).toEqual(['any', 'pytorch', 'exact'])
    // an image: the container offers that allow it (none listed allows every image), never a process offer
    expect(ids({ image: PYTORCH })).toEqual(['any', 'pytorch'])
    expect(ids({ image: 'ghcr.io/org/train:1' })).toEqual(['any', 'exact'])
    expect(ids({ image: 'ghcr.io/org/train:2', runtime: 'container' })).toEqual(['any'])
    // compared as written, as matching compares them: docker.io/ is not implied
    expect(ids({ image: 'pytorch/pytorch:2.4.0' })).toEqual(['any'])
    // the listing is what matching takes: every offer listed for an image matches a bid with it, and no other
    for (const image of [PYTORCH, 'ghcr.io/org/train:1', 'pytorch/pytorch:2.4.0']) {
      const bid = mkBid({ requirements: requirements(image), maxPricePerGpuHour: 10n })
      expect(book.offers().filter((e) => termsCompatible(e.offer, bid, T0)).map((e) => e.offer.id), image).toEqual(ids({ image }))
    }
    const rows = JSON.parse(formatBook(book.offers(), { image: PYTORCH, json: true })) as Array<{ id: string }>
    expect(rows.map((r) => r.id)).toEqual(['any', 'pytorch'])
    expect(JSON.parse(formatBook(book.offers(), { runtime: 'process', json: true })).map((r: { id: string }) => r.id)).toEqual(['plain'])
  })
})
