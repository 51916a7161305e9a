/**
 * The renter role. Its pieces live in `./renter/`: the saga steps of one rental (saga.ts), the
 * match wait on book events (match.ts), the renter's metering (metering.ts), the settlement wait
 * (settle.ts), taking a job up again after a restart (reattach.ts), and `RenterRole` composing them
 * as a service.
 */
export { RenterRole, DEFAULT_RENTER_STOP_WAIT_MS, REFUND_GRACE_MS } from './renter/role.js'
export { RentError, type RentErrorCode } from './renter/errors.js'
export type { RentRequest, RentEvent, RentGpuAttestation, RentJob, RentSummary, RenterRoleInit, ResumedEscrow, RefundedEscrow, RentalToResume, RentOptions } from './renter/types.js'
export { reattachRental, type ReattachContext } from './renter/reattach.js'
export { awaitMatch, matchOthers, type OfferEvents, type AwaitMatchOptions } from './renter/match.js'
export { RenterMetering, type RenterMeteringComponents } from './renter/metering.js'
export { awaitSettled, settledAmounts, SETTLE_WAIT_MS, type AwaitSettledOptions } from './renter/settle.js'
export {
  publishRentBid, findMatch, negotiateAgreement, openRentEscrow, openRentSession, runRentJob, settleRent, DEFAULT_MATCH_TIMEOUT_MS,
  type RentContext, type OpenedEscrow, type OpenedSession
} from './renter/saga.js'
