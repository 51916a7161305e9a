export { validateOfferSchema } from './offer.js'
export { validateBidSchema } from './bid.js'
export { MessageError, MessageErrorCode } from './errors.js'
export * as limits from './constants.js'
