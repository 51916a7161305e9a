import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { pbStream } from '@libp2p/utils'
import { Withdraw, WithdrawReply } from '../../wire/agreement.js'
import { WindowLimiter } from '../../util/rate-limit.js'
import { MAX_RATE_PEERS } from '../../market/constants.js'
import { DOMAIN, type MessageSigner } from '../../market/signing/index.js'
import { systemClock, type Clock } from '../../util/clock.js'
import { DEFAULT_MESSAGE_TIMEOUT_MS, WITHDRAW_MAX_INBOUND_STREAMS, WITHDRAW_PROTOCOL } from './constants.js'
import { stepSignal, toNegotiationError } from './errors.js'
import { decodeOrMalformed } from '../stream-errors.js'

/** a Withdraw is a hash, a certificate and a signature: well under 1 KiB */
const MAX_WITHDRAW_BYTES = 1024

export interface WithdrawHandlerInit {
  /**
   * Gives the agreement back when the request holds (its renter's signature, not started); returns
   * "" when the GPUs went back, or the code of why not (see agreement.proto WithdrawReply).
   */
  withdraw: (w: Withdraw, peer: string) => Promise<string>
  clock?: Clock
  messageTimeoutMs?: number
  /** requests per peer per minute; default 30 */
  requestsPerMinute?: number
}

/**
 * Serves /bazaar/withdraw/1.0.0 on a supplier: one Withdraw in, one WithdrawReply out. Without
 * it, an agreement whose escrow never opened holds its GPUs until the supplier's escrow check
 * (10 minutes) or its `startBy`, and the renter has no way to say it gave up.
 */
export async function registerWithdrawHandler (libp2p: Pick<Libp2p, 'handle' | 'unhandle'>, init: WithdrawHandlerInit): Promise<{ stop: () => Promise<void> }> {
  const clock = init.clock ?? systemClock
  const limiter = new WindowLimiter(init.requestsPerMinute ?? 30, 60_000, MAX_RATE_PEERS)
  const timeoutMs = init.messageTimeoutMs ?? DEFAULT_MESSAGE_TIMEOUT_MS
  const handler = async (stream: Stream, connection: Connection): Promise<void> => {
    try {
      const peer = connection.remotePeer.toString()
      if (!limiter.take(peer, clock.now())) {
        stream.abort(new Error('rate limited'))
        return
      }
      const pb = pbStream(stream, { maxDataLength: MAX_WITHDRAW_BYTES })
      const w = await pb.read(decodeOrMalformed(Withdraw), { signal: stepSignal(timeoutMs) })
      const code = await init.withdraw(w, peer)
      await pb.write({ code }, WithdrawReply, { signal: stepSignal(timeoutMs) })
      await stream.close({ signal: stepSignal(timeoutMs) })
    } catch (err) {
      stream.abort(toNegotiationError(err))
    }
  }
  await libp2p.handle(WITHDRAW_PROTOCOL, handler, { maxInboundStreams: WITHDRAW_MAX_INBOUND_STREAMS })
  return { stop: async () => { await libp2p.unhandle(WITHDRAW_PROTOCOL) } }
}

/** The Withdraw of an agreement, signed by the renter's certified key. */
export function signWithdraw (signer: MessageSigner, agreementHash: Uint8Array): Withdraw {
  return { agreement: new Uint8Array(agreementHash), renterCert: signer.cert, renterSignature: signer.sign(DOMAIN.withdraw, agreementHash) }
}

/**
 * Tells a supplier this renter gives an agreement back; resolves with its answer ("" when the GPUs
 * went back). Throws NegotiationError TIMEOUT, MALFORMED or ABORTED.
 */
export async function withdrawAgreement (libp2p: Pick<Libp2p, 'dialProtocol'>, supplier: PeerId | Multiaddr | Multiaddr[], w: Withdraw, opts: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_MESSAGE_TIMEOUT_MS
  const stream = await libp2p.dialProtocol(supplier, WITHDRAW_PROTOCOL, { signal: stepSignal(timeoutMs, opts.signal) })
    .catch((err: unknown) => { throw toNegotiationError(err) })
  try {
    const pb = pbStream(stream, { maxDataLength: MAX_WITHDRAW_BYTES })
    await pb.write(w, Withdraw, { signal: stepSignal(timeoutMs, opts.signal) })
    const reply = await pb.read(decodeOrMalformed(WithdrawReply), { signal: stepSignal(timeoutMs, opts.signal) })
    await stream.close({ signal: stepSignal(timeoutMs, opts.signal) }).catch(() => {})
    return reply.code
  } catch (err) {
    const ne = toNegotiationError(err)
    stream.abort(ne)
    throw ne
  }
}
