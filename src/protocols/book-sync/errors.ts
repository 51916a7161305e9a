/** Why an anti-entropy exchange ended early. */
export type BookSyncErrorCode = 'RATE_LIMITED' | 'TIMEOUT' | 'MALFORMED' | 'TOO_MANY' | 'INVALID_ENTRY' | 'ABORTED'

export class BookSyncError extends Error {
  override readonly name = 'BookSyncError'
  constructor (readonly code: BookSyncErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

const MALFORMED_NAMES = new Set(['InvalidDataLengthError', 'InvalidDataLengthLengthError', 'InvalidMessageLengthError', 'MaxLengthError', 'RangeError', 'InvalidMessageError', 'UnexpectedEOFError'])
const TIMEOUT_NAMES = new Set(['AbortError', 'TimeoutError'])

/** Any failure of an exchange as a typed BookSyncError (by error name, never by message). */
export function toBookSyncError (err: unknown): BookSyncError {
  if (err instanceof BookSyncError) return err
  const name = err instanceof Error ? err.name : ''
  if (TIMEOUT_NAMES.has(name)) return new BookSyncError('TIMEOUT', 'peer too slow', { cause: err })
  if (MALFORMED_NAMES.has(name) || err instanceof RangeError || err instanceof TypeError) return new BookSyncError('MALFORMED', 'undecodable frame', { cause: err })
  return new BookSyncError('ABORTED', 'stream ended', { cause: err })
}
