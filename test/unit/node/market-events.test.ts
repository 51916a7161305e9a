import { describe, expect, it } from 'vitest'
import { MarketService } from '../../../src/node/market-service.js'
import { Registry } from '../../../src/node/metrics.js'
import { silentLogger } from '../../../src/node/logger.js'
import type { ValidatedMessage } from '../../../src/protocols/gossip/validate.js'
import { ManualClock } from '../../../src/util/clock.js'
import type { Offer } from '../../../src/wire/market.js'
import { T0, mkOffer } from '../market/book-fixtures.js'

/** the book side of MarketService only: no host is touched until start() */
function service (): MarketService {
  return new MarketService({ host: {} as never, clock: new ManualClock(T0), logger: silentLogger, validator: {} as never, metrics: new Registry() })
}

const msg = (offer: Offer): ValidatedMessage => ({ kind: 'offer', offer, data: new Uint8Array(), signer: '', key: `${offer.id}`, msgId: `${offer.id}/${offer.sequence}` })

describe('MarketService offer events', () => {
  it('tells listeners of each offer that enters or changes in the book, not of cancels or stale copies', () => {
    const market = service()
    const seen: string[] = []
    const off = market.onOffer((e) => { seen.push(`${e.offer.id}#${e.offer.sequence}`) })
    market.apply(msg(mkOffer({ id: 'a' })))
    market.apply(msg(mkOffer({ id: 'a', sequence: 2n })))
    // an older copy the book refuses (STALE), and a cancel
    market.apply(msg(mkOffer({ id: 'a', sequence: 1n })))
    market.apply(msg(mkOffer({ id: 'a', sequence: 3n, cancelled: true, gpus: [] })))
    expect(seen).toEqual(['a#1', 'a#2'])
    off()
    market.apply(msg(mkOffer({ id: 'b' })))
    expect(seen).toHaveLength(2)
    expect(market.book.offerCount).toBe(1)
  })

  it('a listener that throws does not stop the book update or the other listeners', () => {
    const market = service()
    let calls = 0
    market.onOffer(() => { throw new Error('listener bug') })
    market.onOffer(() => { calls++ })
    market.apply(msg(mkOffer({ id: 'a' })))
    expect(calls).toBe(1)
    expect(market.book.offerCount).toBe(1)
  })
})
