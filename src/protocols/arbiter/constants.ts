/** Direct protocol of the arbiter role (DESIGN.md: version bumps are breaking). */
export const ARBITER_PROTOCOL = '/bazaar/arbiter/2.0.0'
/** Largest request or response (a request is about 600 bytes). */
export const MAX_ARBITER_MESSAGE_BYTES = 4 * 1024
/** Each message must arrive within this time. */
export const DEFAULT_ARBITER_TIMEOUT_MS = 10_000
/**
 * How long the arbiter may take to decide and approve on chain, between the request and the
 * response. An approval on a live subtensor network is up to two extrinsics (a top-up of the
 * arbiter's per-escrow key, then the approval), each waiting for its block and, where the node
 * follows finality, for finality: tens of seconds each at 12 s blocks, far beyond the 10 s a
 * message may take on the wire.
 */
export const DEFAULT_ARBITER_DECISION_MS = 150_000
export const ARBITER_MAX_INBOUND_STREAMS = 16
export const ARBITER_MAX_OUTBOUND_STREAMS = 4
/** Requests a peer may make per window: each approval may cost the arbiter a chain fee. */
export const DEFAULT_REQUESTS_PER_WINDOW = 10
export const DEFAULT_RATE_WINDOW_MS = 60_000
/** Peers the rate limiter remembers; the oldest is forgotten first. */
export const MAX_TRACKED_PEERS = 4096
