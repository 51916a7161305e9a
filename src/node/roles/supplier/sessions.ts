import { decodeTerms, hex, type AgreementStore } from '../../../market/index.js'
import { registerSessionHandler, type SessionHandler } from '../../../protocols/session/index.js'
import type { FramedChannel } from '../../../protocols/framed.js'
import { supplierMeteringHooks } from '../../../protocols/metering/index.js'
import { stateForResult, WorkDirTrash, type CapacityLedger, type JobStore, type Runtime } from '../../../jobs/index.js'
import { DEFAULT_STALL_TIMEOUT_MS, runJobAttach, runJobServer, type JobAttachFn } from '../../../protocols/job/index.js'
import type { PeerId } from '@libp2p/interface'
import { checkAgreementEscrow, escrowIdOfAgreement, MeterSupplier, type ChainPort, type EscrowDb, type EscrowOnChain, type EscrowService } from '../../../escrow/index.js'
import type { AttestationProvider, GpuAttestationProvider } from '../../../tee/index.js'
import type { AgreementTerms } from '../../../wire/agreement.js'
import type { Clock } from '../../../util/clock.js'
import type { EnclaveHost } from '../../host.js'
import type { Logger } from '../../logger.js'
import type { RoleMetrics } from '../metrics.js'
import type { AgreementLifecycle } from './agreements.js'
import type { SupplierJobs } from './jobs.js'
import type { OfferPublisher } from './offers.js'
import { SETTLE_MARGIN_MS, type SupplierSettlement } from './settlement.js'
import { SessionRefused, type SupplierJobRecord } from './types.js'
import { errorCode } from '../errors.js'
import { encodeSs58 } from '../../../util/ss58.js'
import { SS58_PREFIX } from '../../../escrow/constants.js'
import { WindowLimiter } from '../../../util/rate-limit.js'

export interface SessionServerComponents {
  clock: Clock
  ledger: CapacityLedger
  agreements: AgreementStore
  chain: Pick<ChainPort, 'get' | 'seenLagMs'>
  escrow: Pick<EscrowService, 'track'>
  escrowDb: EscrowDb
  jobs: SupplierJobs
  jobStore?: JobStore
  lifecycle: AgreementLifecycle
  offers: OfferPublisher
  settlement: SupplierSettlement
  metrics: RoleMetrics
  logger: Logger
}

export interface SessionServerInit {
  provider: AttestationProvider
  gpuProvider?: GpuAttestationProvider
  runtime: Runtime
  workRoot: string
  /** the account escrows must pay (ss58) */
  payee: string
  tickMs: number
  graceMs: number
  /** how long a job whose renter's session dropped waits for the renter to re-attach (default DEFAULT_REATTACH_MS) */
  reattachMs?: number
}

/**
 * How long a supplier waits for a renter whose session dropped: a renter daemon restarted on a
 * subtensor chain spends most of its start loading the runtime's metadata (tens of seconds on a
 * busy machine), and a paused job costs the supplier only the GPUs it holds meanwhile.
 */
export const DEFAULT_REATTACH_MS = 120_000
/** re-attach hellos one agreement gets a minute: a renter's back-off (1, 2, 4, 8, 10 s…) needs at most 8 */
export const REATTACH_HELLOS = 12

/**
 * How long a session's escrow check keeps reading a chain that fails for a transient reason (a read
 * not answered, a connection down), counted from the session's start and never past the
 * agreement's `startBy`, by which its job had to start. The renter meanwhile waits for the job's
 * first answer: its job start and inputs go unread, and over the flow-control window (768 KiB) its
 * send gives up after 60 s without credit (FLOW_STALLED, DEFAULT_STALL_TIMEOUT_MS); 50 s leaves the
 * refusal time to reach it. It holds a read the node never answers (30 s, READ_TIMEOUT_MS) and a
 * try after it, and more than the subtensor adapter needs to find a silent socket and reconnect
 * (its health watch, about 25 s), after which its own retries carry the read over the reconnect.
 * It is written against the renter's bound, so a change to that bound moves it.
 */
export const ESCROW_CHECK_WINDOW_MS = DEFAULT_STALL_TIMEOUT_MS - 10_000
/** the first wait before an escrow check's read is made again; it doubles up to ESCROW_CHECK_RETRY_MAX_MS */
export const ESCROW_CHECK_RETRY_MS = 1_000
const ESCROW_CHECK_RETRY_MAX_MS = 8_000
/** chain failures that say nothing of the escrow: the read is made again within the window */
const TRANSIENT_CHAIN_CODES = new Set(['CHAIN_TIMEOUT', 'CHAIN_UNAVAILABLE'])

/**
 * The enclave's session endpoint: an attested session for an agreement we hold capacity for →
 * the escrow on chain checked against the agreement → the job with metering (every voucher written
 * before it is acknowledged) → settlement. A session refused at the escrow check gives its GPUs
 * back and lapses its agreement.
 */
export class SessionServer {
  private handler?: SessionHandler
  private readonly running = new Set<Promise<void>>()
  /** jobs a new session of their renter may take up, by agreement (one job per agreement) */
  private readonly attachable = new Map<string, JobAttachFn>()
  private readonly reattachHellos = new WindowLimiter(REATTACH_HELLOS, 60_000)
  /** finished jobs' directories, removed in the background: a settlement never waits on a removal */
  private readonly trash = new WorkDirTrash()

  constructor (private readonly c: SessionServerComponents, private readonly init: SessionServerInit) {}

  /** starts answering sessions on the enclave's host; `signal` ends the jobs (the role's stop) */
  async start (enclave: EnclaveHost, signal: AbortSignal): Promise<void> {
    this.handler = await registerSessionHandler(enclave, {
      provider: this.init.provider,
      gpuProvider: this.init.gpuProvider,
      // a multi-GPU agreement's GPUs attest each at the index the ledger assigned it; a re-attach
      // after the exit (the GPUs went back then), at the indices its job ran on
      gpuIndices: (hash) => this.c.ledger.get(hex(hash))?.gpuIndices ?? this.c.jobs.get(hex(hash))?.gpuIndices,
      acceptAgreement: async (hash, remotePeer) => await this.accepts(hex(hash), remotePeer),
      onSession: async (channel, info) => {
        const id = hex(info.agreementHash)
        // a session ran for this agreement already: the renter comes back to its job
        if (this.c.jobs.has(id)) { await this.reattach(channel, id, info.remotePeer, signal); return }
        const run = this.serve(channel, id, signal)
        this.running.add(run)
        try { await run } finally { this.running.delete(run) }
      },
      onRefused: (err, peer) => {
        this.c.metrics.sessions.inc({ role: 'supplier', result: 'refused' })
        this.c.logger.warn('attested session refused', { peer: peer.toString(), code: err.code })
      }
    })
  }

  /**
   * Whether a session hello for `agreementId` from `remotePeer` is served: an agreement with
   * capacity held (a new job) or one whose session ran here (a re-attach), asked for by its renter.
   */
  private async accepts (agreementId: string, remotePeer: PeerId): Promise<boolean> {
    // a re-attach only to a job that started here: a session refused before its job (no escrow)
    // leaves a record too, and its agreement lapsed; each hello costs an attestation
    const reattach = this.c.jobs.get(agreementId)?.jobId != null
    // [REJECT] a new job only on GPUs committed to a confirmed agreement: on a negotiation's hold the
    // renter never confirmed, its refusal would release the GPUs under the running job and the
    // next agreement would get them too
    if (!reattach && this.c.ledger.get(agreementId)?.committed !== true) return false
    // [REJECT] the agreement's hash is public (the escrow's open record carries it): only the peer
    // that negotiated it may run a job on it, or it would run unpaid and take the renter's place
    const rec = await this.c.agreements.get(agreementId)
    if (rec == null || rec.peer !== remotePeer.toString()) return false
    if (!reattach) return rec.status === 'active'
    // [REJECT] re-attach hellos past REATTACH_HELLOS a minute for one agreement: a renter taking its
    // job up again tries a few times (its back-off doubles from 1 s), not a stream of attestations
    return this.reattachHellos.take(agreementId, this.c.clock.now())
  }

  /**
   * stops answering, then waits for the sessions in flight to end and settle (abort their signal
   * first), and for the removal of their job directories
   */
  async stop (): Promise<void> {
    await this.handler?.unregister()
    this.handler = undefined
    await Promise.allSettled([...this.running])
    await this.trash.drain()
  }

  /**
   * A later session for an agreement whose job ran here: its renter re-attaches (job protocol
   * `attach`), refused with ATTACH_NOT_RENTER when the session's peer is not the agreement's renter,
   * ATTACH_UNKNOWN_JOB when no job of it started, ATTACH_JOB_ENDED when its stream is over.
   */
  private async reattach (channel: FramedChannel, agreementId: string, remotePeer: PeerId, signal: AbortSignal): Promise<void> {
    const { logger, clock } = this.c
    const rec = await this.c.agreements.get(agreementId)
    try {
      await runJobAttach(channel, {
        clock,
        signal,
        resolve: (id) => {
          // [REJECT] the attach names the agreement this session attested for
          if (hex(id) !== agreementId) return 'ATTACH_UNKNOWN_JOB'
          // [REJECT] only the agreement's renter takes its job up
          if (rec == null || rec.peer !== remotePeer.toString()) return 'ATTACH_NOT_RENTER'
          const attach = this.attachable.get(agreementId)
          if (attach != null) return attach
          return this.c.jobs.get(agreementId)?.jobId == null ? 'ATTACH_UNKNOWN_JOB' : 'ATTACH_JOB_ENDED'
        }
      })
      this.c.metrics.sessions.inc({ role: 'supplier', result: 'reattached' })
      logger.info('renter re-attached to its job', { agreement: agreementId, peer: remotePeer.toString() })
    } catch (err) {
      this.c.metrics.sessions.inc({ role: 'supplier', result: 'refused' })
      logger.warn('re-attach refused', { agreement: agreementId, peer: remotePeer.toString(), code: errorCode(err) ?? 'ERROR' })
    }
  }

  /** One attested session: escrow check, the job with metering, then settlement. */
  async serve (channel: FramedChannel, agreementId: string, signal: AbortSignal): Promise<void> {
    const record = this.c.jobs.begin(agreementId)
    this.c.lifecycle.started(agreementId)
    try {
      const rec = await this.c.agreements.get(agreementId)
      if (rec == null) { channel.abort(new SessionRefused('UNKNOWN_AGREEMENT')); return }
      // [REJECT] withdrawn by its renter while the handshake ran (its GPUs went back, it lapsed)
      if (this.c.ledger.get(agreementId)?.committed !== true || rec.status !== 'active') { channel.abort(new SessionRefused('AGREEMENT_WITHDRAWN')); return }
      const terms = decodeTerms(rec.agreement.terms)
      const escrowId = await this.checkEscrow(channel, agreementId, terms, record, signal)
      if (escrowId == null) return
      const recordId = await this.runJob(channel, agreementId, terms, rec.peer, escrowId, record, signal)
      await this.c.settlement.settle(escrowId, record, { signal, payer: encodeSs58(terms.renter, SS58_PREFIX) })
      // kept with the job's record: `bazaar jobs` shows it after a restart too
      if (recordId != null && record.settledBy != null) {
        await this.c.jobStore?.settled('supplier', recordId, { paid: record.paid ?? '0', ...(record.carried != null ? { carried: record.carried } : {}), settledBy: record.settledBy }, this.c.clock.now())
          .catch((err: unknown) => { this.c.logger.warn('job record failed', { err }) })
      }
    } finally {
      this.c.jobs.finish(record)
    }
  }

  /**
   * The escrow rule (escrow/rules `checkAgreementEscrow`) against what the chain holds now. On a
   * refusal the channel ends with its code, the GPUs go back and the agreement lapses; returns the
   * escrow id when the session may go on.
   */
  private async checkEscrow (channel: FramedChannel, agreementId: string, terms: AgreementTerms, record: SupplierJobRecord, signal: AbortSignal): Promise<string | undefined> {
    const escrowId = escrowIdOfAgreement(agreementId)
    try {
      const e = await this.readEscrow(escrowId, agreementId, terms, signal)
      const refused = checkAgreementEscrow(e, agreementId, terms, this.init.payee)
      if (refused != null) throw new SessionRefused(refused)
      await this.c.escrow.track(e!.terms, { onChain: e! })
      return escrowId
    } catch (err) {
      this.c.logger.warn('session refused: escrow not in order', { agreement: agreementId, code: errorCode(err) ?? 'ERROR' })
      channel.abort(err instanceof Error ? err : new Error(String(err)))
      this.c.ledger.release(agreementId)
      void this.c.lifecycle.lapse(agreementId)
      this.c.offers.refresh()
      record.settledBy = 'none'
      this.c.metrics.sessions.inc({ role: 'supplier', result: 'escrow-refused' })
      return undefined
    }
  }

  /**
   * The escrow the agreement's renter opened (anyone may open one under the same public id), as the
   * chain holds it now. A read that failed for a transient reason (TRANSIENT_CHAIN_CODES) is made
   * again after a back-off on the clock, until ESCROW_CHECK_WINDOW_MS after the session's start or
   * the agreement's `startBy`, whichever comes first; the window's end also ends a read in flight,
   * and the check then fails with the last transient failure (CHAIN_TIMEOUT where none ended
   * before). An escrow the chain does not hold yet is read again the same way for the port's
   * `seenLagMs` (within the window): the renter opens the session once its own node holds the
   * escrow final, and this node's finalized head may trail it. Refusing then would lapse the
   * agreement of a renter whose money is locked. An escrow the chain holds is the check's to judge
   * and is not asked again. A stop (`signal`) ends it at once with ABORTED.
   */
  private async readEscrow (escrowId: string, agreementId: string, terms: AgreementTerms, signal: AbortSignal): Promise<EscrowOnChain | undefined> {
    const { clock, logger } = this.c
    const payer = encodeSs58(terms.renter, SS58_PREFIX)
    const until = Math.min(clock.now() + ESCROW_CHECK_WINDOW_MS, Number(terms.startBy))
    const absentUntil = Math.min(until, clock.now() + (this.c.chain.seenLagMs ?? 0))
    const window = new AbortController()
    const timer = clock.setTimeout(() => { window.abort() }, Math.max(0, until - clock.now()))
    const either = AbortSignal.any([signal, window.signal])
    let last: unknown
    let wait = ESCROW_CHECK_RETRY_MS
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          if (signal.aborted) throw new SessionRefused('ABORTED')
          if (window.signal.aborted) throw last ?? new SessionRefused('CHAIN_TIMEOUT')
          const escrow = await this.c.chain.get(escrowId, { signal: either, payer })
          if (escrow != null || clock.now() + wait >= absentUntil) return escrow
          logger.info('escrow check: no escrow on this node yet; reading again', { agreement: agreementId, attempt, waitMs: wait })
          await clock.sleep(wait, { signal: either }).catch(() => {})
          wait = Math.min(wait * 2, ESCROW_CHECK_RETRY_MAX_MS)
          continue
        } catch (err) {
          if (signal.aborted) throw err instanceof SessionRefused ? err : new SessionRefused('ABORTED')
          const code = errorCode(err)
          // the window's end ended the read in flight: the chain's silence is the reason
          if (window.signal.aborted && (code === 'ABORTED' || err instanceof SessionRefused || (err as Error | null)?.name === 'AbortError')) {
            throw last ?? (err instanceof SessionRefused ? err : new SessionRefused('CHAIN_TIMEOUT'))
          }
          if (code == null || !TRANSIENT_CHAIN_CODES.has(code)) throw err
          last = err
          if (window.signal.aborted || clock.now() + wait >= until) throw err
          logger.info('escrow check: the chain read failed; trying again', { agreement: agreementId, code, attempt, waitMs: wait })
          await clock.sleep(wait, { signal: either }).catch(() => {})
          wait = Math.min(wait * 2, ESCROW_CHECK_RETRY_MAX_MS)
        }
      }
    } finally {
      timer.clear()
    }
  }

  /**
   * The job behind the channel, metered; its GPUs go back when it ends, however it ends. Returns the
   * id of its job record, where one was written.
   */
  private async runJob (channel: FramedChannel, agreementId: string, terms: AgreementTerms, peer: string, escrowId: string, record: SupplierJobRecord, signal: AbortSignal): Promise<string | undefined> {
    const { logger, clock, metrics } = this.c
    metrics.sessions.inc({ role: 'supplier', result: 'served' })
    const local = await this.c.escrowDb.escrows.get(escrowId)
    const meter = await MeterSupplier.open({
      terms: local!.terms,
      pricePerGpuHour: terms.pricePerGpuHour,
      gpus: terms.gpuCount,
      store: this.c.escrowDb.vouchers,
      clock,
      tickMs: this.init.tickMs,
      graceMs: this.init.graceMs,
      stopAfterMs: this.init.graceMs * 2
    })
    let recorded: Promise<string | undefined> = Promise.resolve(undefined)
    const hooks = supplierMeteringHooks(meter, {
      onPause: (lagMs) => { logger.warn('vouchers lag: job paused', { agreement: agreementId, lagMs }) },
      onError: (err) => { metrics.vouchers.inc({ role: 'supplier', result: 'refused' }); logger.warn('voucher refused', { agreement: agreementId, code: err.code }) }
    })
    try {
      const result = await runJobServer(channel, {
        runtime: this.init.runtime,
        workRoot: this.init.workRoot,
        trash: this.trash,
        lease: { ledger: this.c.ledger, agreementId },
        agreedImage: terms.image ?? null,
        clock,
        signal,
        tickIntervalMs: this.init.tickMs,
        // no longer than agreed (with the metering's pause and stop windows on top: time paused
        // for a lagging voucher is not billed, and the budget's rounding ends a full-length job a
        // tick past the agreed time), and ended early enough before the escrow's expiry that its
        // outputs go out and the close on the last voucher lands before the renter may refund
        maxDurationMs: terms.durationS * 1000 + 3 * this.init.graceMs,
        runUntil: local!.terms.expiresAt - SETTLE_MARGIN_MS,
        // the outputs go out by half the margin: the close then still has the other half
        deliverUntil: local!.terms.expiresAt - SETTLE_MARGIN_MS / 2,
        // the GPUs are offered again as soon as the job's processes are gone
        onExited: () => { this.c.offers.refresh() },
        onWorkDirLeft: (dir, err) => { logger.warn('a job directory could not be removed', { agreement: agreementId, dir, code: errorCode(err) ?? 'ERROR' }) },
        onUsageTick: hooks.onUsageTick,
        onMetering: hooks.onMetering,
        onJobEnd: hooks.onJobEnd,
        // a renter whose session drops (a restart) may take the job up again: meanwhile the unpaid
        // job pauses after the grace window, and is stopped when nobody came back in time; an
        // ended job's result waits as long
        reattach: {
          keepMs: this.init.reattachMs ?? DEFAULT_REATTACH_MS,
          onAway: () => { meter.away(); logger.info('renter gone: its job waits for it', { agreement: agreementId, waitMs: this.init.reattachMs ?? DEFAULT_REATTACH_MS }) },
          onBack: () => { meter.back() },
          register: (attach) => { this.attachable.set(agreementId, attach) },
          unregister: () => { this.attachable.delete(agreementId) }
        },
        onStarted: (info) => {
          // the job's time is billed from its start: started at the first tick instead (as the
          // metering hooks do for a meter nobody started), the first tick of every job went unpaid
          meter.start()
          record.jobId = info.jobId
          record.gpuIndices = [...info.gpuIndices]
          logger.info('job started', { agreement: agreementId, job: info.jobId, gpus: info.gpuIndices })
          const now = clock.now()
          // under the renter's job id, unless another agreement's job has it (JobStore.putForAgreement)
          recorded = (this.c.jobStore?.putForAgreement({
            id: info.jobId, role: 'supplier', state: 'running', agreementId, peer, command: '', args: [],
            gpuCount: terms.gpuCount, gpuIndices: info.gpuIndices, createdAt: now, updatedAt: now, startedAt: now
          }) ?? Promise.resolve(undefined)).catch((err: unknown) => { logger.warn('job record failed', { err }); return undefined })
        }
      })
      record.reason = result.reason
      record.exitCode = result.exitCode
      metrics.jobs.inc({ role: 'supplier', reason: result.reason })
      // the record written at the start, under the id it got (a job that ends at once must not
      // overtake its own first write)
      const recordId = await recorded
      if (recordId != null) {
        await this.c.jobStore?.transition('supplier', recordId, stateForResult(result.reason, result.exitCode), clock.now(), {
          exitCode: result.exitCode, ...(result.signal != null ? { signal: result.signal } : {}), reason: result.reason, ...(result.detail != null ? { detail: result.detail } : {}), outputs: result.outputs
        }).catch((err) => { logger.warn('job record failed', { err }) })
      }
      if (result.deliveryTimedOut === true) logger.warn('the renter did not take the job\'s outputs in time: settling without them', { agreement: agreementId })
      logger.info('job ended', { agreement: agreementId, reason: result.reason, exitCode: result.exitCode, ...(result.droppedOutputBytes != null ? { droppedOutputBytes: result.droppedOutputBytes } : {}) })
    } catch (err) {
      record.reason = 'failed'
      logger.warn('job session failed', { agreement: agreementId, err })
    } finally {
      this.attachable.delete(agreementId)
      meter.stop()
      this.c.ledger.release(agreementId)
      this.c.offers.refresh()
    }
    return await recorded
  }
}
