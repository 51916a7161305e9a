import { Bid, Envelope, Offer } from '../../wire/market.js'
import { DOMAIN, type MessageSigner } from '../../market/signing/index.js'

/** Encodes and signs an offer: the envelope bytes that go on /bazaar/offers/1. */
export function sealOffer (offer: Offer, signer: MessageSigner): Uint8Array {
  const body = Offer.encode(offer).slice()
  return Envelope.encode({ body, signer: signer.cert, signature: signer.sign(DOMAIN.offer, body) })
}

/** Encodes and signs a bid: the envelope bytes that go on /bazaar/bids/1. */
export function sealBid (bid: Bid, signer: MessageSigner): Uint8Array {
  const body = Bid.encode(bid).slice()
  return Envelope.encode({ body, signer: signer.cert, signature: signer.sign(DOMAIN.bid, body) })
}
