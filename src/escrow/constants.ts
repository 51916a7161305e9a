/** Constants of the escrow domain. Changing a domain tag is a breaking change of the signed bytes. */

/** Domain tag of the canonical voucher bytes (see voucher/bytes.ts). */
export const VOUCHER_DOMAIN = 'bazaar-voucher-v1'
/** Domain tag of the settlement bytes an approver signs on the embedded ledger. */
export const SETTLEMENT_DOMAIN = 'bazaar-settlement-v1'
/** Domain tag of the bytes a party signs to ask the arbiter for a settlement (arbiter/request-signature.ts). */
export const ARBITER_REQUEST_DOMAIN = 'bazaar-arbiter-request-v1'
/** Domain tag of the bytes a payer signs to open an escrow on the embedded ledger. */
export const OPEN_DOMAIN = 'bazaar-open-v1'

/**
 * Largest amount the wire formats carry: 2^63 - 1 base units (9.2e9 whole alpha, far above any
 * subnet's supply). The protobuf schemas use fixed64, which protons-runtime 7 reads back as a signed
 * 64-bit value, so the top bit is never used. The signed voucher bytes reserve a u128 (Substrate's
 * `Balance`), so raising this later does not change the signature scheme.
 */
export const MAX_AMOUNT = (1n << 63n) - 1n
/** Largest voucher or report sequence (same wire limit as amounts). */
export const MAX_SEQUENCE = (1n << 63n) - 1n

export const MS_PER_HOUR = 3_600_000n

/** Metering defaults (issue 5): report every 10 s, pause after 30 s of unpaid usage, stop 60 s later. */
export const DEFAULT_TICK_MS = 10_000
export const DEFAULT_GRACE_MS = 30_000
export const DEFAULT_STOP_AFTER_MS = 60_000
/** How far a supplier's reported usage may run ahead of the renter's own clock. */
export const DEFAULT_USAGE_TOLERANCE_MS = 2_000

/**
 * Reports a renter answers in a burst, and how fast the allowance comes back: a supplier reports once
 * a tick (one second at the shortest) plus its final report at the exit, so an honest one never
 * runs dry; each answer costs the renter a signature and a synced write, which a flood of reports
 * would otherwise buy without limit.
 */
export const REPORT_BURST = 4
export const REPORT_REFILL_MS = 500

/** Reports a supplier keeps waiting for a voucher; older ones are dropped (their time stays unpaid). */
export const MAX_OUTSTANDING_REPORTS = 64
/** Pending (not yet executed) settlements per escrow on the embedded ledger. */
export const MAX_PENDING_SETTLEMENTS = 8
/** Payouts in one settlement: payee and payer. */
export const MAX_PAYOUTS = 2
/** ss58 prefix of the generic Substrate format used by subtensor. */
export const SS58_PREFIX = 42

/**
 * How long past its expiry an arbiter keeps an escrow naming it that it is done with: one no party
 * asked it about, or one a sweep found nothing left on (`LevelEscrowStore.pruneArbitrated`). A
 * renter refunds 10 minutes after the expiry, so a week covers a party stopped for days, and the
 * operator's `escrow ls` shows the week's market.
 */
export const ARBITER_ESCROW_RETENTION_MS = 7 * 24 * 60 * 60_000
