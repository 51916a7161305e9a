import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { OffersRequest, OffersResponse } from '../../wire/agreement.js'
import type { Envelope } from '../../wire/market.js'
import type { Clock } from '../../util/clock.js'
import { MAX_OFFERS_PER_RESPONSE, MAX_OFFERS_RESPONSE_BYTES, OFFERS_FETCH_MAX_INBOUND_STREAMS, OFFERS_FETCH_PROTOCOL } from './constants.js'
import { askOneShot, handleOneShot } from './one-shot.js'

const MAX_REQUEST_BYTES = 256

export interface OffersFetchInit {
  /** the supplier's current signed offer envelopes for a GPU model or class ("" = all) */
  offers: (gpu: string) => Envelope[]
  clock?: Clock
  messageTimeoutMs?: number
  /** requests per peer per minute; default 30 */
  requestsPerMinute?: number
  maxInboundStreams?: number
}

/**
 * Serves /bazaar/offers-fetch/1.0.0: one OffersRequest in, one OffersResponse out (at most 256
 * envelopes, 1 MiB). A renter that found this supplier through a DHT provider record
 * (`gpu:<class>`) gets its current offers without waiting for the next re-publication; it validates
 * each envelope as if it came from gossip before it enters the book.
 */
export async function registerOffersFetchHandler (libp2p: Pick<Libp2p, 'handle' | 'unhandle'>, init: OffersFetchInit): Promise<{ stop: () => Promise<void> }> {
  return await handleOneShot(libp2p, OFFERS_FETCH_PROTOCOL, {
    request: OffersRequest,
    response: OffersResponse,
    maxRequestBytes: MAX_REQUEST_BYTES,
    answer: (req) => ({ offers: init.offers(req.gpu).slice(0, MAX_OFFERS_PER_RESPONSE) }),
    ...(init.clock != null ? { clock: init.clock } : {}),
    ...(init.messageTimeoutMs != null ? { messageTimeoutMs: init.messageTimeoutMs } : {}),
    ...(init.requestsPerMinute != null ? { requestsPerMinute: init.requestsPerMinute } : {}),
    maxInboundStreams: init.maxInboundStreams ?? OFFERS_FETCH_MAX_INBOUND_STREAMS
  })
}

/**
 * Asks a supplier for its current signed offers. The envelopes are untrusted: run them through
 * the offer validator before `book.upsertOffer`. Throws NegotiationError TIMEOUT, MALFORMED or
 * ABORTED.
 */
export async function fetchOffers (libp2p: Pick<Libp2p, 'dialProtocol'>, supplier: PeerId | Multiaddr | Multiaddr[], opts: { gpu?: string, signal?: AbortSignal, timeoutMs?: number } = {}): Promise<Envelope[]> {
  const res = await askOneShot(libp2p, supplier, OFFERS_FETCH_PROTOCOL, { gpu: opts.gpu ?? '' }, {
    request: OffersRequest,
    response: OffersResponse,
    maxResponseBytes: MAX_OFFERS_RESPONSE_BYTES,
    limits: { offers: MAX_OFFERS_PER_RESPONSE },
    ...(opts.signal != null ? { signal: opts.signal } : {}),
    ...(opts.timeoutMs != null ? { timeoutMs: opts.timeoutMs } : {})
  })
  return res.offers
}
