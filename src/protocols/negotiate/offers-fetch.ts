import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { pbStream } from '@libp2p/utils'
import { OffersRequest, OffersResponse } from '../../wire/agreement.js'
import type { Envelope } from '../../wire/market.js'
import { WindowLimiter } from '../../util/rate-limit.js'
import { MAX_RATE_PEERS } from '../../market/constants.js'
import { systemClock, type Clock } from '../../util/clock.js'
import {
  DEFAULT_MESSAGE_TIMEOUT_MS, MAX_OFFERS_PER_RESPONSE, MAX_OFFERS_RESPONSE_BYTES, OFFERS_FETCH_MAX_INBOUND_STREAMS,
  OFFERS_FETCH_PROTOCOL
} from './constants.js'
import { stepSignal, toNegotiationError } from './errors.js'
import { decodeOrMalformed } from '../stream-errors.js'

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
  const clock = init.clock ?? systemClock
  const limiter = new WindowLimiter(init.requestsPerMinute ?? 30, 60_000, MAX_RATE_PEERS)
  const timeoutMs = init.messageTimeoutMs ?? DEFAULT_MESSAGE_TIMEOUT_MS
  const handler = async (stream: Stream, connection: Connection): Promise<void> => {
    try {
      if (!limiter.take(connection.remotePeer.toString(), clock.now())) {
        stream.abort(new Error('rate limited'))
        return
      }
      const pb = pbStream(stream, { maxDataLength: MAX_REQUEST_BYTES })
      const req = await pb.read(decodeOrMalformed(OffersRequest), { signal: stepSignal(timeoutMs) })
      const offers = init.offers(req.gpu).slice(0, MAX_OFFERS_PER_RESPONSE)
      await pb.write({ offers }, OffersResponse, { signal: stepSignal(timeoutMs) })
      await stream.close({ signal: stepSignal(timeoutMs) })
    } catch (err) {
      stream.abort(toNegotiationError(err))
    }
  }
  await libp2p.handle(OFFERS_FETCH_PROTOCOL, handler, { maxInboundStreams: init.maxInboundStreams ?? OFFERS_FETCH_MAX_INBOUND_STREAMS })
  return { stop: async () => { await libp2p.unhandle(OFFERS_FETCH_PROTOCOL) } }
}

/**
 * Asks a supplier for its current signed offers. The envelopes are untrusted: run them through
 * the offer validator before `book.upsertOffer`. Throws NegotiationError TIMEOUT, MALFORMED or
 * ABORTED.
 */
export async function fetchOffers (libp2p: Pick<Libp2p, 'dialProtocol'>, supplier: PeerId | Multiaddr | Multiaddr[], opts: { gpu?: string, signal?: AbortSignal, timeoutMs?: number } = {}): Promise<Envelope[]> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_MESSAGE_TIMEOUT_MS
  const stream = await libp2p.dialProtocol(supplier, OFFERS_FETCH_PROTOCOL, { signal: stepSignal(timeoutMs, opts.signal) })
    .catch((err: unknown) => { throw toNegotiationError(err) })
  try {
    const pb = pbStream(stream, { maxDataLength: MAX_OFFERS_RESPONSE_BYTES })
    await pb.write({ gpu: opts.gpu ?? '' }, OffersRequest, { signal: stepSignal(timeoutMs, opts.signal) })
    const res = await pb.read(decodeOrMalformed(OffersResponse), { signal: stepSignal(timeoutMs, opts.signal), limits: { offers: MAX_OFFERS_PER_RESPONSE } })
    await stream.close({ signal: stepSignal(timeoutMs, opts.signal) }).catch(() => {})
    return res.offers
  } catch (err) {
    const ne = toNegotiationError(err)
    stream.abort(ne)
    throw ne
  }
}
