import { BazaarError } from '../../util/errors.js'

/** Failures of the arbiter protocol itself (the arbiter's refusals travel as `reason` codes). */
export type ArbiterProtocolErrorCode = 'TIMEOUT' | 'MALFORMED' | 'ABORTED' | 'UNREACHABLE'

export class ArbiterProtocolError extends BazaarError<ArbiterProtocolErrorCode> {}

const MALFORMED_NAMES = new Set(['InvalidDataLengthError', 'InvalidDataLengthLengthError', 'InvalidMessageLengthError', 'MaxLengthError', 'RangeError', 'InvalidMessageError'])
const TIMEOUT_NAMES = new Set(['AbortError', 'TimeoutError'])

/** Any stream failure as a typed error, by error name, never by message. */
export function toArbiterProtocolError (err: unknown): ArbiterProtocolError {
  if (err instanceof ArbiterProtocolError) return err
  const name = err instanceof Error ? err.name : ''
  if (TIMEOUT_NAMES.has(name)) return new ArbiterProtocolError('TIMEOUT', 'peer too slow', { cause: err })
  if (MALFORMED_NAMES.has(name) || err instanceof RangeError || err instanceof TypeError) return new ArbiterProtocolError('MALFORMED', 'undecodable message', { cause: err })
  return new ArbiterProtocolError('ABORTED', 'stream ended', { cause: err })
}

/**
 * A signal that fires after `ms` or when `outer` fires. Wall time, not the clock: it bounds one
 * read or write on a stream with a remote peer, I/O that a stopped test clock would never end.
 */
export function stepSignal (ms: number, outer?: AbortSignal): AbortSignal {
  const t = AbortSignal.timeout(ms)
  return outer == null ? t : AbortSignal.any([t, outer])
}
