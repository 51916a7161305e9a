/** Anti-entropy of the order book (DESIGN.md: version bumps are breaking). */
export const BOOK_SYNC_PROTOCOL = '/bazaar/book-sync/1.0.0'
/** protocol message version */
export const BOOK_SYNC_VERSION = 1

/**
 * Largest request frame. A first request is a few varints, within the 64 bytes a responder from
 * before digests reads; a later one may carry a bitmap of up to 4,096 buckets (512 bytes).
 */
export const MAX_REQUEST_BYTES = 1024
/** Largest chunk frame, and the most envelopes in one (each envelope is at most 8 KiB). */
export const MAX_CHUNK_BYTES = 1024 * 1024
export const MAX_CHUNK_ENTRIES = 256
/** The most envelopes one page carries in all (about 9 MB of typical offers). */
export const MAX_SYNC_ENTRIES = 20_000
/**
 * The most signed cancels one page carries in all, beside the entries (a cancel is about 250
 * bytes). A requester that asks for none gets none (a version-1 requester from before cancels).
 */
export const MAX_SYNC_CANCELS = 20_000
/**
 * The most pages of one exchange, on both sides. 16 pages of 20,000 hold a node's whole book (at
 * most 100,000 offers and 100,000 bids, `MarketService`), and 16 of 20,000 cancels the 200,000
 * tombstones of both kinds (`DEFAULT_MAX_TOMBSTONES` each).
 */
export const MAX_SYNC_PAGES = 16

/** Each frame must arrive within this time, and each page of an exchange (from its request to its last chunk) within the second. */
export const DEFAULT_FRAME_TIMEOUT_MS = 5_000
export const DEFAULT_PAGE_TIMEOUT_MS = 30_000
/** Exchanges a peer may start per minute before it is refused (the pages of one count once). */
export const DEFAULT_REQUESTS_PER_MINUTE = 6
/** Streams a peer may have open on the handler at once. */
export const MAX_INBOUND_STREAMS = 2
/**
 * Exchanges this node serves at once, from all peers; one more is refused (BUSY). Each holds the
 * book's lists as they stood at its first request (a reference per envelope, 2 MB for a full
 * book) for up to 16 pages.
 */
export const MAX_SERVED_AT_ONCE = 8
/** Exchanges this node runs at once as the requester, and peers waiting for one. */
export const DEFAULT_MAX_CONCURRENT = 2
export const MAX_QUEUED_PEERS = 64
/** How often the node pulls from one peer picked at random, beside the pull on every new connection. */
export const DEFAULT_INTERVAL_MS = 60_000
/**
 * A page's envelopes are validated this many at a time, the event loop given back between: an
 * unknown signer's certificate is checked inline here (about 1.3 ms), so 256 fresh signers in one
 * chunk held the loop 322 ms, and a page of 20,000 would hold it for about 25 s.
 */
export const VALIDATE_YIELD_EVERY = 16
