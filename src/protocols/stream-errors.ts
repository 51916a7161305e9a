/**
 * How a failure on a direct stream is classified, shared by the request/response protocols
 * (negotiate, offers-fetch, arbiter, book-sync). By error name (libp2p and @libp2p/utils error
 * classes), never by message.
 */
import type { DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

/** what went wrong on a stream, before each protocol wraps it in its own typed error */
export type StreamFailure = 'TIMEOUT' | 'MALFORMED' | 'ABORTED'

/** errors of the length-prefixed and protobuf stream readers: the peer sent bytes we cannot decode */
const MALFORMED_NAMES = new Set(['InvalidDataLengthError', 'InvalidDataLengthLengthError', 'InvalidMessageLengthError', 'MaxLengthError', 'RangeError', 'InvalidMessageError'])
const TIMEOUT_NAMES = new Set(['AbortError', 'TimeoutError'])

/** the peer's bytes did not decode as the protobuf message expected */
export class InvalidMessageError extends Error {
  override name = 'InvalidMessageError'
}

interface Decoder<T> { decode: (data: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<T>) => T }

/**
 * `codec` for `pbStream(...).read`, whose decode failures are InvalidMessageError (MALFORMED).
 * protons-runtime throws plain `Error`s for a bad wire type or varint, which no name tells from a
 * stream that ended; without this the peer's garbage would count as ABORTED and be answered with a
 * reset instead of its typed refusal.
 */
export function decodeOrMalformed<T> (codec: Decoder<T>): Decoder<T> {
  return {
    decode: (data, opts) => {
      try {
        return codec.decode(data, opts)
      } catch (err) {
        throw new InvalidMessageError('undecodable message', { cause: err })
      }
    }
  }
}

export interface StreamFailureOptions {
  /**
   * a stream that ends inside a frame (UnexpectedEOFError) counts as MALFORMED rather than ABORTED:
   * for a protocol whose frames are all length-prefixed a truncated frame is the peer's fault
   */
  eofIsMalformed?: boolean
}

/** TIMEOUT (aborted or timed out), MALFORMED (undecodable), else ABORTED (the stream ended or reset) */
export function streamFailure (err: unknown, opts: StreamFailureOptions = {}): StreamFailure {
  const name = err instanceof Error ? err.name : ''
  if (TIMEOUT_NAMES.has(name)) return 'TIMEOUT'
  if (MALFORMED_NAMES.has(name) || (opts.eofIsMalformed === true && name === 'UnexpectedEOFError') ||
    err instanceof RangeError || err instanceof TypeError) return 'MALFORMED'
  return 'ABORTED'
}

/**
 * A signal that fires after `ms` or when `outer` fires: the deadline of one step of an exchange.
 * Wall time, not the clock: it bounds one read or write on a stream with a remote peer, I/O that a
 * stopped test clock would never end.
 */
export function stepSignal (ms: number, outer?: AbortSignal): AbortSignal {
  const t = AbortSignal.timeout(ms)
  return outer == null ? t : AbortSignal.any([t, outer])
}
