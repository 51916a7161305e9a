/**
 * The arbiter's side of /bazaar/arbiter/2.0.0: reads one ArbiterRequest (size-capped, with a
 * deadline), applies the per-peer budget, hands it to the Arbiter (rules + chain approval) and writes
 * one ArbiterResponse. A refusal is a response with a reason code; nothing throws out of the handler.
 */
import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import type { ArbiterClient, ArbiterResponse } from '../../escrow/arbiter/service.js'
import { MAX_PAYOUTS } from '../../escrow/constants.js'
import { systemClock, type Clock } from '../../util/clock.js'
import { ArbiterRequest, ArbiterResponse as WireResponse } from '../../wire/arbiter.js'
import { requestFromWire, responseToWire } from './codec.js'
import {
  ARBITER_MAX_INBOUND_STREAMS, ARBITER_MAX_OUTBOUND_STREAMS, ARBITER_PROTOCOL, DEFAULT_ARBITER_DECISION_MS, DEFAULT_ARBITER_TIMEOUT_MS, DEFAULT_RATE_WINDOW_MS,
  DEFAULT_REQUESTS_PER_WINDOW, MAX_ARBITER_MESSAGE_BYTES, MAX_TRACKED_PEERS
} from './constants.js'
import { stepSignal, toArbiterProtocolError } from './errors.js'
import { WindowLimiter } from '../../util/rate-limit.js'
import { decodeOrMalformed } from '../stream-errors.js'
import { boundedPbStream } from '../pb-stream.js'

export interface ArbiterHandlerInit {
  /** the arbiter service (src/escrow/arbiter/service.ts) */
  arbiter: ArbiterClient
  clock?: Clock
  /** how long each message may take on the wire (DEFAULT_ARBITER_TIMEOUT_MS) */
  timeoutMs?: number
  /** how long the arbiter may take to decide and approve on chain (DEFAULT_ARBITER_DECISION_MS) */
  decisionMs?: number
  requestsPerWindow?: number
  rateWindowMs?: number
  maxInboundStreams?: number
  /** every outcome, for metrics and logs */
  onOutcome?: (o: { peer: string, approved: boolean, reason?: string }) => void
  /** failures of the arbiter itself (the chain port threw), for logs */
  onError?: (err: unknown) => void
}

export interface ArbiterHandler {
  stop: () => Promise<void>
}

/**
 * The arbiter's answer within `ms`: its signal aborts the chain work at the deadline, and an
 * arbiter that does not stop on it is no longer waited for (the peer hears ARBITER_UNAVAILABLE).
 */
async function decideWithin (arbiter: ArbiterClient, req: Parameters<ArbiterClient['request']>[0], ms: number): Promise<ArbiterResponse> {
  const signal = stepSignal(ms)
  let onAbort = (): void => {}
  const deadline = new Promise<never>((_resolve, reject) => {
    onAbort = () => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([arbiter.request(req, { signal }), deadline])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

export async function registerArbiterHandler (libp2p: Pick<Libp2p, 'handle' | 'unhandle'>, init: ArbiterHandlerInit): Promise<ArbiterHandler> {
  const clock = init.clock ?? systemClock
  const timeoutMs = init.timeoutMs ?? DEFAULT_ARBITER_TIMEOUT_MS
  const decisionMs = init.decisionMs ?? DEFAULT_ARBITER_DECISION_MS
  const limiter = new WindowLimiter(init.requestsPerWindow ?? DEFAULT_REQUESTS_PER_WINDOW, init.rateWindowMs ?? DEFAULT_RATE_WINDOW_MS, MAX_TRACKED_PEERS)

  const handler = async (stream: Stream, connection: Connection): Promise<void> => {
    const peer = connection.remotePeer.toString()
    const pb = boundedPbStream(stream, { maxDataLength: MAX_ARBITER_MESSAGE_BYTES })
    let answer: ArbiterResponse | undefined
    let req: ReturnType<typeof requestFromWire> | undefined
    try {
      // [IGNORE] a peer over its budget is answered before any decoding or chain access
      if (!limiter.take(peer, clock.now())) {
        answer = { approved: false, reason: 'RATE_LIMITED' }
      } else {
        const wire = await pb.read(decodeOrMalformed(ArbiterRequest), { signal: stepSignal(timeoutMs), limits: { settlement: { payouts: MAX_PAYOUTS } } })
        req = requestFromWire(wire)
      }
    } catch (err) {
      const e = toArbiterProtocolError(err)
      if (e.code === 'TIMEOUT' || e.code === 'ABORTED') {
        init.onOutcome?.({ peer, approved: false, reason: e.code })
        stream.abort(e)
        return
      }
      answer = { approved: false, reason: 'MALFORMED_REQUEST' }
    }
    if (answer == null && req != null) {
      try {
        // its own deadline, not the message's: a chain approval takes blocks (DEFAULT_ARBITER_DECISION_MS)
        answer = await decideWithin(init.arbiter, req, decisionMs)
      } catch (err) {
        // the arbiter's own fault (chain unreachable, a bug): the peer learns only that it failed
        init.onError?.(err)
        answer = { approved: false, reason: 'ARBITER_UNAVAILABLE' }
      }
    }
    answer ??= { approved: false, reason: 'MALFORMED_REQUEST' }
    init.onOutcome?.(answer.approved ? { peer, approved: true } : { peer, approved: false, reason: answer.reason })
    try {
      await pb.write(responseToWire(answer), WireResponse, { signal: stepSignal(timeoutMs) })
      await stream.close({ signal: stepSignal(timeoutMs) })
    } catch (err) {
      stream.abort(toArbiterProtocolError(err))
    }
  }

  await libp2p.handle(ARBITER_PROTOCOL, handler, {
    maxInboundStreams: init.maxInboundStreams ?? ARBITER_MAX_INBOUND_STREAMS,
    maxOutboundStreams: ARBITER_MAX_OUTBOUND_STREAMS
  })
  return { stop: async () => { await libp2p.unhandle(ARBITER_PROTOCOL) } }
}
