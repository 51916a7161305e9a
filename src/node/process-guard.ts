import type { Logger } from './logger.js'

/**
 * Socket errors that a peer or the network causes. libp2p's TCP transport can let one of them
 * escape as an 'error' event nobody listens to (a dial whose connect fails while it is being
 * aborted), and Node would end the process for it. A peer must never be able to stop the node that
 * way, so the daemon logs these and goes on.
 */
const PEER_CAUSED = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH'])

/**
 * Installs the guard for the life of a long-running command; returns its removal. Any other
 * uncaught error is a bug: it is printed with its stack and the process exits with code 1, as Node
 * would.
 */
export function installNetworkErrorGuard (logger: Logger): () => void {
  const handler = (err: unknown): void => {
    const e = err as NodeJS.ErrnoException
    if (typeof e?.code === 'string' && PEER_CAUSED.has(e.code)) {
      logger.warn('socket error outside any handler, ignored', { code: e.code, syscall: e.syscall })
      return
    }
    process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`)
    process.exit(1)
  }
  process.on('uncaughtException', handler)
  return () => { process.off('uncaughtException', handler) }
}
