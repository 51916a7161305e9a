import { BazaarError } from '../../util/errors.js'
import { streamFailure } from '../stream-errors.js'

export { stepSignal } from '../stream-errors.js'

/** Failures of the arbiter protocol itself (the arbiter's refusals travel as `reason` codes). */
export type ArbiterProtocolErrorCode = 'TIMEOUT' | 'MALFORMED' | 'ABORTED' | 'UNREACHABLE'

export class ArbiterProtocolError extends BazaarError<ArbiterProtocolErrorCode> {}

/** Any stream failure as a typed error, by error name, never by message. */
export function toArbiterProtocolError (err: unknown): ArbiterProtocolError {
  if (err instanceof ArbiterProtocolError) return err
  switch (streamFailure(err)) {
    case 'TIMEOUT': return new ArbiterProtocolError('TIMEOUT', 'peer too slow', { cause: err })
    case 'MALFORMED': return new ArbiterProtocolError('MALFORMED', 'undecodable message', { cause: err })
    default: return new ArbiterProtocolError('ABORTED', 'stream ended', { cause: err })
  }
}
