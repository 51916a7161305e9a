import type { Logger } from './logger.js'

/**
 * Socket errors that a peer or the network causes. libp2p's TCP transport can let one of them
 * escape as an 'error' event nobody listens to (a dial whose connect fails while it is being
 * aborted), and Node would end the process for it. A peer must never be able to stop the node that
 * way, so the daemon logs these and goes on.
 */
const PEER_CAUSED = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH'])

/** default bound on a guarded network operation */
export const NETWORK_OPERATION_TIMEOUT_MS = 10_000

interface PendingOperation {
  controller: AbortController
  /** the remote end, when the operation knows it: lets an escaped error find its owner */
  target?: { host?: string, port?: number }
}

/**
 * Network operations in flight (dials). An escaped socket error may belong to one of them, whose
 * promise would then never settle: the guard hands such an error to the pending operations instead
 * of swallowing it. Process-wide because `uncaughtException` is.
 */
const pending = new Set<PendingOperation>()

/** how many guarded operations are in flight (for tests and the status view) */
export function pendingNetworkOperations (): number {
  return pending.size
}

/**
 * Runs a network operation (a dial) so that it always ends: within `timeoutMs`, when the caller's
 * signal aborts, or as soon as a socket error escapes that may be its own (see
 * installNetworkErrorGuard), which it then rejects with. `fn` must honour the signal it is given.
 */
export async function guardedNetworkOperation<T> (
  fn: (signal: AbortSignal) => Promise<T>,
  opts: { signal?: AbortSignal, timeoutMs?: number, target?: { host?: string, port?: number } } = {}
): Promise<T> {
  const op: PendingOperation = { controller: new AbortController(), target: opts.target }
  // wall time, not the clock: it bounds a socket operation, which a stopped test clock would leave hanging
  const signals = [op.controller.signal, AbortSignal.timeout(opts.timeoutMs ?? NETWORK_OPERATION_TIMEOUT_MS)]
  if (opts.signal != null) signals.push(opts.signal)
  const signal = AbortSignal.any(signals)
  pending.add(op)
  try {
    // settle on the signal too, even if `fn` misses it: an escaped error or the timeout ends the wait
    return await new Promise<T>((resolve, reject) => {
      const onAbort = (): void => { reject(signal.reason) }
      if (signal.aborted) { onAbort(); return }
      signal.addEventListener('abort', onAbort, { once: true })
      fn(signal).then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
    })
  } finally {
    pending.delete(op)
  }
}

/**
 * The operations an escaped socket error may belong to: the one whose target matches the error's
 * address and port when the error names them (a failed connect), otherwise every pending one (a
 * reset names no address). Failing an unrelated dial early is recoverable; a dial that hangs is not.
 */
function owners (e: NodeJS.ErrnoException & { address?: string, port?: number }): PendingOperation[] {
  const all = [...pending]
  if (e.address == null || e.port == null) return all
  const matched = all.filter((op) => op.target?.port === e.port && (op.target?.host == null || op.target.host === e.address))
  return matched.length > 0 ? matched : all
}

/**
 * Installs the guard for the life of a long-running command; returns its removal. A peer-caused
 * socket error that escaped every handler is handed to the pending network operations it may belong
 * to (they reject with it) and logged; with none pending it is logged and ignored. Any other
 * uncaught error is a bug: it is printed with its stack and the process exits with code 1, as Node
 * would.
 */
export function installNetworkErrorGuard (logger: Logger): () => void {
  const handler = (err: unknown): void => {
    const e = err as NodeJS.ErrnoException & { address?: string, port?: number }
    if (typeof e?.code === 'string' && PEER_CAUSED.has(e.code)) {
      const ops = owners(e)
      for (const op of ops) op.controller.abort(err)
      if (ops.length > 0) logger.warn('socket error outside any handler, handed to pending operations', { code: e.code, syscall: e.syscall, operations: ops.length })
      else logger.warn('socket error outside any handler, ignored', { code: e.code, syscall: e.syscall })
      return
    }
    process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`)
    process.exit(1)
  }
  process.on('uncaughtException', handler)
  return () => { process.off('uncaughtException', handler) }
}
