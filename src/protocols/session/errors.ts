import { BazaarError } from '../../util/errors.js'
import { AttestationError, AttestationErrorCode } from '../../tee/errors.js'

/** Why a session handshake or its channel ended, beyond the attestation codes. */
export enum SessionErrorCode {
  /** the evidence answers another nonce: replayed or stale evidence */
  NONCE_MISMATCH = 'NONCE_MISMATCH',
  /** the enclave saw this nonce before and refused to attest again */
  NONCE_REPLAYED = 'NONCE_REPLAYED',
  /** the evidence is bound to another agreement */
  AGREEMENT_MISMATCH = 'AGREEMENT_MISMATCH',
  /** the evidence is bound to a key other than the noise session's remote key (a relay in the middle) */
  PEER_MISMATCH = 'PEER_MISMATCH',
  /** the remote peer id carries no ed25519 key, so no binding is possible */
  UNSUPPORTED_PEER_KEY = 'UNSUPPORTED_PEER_KEY',
  /** the enclave does not serve this agreement */
  UNKNOWN_AGREEMENT = 'UNKNOWN_AGREEMENT',
  /** a message does not decode, has the wrong version, or a field of the wrong size */
  MALFORMED_MESSAGE = 'MALFORMED_MESSAGE',
  /** a message or frame is over its size cap */
  MESSAGE_TOO_LARGE = 'MESSAGE_TOO_LARGE',
  /** a message did not arrive within the per-message timeout */
  TIMEOUT = 'TIMEOUT',
  /** the stream ended before the handshake completed */
  STREAM_CLOSED = 'STREAM_CLOSED',
  /** the renter refused the evidence (its verdict code travels in the message) */
  REFUSED_BY_RENTER = 'REFUSED_BY_RENTER',
  /** the enclave's provider could not produce evidence */
  PROVIDER_FAILED = 'PROVIDER_FAILED',
  /** the other side aborted the channel */
  CHANNEL_ABORTED = 'CHANNEL_ABORTED'
}

export type SessionFailureCode = SessionErrorCode | AttestationErrorCode

/**
 * A session ended with a typed reason. `code` is a SessionErrorCode or, when the evidence itself was
 * refused, the AttestationErrorCode (MEASUREMENT_REFUSED, SIMULATED_REFUSED, REPORT_DATA_MISMATCH ...).
 */
export class SessionError extends BazaarError<SessionFailureCode> {
  /** for REFUSED_BY_RENTER and CHANNEL_ABORTED: the code the other side gave */
  readonly remoteCode?: string
  constructor (code: SessionFailureCode, message: string, options?: { cause?: unknown, remoteCode?: string }) {
    super(code, message, options)
    this.remoteCode = options?.remoteCode
  }
}

const KNOWN_CODES = new Set<string>([...Object.values(SessionErrorCode), ...Object.values(AttestationErrorCode)])

/** True when `code` is one of the stable codes (a code received from a peer is only trusted if so). */
export function isFailureCode (code: string): code is SessionFailureCode {
  return KNOWN_CODES.has(code)
}

/** Maps anything thrown during a session to a SessionError; untyped errors become STREAM_CLOSED or TIMEOUT. */
export function toSessionError (err: unknown): SessionError {
  if (err instanceof SessionError) return err
  if (err instanceof AttestationError) return new SessionError(err.code, err.message, { cause: err })
  const name = (err as { name?: string })?.name
  if (name === 'TimeoutError' || name === 'AbortError') return new SessionError(SessionErrorCode.TIMEOUT, 'timed out or aborted', { cause: err })
  if (name === 'InvalidDataLengthError') return new SessionError(SessionErrorCode.MESSAGE_TOO_LARGE, 'message over its size cap', { cause: err })
  return new SessionError(SessionErrorCode.STREAM_CLOSED, `stream ended: ${(err as Error)?.message ?? String(err)}`, { cause: err })
}
