import type { PeerId, Stream } from '@libp2p/interface'
import type { GossipSub } from '@libp2p/gossipsub'
import { Uint8ArrayList } from 'uint8arraylist'

/**
 * Gossipsub's inbound RPC frames read from the stream's events, not through async iterators.
 *
 * `@libp2p/gossipsub` 17.1 reads a peer's stream as `pipe(stream, lp.decode)` and a `for await`
 * over that: each frame passes the stream's async iterator (a pushable queue), the length-prefixed
 * decoder's async generator and the loop's own step, several promise resolutions a frame. At a
 * market's steady rate every message is a frame and a TCP read of its own, so that chain is paid
 * per message: it was the largest part of the microtask work in a profile of a receiving daemon.
 *
 * `FrameReader` listens to the stream's `message` events (libp2p 3 streams are event targets; their
 * async iterator is built on the same events and never pauses the stream, so nothing about
 * backpressure changes) and cuts frames synchronously, with it-length-prefixed's rules and errors:
 * a length over `maxDataLength` is `InvalidDataLengthError` as soon as the prefix is read, a prefix
 * longer than 8 bytes is `InvalidDataLengthLengthError`, and a stream that ends inside a frame is
 * `UnexpectedEOFError`. Each frame then goes where gossipsub's loop sends it: `decodeRpc`, its
 * metrics, and `handleReceivedRpc`, not awaited (gossipsub's default, `awaitRpcHandler` false).
 * An error ends the reader and goes to `handlePeerReadStreamError`, as the loop's rejection did, so
 * the link keeper (`gossip-links.ts`) sees the same reasons.
 *
 * The hook replaces `createInboundStream` on one router: a private method, like the link keeper's
 * hooks; `test/unit/node/gossip-inbound.test.ts` fails if gossipsub stops calling it.
 */

/** it-length-prefixed's bound on the length prefix: varint of Number.MAX_SAFE_INTEGER */
const MAX_LENGTH_LENGTH = 8

// it-length-prefixed's errors by their names (the package does not export the classes): the link
// keeper's drop reasons and /metrics labels read `name`
export class InvalidDataLengthError extends Error { override name = 'InvalidDataLengthError' }
export class InvalidDataLengthLengthError extends Error { override name = 'InvalidDataLengthLengthError' }
export class UnexpectedEOFError extends Error { override name = 'UnexpectedEOFError' }

/** what the reader needs of the router (private in gossipsub's typings, stable in its code) */
interface RouterInternals {
  isStarted: () => boolean
  peers: Map<string, PeerId>
  streamsInbound: Map<string, { close: () => Promise<void> }>
  opts: { maxInboundDataLength?: number, awaitRpcHandler?: boolean }
  decodeRpc: (bytes: Uint8Array) => unknown
  handleReceivedRpc: (from: PeerId, rpc: unknown) => Promise<void>
  handlePeerReadStreamError: (err: unknown, peerId: PeerId) => void
  metrics?: { onRpcRecv: (rpc: unknown, bytes: number) => void, onRpcRecvError: () => void, onRpcDataError: () => void, onPeerReadStreamError: () => void } | null
  log: ((...args: unknown[]) => void) & { error: (...args: unknown[]) => void }
  createInboundStream: (peerId: PeerId, stream: Stream) => void
}

export interface FrameSink {
  frame: (bytes: Uint8Array) => void
  /** the stream failed or ended inside a frame; not called for a clean end */
  error: (err: Error) => void
}

interface MessageEventLike { data: Uint8Array | Uint8ArrayList }
interface CloseEventLike { error?: Error }

/**
 * Cuts varint-length-prefixed frames out of a stream's `message` events. `rawStream` and `close`
 * are what gossipsub and the link keeper read of an inbound stream.
 */
export class FrameReader {
  private readonly buffer = new Uint8ArrayList()
  /** the length of the frame being read, once its prefix is in; -1 while reading a prefix */
  private need = -1
  private ended = false

  constructor (readonly rawStream: Stream, private readonly maxDataLength: number, private readonly sink: FrameSink) {
    rawStream.addEventListener('message', this.onMessage)
    rawStream.addEventListener('close', this.onClose)
    rawStream.addEventListener('remoteCloseWrite', this.onRemoteCloseWrite)
  }

  /** stops reading and closes the stream (gossipsub's `InboundStream.close`) */
  async close (): Promise<void> {
    this.end()
    await this.rawStream.close().catch((err: Error) => { this.rawStream.abort(err) })
  }

  private readonly onMessage = (evt: Event): void => {
    if (this.ended) return
    this.buffer.append((evt as unknown as MessageEventLike).data)
    let err: Error | undefined
    try {
      this.cut()
    } catch (e) {
      err = e as Error
    }
    if (err !== undefined) this.fail(err)
  }

  private readonly onClose = (evt: Event): void => {
    const error = (evt as unknown as CloseEventLike).error
    if (error != null) this.fail(error)
    else this.onRemoteCloseWrite()
  }

  private readonly onRemoteCloseWrite = (): void => {
    if (this.ended) return
    if (this.buffer.byteLength > 0) this.fail(new UnexpectedEOFError('Unexpected end of input'))
    else this.end()
  }

  private cut (): void {
    const buf = this.buffer
    while (!this.ended && buf.byteLength > 0) {
      if (this.need < 0) {
        let length = 0
        let i = 0
        for (;;) {
          if (i === buf.byteLength) {
            if (i > MAX_LENGTH_LENGTH) throw new InvalidDataLengthLengthError('Message length length too long')
            return
          }
          const b = buf.get(i)
          length += (b & 0x7f) * 2 ** (7 * i)
          i++
          if (b < 0x80) break
          if (i > MAX_LENGTH_LENGTH) throw new InvalidDataLengthLengthError('Message length length too long')
        }
        if (length > this.maxDataLength) throw new InvalidDataLengthError('Message length too long')
        buf.consume(i)
        this.need = length
      }
      if (buf.byteLength < this.need) return
      // a view when the frame lies in one chunk (the common case: a frame per read), else one copy
      const frame = buf.subarray(0, this.need)
      buf.consume(this.need)
      this.need = -1
      this.sink.frame(frame)
    }
  }

  private end (): void {
    if (this.ended) return
    this.ended = true
    this.rawStream.removeEventListener('message', this.onMessage)
    this.rawStream.removeEventListener('close', this.onClose)
    this.rawStream.removeEventListener('remoteCloseWrite', this.onRemoteCloseWrite)
    this.buffer.consume(this.buffer.byteLength)
  }

  private fail (err: Error): void {
    if (this.ended) return
    this.end()
    // inside an event listener: a throw would be an uncaught exception
    try {
      this.sink.error(err)
    } catch {
      // the router's error path logs and drops the peer; nothing further to do here
    }
  }
}

/**
 * Makes `pubsub` read its inbound streams with `FrameReader`. Left as it is when the router was
 * built to await each RPC's handler (`awaitRpcHandler`), which the reader does not do.
 */
export function installEventInboundReader (pubsub: GossipSub): void {
  const ps = pubsub as unknown as RouterInternals
  if (ps.opts.awaitRpcHandler === true || typeof ps.createInboundStream !== 'function') return
  const maxDataLength = ps.opts.maxInboundDataLength ?? 4 * 1024 * 1024
  ps.createInboundStream = (peerId, stream) => {
    if (!ps.isStarted()) return
    const id = peerId.toString()
    if (!ps.peers.has(id)) return
    // as gossipsub does: a peer's new inbound stream replaces its earlier one
    const prior = ps.streamsInbound.get(id)
    if (prior !== undefined) prior.close().catch((err) => { ps.log.error(err) })
    const reader = new FrameReader(stream, maxDataLength, {
      frame: (bytes) => {
        try {
          const rpc = ps.decodeRpc(bytes)
          ps.metrics?.onRpcRecv(rpc, bytes.byteLength)
          ps.handleReceivedRpc(peerId, rpc).catch((err) => {
            ps.metrics?.onRpcRecvError()
            ps.log(err)
          })
        } catch (err) {
          ps.metrics?.onRpcDataError()
          ps.log(err)
        }
      },
      error: (err) => {
        ps.metrics?.onPeerReadStreamError()
        ps.handlePeerReadStreamError(err, peerId)
      }
    })
    ps.streamsInbound.set(id, reader)
  }
}
