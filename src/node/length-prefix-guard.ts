import { LengthPrefixedDecoder } from '@libp2p/utils'

/**
 * No exception per read in libp2p's length-prefixed decoder.
 *
 * `LengthPrefixedDecoder` (`@libp2p/utils` 7.4.1; noise reads every encrypted frame through it)
 * calls its length decoder once more after the last whole frame of each chunk, and learns that the
 * buffer is empty from the `RangeError` the decoder throws. Building, throwing and catching that
 * error across the decoder's generator cost 58 µs of the event loop per TCP read on the 2-core
 * development machine: 8.6% of a plain gossipsub receiver's event loop at 100 messages/s (a
 * profile of `bench:gossip --rate 100 --prof`), where every message is a read of its own. Throwing
 * one error made in advance still cost 35 µs a read: the throw is the cost, not the stack trace.
 *
 * With this installed, a decoder's length decoder is not called on an empty buffer: the length
 * reads as 0 there, and since a length prefix takes at least one byte (`encodingLength(0) >= 1`,
 * checked per decoder), a frame of prefix plus nothing is longer than the empty buffer and the
 * decoder waits for more bytes, as it did after the exception. What a frame decodes to is
 * unchanged (`test/unit/node/length-prefix-guard.test.ts`).
 */

type LengthDecoder = (data: { byteLength: number }) => number
interface DecoderFields { lengthDecoder: LengthDecoder, encodingLength: (n: number) => number }

const guarded = new WeakSet<object>()
let installed = false

/** Installs the empty-buffer guard on every `LengthPrefixedDecoder` (process-wide, once). */
export function installLengthPrefixGuard (): void {
  if (installed) return
  installed = true
  const proto = LengthPrefixedDecoder.prototype as unknown as { decode: (this: DecoderFields, buf: unknown) => Generator<unknown> }
  const original = proto.decode
  proto.decode = function (this: DecoderFields, buf: unknown): Generator<unknown> {
    if (!guarded.has(this)) {
      guarded.add(this)
      if (typeof this.lengthDecoder === 'function' && typeof this.encodingLength === 'function' && this.encodingLength(0) >= 1) {
        const inner = this.lengthDecoder
        this.lengthDecoder = (data) => data.byteLength === 0 ? 0 : inner(data)
      }
    }
    return original.call(this, buf)
  }
}
