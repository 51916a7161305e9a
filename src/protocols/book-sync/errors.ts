import { streamFailure } from '../stream-errors.js'

/** Why an anti-entropy exchange ended early. */
export type BookSyncErrorCode = 'RATE_LIMITED' | 'BUSY' | 'TIMEOUT' | 'MALFORMED' | 'TOO_MANY' | 'INVALID_ENTRY' | 'NOT_A_CANCEL' | 'ABORTED'

export class BookSyncError extends Error {
  override readonly name = 'BookSyncError'
  constructor (readonly code: BookSyncErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** Any failure of an exchange as a typed BookSyncError (by error name, never by message). */
export function toBookSyncError (err: unknown): BookSyncError {
  if (err instanceof BookSyncError) return err
  switch (streamFailure(err, { eofIsMalformed: true })) {
    case 'TIMEOUT': return new BookSyncError('TIMEOUT', 'peer too slow', { cause: err })
    case 'MALFORMED': return new BookSyncError('MALFORMED', 'undecodable frame', { cause: err })
    default: return new BookSyncError('ABORTED', 'stream ended', { cause: err })
  }
}
