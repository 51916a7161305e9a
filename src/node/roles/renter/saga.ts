/**
 * The steps of one rental, in order: bid → match → negotiate → escrow → attested session → job with
 * metering → settle. Each is a function of the rental's context that returns what the next needs,
 * emits its event, counts its metrics and fails with a typed error (RentError, or the job layer's
 * own for a broken session, which the job step turns into a failed job).
 */
import { randomBytes } from 'node:crypto'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { decodeSs58, encodeSs58 } from '../../../util/ss58.js'
import { peerIdFromString } from '@libp2p/peer-id'
import { agreementBudget, NegotiationError, rent as negotiateBest, type Match } from '../../../market/index.js'
import { negotiate, signWithdraw, withdrawAgreement, type NegotiatedAgreement } from '../../../protocols/negotiate/index.js'
import { openAttestedSession, SessionError, SessionErrorCode, type AttestedSession } from '../../../protocols/session/index.js'
import type { JobOutput, JobResult } from '../../../jobs/index.js'
import { JobProtocolError, runJobClient, type JobExit } from '../../../protocols/job/index.js'
import { escrowIdOfAgreement, SS58_PREFIX, VoucherSigner, type EscrowOnChain, type EscrowService, type EscrowTerms } from '../../../escrow/index.js'
import { gpuFamily } from '../../../protocols/discovery/gpu-records.js'
import type { Bid } from '../../../wire/market.js'
import type { Logger } from '../../logger.js'
import { peerOfAddrs } from '../../market-service.js'
import { peerIdString } from '../../market-json.js'
import type { RoleMetrics } from '../metrics.js'
import { RentError } from './errors.js'
import { errorCode, errorReason } from '../errors.js'
import { awaitMatch } from './match.js'
import { RenterMetering } from './metering.js'
import { awaitSettled, settledAmounts, SETTLE_WAIT_MS } from './settle.js'
import { reattachRental, type ReattachLive } from './reattach.js'
import type { RentalToResume, RentEvent, RentGpuAttestation, RentJob, RentRequest, RenterRoleInit } from './types.js'
import { AttestationErrorCode, type AttestationPolicy } from '../../../tee/index.js'
import { AMOUNT_UNIT } from '../../../util/units.js'
import { formatUnits } from '../../../escrow/amount.js'
import { abortable } from '../../../util/abortable.js'

/** how long a renter waits for a compatible offer by default */
export const DEFAULT_MATCH_TIMEOUT_MS = 30_000
/** how long the DHT lookup for suppliers that published before we joined may run */
const DISCOVER_TIMEOUT_MS = 15_000
/** how long the renter's own balance may take to read before negotiating without it (wall time: chain I/O) */
const FUNDS_READ_MS = 10_000

/** What every step of one rental sees. */
export interface RentContext {
  init: RenterRoleInit
  escrow: EscrowService
  metrics: RoleMetrics
  logger: Logger
  emit: (e: RentEvent) => void
  /** cancels the rental (the caller's, or the role stopping) */
  signal: AbortSignal
  /** ends the settlement wait (the role stopping past its bound); the rental's own cancel does not */
  settleSignal?: AbortSignal
  /** what the enclave's evidence must meet in this rental (its `--tee` kinds and CRLs; default the role's) */
  policy: AttestationPolicy
  /** how long this rental waits for a compatible offer */
  matchTimeoutMs: number
}

/** Step 1: the bid goes out on gossip (and rests in our own book). */
export async function publishRentBid (ctx: RentContext, req: RentRequest): Promise<{ bidId: string, bid: Bid }> {
  const { node } = ctx.init
  const bidId = `job-${randomBytes(4).toString('hex')}`
  const published = await node.publishBid({
    id: bidId,
    gpu: req.gpu,
    minMemoryMib: req.minMemoryMib ?? 0,
    count: req.count,
    teeKinds: req.teeKinds,
    regions: req.regions,
    maxPricePerGpuHour: req.maxPricePerGpuHour,
    netuid: node.config.chain.netuid,
    durationS: req.durationS,
    ttlS: Math.max(60, Math.min(3600, req.durationS)),
    // the job's image goes into the bid: it matches only suppliers whose offers run that image
    ...(req.spec.image != null && req.spec.image !== '' ? { image: req.spec.image } : {})
  })
  ctx.emit({ type: 'bid', id: bidId })
  return { bidId, bid: published.bid }
}

/** this node's hotkey as the book writes suppliers (hex) */
function ownSupplier (ctx: RentContext): string {
  return Buffer.from(ctx.init.node.signer.hotkey).toString('hex')
}

/**
 * Step 2: a compatible offer in the book, now or when one arrives (book events), before the match
 * timeout on the node's clock. Suppliers that published before we joined are looked up in the DHT
 * meanwhile. RentError NO_MATCH or ABORTED.
 */
export async function findMatch (ctx: RentContext, req: RentRequest, bid: Bid): Promise<Match> {
  const { node } = ctx.init
  if (req.gpu !== '') {
    // bounded on the node's clock, and ended with the rental
    const lookup = new AbortController()
    const timer = node.clock.setTimeout(() => { lookup.abort() }, DISCOVER_TIMEOUT_MS)
    void node.market.discover(gpuFamily(req.gpu), { signal: AbortSignal.any([ctx.signal, lookup.signal]) })
      .catch(() => {})
      .finally(() => { timer.clear() })
  }
  try {
    return await awaitMatch(node.market, bid, { clock: node.clock, ownSupplier: ownSupplier(ctx), timeoutMs: ctx.matchTimeoutMs, requireGpuCc: requiresGpuCc(ctx), signal: ctx.signal })
  } catch (err) {
    if (err instanceof RentError && err.code === 'NO_MATCH') ctx.metrics.matches.inc({ result: 'no-match' })
    throw err
  }
}

/**
 * Step 3: negotiation with the best match; a supplier that refuses is excluded and the bid
 * re-matched at once (market `rent`). The GPUs agreed leave our view of the book. RentError
 * NO_MATCH when every compatible supplier refused, NO_FUNDS when the renter's own account (read
 * once, here) is short of the best match's budget, ABORTED on the signal.
 */
export async function negotiateAgreement (ctx: RentContext, bid: Bid): Promise<{ match: Match, agreed: NegotiatedAgreement }> {
  const { node } = ctx.init
  const arbiter = new Uint8Array(decodeSs58(ctx.init.arbiterAddress).accountId)
  // never our own offers: a node that also supplies would negotiate with itself
  const own = node.market.book.offers({ supplier: ownSupplier(ctx) }).map((e) => e.key)
  // the renter's own funds, read once (undefined: not readable now, the chain decides at the open)
  const fundsSignal = AbortSignal.any([ctx.signal, AbortSignal.timeout(FUNDS_READ_MS)])
  const funds = await abortable(ctx.init.chain.balance(ctx.init.account.address, { signal: fundsSignal }), fundsSignal).catch(() => undefined)
  // and its TAO for the fees and the close's deposit, where the chain charges them
  const feeFunds = ctx.init.chain.feeFunds
  const fees = feeFunds != null ? await abortable(feeFunds.call(ctx.init.chain, ctx.init.account.address, { signal: fundsSignal }), fundsSignal).catch(() => undefined) : undefined
  let out: { match: Match, result: NegotiatedAgreement }
  try {
    out = await negotiateBest<NegotiatedAgreement>(node.market.book, bid, {
      signal: ctx.signal,
      exclude: own,
      requireGpuCc: requiresGpuCc(ctx),
      attempt: async (m: Match) => {
        const budget = agreementBudget(m.entry.offer.pricePerGpuHour, Math.max(1, bid.requirements?.count ?? 0), bid.durationS)
        // [stop] the account cannot fund this offer's escrow, nor a later one (matches come cheapest first)
        if (funds !== undefined && funds < budget) throw new NegotiationError('NO_FUNDS', await shortOfFunds(ctx, funds, budget))
        // [stop] nor pay the fees of opening and closing any escrow
        if (fees !== undefined && fees.free < fees.needed) throw new NegotiationError('NO_FUNDS', shortOfFees(ctx, fees))
        const supplier = encodeSs58(m.entry.offer.supplier, SS58_PREFIX)
        ctx.metrics.matches.inc({ result: 'matched' })
        ctx.emit({ type: 'matched', supplier, offer: m.entry.offer.id, pricePerGpuHour: m.entry.offer.pricePerGpuHour.toString(), teeKind: m.teeKind })
        try {
          return await negotiate(node.host, supplierAddrs(m), {
            bid, offer: m.entry.offer, signer: node.signer, store: ctx.init.agreements, clock: node.clock, certs: node.gossip.validator.certCache, arbiter, signal: ctx.signal
          })
        } catch (err) {
          ctx.metrics.matches.inc({ result: 'refused' })
          ctx.emit({ type: 'refused', supplier, code: errorCode(err) ?? 'ERROR' })
          throw err
        }
      }
    })
  } catch (err) {
    if (err instanceof NegotiationError) throw new RentError(err.code === 'ABORTED' || err.code === 'NO_FUNDS' ? err.code : 'NO_MATCH', err.message, { cause: err })
    throw err
  }
  const { match, result: agreed } = out
  ctx.emit({ type: 'agreement', id: agreed.id, budget: agreed.terms.budget.toString(), unit: AMOUNT_UNIT })
  // GPUs taken here are gone from our book view until the supplier re-publishes
  node.market.book.consume(match.entry, match.gpu.model, agreed.terms.gpuCount)
  return { match, agreed }
}

/** What the escrow step leaves for the session, the job and the settlement. */
export interface OpenedEscrow {
  escrowId: string
  terms: EscrowTerms
  voucherSigner: VoucherSigner
  /** the escrow as the open left it (asset, records) */
  opened: EscrowOnChain
}

/**
 * failures of an open after which it may still land (its inclusion was not seen), or may have
 * landed (CHAIN_TIMEOUT: a read the node did not answer, before the send or after the inclusion)
 */
const OPEN_OUTCOME_UNKNOWN = new Set(['ABORTED', 'INCLUSION_TIMEOUT', 'CHAIN_UNAVAILABLE', 'CHAIN_TIMEOUT'])

/** a failed `openRentEscrow` whose open may still land (its key was kept for it) */
export function openMayLand (err: unknown): boolean {
  return err instanceof RentError && err.code === 'ESCROW_FAILED' && OPEN_OUTCOME_UNKNOWN.has((err.cause as { code?: string } | undefined)?.code ?? '')
}

/**
 * Step 4: the escrow for the agreed budget, on chain. The voucher key is durable before the
 * escrow that names it exists: a renter that restarts mid-job still signs for its escrow (see
 * RenterRole.resume). RentError ESCROW_FAILED.
 */
export async function openRentEscrow (ctx: RentContext, agreed: NegotiatedAgreement): Promise<OpenedEscrow> {
  const t = agreed.terms
  const escrowId = escrowIdOfAgreement(agreed.id)
  const voucherSigner = ctx.init.voucherKeys != null ? await ctx.init.voucherKeys.create(escrowId) : VoucherSigner.generate()
  const terms: EscrowTerms = {
    escrowId,
    agreementHash: escrowId,
    payer: ctx.init.account.address,
    payee: encodeSs58(t.supplier, SS58_PREFIX),
    arbiter: encodeSs58(t.escrow!.arbiter, SS58_PREFIX),
    amount: t.budget,
    netuid: t.netuid,
    voucherKey: voucherSigner.publicKeyHex,
    expiresAt: Number(t.escrow!.expiresAt)
  }
  let opened: EscrowOnChain
  try {
    opened = await ctx.escrow.open(terms, { signal: ctx.signal })
  } catch (err) {
    const code = (err as { code?: string }).code ?? ''
    // an open whose inclusion was not seen (a cancel while it was in the pool, a timeout, the chain
    // gone for a while) may have landed all the same: then it is this rental's escrow, and the
    // rental goes on with it (a cancel then ends it before the job, which refunds it at startBy)
    const landed = OPEN_OUTCOME_UNKNOWN.has(code)
      ? await ctx.init.chain.get(escrowId, { payer: terms.payer, ...(ctx.settleSignal != null ? { signal: ctx.settleSignal } : {}) }).catch(() => undefined)
      : undefined
    if (landed?.status !== 'open') {
      // refused for good (the pool or the runtime said no, the funds are short): no escrow will
      // name the key, so it goes; one whose outcome is unknown keeps it, for resume and refunds
      if (!OPEN_OUTCOME_UNKNOWN.has(code)) await ctx.init.voucherKeys?.remove(escrowId).catch(() => {})
      throw new RentError('ESCROW_FAILED', `opening the escrow failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
    }
    opened = landed
    await ctx.escrow.track(terms, { onChain: landed }).catch(() => {})
  }
  ctx.metrics.escrows.inc({ role: 'payer', event: 'open' })
  const openRec = opened.records.find((r) => r.kind === 'open')
  ctx.emit({ type: 'escrow', id: escrowId, locked: t.budget.toString(), asset: opened.asset.kind, unit: AMOUNT_UNIT, blockNumber: openRec?.blockNumber ?? 0 })
  return { escrowId, terms, voucherSigner, opened }
}

/**
 * Why the renter's account cannot fund the escrow, in the escrow's asset: which account pays (the
 * node's hotkey), what it holds and what the budget is. An alpha escrow is funded from stake that
 * account owns on the subnet (`transferStake` moves it), not from free TAO.
 */
async function shortOfFunds (ctx: RentContext, funds: bigint, budget: bigint): Promise<string> {
  const info = await ctx.init.chain.info().catch(() => undefined)
  const asset = info?.asset
  const account = ctx.init.account.address
  // on a subtensor chain the operator adds to the account with one command
  const fund = info?.adapter === 'subtensor'
    ? `; bazaar wallet fund --amount <τ> adds to it from the coldkey${asset?.kind === 'alpha' ? ', or --amount <α> from alpha the coldkey holds on the subnet' : ''}`
    : ''
  if (asset?.kind === 'alpha') return `the renter's hotkey account ${account} holds ${formatUnits(funds)} α of subnet ${asset.netuid} as stake, short of the budget of ${formatUnits(budget)} α: an escrow is funded from that account's own stake on the subnet${fund}`
  if (asset?.kind === 'tao') return `the renter's hotkey account ${account} holds ${formatUnits(funds)} τ free, short of the budget of ${formatUnits(budget)} τ${fund}`
  return `the renter's hotkey account ${account} holds ${formatUnits(funds)}, short of the budget of ${formatUnits(budget)}`
}

/** Why the renter's account cannot pay for an escrow's open and close, in TAO, whatever the escrow holds. */
function shortOfFees (ctx: RentContext, fees: { free: bigint, needed: bigint }): string {
  return `the renter's hotkey account ${ctx.init.account.address} holds ${formatUnits(fees.free)} τ free for fees, and opening and closing an escrow needs about ${formatUnits(fees.needed)} τ (the fees and the close's multisig deposit, returned after): bazaar wallet fund --fees ${formatUnits(fees.needed)} adds it from the coldkey`
}

/** What the session step leaves for the job and the summary. */
export interface OpenedSession {
  session: AttestedSession
  measurement: string
  gpu?: RentGpuAttestation
  /** the enclave's addresses the offer gave, dialled again to take the job up after a break */
  addrs: string[]
}

/**
 * Step 5: the attested session with the enclave the agreement names: its evidence must satisfy the
 * policy and bind the agreement and the noise key. RentError SESSION_FAILED (the role then approves
 * the close refunding the escrow, which the supplier's approval executes at the agreement's startBy).
 */
export async function openRentSession (ctx: RentContext, match: Match, agreed: NegotiatedAgreement, escrowId: string): Promise<OpenedSession> {
  const { node } = ctx.init
  const t = agreed.terms
  const enclavePeer = peerIdString(t.enclavePeer)
  // every address the offer gives for the enclave: one bound to 0.0.0.0 advertises each interface,
  // and only some of them are reachable from here (libp2p dials them and keeps the first that works)
  const enclaveAddrs = match.entry.offer.addrs.map((a) => multiaddr(a)).filter((a) => a.getComponents().some((c) => c.name === 'p2p' && c.value === enclavePeer))
  // [REJECT] evidence of another kind than the agreement's: the enclave agreed (and priced) is
  // the one to attest, not any the policy would also take
  const policy = { ...ctx.policy, kinds: ctx.policy.kinds.filter((k) => k === t.teeKind) }
  let session: AttestedSession
  try {
    session = await openAttestedSession(node.host, enclaveAddrs.length > 0 ? enclaveAddrs : peerIdFromString(enclavePeer), {
      agreementHash: agreed.hash, policy, clock: node.clock, signal: ctx.signal, expectedPeer: peerIdFromString(enclavePeer), gpuCount: t.gpuCount
    })
  } catch (err) {
    const code = errorCode(err)
    ctx.metrics.sessions.inc({ role: 'renter', result: 'refused' })
    ctx.metrics.attestation.inc({ kind: t.teeKind, result: code ?? 'ERROR' })
    ctx.logger.warn('attested session failed: the escrow is refunded by its close at the agreement\'s startBy', { escrow: escrowId, code })
    throw new RentError('SESSION_FAILED', `the enclave's attestation was refused: ${errorReason(err)}`, { cause: err })
  }
  ctx.metrics.sessions.inc({ role: 'renter', result: 'attested' })
  ctx.metrics.attestation.inc({ kind: session.kind, result: 'ok' })
  const measurement = Buffer.from(session.evidence.measurement ?? new Uint8Array(0)).toString('hex')
  const g = session.gpu
  const gpu: RentGpuAttestation | undefined = g == null ? undefined : { kind: g.kind, model: g.model, driverVersion: g.driverVersion, vbiosVersion: g.vbiosVersion, ccMode: g.ccMode, measurementsMatched: g.measurementsMatched, count: session.gpus.length }
  ctx.emit({ type: 'attested', kind: session.kind, enclave: session.remotePeer.toString(), measurement, ...(gpu != null ? { gpu } : {}), addrs: enclaveAddrs.map((a) => a.toString()) })
  return { session, measurement, ...(gpu != null ? { gpu } : {}), addrs: enclaveAddrs.map((a) => a.toString()) }
}

/**
 * Step 6: the job on the session's channel, with live output and metering (a voucher for each
 * valid usage report, stored before it is sent). A session that breaks under a started job (the
 * network, or the supplier's node) is taken up again while the supplier keeps the job for its
 * renter (`takeJobUpAgain`); one that cannot be, one that breaks before the job started, and a
 * supplier that breaks the protocol end as a failed job, which keeps what did arrive (the exit, the
 * outputs verified before the failure): the rental still settles for what was signed, however the
 * job is reported. Returns the job's result and the acknowledged vouchers.
 */
export async function runRentJob (ctx: RentContext, req: RentRequest, agreed: NegotiatedAgreement, escrow: OpenedEscrow, opened: OpenedSession): Promise<{ result: JobResult, acked: number }> {
  const { node } = ctx.init
  const { session } = opened
  const t = agreed.terms
  // every voucher is durable before it is sent: the cooperative close approves the last one signed
  const metering = RenterMetering.forRental({ terms: escrow.terms, pricePerGpuHour: t.pricePerGpuHour, gpus: t.gpuCount, signer: escrow.voucherSigner, clock: node.clock, vouchers: ctx.init.escrowDb.vouchers, metrics: ctx.metrics, logger: ctx.logger })
  // usage is paid from the job's start on this clock (the `started` frame), never for the setup
  // before it: a report before then is refused
  let startedAt = node.clock.now()
  let started = false
  // one streaming decoder per stream: a chunk may end inside a multi-byte character, whose rest
  // begins the stream's next chunk (never the other stream's); what is left over goes out at the end
  const stdout = new TextDecoder()
  const stderr = new TextDecoder()
  // a chunk of nothing but the start of a character says nothing yet
  const emitText = (type: 'stdout' | 'stderr', text: string): void => { if (text !== '') ctx.emit({ type, text }) }
  const live: ReattachLive = {
    metering,
    onStdout: (c) => { emitText('stdout', stdout.decode(c, { stream: true })) },
    onStderr: (c) => { emitText('stderr', stderr.decode(c, { stream: true })) },
    onTick: (tick) => { ctx.emit({ type: 'tick', elapsedMs: Number(tick.elapsedMs), spent: metering.spent.toString(), unit: AMOUNT_UNIT }) }
  }
  // what of the job's end arrived before anything failed: its exit, and the outputs settled (those
  // received are verified and in place on disk, whatever happens to the rest)
  let exit: JobExit | undefined
  const received: JobOutput[] = []
  const notWritten: string[] = []
  let result: JobResult
  try {
    result = await runJobClient(session.channel, { ...req.spec, gpuCount: t.gpuCount }, {
      outputDir: req.outputDir,
      signal: ctx.signal,
      clock: ctx.init.node.clock,
      onStarted: () => {
        started = true
        startedAt = node.clock.now()
        metering.onStarted(startedAt)
        ctx.emit({ type: 'started' })
      },
      onStdout: live.onStdout,
      onStderr: live.onStderr,
      onTick: live.onTick,
      onMetering: metering.onMetering,
      onExit: (e) => { exit = e; metering.onExit() },
      onOutput: (name, o) => { if (o != null) received.push(o); else notWritten.push(name) }
    })
  } catch (err) {
    await session.channel.close().catch(() => {})
    const rental: RentalToResume = { agreementId: agreed.id, startedAt, enclave: session.remotePeer.toString(), addrs: opened.addrs, outputDir: req.outputDir, outputs: req.spec.outputs ?? [], maxDurationMs: req.spec.limits.maxDurationMs }
    const again = started && !ctx.signal.aborted && brokeUnder(err) ? await takeJobUpAgain(ctx, rental, escrow, live, err) : undefined
    if (again?.result == null) ctx.logger.warn('job session broke', { agreement: agreed.id, err })
    // a failed job, with the exit and the outputs that did arrive (a delivery that failed part way
    // leaves those before it on disk): only the rest of the outputs is undelivered
    const broke = (err as { remoteCode?: string }).remoteCode ?? errorReason(err)
    result = again?.result ?? {
      jobId: '',
      exitCode: exit?.exitCode ?? -1,
      ...(exit?.signal != null ? { signal: exit.signal } : {}),
      reason: 'failed',
      // why it was not taken up again, where it was tried: the reason the rental gave up
      detail: again?.failed != null ? `${broke}, not taken up again: ${again.failed}` : broke,
      outputs: received,
      missingOutputs: notWritten,
      durationMs: exit?.durationMs ?? 0
    }
  } finally {
    await session.channel.close().catch(() => {})
  }
  // a character the job's output broke off in the middle of ends it as U+FFFD
  emitText('stdout', stdout.decode())
  emitText('stderr', stderr.decode())
  ctx.metrics.jobs.inc({ role: 'renter', reason: result.reason })
  const job = rentJob(result, req.spec.outputs ?? [])
  ctx.emit({
    type: 'job',
    exitCode: job.exitCode,
    ...(job.signal != null ? { signal: job.signal } : {}),
    reason: job.reason,
    ...(job.detail != null ? { detail: job.detail } : {}),
    outputs: job.outputs.map((o) => ({ name: o.name, sha256: o.sha256, bytes: o.bytes })),
    ...(job.undelivered != null ? { undelivered: job.undelivered } : {})
  })
  return { result, acked: metering.acked }
}

/**
 * A job's result as the rental reports it (its summary, and its `job` event): the signal that
 * ended it, and which of the outputs asked for (`asked`) were not received although the supplier
 * never said the job did not write them (`undelivered`: the session failed first).
 */
export function rentJob (result: JobResult, asked: string[]): RentJob {
  const settled = new Set([...result.outputs.map((o) => o.name), ...result.missingOutputs])
  const undelivered = asked.filter((name) => !settled.has(name))
  return {
    exitCode: result.exitCode,
    ...(result.signal != null ? { signal: result.signal } : {}),
    reason: result.reason,
    ...(result.detail != null ? { detail: result.detail } : {}),
    outputs: result.outputs,
    missingOutputs: result.missingOutputs,
    ...(undelivered.length > 0 ? { undelivered } : {}),
    durationMs: result.durationMs
  }
}

/**
 * How long a rental tries to take up its job after a break, by default: the supplier's default wait
 * for a renter that went away (`metering.reattachS`, 120 s)
 */
export const DEFAULT_REATTACH_WINDOW_MS = 120_000

/**
 * Whether a job session's error is the channel breaking (a connection or stream lost, a supplier
 * that stopped answering) rather than the supplier breaking the protocol, after which a new
 * session would meet the same supplier
 */
function brokeUnder (err: unknown): boolean {
  return !(err instanceof JobProtocolError) || err.code === 'CHANNEL_CLOSED' || err.code === 'FLOW_STALLED'
}

/**
 * refusals after which taking a job up again cannot succeed: it is not this renter's, the supplier
 * knows no job of it (it restarted, and its jobs went with it), or its stream is over. The
 * supplier hands a job to a new session of its renter even while the old one seems up to it.
 */
const FINAL_ATTACH_REFUSALS = new Set(['ATTACH_NOT_RENTER', 'ATTACH_UNKNOWN_JOB', 'ATTACH_JOB_ENDED'])

/** refusals of the evidence itself; TCB info that could not be fetched (Intel or the PCCS down) may come on a later try */
const ATTESTATION_CODES = new Set<string>(Object.values(AttestationErrorCode).filter((c) => c !== AttestationErrorCode.COLLATERAL_NOT_FETCHED))

/**
 * Whether an attempt to take a job up again failed for good: the job layer refused it
 * (`FINAL_ATTACH_REFUSALS`), the enclave no longer serves the agreement (UNKNOWN_AGREEMENT: a
 * supplier that restarted closed it), or this rental's policy refused the enclave's evidence (the
 * same enclave would show it again). A dial or a stream that failed may work on a later try.
 */
function finalRefusal (err: unknown): boolean {
  const remote = (err as { remoteCode?: string }).remoteCode
  if (remote != null && FINAL_ATTACH_REFUSALS.has(remote)) return true
  const session = (err as { cause?: unknown }).cause
  return session instanceof SessionError && (session.code === SessionErrorCode.UNKNOWN_AGREEMENT || ATTESTATION_CODES.has(session.code))
}

/**
 * The session broke under a running job. The supplier keeps a job whose renter went away for a
 * while (`metering.reattachS`), so the rental takes it up as a restarted renter would
 * (`reattachRental`: a new attested session to the same enclave, `attach`), with its own metering
 * (the voucher sequence and the usage go on) and its live output. It tries until the job answers,
 * the attempt is refused for good (`finalRefusal`), or `reattachMs` has passed, waiting 1 s, then
 * twice as long up to 10 s, between tries: a network that broke may take a while to come back. A
 * session that breaks again is taken up again the same way. When the job could not be, `failed` says
 * why the last attempt failed (nothing when none was made).
 */
async function takeJobUpAgain (ctx: RentContext, rental: RentalToResume, escrow: OpenedEscrow, live: ReattachLive, cause: unknown): Promise<{ result?: JobResult, failed?: string }> {
  const clock = ctx.init.node.clock
  const windowMs = ctx.init.reattachMs ?? DEFAULT_REATTACH_WINDOW_MS
  const deadline = clock.now() + windowMs
  let waitMs = 1000
  let last: unknown = cause
  if (windowMs > 0) ctx.logger.warn('job session broke: taking the job up again', { agreement: rental.agreementId, windowMs, err: cause })
  while (!ctx.signal.aborted && clock.now() < deadline) {
    try {
      const { result } = await reattachRental({ init: ctx.init, metrics: ctx.metrics, logger: ctx.logger, signal: ctx.signal, policy: ctx.policy }, rental, escrow.terms, escrow.voucherSigner, live)
      ctx.logger.info('job taken up again after its session broke', { agreement: rental.agreementId, reason: result.reason })
      return { result }
    } catch (err) {
      last = err
      const code = (err as { remoteCode?: string }).remoteCode
      if (finalRefusal(err)) break
      ctx.logger.info('taking the job up again failed; trying again', { agreement: rental.agreementId, code: code ?? errorCode(err), reason: (err as Error).message, waitMs })
    }
    const left = deadline - clock.now()
    if (left <= 0) break
    await clock.sleep(Math.min(waitMs, left), { signal: ctx.signal }).catch(() => {})
    waitMs = Math.min(waitMs * 2, 10_000)
  }
  if (windowMs <= 0 || last === cause) return {}
  ctx.logger.warn('the job could not be taken up again: it counts as failed', { agreement: rental.agreementId, code: (last as { remoteCode?: string }).remoteCode ?? errorCode(last), reason: (last as Error).message })
  return { failed: ctx.signal.aborted ? 'the rental was cancelled while it was being taken up again' : whyNotTakenUp(last, windowMs) }
}

/** the last attempt's failure, as `bazaar rent` says it after the job's end */
function whyNotTakenUp (last: unknown, windowMs: number): string {
  const remote = (last as { remoteCode?: string }).remoteCode
  if (remote != null) return `the supplier refused the attach: ${remote}`
  const session = (last as { cause?: unknown }).cause
  if (session instanceof SessionError && session.code === SessionErrorCode.UNKNOWN_AGREEMENT) return 'the enclave answered UNKNOWN_AGREEMENT: its supplier restarted or ended the agreement'
  const message = last instanceof Error ? last.message : errorReason(last)
  return finalRefusal(last) ? message : `${message}, tried for ${Math.round(windowMs / 1000)} s (metering.reattachS)`
}

/**
 * Step 7: our approval of the cooperative close on the last voucher we signed, then the wait for
 * it to land (the supplier executes it with its approval), polled through the clock. A failed
 * approval is logged: the supplier closes with the arbiter on its latest voucher. Returns the
 * escrow as it ended and what it paid each side.
 *
 * Why the last voucher signed, not the last acknowledged: the escrow's terms fix the order of a
 * cooperative close (the payer approves first, the payee executes; see the subtensor adapter), so
 * the renter approves before it could see what the supplier proposes, and both must build the same
 * settlement from what each holds. The supplier stores a voucher before it acknowledges it and
 * reads the channel until the renter closes it, so once a session ends it holds the last voucher
 * the renter sent, acknowledged or not: an ack lost when the session closed (a cancel, the job's
 * end) leaves the renter one voucher behind if it counted acks, and the two approvals would differ.
 * The renter cannot learn which ack was lost, but it knows every voucher it signed (each is stored
 * before it is sent), and a signed voucher pays only for usage the renter checked against its own
 * clock. Settling on the last acknowledged voucher instead would take from the supplier a payment
 * the renter signed, and the supplier cannot tell which of its acks arrived. Only a voucher that
 * never reached the supplier (the channel broke under it, or the supplier refused it) still leaves
 * the supplier to close with the arbiter on the voucher before it.
 */
export async function settleRent (ctx: RentContext, escrow: OpenedEscrow, forgetKey: (escrowId: string) => Promise<void>): Promise<{ final?: EscrowOnChain, paid: bigint, refunded: bigint, carried: bigint, executed: boolean, settledBy?: 'cooperative' | 'arbiter' | 'refund', approved?: bigint }> {
  const { escrowId, terms } = escrow
  let executed = false
  try {
    executed = (await ctx.escrow.close(escrowId, { mode: 'cooperative', ...(ctx.settleSignal != null ? { signal: ctx.settleSignal } : {}) })).executed
  } catch (err) {
    ctx.logger.warn('cooperative approval failed', { escrow: escrowId, err })
  }
  // a chain that cannot be read now loses the rental nothing: the job's result stands, and the
  // escrow (its key kept) is settled by the next resume or refund
  const final = await awaitSettled(ctx.init.chain, escrowId, {
    payer: terms.payer,
    clock: ctx.init.node.clock, waitMs: ctx.init.settleWaitMs ?? SETTLE_WAIT_MS, whileMissing: true, ...(ctx.settleSignal != null ? { signal: ctx.settleSignal } : {})
  }).catch((err: unknown) => {
    ctx.logger.warn('the escrow\'s state after the close could not be read: it is settled at the next resume or refund', { escrow: escrowId, err })
    return undefined
  })
  const { paid, refunded, carried, settledBy } = settledAmounts(final, terms.payee, terms.payer)
  const settled = final != null && final.status !== 'open'
  const ours = executed
  executed = executed || settled
  // a settled escrow takes no more vouchers: its key is of no use any more
  if (settled) await forgetKey(escrowId)
  // settled by another path (the supplier with the arbiter) while our approval was on chain: it is
  // stale, and would keep a multisig entry (and our deposit) on the escrow account
  if (settled && !ours) await cancelStaleApprovals(ctx.escrow, ctx.logger, escrowId, ctx.settleSignal)
  if (executed) ctx.metrics.escrows.inc({ role: 'payer', event: final?.status === 'refunded' ? 'refund' : 'close' })
  // not executed yet: what the close this renter approved pays the supplier, its last voucher signed
  const approved = executed ? undefined : (await ctx.init.escrowDb.vouchers.latest(escrowId).catch(() => undefined))?.cumulative ?? 0n
  ctx.emit({ type: 'settled', paid: paid.toString(), refunded: refunded.toString(), unit: AMOUNT_UNIT, executed, ...(carried > 0n ? { carried: carried.toString() } : {}), ...(approved != null ? { approved: approved.toString() } : {}) })
  return { ...(final != null ? { final } : {}), paid, refunded, carried, executed, ...(settled && settledBy != null ? { settledBy } : {}), ...(approved != null ? { approved } : {}) }
}

/** the supplier node's addresses from its offer (those of the peer the offer came from first) */
/**
 * Gives an agreement back to its supplier after the rental failed before a session took it up
 * (the escrow did not open, the enclave was refused, the rental was cancelled): its GPUs go back
 * now instead of at the supplier's escrow check or the agreement's `startBy`. Best effort, within
 * 5 s of wall time, never throwing: a supplier that does not answer still frees them then.
 */
export async function withdrawRent (ctx: RentContext, match: Match, agreed: NegotiatedAgreement): Promise<void> {
  const { node } = ctx.init
  try {
    const code = await withdrawAgreement(node.host, supplierAddrs(match), signWithdraw(node.signer, agreed.hash), { signal: AbortSignal.timeout(WITHDRAW_WAIT_MS) })
    if (code === '') ctx.logger.info('agreement withdrawn: the supplier gave its GPUs back', { agreement: agreed.id })
    else ctx.logger.debug('the supplier kept the agreement', { agreement: agreed.id, code })
  } catch (err) {
    ctx.logger.debug('the agreement could not be withdrawn: the supplier frees its GPUs at its escrow check or startBy', { agreement: agreed.id, err })
  }
}

/** how long a withdrawal may take (wall time: a bound on a peer's answer) */
const WITHDRAW_WAIT_MS = 5_000

function supplierAddrs (m: Match): Multiaddr[] {
  const { addrs } = peerOfAddrs(m.entry.offer.addrs)
  const peer = m.entry.meta.peer
  const own = addrs.filter((a) => peer == null || a.getComponents().some((c) => c.name === 'p2p' && c.value === peer))
  return own.length > 0 ? own : addrs
}

/** the renter's policy requires GPU CC evidence: offers that do not state it would be refused in the session, after the escrow is open */
function requiresGpuCc (ctx: RentContext): boolean {
  return ctx.policy.gpu?.mode === 'required'
}

/**
 * Cancels this party's approvals of escrows that settled without them (the deposits come back),
 * so the escrow account keeps no multisig entry. A failure is logged: the next sweep retries it.
 */
export async function cancelStaleApprovals (escrow: Pick<EscrowService, 'sweep'>, logger: Logger, escrowId: string, signal?: AbortSignal): Promise<void> {
  try {
    const fees = await escrow.sweep(signal != null ? { signal } : {})
    if (fees.length > 0) logger.info('stale approval cancelled', { escrow: escrowId, fees })
  } catch (err) {
    logger.warn('cancelling a stale approval failed', { escrow: escrowId, err })
  }
}
