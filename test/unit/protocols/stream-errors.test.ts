import { describe, expect, it } from 'vitest'
import { streamFailure } from '../../../src/protocols/stream-errors.js'
import { toNegotiationError } from '../../../src/protocols/negotiate/errors.js'
import { toArbiterProtocolError } from '../../../src/protocols/arbiter/errors.js'
import { toBookSyncError } from '../../../src/protocols/book-sync/errors.js'

function named (name: string): Error {
  const e = new Error('whatever the message says')
  e.name = name
  return e
}

describe('streamFailure', () => {
  it.each([
    ['AbortError', 'TIMEOUT'],
    ['TimeoutError', 'TIMEOUT'],
    ['InvalidDataLengthError', 'MALFORMED'],
    ['InvalidDataLengthLengthError', 'MALFORMED'],
    ['InvalidMessageLengthError', 'MALFORMED'],
    ['MaxLengthError', 'MALFORMED'],
    ['InvalidMessageError', 'MALFORMED'],
    ['UnexpectedEOFError', 'ABORTED'],
    ['StreamResetError', 'ABORTED'],
    ['Error', 'ABORTED']
  ])('%s → %s', (name, want) => {
    expect(streamFailure(named(name))).toBe(want)
  })

  it('classifies by class and name, never by message', () => {
    expect(streamFailure(new RangeError('index out of range'))).toBe('MALFORMED')
    expect(streamFailure(new TypeError('x'))).toBe('MALFORMED')
    expect(streamFailure(new Error('timeout'))).toBe('ABORTED')
    expect(streamFailure('a string')).toBe('ABORTED')
    expect(streamFailure(named('UnexpectedEOFError'), { eofIsMalformed: true })).toBe('MALFORMED')
  })

  it('each protocol wraps it in its own typed error, book-sync counting a truncated frame as malformed', () => {
    expect(toNegotiationError(named('TimeoutError')).code).toBe('TIMEOUT')
    expect(toNegotiationError(named('UnexpectedEOFError')).code).toBe('ABORTED')
    expect(toArbiterProtocolError(named('MaxLengthError')).code).toBe('MALFORMED')
    expect(toBookSyncError(named('UnexpectedEOFError')).code).toBe('MALFORMED')
    expect(toBookSyncError(named('StreamResetError')).code).toBe('ABORTED')
  })
})
