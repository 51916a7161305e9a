import { InvalidDataLengthLengthError, pbStream, type ProtobufStream } from '@libp2p/utils'
import type { MessageStream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

/**
 * `pbStream` of `@libp2p/utils` with a length prefix that cannot run on.
 *
 * Its reader (`lpStream` 7.4) reads the varint prefix a byte at a time and retries on every
 * RangeError of the decoder; `maxLengthLength` is only compared once a varint has decoded. A prefix
 * whose bytes all have the continuation bit set (0x80 0x80 ...) never decodes, so the reader keeps
 * every byte in a list, about 130 bytes of heap per byte received, until the step's deadline: a
 * peer streaming 0x80 at a handler grew it by a gigabyte in 10 MB. Here the decoder itself refuses
 * a prefix longer than the longest varint of `maxDataLength` with `InvalidDataLengthLengthError`,
 * which `streamFailure` counts as MALFORMED, as soon as that byte arrives.
 */
export function boundedPbStream<S extends MessageStream> (stream: S, opts: { maxDataLength: number }): ProtobufStream<S> {
  const maxLengthLength = varintLength(opts.maxDataLength)
  return pbStream(stream, {
    maxDataLength: opts.maxDataLength,
    maxLengthLength,
    lengthDecoder: (data: Uint8ArrayList): number => decodeLength(data, maxLengthLength)
  })
}

/** bytes of the unsigned LEB128 varint of `n` */
function varintLength (n: number): number {
  let len = 1
  while (n >= 0x80) {
    n = Math.floor(n / 0x80)
    len++
  }
  return len
}

/**
 * An unsigned varint at the start of `data`. RangeError while it is incomplete (lpStream then reads
 * one more byte); InvalidDataLengthLengthError once `max` bytes have gone without its last byte.
 */
function decodeLength (data: Uint8ArrayList, max: number): number {
  let value = 0
  for (let i = 0; i < data.byteLength; i++) {
    const b = data.get(i)
    value += (b & 0x7f) * 2 ** (7 * i)
    if (b < 0x80) return value
    if (i + 1 >= max) throw new InvalidDataLengthLengthError(`message length prefix over ${max} bytes`)
  }
  throw new RangeError('length prefix incomplete')
}
