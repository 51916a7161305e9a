import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import { DEFAULT_PROPOSALS_PER_WINDOW, DEFAULT_RATE_WINDOW_MS, MAX_RATE_PEERS } from '../../market/constants.js'
import { NegotiationError, toNegotiationCode } from '../../market/errors.js'
import { WindowLimiter } from '../../util/rate-limit.js'
import { SupplierNegotiator, type Held, type SupplierNegotiatorInit } from '../../market/negotiation/supplier.js'
import { systemClock } from '../../util/clock.js'
import { Propose, RenterReply, SupplierReply } from '../../wire/agreement.js'
import {
  DEFAULT_MESSAGE_TIMEOUT_MS, MAX_NEGOTIATE_MESSAGE_BYTES, NEGOTIATE_MAX_INBOUND_STREAMS, NEGOTIATE_MAX_OUTBOUND_STREAMS,
  NEGOTIATE_PROTOCOL
} from './constants.js'
import { stepSignal, toNegotiationError } from './errors.js'
import { decodeOrMalformed } from '../stream-errors.js'
import { boundedPbStream } from '../pb-stream.js'

/** The negotiator's own init (signer, capacity, offers, store, clock, certs, holdMs, acceptArbiter) and the stream's limits. */
export interface NegotiationHandlerInit extends SupplierNegotiatorInit {
  /** each message must arrive within this; default 5 s */
  messageTimeoutMs?: number
  /** proposals per peer per window; default 20 per 10 s */
  proposalsPerWindow?: number
  rateWindowMs?: number
  maxInboundStreams?: number
  /** called with every outcome (metrics, logs) */
  onOutcome?: (outcome: { peer: string, agreement?: string, code?: string }) => void
}

export interface NegotiationService {
  readonly negotiator: SupplierNegotiator
  /** unregisters the handler */
  stop: () => Promise<void>
}

/**
 * Registers the supplier side of /bazaar/negotiate/1.0.0 on a libp2p node.
 *
 * Exchange (length-prefixed protobuf messages, see agreement.proto):
 *   renter → Propose; supplier → SupplierReply{accept | refusal};
 *   renter → RenterReply{confirm | refusal}; supplier → SupplierReply{committed | refusal}.
 * Every message has its own deadline; the Confirm must arrive within the hold. A failure ends the
 * stream with a Refusal carrying a code (best effort) and releases any hold; nothing here throws
 * out of the handler.
 */
export async function registerNegotiationHandler (libp2p: Pick<Libp2p, 'handle' | 'unhandle'>, init: NegotiationHandlerInit): Promise<NegotiationService> {
  const clock = init.clock ?? systemClock
  const negotiator = new SupplierNegotiator({ ...init, clock })
  const limiter = new WindowLimiter(init.proposalsPerWindow ?? DEFAULT_PROPOSALS_PER_WINDOW, init.rateWindowMs ?? DEFAULT_RATE_WINDOW_MS, MAX_RATE_PEERS)
  const timeoutMs = init.messageTimeoutMs ?? DEFAULT_MESSAGE_TIMEOUT_MS

  const handler = async (stream: Stream, connection: Connection): Promise<void> => {
    const peer = connection.remotePeer.toString()
    const pb = boundedPbStream(stream, { maxDataLength: MAX_NEGOTIATE_MESSAGE_BYTES })
    let held: Held | undefined
    try {
      // [IGNORE] a peer over its proposal budget gets RATE_LIMITED before any decoding or crypto
      if (!limiter.take(peer, clock.now())) throw new NegotiationError('RATE_LIMITED', 'too many proposals')
      const propose = await pb.read(decodeOrMalformed(Propose), { signal: stepSignal(timeoutMs) })
      held = await negotiator.propose(propose, peer)
      await pb.write({ accept: held.accept }, SupplierReply, { signal: stepSignal(timeoutMs) })
      const reply = await pb.read(decodeOrMalformed(RenterReply), { signal: stepSignal(negotiator.holdMs) })
      if (reply.refusal != null) {
        throw new NegotiationError(toNegotiationCode(reply.refusal.code), 'renter refused', { remote: true })
      }
      if (reply.confirm == null) throw new NegotiationError('MALFORMED', 'expected a confirm')
      const h = held.hash
      held = undefined
      const committed = await negotiator.confirm(h, reply.confirm)
      // the GPUs are committed from here on, whether or not `Committed` reaches the renter: the
      // outcome goes out before the write, so that the agreement's lifecycle (its startBy timer)
      // gets them back if the renter never starts. Reported after the write, a renter that reset the
      // stream right after its Confirm left them committed with no timer, for good.
      init.onOutcome?.({ peer, agreement: h })
      await pb.write({ committed }, SupplierReply, { signal: stepSignal(timeoutMs) })
      await stream.close({ signal: stepSignal(timeoutMs) }).catch((err: Error) => { stream.abort(err) })
    } catch (err) {
      const ne = toNegotiationError(err)
      if (held != null) await negotiator.abandon(held.hash).catch(() => {})
      init.onOutcome?.({ peer, code: ne.code })
      if (ne.remote || ne.code === 'TIMEOUT' || ne.code === 'ABORTED') {
        stream.abort(ne)
        return
      }
      try {
        const refusal = { code: ne.code, reason: ne.code, offerSequence: ne.offerSequence ?? 0n }
        await pb.write({ refusal }, SupplierReply, { signal: stepSignal(timeoutMs) })
        await stream.close({ signal: stepSignal(timeoutMs) })
      } catch (e) {
        stream.abort(e instanceof Error ? e : ne)
      }
    }
  }

  await libp2p.handle(NEGOTIATE_PROTOCOL, handler, {
    maxInboundStreams: init.maxInboundStreams ?? NEGOTIATE_MAX_INBOUND_STREAMS,
    maxOutboundStreams: NEGOTIATE_MAX_OUTBOUND_STREAMS
  })
  return {
    negotiator,
    stop: async () => { await libp2p.unhandle(NEGOTIATE_PROTOCOL) }
  }
}
