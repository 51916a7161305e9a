import { describe, expect, it } from 'vitest'
import { LengthPrefixedDecoder } from '@libp2p/utils'
import { installLengthPrefixGuard } from '../../../src/node/length-prefix-guard.js'

/**
 * The empty-buffer guard (src/node/length-prefix-guard.ts): frames decode as before, however the
 * bytes are cut into reads, and the length decoder is never handed an empty buffer.
 */
describe('length-prefix guard', () => {
  installLengthPrefixGuard()

  /** noise's framing: a 2-byte big-endian length, then the frame; counts calls on an empty buffer */
  function decoder (): { d: LengthPrefixedDecoder, emptyCalls: () => number } {
    let empty = 0
    const uint16 = (data: { byteLength: number, getUint16?: (at: number) => number }): number => {
      if (data.byteLength === 0) empty++
      if (data.byteLength < 2) throw new RangeError('Could not decode int16BE')
      return (data as unknown as { getUint16: (at: number) => number }).getUint16(0)
    }
    const d = new LengthPrefixedDecoder({ lengthDecoder: uint16 as never, encodingLength: () => 2 })
    return { d, emptyCalls: () => empty }
  }

  function framed (payloads: Uint8Array[]): Uint8Array {
    return Buffer.concat(payloads.flatMap((p) => [Buffer.from([p.byteLength >> 8, p.byteLength & 0xff]), p]))
  }

  const payloads = [300, 1, 0, 65_535, 17, 4096].map((n, i) => new Uint8Array(n).map((_, j) => (i * 7 + j) & 0xff))
  // a zero-length frame is skipped by the decoder (it yields only non-empty frames)
  const expected = payloads.filter((p) => p.byteLength > 0)

  for (const cut of [1, 2, 3, 100, 70_000, 1 << 20]) {
    it(`decodes the same frames read ${cut} bytes at a time, never asking for a length in an empty buffer`, () => {
      const { d, emptyCalls } = decoder()
      const bytes = framed(payloads)
      const out: Uint8Array[] = []
      for (let at = 0; at < bytes.byteLength; at += cut) {
        for (const f of d.decode(bytes.subarray(at, at + cut))) out.push(f.subarray())
      }
      expect(out.map((f) => Buffer.from(f).toString('hex'))).toEqual(expected.map((p) => Buffer.from(p).toString('hex')))
      expect(emptyCalls()).toBe(0)
    })
  }

  it('a half-read length prefix still waits for its second byte', () => {
    const { d } = decoder()
    const bytes = framed([new Uint8Array([9, 8, 7])])
    expect([...d.decode(bytes.subarray(0, 1))]).toEqual([])
    const rest = [...d.decode(bytes.subarray(1))].map((f) => [...f.subarray()])
    expect(rest).toEqual([[9, 8, 7]])
  })
})
