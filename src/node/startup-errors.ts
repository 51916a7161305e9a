import { UserError } from '../util/errors.js'
import { hostPort } from './api/url.js'

/**
 * Start-up failures that are the operator's to fix, not bugs: a port another process holds, a home
 * another node has open. Each becomes a UserError (one line, exit 1) that says what to change;
 * anything else is returned unchanged and stays a bug with its stack.
 */
export enum StartupErrorCode {
  /** the level database of the home is locked by another process (the same home started twice) */
  HOME_IN_USE = 'HOME_IN_USE',
  /** the database could not be opened for another reason (permissions, disk) */
  DB_UNAVAILABLE = 'DB_UNAVAILABLE',
  /** a libp2p listen address could not be bound */
  LISTEN_FAILED = 'LISTEN_FAILED',
  /** the control API's host:port could not be bound */
  API_PORT_IN_USE = 'API_PORT_IN_USE',
  API_LISTEN_FAILED = 'API_LISTEN_FAILED'
}

/** The level database at `dbPath` did not open. */
export function dbOpenError (err: unknown, dbPath: string): Error {
  const e = err as { code?: string, cause?: { code?: string, message?: string } }
  // abstract-level wraps the binding's error: LEVEL_DATABASE_NOT_OPEN with a LEVEL_LOCKED cause when
  // another process holds the LOCK file
  if (e?.cause?.code === 'LEVEL_LOCKED') {
    return new UserError(`the node home's database ${dbPath} is in use by another process: is a node already running with this home? (stop it, or start this one with another --home)`, { code: StartupErrorCode.HOME_IN_USE, cause: err })
  }
  if (e?.code === 'LEVEL_DATABASE_NOT_OPEN') {
    const why = (e.cause?.message ?? 'unknown reason').split('\n')[0]
    return new UserError(`cannot open the node's database ${dbPath}: ${why}`, { code: StartupErrorCode.DB_UNAVAILABLE, cause: err })
  }
  return err as Error
}

/**
 * libp2p could not listen on some of `listen`; `setting` names where the operator sets those
 * addresses (the node's own by default, or the enclave endpoint's).
 */
export function listenError (err: unknown, listen: readonly string[], setting = '--listen, BAZAAR_LISTEN or listen in the config'): Error {
  if ((err as Error)?.name !== 'UnsupportedListenAddressesError') return err as Error
  // libp2p lists the failed addresses only inside its message (`  <addr>: Error: listen EADDRINUSE ...`);
  // the message is read here only to name them to the operator, never to decide anything
  const message = (err as Error).message
  const failed = listen.filter((a) => message.includes(`${a}:`))
  const addrs = failed.length > 0 ? failed : listen.length > 0 ? listen : ['its addresses']
  const inUse = /EADDRINUSE/.test(message)
  const why = inUse ? 'the port is in use by another process (another node?)' : 'the address cannot be bound on this machine'
  return new UserError(`cannot listen on ${addrs.join(', ')}: ${why}; choose another with ${setting} (tcp/0 picks a free port)`, { code: StartupErrorCode.LISTEN_FAILED, cause: err })
}

/** The control API could not listen on `host:port`. */
export function apiListenError (err: unknown, host: string, port: number): Error {
  const code = (err as NodeJS.ErrnoException)?.code
  if (code === 'EADDRINUSE') {
    return new UserError(`the control API address ${hostPort(host, port)} is in use (another node on this machine?): choose another with --api ${hostPort(host, '<port>')}, BAZAAR_API or api.port in the config (0 picks a free port; bazaar commands find it through the home)`, { code: StartupErrorCode.API_PORT_IN_USE, cause: err })
  }
  if (code === 'EADDRNOTAVAIL' || code === 'EACCES' || code === 'ENOTFOUND') {
    return new UserError(`the control API cannot listen on ${hostPort(host, port)} (${code}): set another address with --api, BAZAAR_API or api.host/api.port in the config`, { code: StartupErrorCode.API_LISTEN_FAILED, cause: err })
  }
  return err as Error
}
