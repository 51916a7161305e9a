import { createServer } from 'node:net'
import { apiListenError } from './startup-errors.js'

/** A control-API address held by a bare socket until the API itself listens on it. */
export interface HeldAddress {
  /** frees the address (once; later calls do nothing) */
  release(): Promise<void>
}

/**
 * Holds `host:port` while a node starts its roles, so that an address another process holds fails
 * the start at once, with the one-line UserError of apiListenError and before any role has opened
 * or logged anything; the API listens on it last, once every route is registered. Port 0 (any free
 * port) needs no holding.
 */
export async function holdApiAddress (host: string, port: number): Promise<HeldAddress> {
  if (port === 0) return { release: async () => {} }
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => { reject(apiListenError(err, host, port)) })
    server.listen({ host, port, exclusive: true }, () => { resolve() })
  })
  let released: Promise<void> | undefined
  return {
    release: async () => {
      released ??= new Promise<void>((resolve) => { server.close(() => { resolve() }) })
      await released
    }
  }
}
