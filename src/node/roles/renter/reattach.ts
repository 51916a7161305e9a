/**
 * A restarted renter takes up the job of an escrow it opened: a new attested session to the same
 * enclave (the agreement names it), `attach` on the job protocol, metering from where it stopped
 * (the voucher key sealed on disk, usage checked against the job's start on this renter's clock),
 * then the rest of the job's output, its exit and its outputs, as a rental's job step receives them.
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { decodeTerms, offerKey } from '../../../market/index.js'
import type { AgreementTerms } from '../../../wire/agreement.js'
import { openAttestedSession, SessionError } from '../../../protocols/session/index.js'
import { attachJobClient, type JobAttachClientOptions } from '../../../protocols/job/index.js'
import type { JobResult } from '../../../jobs/index.js'
import type { EscrowTerms, VoucherSigner } from '../../../escrow/index.js'
import { fromHex } from '../../../util/hex.js'
import { peerIdString } from '../../market-json.js'
import type { Logger } from '../../logger.js'
import type { RoleMetrics } from '../metrics.js'
import { RentError } from './errors.js'
import { errorReason } from '../errors.js'
import { RenterMetering } from './metering.js'
import type { RentalToResume, RenterRoleInit } from './types.js'
import type { RenterNode } from '../node.js'
import { TEE_KINDS, type AttestationPolicy } from '../../../tee/index.js'

export interface ReattachContext {
  init: RenterRoleInit
  metrics: RoleMetrics
  logger: Logger
  signal?: AbortSignal
  /** what the new session's evidence must meet: the rental's own (its `--tee` kinds and CRLs) in the process that rented, the role's after a restart */
  policy?: AttestationPolicy
}

/**
 * Where to dial the enclave: the addresses its supplier's offer gives now, then those the rental
 * kept. A supplier started again listens for its enclave where `tee.enclaveListen` says, by default
 * on a free port, so the addresses of the rental's offer may be gone; the supplier re-publishes its
 * offer with the new ones at start, and a renter that dials them hears the enclave's own answer
 * (UNKNOWN_AGREEMENT once its restart closed the agreement) instead of a refused connection until
 * its window passes. Only addresses of the enclave the agreement names count.
 */
export function enclaveAddrs (node: Pick<RenterNode, 'market'>, t: Pick<AgreementTerms, 'supplier' | 'offerId'>, enclavePeer: string, kept: readonly string[]): Multiaddr[] {
  const current = node.market.book.getOffer(offerKey({ supplier: t.supplier, id: t.offerId }))?.offer.addrs ?? []
  const seen = new Set<string>()
  const out: Multiaddr[] = []
  for (const given of [...current, ...kept]) {
    let addr: Multiaddr
    try { addr = multiaddr(given) } catch { continue }
    const text = addr.toString()
    if (seen.has(text) || !addr.getComponents().some((c) => c.name === 'p2p' && c.value === enclavePeer)) continue
    seen.add(text)
    out.push(addr)
  }
  return out
}

/** how long a renter asks a supplier's node for its current offers when its enclave cannot be reached */
const OFFERS_PULL_TIMEOUT_MS = 10_000

/**
 * The enclave could not be reached at the addresses tried. A supplier started again listens for
 * its enclave on a new port by default and re-publishes its offer with it, which this node may
 * have missed (gossip is not replayed, and a renter started again has a fresh book): the
 * supplier's node (the peer the agreement was negotiated with) serves its current offers, which
 * enter the book validated exactly like gossip. Returns the enclave's addresses not tried yet,
 * none where the pull failed or brought nothing new.
 */
async function movedEnclaveAddrs (ctx: ReattachContext, supplierPeer: string, t: Pick<AgreementTerms, 'supplier' | 'offerId'>, enclavePeer: string, tried: readonly Multiaddr[]): Promise<Multiaddr[]> {
  const { node } = ctx.init
  const signal = ctx.signal != null ? AbortSignal.any([ctx.signal, AbortSignal.timeout(OFFERS_PULL_TIMEOUT_MS)]) : AbortSignal.timeout(OFFERS_PULL_TIMEOUT_MS)
  try {
    await node.market.pullOffers(peerIdFromString(supplierPeer), { signal })
  } catch (err) {
    ctx.logger.debug('the supplier\'s node did not give its offers', { peer: supplierPeer, err })
    return []
  }
  const seen = new Set(tried.map((a) => a.toString()))
  return enclaveAddrs(node, t, enclavePeer, []).filter((a) => !seen.has(a.toString()))
}

/** What a rental still running in this process brings to a re-attach of its own job. */
export interface ReattachLive {
  /** the rental's metering: its voucher sequence and usage go on where the broken session left them */
  metering: RenterMetering
  onStdout?: (chunk: Uint8Array) => void
  onStderr?: (chunk: Uint8Array) => void
  onTick?: JobAttachClientOptions['onTick']
}

/**
 * Re-attaches to the job of `rental` and follows it to its end; the vouchers it signs are stored
 * before they are sent, as a rental's are. Returns the job's result and the acks counted (with
 * `live`, the rental's own count, which goes on).
 * @throws RentError SESSION_FAILED when the enclave cannot be reached or attested again (or its
 * agreement is not known here); the job layer's JobProtocolError when the supplier refuses the
 * attach (REMOTE_REJECTED with ATTACH_NOT_RENTER, ATTACH_UNKNOWN_JOB or ATTACH_JOB_ENDED) or the
 * session breaks
 */
export async function reattachRental (ctx: ReattachContext, rental: RentalToResume, terms: EscrowTerms, signer: VoucherSigner, live?: ReattachLive): Promise<{ result: JobResult, acked: number }> {
  const { node } = ctx.init
  const rec = await ctx.init.agreements.get(rental.agreementId)
  if (rec == null) throw new RentError('SESSION_FAILED', 'the agreement of the job is not known here')
  const t = decodeTerms(rec.agreement.terms)
  // the enclave the agreement names, whatever the job record says
  const enclavePeer = peerIdString(t.enclavePeer)
  const addrs = enclaveAddrs(node, t, enclavePeer, rental.addrs)
  // [REJECT] evidence of another kind than the agreement's, as in the rental's first session. The
  // kind is the agreement's, not the config's list: the rental accepted it (its own --tee kinds may
  // differ from market.teeKinds); the rest of the policy (measurements, TCB, CRLs) is the node's now
  const base = ctx.policy ?? ctx.init.policy
  const policy = { ...base, kinds: TEE_KINDS.filter((k) => k === t.teeKind) }
  const open = async (at: Multiaddr[]): ReturnType<typeof openAttestedSession> => await openAttestedSession(node.host, at.length > 0 ? at : peerIdFromString(enclavePeer), {
    agreementHash: new Uint8Array(fromHex(rental.agreementId)),
    policy,
    clock: node.clock,
    ...(ctx.signal != null ? { signal: ctx.signal } : {}),
    expectedPeer: peerIdFromString(enclavePeer),
    // every GPU of the agreement attests again, as in the rental's first session
    gpuCount: t.gpuCount
  })
  let session
  try {
    try {
      session = await open(addrs)
    } catch (err) {
      // the enclave answered (a SessionError), or the rental stops: nothing to look for
      if (err instanceof SessionError || ctx.signal?.aborted === true || rec.peer === '') throw err
      const moved = await movedEnclaveAddrs(ctx, rec.peer, t, enclavePeer, addrs)
      if (moved.length === 0) throw err
      ctx.logger.info('the enclave moved: dialling the addresses its supplier\'s offer gives now', { agreement: rental.agreementId, addrs: moved.map((a) => a.toString()) })
      session = await open(moved)
    }
  } catch (err) {
    ctx.metrics.sessions.inc({ role: 'renter', result: 'refused' })
    throw new RentError('SESSION_FAILED', `the enclave's session was refused: ${errorReason(err)}`, { cause: err })
  }
  ctx.metrics.sessions.inc({ role: 'renter', result: 'reattached' })
  const metering = live?.metering ?? RenterMetering.forRental({ terms, pricePerGpuHour: t.pricePerGpuHour, gpus: t.gpuCount, signer, clock: node.clock, vouchers: ctx.init.escrowDb.vouchers, metrics: ctx.metrics, logger: ctx.logger })
  metering.onStarted(rental.startedAt)
  try {
    const result = await attachJobClient(session.channel, {
      agreementId: new Uint8Array(fromHex(rental.agreementId)),
      outputs: rental.outputs,
      outputDir: rental.outputDir,
      ...(rental.maxDurationMs != null ? { maxDurationMs: rental.maxDurationMs } : {}),
      clock: node.clock,
      ...(ctx.signal != null ? { signal: ctx.signal } : {}),
      ...(live?.onStdout != null ? { onStdout: live.onStdout } : {}),
      ...(live?.onStderr != null ? { onStderr: live.onStderr } : {}),
      ...(live?.onTick != null ? { onTick: live.onTick } : {}),
      onMetering: metering.onMetering,
      onExit: metering.onExit
    })
    // a rental that takes its own job up again counts the job once, at its end
    if (live == null) ctx.metrics.jobs.inc({ role: 'renter', reason: result.reason })
    return { result, acked: metering.acked }
  } finally {
    await session.channel.close().catch(() => {})
  }
}
