import { BazaarError } from '../../util/errors.js'

/**
 * The code of a typed error (a BazaarError, or a libp2p or Node error that carries a string
 * `code`), or undefined: what an event or a log line reports of a failure.
 */
export function errorCode (err: unknown): string | undefined {
  if (err instanceof BazaarError) return err.code
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/** The code of `err` when it has one, else its message: the one-line reason a rental reports. */
export function errorReason (err: unknown): string {
  return errorCode(err) ?? (err instanceof Error ? err.message : String(err))
}
