import { describe, expect, it } from 'vitest'
import { streamPair } from '@libp2p/utils'
import type { Uint8ArrayList } from 'uint8arraylist'
import { boundedPbStream } from '../../../src/protocols/pb-stream.js'
import { decodeOrMalformed, streamFailure } from '../../../src/protocols/stream-errors.js'
import { ArbiterRequest } from '../../../src/wire/arbiter.js'
import { Propose } from '../../../src/wire/agreement.js'
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

  it.each<[string, Uint8Array]>([
    ['an invalid wire type', Uint8Array.of(0x7f)],
    ['an unterminated varint', Uint8Array.of(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)],
    ['a field longer than the message', Uint8Array.of(0x0a, 0x05, 0x01)]
  ])('a protobuf message with %s is MALFORMED, through decodeOrMalformed (protons throws plain Errors)', (_n, bytes) => {
    for (const codec of [ArbiterRequest, Propose] as Array<Parameters<typeof decodeOrMalformed<unknown>>[0]>) {
      const thrown = (decode: () => unknown): unknown => { try { decode(); return undefined } catch (e) { return e } }
      expect(thrown(() => codec.decode(bytes))).toBeInstanceOf(Error)
      expect(streamFailure(thrown(() => decodeOrMalformed(codec).decode(bytes)))).toBe('MALFORMED')
    }
  })

  it('without decodeOrMalformed, protons\' error for an invalid wire type reads as the stream ending', () => {
    const raw = (() => { try { ArbiterRequest.decode(Uint8Array.of(0x7f)) } catch (e) { return e } })()
    expect(streamFailure(raw)).toBe('ABORTED')
  })

  it('each protocol wraps it in its own typed error, book-sync counting a truncated frame as malformed', () => {
    expect(toNegotiationError(named('TimeoutError')).code).toBe('TIMEOUT')
    expect(toNegotiationError(named('UnexpectedEOFError')).code).toBe('ABORTED')
    expect(toArbiterProtocolError(named('MaxLengthError')).code).toBe('MALFORMED')
    expect(toBookSyncError(named('UnexpectedEOFError')).code).toBe('MALFORMED')
    expect(toBookSyncError(named('StreamResetError')).code).toBe('ABORTED')
  })
})

describe('boundedPbStream: the length prefix a peer sends', () => {
  const raw = { decode: (b: Uint8Array | Uint8ArrayList) => b.subarray() }
  const failureOf = async (p: Promise<unknown>): Promise<unknown> => await p.then(() => undefined, (e: unknown) => e)

  it('a prefix that never ends (0x80 0x80 ...) is MALFORMED at the byte after the longest varint of the cap, not read on to the end of the stream', async () => {
    const [a, b] = await streamPair()
    const pb = boundedPbStream(b, { maxDataLength: 64 * 1024 }) // a cap of 3 varint bytes
    const read = failureOf(pb.read(raw))
    a.send(new Uint8Array(4).fill(0x80))
    const err = await read
    expect((err as Error)?.name).toBe('InvalidDataLengthLengthError')
    expect(streamFailure(err)).toBe('MALFORMED')
    await a.close()
  })

  it('the same prefix followed by the end of the stream is MALFORMED too (plain pbStream reads it to EOF, ABORTED)', async () => {
    const [a, b] = await streamPair()
    const pb = boundedPbStream(b, { maxDataLength: 64 * 1024 })
    const read = failureOf(pb.read(raw))
    a.send(new Uint8Array(64).fill(0x80))
    await a.close()
    expect(streamFailure(await read)).toBe('MALFORMED')
  })

  it('reads a message whose prefix has every byte the cap allows, and refuses a length over the cap', async () => {
    const [a, b] = await streamPair()
    const max = 64 * 1024
    const pb = boundedPbStream(b, { maxDataLength: max })
    const body = new Uint8Array(max).fill(7)
    a.send(Uint8Array.of(0x80, 0x80, 0x04)) // 65536, in three bytes
    a.send(body)
    expect((await pb.read(raw)).byteLength).toBe(max)
    a.send(Uint8Array.of(0x81, 0x80, 0x04)) // 65537
    expect((await failureOf(pb.read(raw)) as Error)?.name).toBe('InvalidDataLengthError')
    await a.close()
  })
})
