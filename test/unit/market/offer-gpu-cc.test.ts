import { describe, expect, it } from 'vitest'
import { OrderBook } from '../../../src/market/book/order-book.js'
import { bookRows, formatBook } from '../../../src/market/book/format.js'
import { validateOfferSchema } from '../../../src/market/validation/offer.js'
import { Offer } from '../../../src/wire/market.js'
import { ManualClock } from '../../../src/util/clock.js'
import { T0, mkOffer } from './book-fixtures.js'

const offer = (o: Partial<Offer> = {}): Offer => mkOffer({ enclavePeer: new Uint8Array([0x00, 0x24, 0x08, 0x01, 0x12, 0x20, ...new Uint8Array(32).fill(7)]), ...o })

describe('Offer.gpuCc (the GPUs provide confidential-computing evidence)', () => {
  it('an offer without it encodes exactly as before the field existed; true round-trips', () => {
    const plain = Offer.encode(offer())
    const withFalse = Offer.encode({ ...offer(), gpuCc: undefined })
    expect(Buffer.from(withFalse).equals(Buffer.from(plain))).toBe(true)
    expect(Offer.decode(plain).gpuCc).toBeUndefined()
    const cc = Offer.encode(offer({ gpuCc: true }))
    // field 17, varint: tag bytes 0x88 0x01, then 1
    expect(Buffer.from(cc.subarray(cc.byteLength - 3)).toString('hex')).toBe('880101')
    expect(Offer.decode(cc).gpuCc).toBe(true)
  })

  it('an explicit false is a second encoding of "no" and is refused as non-canonical', () => {
    const explicitFalse = Offer.decode(Offer.encode({ ...offer(), gpuCc: false }))
    expect(explicitFalse.gpuCc).toBe(false)
    expect(() => { validateOfferSchema(explicitFalse) }).toThrow(expect.objectContaining({ code: 'NON_CANONICAL' }))
    expect(() => { validateOfferSchema(offer({ gpuCc: true })) }).not.toThrow()
    expect(() => { validateOfferSchema(offer()) }).not.toThrow()
  })

  it('the book filters on it (--gpu-cc, API gpuCc=1) and shows it', () => {
    const book = new OrderBook({ clock: new ManualClock(T0) })
    book.upsertOffer(mkOffer({ id: 'plain', pricePerGpuHour: 1n }))
    book.upsertOffer(mkOffer({ id: 'cc', pricePerGpuHour: 2n, gpuCc: true }))
    expect(book.offers().map((e) => e.offer.id)).toEqual(['plain', 'cc'])
    expect(book.offers({ gpuCc: true }).map((e) => e.offer.id)).toEqual(['cc'])
    expect(bookRows(book.offers()).map((r) => r.gpuCc)).toEqual([false, true])
    const rows = JSON.parse(formatBook(book.offers(), { gpuCc: true, json: true })) as Array<{ id: string }>
    expect(rows.map((r) => r.id)).toEqual(['cc'])
  })
})
