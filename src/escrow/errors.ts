import { BazaarError } from '../util/errors.js'

/**
 * Stable codes of every escrow failure. Callers and tests branch on these, never on messages.
 */
export type EscrowErrorCode =
  // terms
  | 'INVALID_TERMS'
  // vouchers
  | 'MALFORMED_VOUCHER'
  | 'WRONG_ESCROW'
  | 'ESCROW_NOT_OPEN'
  | 'ABOVE_LOCKED'
  | 'SEQUENCE_NOT_INCREASING'
  | 'CUMULATIVE_DECREASED'
  | 'BAD_SIGNATURE'
  // settlements
  | 'MALFORMED_SETTLEMENT'
  | 'PAYOUTS_MISMATCH'
  | 'NOT_EXPIRED'
  | 'NO_VOUCHER'
  | 'STALE_VOUCHER'
  // ledger
  | 'UNKNOWN_ESCROW'
  | 'ESCROW_EXISTS'
  | 'NOT_SIGNATORY'
  | 'ALREADY_APPROVED'
  | 'TOO_MANY_PENDING'
  | 'INSUFFICIENT_BALANCE'
  | 'WRONG_NETUID'
  | 'LEDGER_CLOSED'
  // metering
  | 'UNKNOWN_REPORT'
  | 'AMOUNT_MISMATCH'
  | 'REPORT_INVALID'
  | 'REPORT_AHEAD_OF_CLOCK'
  | 'METER_STOPPED'
  // arbiter
  | 'TERMS_MISMATCH'
  | 'SETTLEMENT_MISMATCH'
  | 'COOPERATIVE_NOT_ARBITRATED'
  | 'RATE_LIMITED'
  | 'MALFORMED_REQUEST'
  | 'UNSIGNED_REQUEST'
  | 'VOUCHER_CLOSE_PENDING'
  | 'ARBITER_UNAVAILABLE'
  // service
  | 'NOT_A_PARTY'
  | 'ARBITER_REFUSED'
  | 'ABORTED'

/** Every escrow failure: a stable `code` and, where useful, structured detail. */
export class EscrowError extends BazaarError<EscrowErrorCode> {
  readonly detail?: Record<string, unknown>
  constructor (code: EscrowErrorCode, message?: string, detail?: Record<string, unknown>) {
    super(code, message ?? code)
    if (detail != null) this.detail = detail
  }
}

/** Throws `ABORTED` when the signal has fired. */
export function throwIfAborted (signal?: AbortSignal): void {
  if (signal?.aborted === true) throw new EscrowError('ABORTED', 'operation aborted')
}
