import { afterEach, describe, expect, it } from 'vitest'
import { MAX_LINE_CHARS, polkadotPrefix, routeConsole } from '../../../src/node/console-route.js'
import { createLogger } from '../../../src/node/logger.js'

describe('routeConsole: library console lines go through the node logger', () => {
  let restore: (() => void) | undefined
  afterEach(() => { restore?.(); restore = undefined })

  it('re-emits @polkadot/util logger lines as JSON log records with their origin, at debug, each on one line', () => {
    const lines: string[] = []
    const original = console.error
    restore = routeConsole(createLogger({ level: 'debug', format: 'json', write: (l) => { lines.push(l) }, now: () => 0 }))
    // what @polkadot/util's logger('api-ws').error(...) calls
    console.error('2026-01-01 10:00:00', '         API-WS:', 'disconnected from ws://127.0.0.1:9944: 1006:: Abnormal Closure')
    console.error('2026-01-01 10:00:00', '       RPC-CORE:', 'getFinalizedHead(): WebSocket is not connected\nFailed WS Request: {}')
    console.log('plain', 42)
    restore()
    restore = undefined
    expect(console.error).toBe(original)
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { t: '1970-01-01T00:00:00.000Z', level: 'debug', msg: 'disconnected from ws://127.0.0.1:9944: 1006:: Abnormal Closure', source: 'console', origin: 'API-WS' },
      { t: '1970-01-01T00:00:00.000Z', level: 'debug', msg: 'getFinalizedHead(): WebSocket is not connected | Failed WS Request: {}', source: 'console', origin: 'RPC-CORE' },
      { t: '1970-01-01T00:00:00.000Z', level: 'info', msg: 'plain 42', source: 'console' }
    ])
  })

  it('honours the logger level and bounds a line', () => {
    const lines: string[] = []
    restore = routeConsole(createLogger({ level: 'warn', format: 'json', write: (l) => { lines.push(l) } }))
    console.log('dropped at level warn')
    console.error('2026-01-01 10:00:00', '         API-WS:', 'polkadot\'s lines are debug: dropped too')
    console.warn('x'.repeat(MAX_LINE_CHARS * 2))
    expect(lines).toHaveLength(1)
    expect((JSON.parse(lines[0]) as { msg: string }).msg).toHaveLength(MAX_LINE_CHARS)
  })

  it('only takes a date followed by ORIGIN: as polkadot prefix', () => {
    expect(polkadotPrefix(['2026-01-01 10:00:00', '  RPC-CORE:', 'x'])).toEqual({ origin: 'RPC-CORE', rest: ['x'] })
    expect(polkadotPrefix(['2026-01-01', 'API:', 'x'])).toEqual({ rest: ['2026-01-01', 'API:', 'x'] })
    expect(polkadotPrefix(['2026-01-01 10:00:00', 'not an origin', 'x']).origin).toBeUndefined()
  })
})

describe('a readable (pretty) log line shows what a terminal would act on', () => {
  let restore: (() => void) | undefined
  afterEach(() => { restore?.(); restore = undefined })

  it('writes controls from a library\'s console line as \\uXXXX, on one line', () => {
    const lines: string[] = []
    restore = routeConsole(createLogger({ level: 'debug', format: 'pretty', write: (l) => { lines.push(l) }, now: () => 0 }))
    // an RPC endpoint's error text, relayed by polkadot: a carriage return and an ESC sequence that
    // would clear the line and print a forged one in its place
    console.error('2026-01-01 10:00:00', '       RPC-CORE:', 'getStorage failed: \r\x1b[2K2026-01-01T00:00:00.000Z INFO  escrow settled')
    console.warn('a\u2028b\u2029c\x7f\x9b\u202e\x00')
    expect(lines).toEqual([
      '1970-01-01T00:00:00.000Z DEBUG getStorage failed: \\u000d\\u001b[2K2026-01-01T00:00:00.000Z INFO  escrow settled source="console" origin="RPC-CORE"',
      '1970-01-01T00:00:00.000Z WARN  a\\u2028b\\u2029c\\u007f\\u009b\\u202e\\u0000 source="console"'
    ])
  })

  it('leaves an ordinary line as it was, and escapes a field\'s controls that JSON leaves raw', () => {
    const lines: string[] = []
    const logger = createLogger({ level: 'info', format: 'pretty', write: (l) => { lines.push(l) }, now: () => 0 })
    logger.info('escrow settled: paid 1.5 TAO to 5Grw… (ünïcode, 中文, emoji 🚀)', { n: 3, peer: 'ab\u2028cd', why: 'line\nbreak' })
    expect(lines).toEqual([
      '1970-01-01T00:00:00.000Z INFO  escrow settled: paid 1.5 TAO to 5Grw… (ünïcode, 中文, emoji 🚀) n=3 peer="ab\\u2028cd" why="line\\nbreak"'
    ])
  })
})
