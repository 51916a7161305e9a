/**
 * Errors shared by every domain. Domain errors carry a stable `code`; callers and tests branch on the
 * code, never on the message.
 */
export class BazaarError<C extends string = string> extends Error {
  readonly code: C
  constructor (code: C, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/**
 * A mistake of the user (bad flag, missing file, wrong passphrase): the CLI prints one line without
 * a stack trace and exits with `exitCode`.
 */
export class UserError extends BazaarError<string> {
  readonly exitCode: number
  constructor (message: string, options: { code?: string, exitCode?: number, cause?: unknown } = {}) {
    super(options.code ?? 'USER_ERROR', message, { cause: options.cause })
    this.exitCode = options.exitCode ?? 1
  }
}

/** Usage errors (unknown flag, missing argument) exit with 2. */
export class UsageError extends UserError {
  constructor (message: string) {
    super(message, { code: 'USAGE', exitCode: 2 })
  }
}

/** What a gossip validator tells gossipsub to do with a message that failed a check. */
export enum GossipAction {
  /** drop, do not forward, no penalty (may be our fault or a benign race) */
  IGNORE = 'IGNORE',
  /** drop, do not forward, penalise the sender */
  REJECT = 'REJECT'
}

/** A typed validation failure of an untrusted message (Lodestar's GossipActionError). */
export class GossipActionError<C extends string> extends BazaarError<C> {
  readonly action: GossipAction
  constructor (action: GossipAction, code: C, message?: string) {
    super(code, message ?? code)
    this.action = action
  }
}
