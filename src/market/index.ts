/**
 * The market: local order book, the matching rule, agreements and the transport-independent
 * negotiation state machines. Nothing here knows libp2p; src/protocols/negotiate adapts it.
 */
export * from './types.js'
export * from './errors.js'
export * from './constants.js'
export * from './book/index.js'
export { matchBid, matchAll, compatible, termsCompatible, selectGpu, selectTee, type MatchOptions, type Assignment } from './match.js'
export * from './agreement/index.js'
export * from './negotiation/index.js'
