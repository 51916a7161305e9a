import { BazaarError } from '../../../util/errors.js'

/**
 * Why a rental ended before its job: no compatible offer (or none accepted the bid), a supplier
 * found the renter's account short of the budget, the chain was not connected when the rental
 * began, the escrow did not open, the enclave's session was refused, or the rental was cancelled
 * before its job.
 */
export type RentErrorCode = 'NO_MATCH' | 'NO_FUNDS' | 'CHAIN_UNAVAILABLE' | 'ESCROW_FAILED' | 'SESSION_FAILED' | 'ABORTED'

export class RentError extends BazaarError<RentErrorCode> {}

