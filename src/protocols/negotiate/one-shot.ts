import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'
import { WindowLimiter } from '../../util/rate-limit.js'
import { MAX_RATE_PEERS } from '../../market/constants.js'
import { systemClock, type Clock } from '../../util/clock.js'
import { DEFAULT_MESSAGE_TIMEOUT_MS } from './constants.js'
import { stepSignal, toNegotiationError } from './errors.js'
import { decodeOrMalformed } from '../stream-errors.js'
import { boundedPbStream } from '../pb-stream.js'

/** A protobuf message type as protons generates it. */
interface MessageType<T> {
  encode: (obj: Partial<T>) => Uint8Array
  decode: (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<T>) => T
}

/**
 * The handler of a one-shot protocol (offers-fetch, withdraw): one request in, one response out,
 * each within the message timeout, at most `requestsPerMinute` per peer; any failure resets the
 * stream with a NegotiationError.
 */
export async function handleOneShot<Q, R> (libp2p: Pick<Libp2p, 'handle' | 'unhandle'>, protocol: string, spec: {
  request: MessageType<Q>
  response: MessageType<R>
  maxRequestBytes: number
  answer: (request: Q, peer: string) => Promise<Partial<R>> | Partial<R>
  clock?: Clock
  messageTimeoutMs?: number
  requestsPerMinute?: number
  maxInboundStreams: number
}): Promise<{ stop: () => Promise<void> }> {
  const clock = spec.clock ?? systemClock
  const limiter = new WindowLimiter(spec.requestsPerMinute ?? 30, 60_000, MAX_RATE_PEERS)
  const timeoutMs = spec.messageTimeoutMs ?? DEFAULT_MESSAGE_TIMEOUT_MS
  const handler = async (stream: Stream, connection: Connection): Promise<void> => {
    try {
      const peer = connection.remotePeer.toString()
      if (!limiter.take(peer, clock.now())) {
        stream.abort(new Error('rate limited'))
        return
      }
      const pb = boundedPbStream(stream, { maxDataLength: spec.maxRequestBytes })
      const req = await pb.read(decodeOrMalformed(spec.request), { signal: stepSignal(timeoutMs) })
      await pb.write(await spec.answer(req, peer), spec.response, { signal: stepSignal(timeoutMs) })
      await stream.close({ signal: stepSignal(timeoutMs) })
    } catch (err) {
      stream.abort(toNegotiationError(err))
    }
  }
  await libp2p.handle(protocol, handler, { maxInboundStreams: spec.maxInboundStreams })
  return { stop: async () => { await libp2p.unhandle(protocol) } }
}

/**
 * The client of a one-shot protocol: dials, writes the request, reads the response (bounded by
 * `maxResponseBytes` and the decoder's `limits`). Throws NegotiationError TIMEOUT, MALFORMED or
 * ABORTED.
 */
export async function askOneShot<Q, R> (libp2p: Pick<Libp2p, 'dialProtocol'>, peer: PeerId | Multiaddr | Multiaddr[], protocol: string, request: Partial<Q>, spec: {
  request: MessageType<Q>
  response: MessageType<R>
  maxResponseBytes: number
  limits?: DecodeOptions<R>['limits']
  signal?: AbortSignal
  timeoutMs?: number
}): Promise<R> {
  const timeoutMs = spec.timeoutMs ?? DEFAULT_MESSAGE_TIMEOUT_MS
  const stream = await libp2p.dialProtocol(peer, protocol, { signal: stepSignal(timeoutMs, spec.signal) })
    .catch((err: unknown) => { throw toNegotiationError(err) })
  try {
    const pb = boundedPbStream(stream, { maxDataLength: spec.maxResponseBytes })
    await pb.write(request, spec.request, { signal: stepSignal(timeoutMs, spec.signal) })
    const res = await pb.read(decodeOrMalformed(spec.response), { signal: stepSignal(timeoutMs, spec.signal), ...(spec.limits != null ? { limits: spec.limits } : {}) })
    await stream.close({ signal: stepSignal(timeoutMs, spec.signal) }).catch(() => {})
    return res
  } catch (err) {
    const ne = toNegotiationError(err)
    stream.abort(ne)
    throw ne
  }
}
