/** Default bound on resting offers in a book. */
export const DEFAULT_MAX_OFFERS = 200_000
/** Default bound on resting bids in a book. */
export const DEFAULT_MAX_BIDS = 50_000
/** A single supplier hotkey holds at most this many offer slots in a book; beyond it new slots are refused. */
export const DEFAULT_MAX_OFFERS_PER_SUPPLIER = 256
/** Likewise for bids of one renter. */
export const DEFAULT_MAX_BIDS_PER_RENTER = 64
/** Tombstones of cancelled entries (so an older copy cannot resurrect them) are bounded too. */
export const DEFAULT_MAX_TOMBSTONES = 100_000

/** Version of the AgreementTerms written by this code. */
export const AGREEMENT_VERSION = 1
/** How long a supplier holds capacity between its Accept and the renter's Confirm. */
export const DEFAULT_HOLD_MS = 10_000
/**
 * Agreements one renter may hold with one supplier before any of them starts (see
 * `SupplierNegotiatorInit.maxWaitingPerRenter`): a renter starts each right after it is made, so a
 * few cover rentals made side by side.
 */
export const DEFAULT_MAX_WAITING_PER_RENTER = 4
/**
 * The cooldown of a renter whose holds ended without a job (RenterCooldown). Each such end weighs
 * on the renter's score: a committed agreement that lapsed unstarted (no escrow in its window, no
 * session by its startBy) 1; one the renter withdrew, or a hold it never confirmed, 1/4. The score
 * halves every COOLDOWN_HALF_LIFE_MS. From COOLDOWN_FROM on (two lapses within 6 hours, six or
 * more withdrawals close together), the renter's proposals are refused
 * (RENTER_COOLDOWN) for COOLDOWN_BASE_MS × 2^(score − COOLDOWN_FROM) after its last such end, at
 * most MAX_COOLDOWN_MS. At most MAX_COOLDOWN_RENTERS renters are remembered, the least recent
 * forgotten first.
 */
export const LAPSE_WEIGHT = 1
export const WITHDRAW_WEIGHT = 0.25
export const UNCONFIRMED_WEIGHT = 0.25
export const COOLDOWN_FROM = 1.5
export const COOLDOWN_BASE_MS = 30 * 60_000
export const MAX_COOLDOWN_MS = 24 * 60 * 60_000
export const COOLDOWN_HALF_LIFE_MS = 6 * 60 * 60_000
export const MAX_COOLDOWN_RENTERS = 10_000
/** How long a renter has to open the escrow after the agreement (AgreementTerms.startBy). */
export const DEFAULT_START_WINDOW_MS = 10 * 60_000
/**
 * The longest start window a supplier accepts: its GPUs stay committed to the agreement until
 * startBy, so a renter proposing a far one could hold them without ever starting.
 */
export const MAX_START_WINDOW_MS = 60 * 60_000
/**
 * Dormant agreements (pending ones whose hold is gone, lapsed ones) are kept this long for the
 * operator's view, at most MAX_DORMANT_AGREEMENTS of them, and pruned every
 * AGREEMENT_PRUNE_INTERVAL_MS (see AgreementStore.prune). Active ones are kept.
 */
export const AGREEMENT_RETENTION_MS = 7 * 24 * 60 * 60_000
export const MAX_DORMANT_AGREEMENTS = 10_000
export const AGREEMENT_PRUNE_INTERVAL_MS = 60 * 60_000
/** Slack added to the duration for the escrow's expiry (the renter reclaims after it). */
export const DEFAULT_ESCROW_SLACK_MS = 60 * 60_000
/**
 * The least time a supplier accepts between the latest end of a job (started at its `startBy`, run
 * for its whole duration) and the escrow's expiry, to settle on its last voucher: after the expiry
 * the arbiter co-signs the renter's refund. Within DEFAULT_ESCROW_SLACK_MS less
 * DEFAULT_START_WINDOW_MS, so default terms pass.
 */
export const MIN_SETTLE_WINDOW_MS = 10 * 60_000
/** Bytes of AgreementTerms.nonce. */
export const NONCE_BYTES = 16
/** Upper bound on an encoded AgreementTerms; anything bigger is malformed. */
export const MAX_TERMS_BYTES = 4096
/** Upper bound on measurements a policy may list. */
export const MAX_MEASUREMENTS = 16
/** Proposals a supplier accepts from one peer per window, and the window. */
export const DEFAULT_PROPOSALS_PER_WINDOW = 20
export const DEFAULT_RATE_WINDOW_MS = 10_000
/** Bound on the peers the rate limiter tracks. */
export const MAX_RATE_PEERS = 10_000
