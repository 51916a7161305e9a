import { BazaarError } from '../util/errors.js'

/** Why the local book refused an entry. */
export type MarketErrorCode =
  | 'BOOK_FULL'
  | 'SUPPLIER_LIMIT'
  | 'STALE'
  | 'EXPIRED'
  | 'MALFORMED'

/** A local order book operation was refused. */
export class MarketError extends BazaarError<MarketErrorCode> {}

/**
 * Why a negotiation ended without an agreement. The same codes travel in a `Refusal` on the wire,
 * so a renter can tell a lost race (NO_CAPACITY, OFFER_GONE, PRICE_CHANGED: re-match at once) from a
 * fault (BAD_SIGNATURE, TERMS_MISMATCH, MALFORMED) and from load (RATE_LIMITED, TIMEOUT, BUSY).
 */
export const NegotiationCode = {
  NO_CAPACITY: 'NO_CAPACITY',
  PRICE_CHANGED: 'PRICE_CHANGED',
  OFFER_GONE: 'OFFER_GONE',
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  BAD_CERT: 'BAD_CERT',
  TERMS_MISMATCH: 'TERMS_MISMATCH',
  TIMEOUT: 'TIMEOUT',
  RATE_LIMITED: 'RATE_LIMITED',
  MALFORMED: 'MALFORMED',
  STORE_FAILED: 'STORE_FAILED',
  ABORTED: 'ABORTED',
  /** no compatible offer left in the book for this bid */
  NO_MATCH: 'NO_MATCH',
  /** the renter already holds as many agreements with this supplier that have not started as it may */
  RENTER_LIMIT: 'RENTER_LIMIT',
  /** the renter's account does not hold the budget in the escrow asset */
  NO_FUNDS: 'NO_FUNDS',
  /** the renter's recent holds with this supplier ended without a job (lapsed unpaid, withdrawn or unconfirmed in numbers): it waits before it may propose again; try another */
  RENTER_COOLDOWN: 'RENTER_COOLDOWN',
  /** a refusal code this version does not know (sent by a newer or hostile peer) */
  UNKNOWN: 'UNKNOWN'
} as const
export type NegotiationErrorCode = typeof NegotiationCode[keyof typeof NegotiationCode]

const KNOWN = new Set<string>(Object.values(NegotiationCode))

/** Maps a code received from a peer to a known one, so untrusted text never becomes a code. */
export function toNegotiationCode (code: string): NegotiationErrorCode {
  return KNOWN.has(code) ? code as NegotiationErrorCode : NegotiationCode.UNKNOWN
}

/** Refusals after which the renter re-matches to the next compatible offer at once. */
export const RETRYABLE_ELSEWHERE: ReadonlySet<NegotiationErrorCode> = new Set([
  NegotiationCode.NO_CAPACITY,
  NegotiationCode.RENTER_LIMIT,
  NegotiationCode.RENTER_COOLDOWN,
  NegotiationCode.PRICE_CHANGED,
  NegotiationCode.OFFER_GONE,
  NegotiationCode.RATE_LIMITED,
  NegotiationCode.TIMEOUT
])

/**
 * A negotiation failed. `remote` is true when the code came from the other side in a Refusal.
 */
export class NegotiationError extends BazaarError<NegotiationErrorCode> {
  readonly remote: boolean
  /** the supplier's current offer sequence when it reported PRICE_CHANGED or OFFER_GONE */
  readonly offerSequence?: bigint
  constructor (code: NegotiationErrorCode, message?: string, opts: { remote?: boolean, offerSequence?: bigint, cause?: unknown } = {}) {
    super(code, message ?? code, { cause: opts.cause })
    this.remote = opts.remote ?? false
    this.offerSequence = opts.offerSequence
  }
}
