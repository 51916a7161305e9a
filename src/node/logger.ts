/**
 * Structured logs: one JSON object per line (`format: 'json'`, for daemons) or a short readable line
 * (`pretty`). Secrets never reach a logger: callers pass addresses and ids, never keys.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface Logger {
  debug (msg: string, fields?: Record<string, unknown>): void
  info (msg: string, fields?: Record<string, unknown>): void
  warn (msg: string, fields?: Record<string, unknown>): void
  error (msg: string, fields?: Record<string, unknown>): void
  child (fields: Record<string, unknown>): Logger
}

export interface LoggerInit {
  level?: LogLevel
  format?: 'json' | 'pretty'
  write?: (line: string) => void
  now?: () => number
}

function jsonSafe (_k: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString()
  if (v instanceof Error) return { name: v.name, message: v.message, code: (v as { code?: unknown }).code }
  return v
}

/**
 * What a terminal acts on rather than shows: C0 and C1 controls and DEL (a carriage return, an ESC
 * sequence that clears the line or moves the cursor), the line and paragraph separators, and the
 * bidirectional overrides and isolates (which reorder what follows). A message may carry text from
 * outside (a library's console line, an RPC endpoint's error), which must not rewrite or forge
 * lines on an operator's terminal.
 */
const TERMINAL_CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/** `text` with each terminal control written visibly as `\uXXXX` (JSON's escape) */
function visibleText (text: string): string {
  return text.replace(TERMINAL_CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

export function createLogger (init: LoggerInit = {}, base: Record<string, unknown> = {}): Logger {
  const min = ORDER[init.level ?? 'info']
  const write = init.write ?? ((l: string) => { process.stderr.write(l + '\n') })
  const now = init.now ?? Date.now
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (ORDER[level] < min) return
    const rec = { t: new Date(now()).toISOString(), level, msg, ...base, ...fields }
    if (init.format === 'pretty') {
      const extra = Object.entries({ ...base, ...fields }).map(([k, v]) => `${k}=${JSON.stringify(v, jsonSafe)}`).join(' ')
      // a readable line is one line, on a terminal that shows it as written (JSON lines escape the
      // C0 controls themselves, and a log shipper reads them as JSON)
      write(visibleText(`${rec.t} ${level.toUpperCase().padEnd(5)} ${msg}${extra === '' ? '' : ' ' + extra}`))
    } else {
      write(JSON.stringify(rec, jsonSafe))
    }
  }
  return {
    debug: (m, f) => { emit('debug', m, f) },
    info: (m, f) => { emit('info', m, f) },
    warn: (m, f) => { emit('warn', m, f) },
    error: (m, f) => { emit('error', m, f) },
    child: (f) => createLogger(init, { ...base, ...f })
  }
}

/** A logger that drops everything (tests, embedded use). */
export const silentLogger: Logger = createLogger({ level: 'error', write: () => {} })
