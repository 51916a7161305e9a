import { byteStream, type ByteStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import { SessionError, SessionErrorCode, isFailureCode, toSessionError } from './errors.js'
import { FRAME_ABORT, FRAME_DATA } from './constants.js'
import { REMOTE_CODE_RE } from '../remote-code.js'
import type { FramedChannel } from '../framed.js'

/**
 * Length-delimited messages on a libp2p stream: a 4-byte big-endian length, then the bytes. The
 * length is checked against the caller's cap before a byte of the body is buffered.
 */
/** how long a graceful close of the job channel may wait on the peer before the stream is reset */
const CLOSE_TIMEOUT_MS = 10_000

/** a code another party may give for ending a channel: upper-case, digits and underscores, bounded */

export class Wire {
  private readonly bytes: ByteStream<Stream>
  constructor (readonly stream: Stream, maxBuffer: number) {
    this.bytes = byteStream(stream, { maxBufferSize: maxBuffer + 4 })
  }

  async write (data: Uint8Array, signal?: AbortSignal): Promise<void> {
    const head = new Uint8Array(4)
    new DataView(head.buffer).setUint32(0, data.byteLength, false)
    await this.bytes.write(concat(head, data), { signal })
  }

  /**
   * Reads one message of at most `max` bytes. Returns null when the remote closed its side cleanly
   * before a new message began; throws STREAM_CLOSED when it closed inside one.
   */
  async read (max: number, signal?: AbortSignal): Promise<Uint8Array | null> {
    let first
    try {
      first = await this.bytes.read({ bytes: 1, signal })
    } catch (err) {
      if ((err as Error)?.name === 'UnexpectedEOFError') return null
      throw err
    }
    const rest = await this.bytes.read({ bytes: 3, signal })
    const head = concat(first.subarray(), rest.subarray())
    const len = new DataView(head.buffer).getUint32(0, false)
    if (len > max) throw new SessionError(SessionErrorCode.MESSAGE_TOO_LARGE, `message of ${len} bytes over the ${max} byte cap`)
    if (len === 0) return new Uint8Array(0)
    const body = (await this.bytes.read({ bytes: len, signal })).subarray()
    // a plain view, not a Buffer, whatever the transport hands us
    return new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
  }

  /** Reads one message that must be there. */
  async expect (max: number, signal: AbortSignal, what: string): Promise<Uint8Array> {
    const m = await this.read(max, signal)
    if (m == null) throw new SessionError(SessionErrorCode.STREAM_CLOSED, `stream closed before ${what}`)
    return m
  }
}

function concat (a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength)
  out.set(a)
  out.set(b, a.byteLength)
  return out
}

/**
 * The job channel that follows an accepted handshake, over the same stream. Each frame carries a
 * type byte: data, or abort with an error code so that the other side sees why the channel ended.
 */
export class StreamChannel implements FramedChannel {
  private closed = false
  private error?: Error
  constructor (private readonly wire: Wire, private readonly maxFrame: number) {}

  async send (frame: Uint8Array, opts?: { signal?: AbortSignal }): Promise<void> {
    if (this.error != null) throw this.error
    if (this.closed) throw new SessionError(SessionErrorCode.STREAM_CLOSED, 'channel closed')
    if (frame.byteLength > this.maxFrame) throw new SessionError(SessionErrorCode.MESSAGE_TOO_LARGE, `frame of ${frame.byteLength} bytes over the ${this.maxFrame} byte limit`)
    try {
      await this.wire.write(concat(Uint8Array.of(FRAME_DATA), frame), opts?.signal)
    } catch (err) {
      throw toSessionError(err)
    }
  }

  async * frames (): AsyncIterable<Uint8Array> {
    while (true) {
      let m: Uint8Array | null
      try {
        m = await this.wire.read(this.maxFrame + 1)
      } catch (err) {
        if (this.error != null) throw this.error
        throw toSessionError(err)
      }
      if (m == null) return
      if (m.byteLength === 0) throw new SessionError(SessionErrorCode.MALFORMED_MESSAGE, 'empty frame')
      if (m[0] === FRAME_DATA) {
        yield m.subarray(1)
        continue
      }
      if (m[0] === FRAME_ABORT) {
        const code = new TextDecoder().decode(m.subarray(1, 65))
        // the remote's reason is informational: any well-formed code is passed on (the layer above,
        // e.g. the supplier's ESCROW_MISSING, has codes of its own), anything else is dropped
        const err = new SessionError(SessionErrorCode.CHANNEL_ABORTED, `remote aborted the channel (${isFailureCode(code) ? code : 'unknown'})`, { remoteCode: REMOTE_CODE_RE.test(code) ? code : undefined })
        this.error = err
        this.wire.stream.abort(err)
        throw err
      }
      throw new SessionError(SessionErrorCode.MALFORMED_MESSAGE, `unknown frame type ${m[0]}`)
    }
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    // a peer that never reads or closes its side must not hold our close (and what waits on it)
    // forever: past the deadline the stream is reset. Wall time: it bounds I/O with the peer
    await this.wire.stream.close({ signal: AbortSignal.timeout(CLOSE_TIMEOUT_MS) }).catch((err: unknown) => {
      this.wire.stream.abort(err instanceof Error ? err : new Error(String(err)))
    })
  }

  abort (err: Error): void {
    if (this.error != null) return
    this.error = err
    const code = (err as { code?: unknown }).code
    const reason = new TextEncoder().encode(typeof code === 'string' ? code.slice(0, 64) : 'ABORTED')
    const frame = concat(Uint8Array.of(FRAME_ABORT), reason)
    const head = new Uint8Array(4)
    new DataView(head.buffer).setUint32(0, frame.byteLength, false)
    try {
      // best effort: the abort frame goes out before the reset if the transport accepts it now
      this.wire.stream.send(concat(head, frame))
      void this.wire.stream.close().catch(() => {})
    } catch {
      this.wire.stream.abort(err)
    }
  }
}
