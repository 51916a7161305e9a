/** Direct protocol of the arbiter role (DESIGN.md: version bumps are breaking). */
export const ARBITER_PROTOCOL = '/bazaar/arbiter/2.0.0'
/** Largest request or response (a request is about 600 bytes). */
export const MAX_ARBITER_MESSAGE_BYTES = 4 * 1024
/** Each message must arrive within this time. */
export const DEFAULT_ARBITER_TIMEOUT_MS = 10_000
export const ARBITER_MAX_INBOUND_STREAMS = 16
export const ARBITER_MAX_OUTBOUND_STREAMS = 4
/** Requests a peer may make per window: each approval may cost the arbiter a chain fee. */
export const DEFAULT_REQUESTS_PER_WINDOW = 10
export const DEFAULT_RATE_WINDOW_MS = 60_000
/** Peers the rate limiter remembers; the oldest is forgotten first. */
export const MAX_TRACKED_PEERS = 4096
