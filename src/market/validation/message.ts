import { bytesEqual } from '../../util/bytes.js'
import { MAX_CLOCK_SKEW_MS, MAX_TTL_MS } from './constants.js'
import { MessageErrorCode, type MessageErrors } from './errors.js'

/**
 * Checks every market message passes the same way, whatever its type; offer.ts and bid.ts call
 * them with their own error class. Numbers only: the message's state (seen, sequence) and its
 * signature are the gossip pipeline's (protocols/gossip).
 */

type LifetimeCode = MessageErrorCode.FUTURE_DATED | MessageErrorCode.EXPIRED | MessageErrorCode.TTL_TOO_LONG

/** The message is live at `now`, within the clock-skew tolerance, and claims no more than the longest life. */
export function checkLifetime<C extends MessageErrorCode> (createdAtMs: bigint, expiresAtMs: bigint, now: number, errors: MessageErrors<C | LifetimeCode>): void {
  const createdAt = Number(createdAtMs)
  const expiresAt = Number(expiresAtMs)
  // [IGNORE] created further in the future than the clock-skew tolerance (our clock may be behind)
  if (createdAt > now + MAX_CLOCK_SKEW_MS) throw errors.ignore(MessageErrorCode.FUTURE_DATED)
  // [IGNORE] the message's expiry is in the past (it may have been valid when it was sent)
  if (expiresAt <= now) throw errors.ignore(MessageErrorCode.EXPIRED)
  // [REJECT] the message claims a longer life than any message may have
  if (expiresAt <= createdAt || expiresAt - createdAt > MAX_TTL_MS) throw errors.reject(MessageErrorCode.TTL_TOO_LONG)
}

/** The party the body names is the hotkey that certified the signing key. */
export function checkParty<C extends MessageErrorCode> (party: Uint8Array, hotkey: Uint8Array, errors: MessageErrors<C | MessageErrorCode.SIGNER_MISMATCH>): void {
  // [REJECT] the message names a party other than the certificate's hotkey
  if (!bytesEqual(party, hotkey)) throw errors.reject(MessageErrorCode.SIGNER_MISMATCH)
}
