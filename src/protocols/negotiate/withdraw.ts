import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { Withdraw, WithdrawReply } from '../../wire/agreement.js'
import { DOMAIN, type MessageSigner } from '../../market/signing/index.js'
import type { Clock } from '../../util/clock.js'
import { WITHDRAW_MAX_INBOUND_STREAMS, WITHDRAW_PROTOCOL } from './constants.js'
import { askOneShot, handleOneShot } from './one-shot.js'

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
  return await handleOneShot(libp2p, WITHDRAW_PROTOCOL, {
    request: Withdraw,
    response: WithdrawReply,
    maxRequestBytes: MAX_WITHDRAW_BYTES,
    answer: async (w, peer) => ({ code: await init.withdraw(w, peer) }),
    ...(init.clock != null ? { clock: init.clock } : {}),
    ...(init.messageTimeoutMs != null ? { messageTimeoutMs: init.messageTimeoutMs } : {}),
    ...(init.requestsPerMinute != null ? { requestsPerMinute: init.requestsPerMinute } : {}),
    maxInboundStreams: WITHDRAW_MAX_INBOUND_STREAMS
  })
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
  const reply = await askOneShot(libp2p, supplier, WITHDRAW_PROTOCOL, w, {
    request: Withdraw,
    response: WithdrawReply,
    maxResponseBytes: MAX_WITHDRAW_BYTES,
    ...(opts.signal != null ? { signal: opts.signal } : {}),
    ...(opts.timeoutMs != null ? { timeoutMs: opts.timeoutMs } : {})
  })
  return reply.code
}
