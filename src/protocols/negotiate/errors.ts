import { NegotiationError } from '../../market/errors.js'

/** Stream-layer failures by error name (libp2p and @libp2p/utils error classes), never by message. */
const MALFORMED_NAMES = new Set(['InvalidDataLengthError', 'InvalidDataLengthLengthError', 'InvalidMessageLengthError', 'MaxLengthError', 'RangeError', 'InvalidMessageError'])
const TIMEOUT_NAMES = new Set(['AbortError', 'TimeoutError'])

/** Any failure during a negotiation stream as a typed NegotiationError. */
export function toNegotiationError (err: unknown): NegotiationError {
  if (err instanceof NegotiationError) return err
  const name = err instanceof Error ? err.name : ''
  if (TIMEOUT_NAMES.has(name)) return new NegotiationError('TIMEOUT', 'peer too slow', { cause: err })
  if (MALFORMED_NAMES.has(name) || err instanceof RangeError || err instanceof TypeError) {
    return new NegotiationError('MALFORMED', 'undecodable message', { cause: err })
  }
  return new NegotiationError('ABORTED', 'stream ended', { cause: err })
}

/**
 * A signal that fires after `ms` or when `outer` fires. Wall time, not the clock: it bounds one
 * read or write on a stream with a remote peer, I/O that a stopped test clock would never end.
 */
export function stepSignal (ms: number, outer?: AbortSignal): AbortSignal {
  const t = AbortSignal.timeout(ms)
  return outer == null ? t : AbortSignal.any([t, outer])
}
