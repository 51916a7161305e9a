import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { AgreementTerms, SignedAgreement } from '../../wire/agreement.js'
import { Propose, RenterReply, SupplierReply } from '../../wire/agreement.js'
import type { Bid, Offer } from '../../wire/market.js'
import type { AgreementStore } from '../../market/agreement/store.js'
import { NegotiationError, toNegotiationCode } from '../../market/errors.js'
import { RenterNegotiator, type Proposal, type ProposalOptions } from '../../market/negotiation/renter.js'
import type { CertCache } from '../../market/signing/cert.js'
import type { MessageSigner } from '../../market/signing/signer.js'
import type { Clock } from '../../util/clock.js'
import { DEFAULT_MESSAGE_TIMEOUT_MS, MAX_NEGOTIATE_MESSAGE_BYTES, NEGOTIATE_PROTOCOL } from './constants.js'
import { stepSignal, toNegotiationError } from './errors.js'
import { decodeOrMalformed } from '../stream-errors.js'
import { boundedPbStream } from '../pb-stream.js'

export interface NegotiateOptions extends ProposalOptions {
  bid: Bid
  offer: Offer
  signer: MessageSigner
  store: AgreementStore
  clock?: Clock
  certs?: CertCache
  /** each supplier message must arrive within this; default 5 s */
  messageTimeoutMs?: number
  signal?: AbortSignal
}

/** An agreement both sides signed and committed. */
export interface NegotiatedAgreement {
  /** hex of the agreement hash */
  id: string
  hash: Uint8Array
  terms: AgreementTerms
  agreement: SignedAgreement
}

/**
 * The renter side of /bazaar/negotiate/1.0.0: proposes terms for `bid` and its matched `offer`,
 * verifies and stores the supplier's countersignature, confirms, and waits for the commitment.
 * Throws NegotiationError: a refusal from the supplier has `remote: true` and its code
 * (NO_CAPACITY, PRICE_CHANGED, OFFER_GONE, ...); local faults are TIMEOUT, MALFORMED,
 * BAD_SIGNATURE, BAD_CERT, ABORTED.
 */
export async function negotiate (libp2p: Pick<Libp2p, 'dialProtocol'>, supplier: PeerId | Multiaddr | Multiaddr[], opts: NegotiateOptions): Promise<NegotiatedAgreement> {
  const renter = new RenterNegotiator({ signer: opts.signer, store: opts.store, clock: opts.clock, certs: opts.certs })
  const proposal: Proposal = renter.prepare(opts.bid, opts.offer, opts)
  const timeoutMs = opts.messageTimeoutMs ?? DEFAULT_MESSAGE_TIMEOUT_MS
  let stream
  try {
    stream = await libp2p.dialProtocol(supplier, NEGOTIATE_PROTOCOL, { signal: stepSignal(timeoutMs, opts.signal) })
  } catch (err) {
    throw new NegotiationError(opts.signal?.aborted === true ? 'ABORTED' : 'TIMEOUT', 'could not reach the supplier', { cause: err })
  }
  const pb = boundedPbStream(stream, { maxDataLength: MAX_NEGOTIATE_MESSAGE_BYTES })
  let stored: SignedAgreement | undefined
  try {
    await pb.write(proposal.propose, Propose, { signal: stepSignal(timeoutMs, opts.signal) })
    const first = await pb.read(decodeOrMalformed(SupplierReply), { signal: stepSignal(timeoutMs, opts.signal) })
    refused(first)
    if (first.accept == null) throw new NegotiationError('MALFORMED', 'expected an accept')
    const { agreement, confirm } = await renter.accepted(proposal, first.accept, peerText(supplier))
    stored = agreement
    await pb.write({ confirm }, RenterReply, { signal: stepSignal(timeoutMs, opts.signal) })
    const second = await pb.read(decodeOrMalformed(SupplierReply), { signal: stepSignal(timeoutMs, opts.signal) })
    refused(second)
    if (second.committed == null) throw new NegotiationError('MALFORMED', 'expected committed')
    await renter.committed(proposal, second.committed)
    await stream.close({ signal: stepSignal(timeoutMs, opts.signal) }).catch((err: Error) => { stream.abort(err) })
    return { id: proposal.id, hash: proposal.hash, terms: proposal.terms, agreement }
  } catch (err) {
    const ne = toNegotiationError(err)
    if (stored != null) await renter.lapsed(proposal)
    stream.abort(ne)
    throw ne
  }
}

function refused (reply: SupplierReply): void {
  if (reply.refusal == null) return
  throw new NegotiationError(toNegotiationCode(reply.refusal.code), 'supplier refused', {
    remote: true,
    ...(reply.refusal.offerSequence !== 0n ? { offerSequence: reply.refusal.offerSequence } : {})
  })
}

function peerText (target: PeerId | Multiaddr | Multiaddr[]): string {
  const one = Array.isArray(target) ? target[0] : target
  if (one == null) return ''
  const text = one.toString()
  return /\/p2p\/([^/]+)/.exec(text)?.[1] ?? text
}
