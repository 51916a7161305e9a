/** Direct protocol of negotiation (DESIGN.md: version bumps are breaking). */
export const NEGOTIATE_PROTOCOL = '/bazaar/negotiate/1.0.0'
/** A renter asks a supplier found through the DHT for its current signed offers. */
export const OFFERS_FETCH_PROTOCOL = '/bazaar/offers-fetch/1.0.0'
/** A renter gives back an agreement no session has started. */
export const WITHDRAW_PROTOCOL = '/bazaar/withdraw/1.0.0'
export const WITHDRAW_MAX_INBOUND_STREAMS = 8

/** Largest negotiation message (a Propose is about 1 KiB: terms, a certificate, a bid envelope). */
export const MAX_NEGOTIATE_MESSAGE_BYTES = 16 * 1024
/** Largest offers-fetch response, and the most envelopes in it. */
export const MAX_OFFERS_RESPONSE_BYTES = 1024 * 1024
export const MAX_OFFERS_PER_RESPONSE = 256
/** Each message must arrive within this time, or the stream is ended with TIMEOUT. */
export const DEFAULT_MESSAGE_TIMEOUT_MS = 5_000
/** Streams a peer may have open on each handler at once. */
export const NEGOTIATE_MAX_INBOUND_STREAMS = 32
export const NEGOTIATE_MAX_OUTBOUND_STREAMS = 32
export const OFFERS_FETCH_MAX_INBOUND_STREAMS = 16
