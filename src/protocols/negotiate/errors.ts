import { NegotiationError } from '../../market/errors.js'
import { streamFailure } from '../stream-errors.js'

export { stepSignal } from '../stream-errors.js'

/** Any failure during a negotiation stream as a typed NegotiationError. */
export function toNegotiationError (err: unknown): NegotiationError {
  if (err instanceof NegotiationError) return err
  switch (streamFailure(err)) {
    case 'TIMEOUT': return new NegotiationError('TIMEOUT', 'peer too slow', { cause: err })
    case 'MALFORMED': return new NegotiationError('MALFORMED', 'undecodable message', { cause: err })
    default: return new NegotiationError('ABORTED', 'stream ended', { cause: err })
  }
}
