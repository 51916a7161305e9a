import { format } from 'node:util'
import type { Logger } from './logger.js'

/**
 * @polkadot/api and its provider log through `console` in a format of their own
 * (`2026-01-01 10:00:00        API-WS: disconnected from ws://...`), which would land between the
 * daemon's JSON lines. While a daemon runs, `console` is routed through its logger instead: one
 * format, one level filter. polkadot's prefix (date, then `ORIGIN:`) becomes the `origin` field,
 * and its lines are logged at debug. A line may carry an RPC endpoint's text: the readable format
 * writes its control characters as `\uXXXX` (logger.ts), the JSON format escapes them itself.
 *
 * Returns the function that puts the original console methods back.
 */
export function routeConsole (logger: Logger): () => void {
  const saved = { log: console.log, info: console.info, warn: console.warn, error: console.error, debug: console.debug }
  const route = (level: 'debug' | 'info' | 'warn' | 'error') => (...args: unknown[]): void => {
    const { origin, rest } = polkadotPrefix(args)
    // polkadot's own lines (a failed call, a dropped socket, each retry of it) are debug: the
    // daemon logs the chain connection's changes itself, one line each (bazaar-node.ts)
    logger[origin != null ? 'debug' : level](oneLine(format(...rest)).slice(0, MAX_LINE_CHARS), { source: 'console', ...(origin != null ? { origin } : {}) })
  }
  console.log = route('info')
  console.info = route('info')
  console.warn = route('warn')
  console.error = route('error')
  console.debug = route('debug')
  return () => { Object.assign(console, saved) }
}

/** one log entry, one line: a library's multi-line message joined */
function oneLine (text: string): string {
  return text.includes('\n') ? text.split('\n').map((l) => l.trim()).filter((l) => l !== '').join(' | ') : text
}

/** A library's console line longer than this is cut (a dumped object must not flood the log). */
export const MAX_LINE_CHARS = 4096

/** `formatDate(new Date())` of @polkadot/util: `YYYY-MM-DD HH:MM:SS` */
const POLKADOT_DATE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/

/** Splits polkadot's `(date, '   ORIGIN:', ...values)` into the origin and the values. */
export function polkadotPrefix (args: unknown[]): { origin?: string, rest: unknown[] } {
  if (args.length >= 2 && typeof args[0] === 'string' && POLKADOT_DATE.test(args[0]) && typeof args[1] === 'string' && /^\s*[A-Z0-9_-]+:$/i.test(args[1])) {
    return { origin: args[1].trim().slice(0, -1), rest: args.slice(2) }
  }
  return { rest: args }
}
