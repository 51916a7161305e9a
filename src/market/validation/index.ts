export { validateOfferSchema, validateOfferLifetime, validateOfferParty } from './offer.js'
export { validateBidSchema, validateBidLifetime, validateBidParty } from './bid.js'
export {
  MessageError, MessageErrorCode, OfferError, BidError, offerErrors, bidErrors,
  type OfferErrorCode, type BidErrorCode, type MessageErrors
} from './errors.js'
export * as limits from './constants.js'
