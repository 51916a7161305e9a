import type { AccountPair } from '../../util/sr25519.js'
import type { BazaarConfig } from '../config/types.js'
import { attestationPolicyFromConfig } from '../config/policy.js'
import type { VoucherKeyVault } from '../keystore/index.js'
import { withCrlFiles } from '../crl-files.js'
import type { ParsedRent } from '../rent-input.js'
import { RenterRole, type RefundedEscrow, type RentalToResume, type RentEvent, type RentSummary, type ResumedEscrow } from '../roles/renter.js'
import type { TimerHandle } from '../../util/clock.js'
import type { AttestationPolicy, TdxCollateralSource } from '../../tee/index.js'
import { escrowIdOfAgreement, type EscrowOnChain } from '../../escrow/index.js'
import { settledAmounts } from '../roles/renter/settle.js'
import { stateForResult, type JobRecord } from '../../jobs/index.js'
import { UserError } from '../../util/errors.js'
import type { NodeService, RoleServiceComponents } from './types.js'

/**
 * How long stopping waits for rentals in flight to settle once they are cancelled: a cooperative
 * close on a subtensor chain takes a few blocks, and a stop must end even when the chain is gone.
 */
export const RENTER_STOP_WAIT_MS = 45_000

/** how often a renter daemon looks for escrows the supplier left open past their expiry (RenterRole.refundExpired) */
export const REFUND_CHECK_MS = 60_000

/** What the renter service uses of its node. */
export interface RenterServiceComponents extends RoleServiceComponents {
  /** false for an embedded ledger the node opened itself: nobody outside its process sees it */
  sharedChain: boolean
}

export interface RenterServiceInit {
  config: BazaarConfig
  /** the renter hotkey: the payer of its escrows */
  hotkey: AccountPair
  /**
   * the renter's sealed per-escrow voucher keys; without them keys live in memory only and a
   * restarted renter cannot sign for an escrow it opened before
   */
  voucherKeys?: VoucherKeyVault
  /** how long a rental waits for the supplier's approval of the cooperative close (default: the role's) */
  settleWaitMs?: number
  /** resolves once the daemon's first fetch of `tee.crlDir` ended (CrlRefresher.ready): rentals read the directory after it */
  crlsReady?: Promise<void>
  /** the keeper of `tee.tdxCollateralDir`: TCB info of a TDX platform a rental meets for the first time */
  tdxCollateral?: TdxCollateralSource
}

/**
 * The renter role of `config.role` renter or both as a node service. `role` is the one renter of
 * the node, with the config's attestation policy; `rent` runs one rental on it with the request's
 * own policy (its `--tee` kinds and the CRLs) and records it as a renter job. `start` takes up, in
 * the background, the jobs an earlier run left and settles the escrows it left open (`resumed`);
 * Every REFUND_CHECK_MS it takes back, with the arbiter, what escrows the supplier left open past
 * their expiry still hold (`refundExpired`; on a shared chain with an arbiter configured).
 * `stop` cancels the rentals in flight and waits, bounded, for their settlement.
 */
export class RenterService implements NodeService {
  readonly name = 'renter'
  readonly role: RenterRole
  /** the settlement of escrows an earlier run of this renter left open; resolves with what it did */
  resumed: Promise<ResumedEscrow[]> = Promise.resolve([])
  private readonly controller = new AbortController()
  private readonly inFlight = new Set<Promise<unknown>>()
  private readonly onAbort = (): void => { this.controller.abort() }
  private refundTimer?: TimerHandle
  private refunding?: Promise<RefundedEscrow[]>

  constructor (private readonly c: RenterServiceComponents, private readonly i: RenterServiceInit) {
    const { node, logger } = c
    this.role = new RenterRole({
      node,
      chain: c.chain,
      escrowDb: c.escrowDb,
      escrow: c.escrow,
      agreements: c.agreements,
      account: i.hotkey,
      arbiterAddress: i.config.chain.arbiter ?? '',
      arbiter: c.arbiter,
      policy: attestationPolicyFromConfig(i.config),
      logger: logger.child({ role: 'renter' }),
      ...(i.settleWaitMs != null ? { settleWaitMs: i.settleWaitMs } : {}),
      reattachMs: i.config.metering.reattachS * 1000,
      ...(i.voucherKeys != null ? { voucherKeys: i.voucherKeys } : {}),
      onSettledLater: async (escrowId, e) => { await this.settledLater(escrowId, e) }
    })
  }

  async start (): Promise<void> {
    this.c.signal.addEventListener('abort', this.onAbort, { once: true })
    // evidence of a kind with no pinned measurement proves a genuine enclave, not which code runs in
    // it: the supplier's own software would see the job's data. Said once, where an operator looks.
    const { teeKinds } = this.i.config.market
    const open = teeKinds.filter((k) => k !== 'simulated' && this.i.config.tee.allowedMeasurements[k] == null)
    if (open.length > 0) this.c.logger.warn('renting accepts any launch measurement of these TEE kinds: attestation then proves a genuine enclave, not which code runs in it; pin the images you trust in tee.allowedMeasurements', { kinds: open })
    await this.role.start()
    this.resumed = this.track(this.resume())
    // expired escrows are refunded on a timer (resume marks the escrows it is settling)
    if (this.c.sharedChain && this.c.arbiter != null) this.refundTimer = this.c.node.clock.setInterval(() => { void this.refundExpired() }, REFUND_CHECK_MS)
  }

  /**
   * One look for escrows left open past their expiry (RenterRole.refundExpired), beside the
   * restart's own settlement; a look that finds the last one still running returns its end. Never
   * throws.
   * `graceMs`: how long past its expiry an escrow is left to the supplier (REFUND_GRACE_MS).
   */
  async refundExpired (opts: { graceMs?: number } = {}): Promise<RefundedEscrow[]> {
    if (this.refunding != null) return await this.refunding
    const run = (async () => {
      try {
        // beside the restart's own settlement, not after it: a job it takes up again may run for
        // hours, and escrows long expired would wait for it (resume marks what it is handling)
        if (this.controller.signal.aborted) return []
        return await this.role.refundExpired({ signal: this.controller.signal, ...(opts.graceMs != null ? { graceMs: opts.graceMs } : {}) })
      } catch (err) {
        this.c.logger.warn('looking for expired escrows failed; the next look tries again', { err })
        return []
      } finally {
        this.refunding = undefined
      }
    })()
    this.refunding = this.track(run)
    return await run
  }

  async stop (): Promise<void> {
    this.refundTimer?.clear()
    this.refundTimer = undefined
    this.controller.abort()
    this.c.signal.removeEventListener('abort', this.onAbort)
    const settled = Promise.allSettled([...this.inFlight])
    let timer: { clear: () => void } | undefined
    const bound = new Promise<void>((resolve) => { timer = this.c.node.clock.setTimeout(resolve, RENTER_STOP_WAIT_MS) })
    await Promise.race([settled, bound])
    timer?.clear()
    await this.role.stop().catch((err: unknown) => { this.c.logger.warn('renter stop failed', { err }) })
  }

  /**
   * Why this node cannot rent at all, most fundamental first (role, then chain, then arbiter), or
   * undefined when it can. The same check answers the control API before a stream starts.
   */
  rentRefusal (): UserError | undefined {
    const { config } = this.i
    // [refuse] an escrow on a ledger no supplier can read would lock funds for nothing. Checked before
    // chain.arbiter: with this chain no setting of the arbiter could make the rental work.
    // The hint names the daemon's flag: `bazaar rent` only talks to a running node.
    if (!this.c.sharedChain) return new UserError('this node runs on the embedded chain, which lives in its process only: no supplier of another process can see its escrows (start the node on a shared chain with bazaar node start --chain ws://<subtensor endpoint>, or chain.endpoint in its config; or try the whole market in one process with bazaar devnet)', { code: 'CHAIN_NOT_SHARED' })
    if (config.chain.arbiter == null) return new UserError('renting needs chain.arbiter (the ss58 address of the arbiter named in agreements) in the node\'s config or BAZAAR_ARBITER; restart the node after setting it', { code: 'NO_ARBITER' })
    return undefined
  }

  /**
   * One rental as the renter: streams its events, records it as a renter job, and resolves with
   * the summary. Stopping the service aborts it like `signal` does (the job is cancelled, the
   * escrow still settles).
   */
  async rent (parsed: ParsedRent, opts: { signal?: AbortSignal, onEvent?: (e: RentEvent) => void } = {}): Promise<RentSummary> {
    // tracked as a whole, job record included: stop waits for the record as well as the settlement
    return await this.track(this.runRent(parsed, opts))
  }

  private async runRent (parsed: ParsedRent, opts: { signal?: AbortSignal, onEvent?: (e: RentEvent) => void }): Promise<RentSummary> {
    const { config } = this.i
    const { node, logger, jobs } = this.c
    const refusal = this.rentRefusal()
    if (refusal != null) throw refusal
    // the rental's own policy: its TEE kinds and the CRLs (CPU and GPU) as they are now; a rental
    // asked for just after start waits for the first fetch of tee.crlDir rather than refuse
    await this.i.crlsReady
    const policy = await withCrlFiles({ ...attestationPolicyFromConfig(config), kinds: parsed.teeKinds }, config.tee, { tdxCollateralSource: this.i.tdxCollateral })
    const signal = AbortSignal.any([this.controller.signal, ...(opts.signal != null ? [opts.signal] : [])])
    const req = parsed.request
    let jobId: string | undefined
    // job record writes run one after another, in event order
    let writes = Promise.resolve()
    const record = async (fn: () => Promise<unknown>): Promise<void> => {
      writes = writes.then(fn).then(() => {}, (err: unknown) => { logger.warn('renter job record failed', { err }) })
      await writes
    }
    const onEvent = (e: RentEvent): void => {
      opts.onEvent?.(e)
      const now = node.clock.now()
      if (e.type === 'bid') {
        jobId = e.id
        void record(async () => { await jobs.put({ id: e.id, role: 'renter', state: 'queued', command: req.spec.command, args: req.spec.args ?? [], gpuCount: req.count, createdAt: now, updatedAt: now }) })
      } else if (jobId != null && e.type === 'agreement') {
        const id = jobId
        void record(async () => { const cur = await jobs.get('renter', id); if (cur != null) await jobs.put({ ...cur, agreementId: e.id, updatedAt: now }) })
      } else if (jobId != null && e.type === 'attested') {
        const id = jobId
        // with what a restart needs to take the job up again (RenterRole.resume)
        const attach = { enclave: e.enclave, addrs: e.addrs, outputDir: req.outputDir, outputs: req.spec.outputs ?? [], maxDurationMs: req.spec.limits.maxDurationMs }
        void record(async () => { await jobs.transition('renter', id, 'running', now, { peer: e.enclave, attach }) })
      } else if (jobId != null && e.type === 'started') {
        const id = jobId
        // the job's own start, which a restart's metering counts from (attestation and setup are not paid)
        void record(async () => {
          const cur = await jobs.get('renter', id)
          if (cur?.state === 'running') await jobs.put({ ...cur, startedAt: now, ...(cur.attach != null ? { attach: { ...cur.attach, startedAt: now } } : {}), updatedAt: now })
        })
      }
    }
    try {
      const summary = await this.role.rent(req, { signal, onEvent, policy, ...(parsed.matchTimeoutMs != null ? { matchTimeoutMs: parsed.matchTimeoutMs } : {}) })
      if (jobId != null) {
        const id = jobId
        await record(async () => {
          const e = summary.escrow
          // with how its escrow settled, where it did (an escrow still open settles at the next resume)
          const settlement = e.settledBy != null ? { settlement: { paid: e.paid, refunded: e.refunded, ...(e.carried != null ? { carried: e.carried } : {}), settledBy: e.settledBy } } : {}
          await jobs.transition('renter', id, stateForResult(summary.job.reason as never, summary.job.exitCode), node.clock.now(), {
            agreementId: summary.agreementId, exitCode: summary.job.exitCode, reason: summary.job.reason as never, outputs: summary.job.outputs, peer: summary.supplier,
            ...(summary.job.signal != null ? { signal: summary.job.signal } : {}), ...(summary.job.detail != null ? { detail: summary.job.detail } : {}), ...settlement
          })
        })
      }
      return summary
    } catch (err) {
      if (jobId != null) {
        const id = jobId
        const code = (err as { code?: string }).code ?? 'FAILED'
        await record(async () => { await jobs.transition('renter', id, signal.aborted ? 'cancelled' : 'failed', node.clock.now(), { detail: code }) })
      }
      throw err
    }
  }

  /**
   * A renter that stopped mid-job (crash, kill) left its escrow open and its job record running.
   * A job that was running is taken up again where the supplier still has it (RenterRole.resume
   * with the record's `attach`): its record ends as the job ended, outputs included. Every escrow
   * then settles on the last voucher signed; the records of jobs not taken up end as failed with
   * RENTER_RESTARTED. Not on a ledger private to this process: nobody else could have taken part
   * in its escrows.
   */
  private async resume (): Promise<ResumedEscrow[]> {
    const { node, logger, jobs } = this.c
    if (!this.c.sharedChain) return []
    try {
      const interrupted = (await jobs.list({ role: 'renter', onDamaged: (key, err) => { logger.warn('a job record does not read back: skipped', { key, code: err.code }) } })).filter((j) => j.state === 'queued' || j.state === 'running')
      const rentals = rentalsToResume(interrupted)
      // the enclave is attested again as a rental of this node would be: the config's policy with
      // its CRLs (the role's default policy has none, so a revoked chain would pass)
      let policy: AttestationPolicy | undefined
      if (rentals.size > 0) {
        await this.i.crlsReady
        policy = await withCrlFiles(attestationPolicyFromConfig(this.i.config), this.i.config.tee, { tdxCollateralSource: this.i.tdxCollateral })
      }
      const done = await this.role.resume({ signal: this.controller.signal, rentals, ...(policy != null ? { policy } : {}) })
      for (const j of interrupted) {
        const job = j.agreementId != null ? done.find((d) => d.escrowId === escrowIdOfAgreement(j.agreementId!))?.job : undefined
        if (job == null) {
          await jobs.transition('renter', j.id, 'failed', node.clock.now(), { detail: 'RENTER_RESTARTED' })
          continue
        }
        await jobs.transition('renter', j.id, stateForResult(job.reason, job.exitCode), node.clock.now(), {
          exitCode: job.exitCode, reason: job.reason, outputs: job.outputs, ...(job.signal != null ? { signal: job.signal } : {}), ...(job.detail != null ? { detail: job.detail } : {})
        })
      }
      if (done.length > 0) logger.info('escrows of interrupted rentals', { escrows: done.map(({ job, ...e }) => ({ ...e, ...(job != null ? { job: { reason: job.reason, exitCode: job.exitCode, outputs: job.outputs.length } } : {}) })) })
      return done
    } catch (err) {
      logger.warn('resuming interrupted rentals failed', { err })
      return []
    }
  }

  /** the job record of a rental whose escrow settled after it ended learns how (`bazaar jobs`) */
  private async settledLater (escrowId: string, e: EscrowOnChain): Promise<void> {
    const { jobs, node } = this.c
    const job = (await jobs.list({ role: 'renter' })).find((j) => j.agreementId != null && escrowIdOfAgreement(j.agreementId) === escrowId)
    if (job == null || job.settlement != null) return
    const a = settledAmounts(e, e.terms.payee, e.terms.payer)
    if (a.settledBy == null) return
    await jobs.settled('renter', job.id, { paid: a.paid.toString(), refunded: a.refunded.toString(), ...(a.carried > 0n ? { carried: a.carried.toString() } : {}), settledBy: a.settledBy }, node.clock.now())
  }

  /** keeps `p` among the work `stop` waits for until it settles */
  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p)
    void p.then(() => { this.inFlight.delete(p) }, () => { this.inFlight.delete(p) })
    return p
  }
}

/**
 * The rentals a restarted renter takes up again, by escrow: running jobs whose record keeps where
 * to reach the job and when it started. The start is the job's own (its `started`, in `attach`),
 * never the attestation's that the record's `startedAt` holds until then: counted from there, a
 * supplier could claim the setup before the start as used time. A record without it (a renter
 * stopped between the two writes) is not taken up; its escrow settles on the last voucher.
 */
export function rentalsToResume (records: readonly JobRecord[]): Map<string, RentalToResume> {
  const rentals = new Map<string, RentalToResume>()
  for (const j of records) {
    const started = j.attach?.startedAt
    if (j.state !== 'running' || j.agreementId == null || j.attach == null || started == null) continue
    rentals.set(escrowIdOfAgreement(j.agreementId), { ...j.attach, agreementId: j.agreementId, startedAt: started })
  }
  return rentals
}
