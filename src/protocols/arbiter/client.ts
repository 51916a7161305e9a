/**
 * A party's side of /bazaar/arbiter/2.0.0: an ArbiterClient that reaches a remote arbiter, so the
 * EscrowService works the same with an arbiter in process or across the network.
 */
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { ArbiterRequest } from '../../escrow/arbiter/rules.js'
import type { ArbiterClient, ArbiterResponse } from '../../escrow/arbiter/service.js'
import { ArbiterRequest as WireRequest, ArbiterResponse as WireResponse } from '../../wire/arbiter.js'
import { requestToWire, responseFromWire } from './codec.js'
import { ARBITER_PROTOCOL, DEFAULT_ARBITER_DECISION_MS, DEFAULT_ARBITER_TIMEOUT_MS, MAX_ARBITER_MESSAGE_BYTES } from './constants.js'
import { ArbiterProtocolError, stepSignal, toArbiterProtocolError } from './errors.js'
import { decodeOrMalformed } from '../stream-errors.js'
import { boundedPbStream } from '../pb-stream.js'

export class RemoteArbiter implements ArbiterClient {
  constructor (
    private readonly libp2p: Pick<Libp2p, 'dialProtocol'>,
    private readonly arbiter: PeerId | Multiaddr | Multiaddr[],
    private readonly timeoutMs = DEFAULT_ARBITER_TIMEOUT_MS,
    /** how long the answer may take once the request is out: the arbiter's decision and chain approval */
    private readonly decisionMs = DEFAULT_ARBITER_DECISION_MS
  ) {}

  /** Sends one request; throws ArbiterProtocolError (TIMEOUT, UNREACHABLE, MALFORMED, ABORTED) on transport failure. */
  async request (req: ArbiterRequest, opts: { signal?: AbortSignal } = {}): Promise<ArbiterResponse> {
    let stream
    try {
      stream = await this.libp2p.dialProtocol(this.arbiter, ARBITER_PROTOCOL, { signal: stepSignal(this.timeoutMs, opts.signal) })
    } catch (err) {
      throw new ArbiterProtocolError('UNREACHABLE', 'could not reach the arbiter', { cause: err })
    }
    const pb = boundedPbStream(stream, { maxDataLength: MAX_ARBITER_MESSAGE_BYTES })
    try {
      await pb.write(requestToWire(req), WireRequest, { signal: stepSignal(this.timeoutMs, opts.signal) })
      // the arbiter answers after its approval is on chain: the decision's time plus the message's
      const wire = await pb.read(decodeOrMalformed(WireResponse), { signal: stepSignal(this.decisionMs + this.timeoutMs, opts.signal) })
      await stream.close({ signal: stepSignal(this.timeoutMs, opts.signal) }).catch((err: Error) => { stream.abort(err) })
      return responseFromWire(wire, req.settlement.escrowId)
    } catch (err) {
      const e = toArbiterProtocolError(err)
      stream.abort(e)
      throw e
    }
  }
}
