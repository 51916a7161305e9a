import { decodeTerms, type AgreementStore } from '../../../market/index.js'
import type { CapacityLedger } from '../../../jobs/index.js'
import type { AgreementTerms } from '../../../wire/agreement.js'
import type { Clock, TimerHandle } from '../../../util/clock.js'
import type { Logger } from '../../logger.js'

export interface AgreementLifecycleComponents {
  clock: Clock
  ledger: CapacityLedger
  agreements: AgreementStore
  logger: Logger
  /** true once a session took the agreement up in this run (its GPUs are the job's now) */
  sessionStarted: (agreementId: string) => boolean
  /**
   * true when an earlier run already started the agreement: a session got past the escrow check (it
   * left an escrow record) or a job ran (it left a job record). Those are not restored.
   */
  startedBefore: (agreementId: string) => Promise<boolean>
  /** the capacity free for offers changed (an agreement committed, lapsed or was restored) */
  onCapacityChange: () => void
  /**
   * whether the chain holds the escrow that backs the agreement (open, funded, as agreed); throws
   * when the chain cannot be read. Absent: no escrow check before `startBy`.
   */
  escrowBacks?: (agreementId: string, terms: AgreementTerms) => Promise<boolean>
  /**
   * an agreement lapsed at its `startBy` with no session: where its renter opened the escrow
   * anyway (and then cancelled before the job), the supplier's part of giving that money back
   */
  onUnstarted?: (agreementId: string, terms: AgreementTerms) => Promise<void>
  /**
   * the renter's hold ended without a job: it lapsed unstarted (no escrow in its window, no session
   * by its `startBy`) or the renter withdrew it. Not called for a lapse that is not the renter's
   * doing (a session this supplier refused, a restart past `startBy`). The node's renter cooldown.
   */
  onHoldEnded?: (renter: Uint8Array, end: 'lapsed' | 'withdrawn') => void
}

/**
 * How long after an agreement's creation its escrow must be on chain, where its `startBy` is later:
 * committing GPUs costs a renter nothing until it pays in, so without this one renter could keep a
 * supplier's GPUs for the whole start window (an hour) per agreement without paying. A renter opens
 * the escrow right after the agreement; ten minutes leave a slow chain room.
 */
export const ESCROW_OPEN_WINDOW_MS = 10 * 60_000
/** withdrawn agreements watched for a late escrow at once (`withdraw`) */
export const MAX_LATE_CHECKS = 1024

/**
 * A committed agreement's life before its session: committed → a timer at its `startBy` → lapsed
 * when no session has started by then (its GPUs go back and the record says so). After a restart,
 * the active agreements no session has started get their GPUs and their timer back, or lapse when
 * already past `startBy`. Timers go through the clock, so a test drives them with a ManualClock.
 */
export class AgreementLifecycle {
  private readonly startTimers = new Map<string, TimerHandle>()
  /** the renter (hotkey hex) of each agreement with a start timer */
  private readonly renterOf = new Map<string, string>()
  /** the renter of each agreement `committed` is reading back, before its start timer is set */
  private readonly committing = new Map<string, string>()
  private readonly escrowTimers = new Map<string, TimerHandle>()
  /** withdrawn agreements: one more look for a late escrow at their startBy */
  private readonly lateChecks = new Map<string, TimerHandle>()
  /** lapse writes in flight (stop waits for them: a record is not left half way) */
  private readonly writes = new Set<Promise<void>>()
  /** escrow checks in flight (`idle` waits for them) */
  private readonly checks = new Set<Promise<void>>()
  private stopped = false

  constructor (private readonly c: AgreementLifecycleComponents) {}

  /** the agreements waiting for their session (their start timer is set) */
  get waiting (): string[] { return [...this.startTimers.keys()] }

  /** how many of them are the renter's (hotkey hex), those being committed included: negotiation's limit per renter */
  waitingFor (renter: string): number {
    let n = 0
    for (const id of this.startTimers.keys()) if (this.renterOf.get(id) === renter) n++
    for (const r of this.committing.values()) if (r === renter) n++
    return n
  }

  /**
   * Negotiation committed an agreement: it must start before its `startBy`, or its capacity goes
   * back. `renter` (its hotkey) counts it in `waitingFor` from the call on, before the record is read.
   */
  async committed (agreementId: string, renter?: Uint8Array): Promise<void> {
    if (renter != null) this.committing.set(agreementId, Buffer.from(renter).toString('hex'))
    try {
      const rec = await this.c.agreements.get(agreementId)
      // not when it was withdrawn (or lapsed) while its record was read: its GPUs are back already
      if (rec == null || this.stopped || this.c.ledger.get(agreementId)?.committed !== true) return
      this.scheduleStart(agreementId, decodeTerms(rec.agreement.terms))
    } finally {
      this.committing.delete(agreementId)
    }
    this.c.onCapacityChange()
  }

  /** A session took the agreement up: no lapse for it any more. */
  started (agreementId: string): void {
    this.startTimers.get(agreementId)?.clear()
    this.startTimers.delete(agreementId)
    this.renterOf.delete(agreementId)
    this.escrowTimers.get(agreementId)?.clear()
    this.escrowTimers.delete(agreementId)
  }

  /**
   * The renter gave the agreement back (/bazaar/withdraw/1.0.0, its signature checked by the
   * caller): unless a session took it up, its GPUs go back now and it lapses, and an escrow that
   * landed all the same gets its refund approved (`onUnstarted`), as at its `startBy`. Returns ""
   * when the GPUs went back, STARTED or NOT_ACTIVE otherwise.
   */
  async withdraw (agreementId: string, terms: AgreementTerms): Promise<'' | 'STARTED' | 'NOT_ACTIVE'> {
    if (this.c.sessionStarted(agreementId)) return 'STARTED'
    if (this.stopped || this.c.ledger.get(agreementId)?.committed !== true) return 'NOT_ACTIVE'
    this.startTimers.get(agreementId)?.clear()
    this.startTimers.delete(agreementId)
    this.escrowTimers.get(agreementId)?.clear()
    this.escrowTimers.delete(agreementId)
    this.renterOf.delete(agreementId)
    this.c.ledger.release(agreementId)
    this.c.logger.info('agreement withdrawn by its renter: capacity released', { agreement: agreementId })
    this.c.onHoldEnded?.(terms.renter, 'withdrawn')
    this.c.onCapacityChange()
    await this.lapse(agreementId)
    this.closeUnstarted(agreementId, terms)
    // an escrow whose open was still in the pool may land after this: one more look at the startBy,
    // for at most MAX_LATE_CHECKS withdrawals at a time (a renter that agrees and withdraws over and
    // over would hold a timer each; past the bound, a late escrow is refunded after its expiry)
    if (this.lateChecks.size >= MAX_LATE_CHECKS) return ''
    const wait = Math.max(0, Number(terms.startBy) - this.c.clock.now())
    this.lateChecks.set(agreementId, this.c.clock.setTimeout(() => {
      this.lateChecks.delete(agreementId)
      this.closeUnstarted(agreementId, terms)
    }, wait))
    return ''
  }

  /** `onUnstarted` in the background (stop waits for it): an escrow that opened gets its refund approved */
  private closeUnstarted (agreementId: string, terms: AgreementTerms): void {
    const run = this.c.onUnstarted?.(agreementId, terms).catch((err: unknown) => { this.c.logger.warn('the escrow of an agreement that never started could not be closed', { agreement: agreementId, err }) })
    if (run != null) {
      this.checks.add(run)
      void run.finally(() => { this.checks.delete(run) })
    }
  }

  /**
   * An agreement that cannot be served (its session was refused) or was not started in time: its
   * record is marked lapsed. A failed write is logged; the prune of dormant agreements never
   * touches an active record, so the worst case is a record left active.
   */
  lapse (agreementId: string): Promise<void> {
    const write = this.c.agreements.setStatus(agreementId, 'lapsed', this.c.clock.now())
      .then(() => {}, (err: unknown) => { this.c.logger.warn('could not mark an agreement lapsed', { agreement: agreementId, err }) })
    this.writes.add(write)
    void write.finally(() => { this.writes.delete(write) })
    return write
  }

  /** At `startBy`, an agreement no session has started gives its GPUs back and is marked lapsed. */
  private scheduleStart (agreementId: string, terms: AgreementTerms): void {
    this.scheduleEscrowCheck(agreementId, terms)
    this.startTimers.get(agreementId)?.clear()
    this.renterOf.set(agreementId, Buffer.from(terms.renter).toString('hex'))
    const wait = Math.max(0, Number(terms.startBy) - this.c.clock.now())
    this.startTimers.set(agreementId, this.c.clock.setTimeout(() => {
      this.startTimers.delete(agreementId)
      this.renterOf.delete(agreementId)
      if (this.c.ledger.get(agreementId)?.committed !== true || this.c.sessionStarted(agreementId)) return
      this.c.ledger.release(agreementId)
      this.c.logger.info('agreement not started in time: capacity released', { agreement: agreementId })
      this.c.onHoldEnded?.(terms.renter, 'lapsed')
      void this.lapse(agreementId)
      this.c.onCapacityChange()
      const unstarted = this.c.onUnstarted?.(agreementId, terms).catch((err: unknown) => { this.c.logger.warn('the escrow of an agreement that never started could not be closed', { agreement: agreementId, err }) })
      if (unstarted != null) {
        this.checks.add(unstarted)
        void unstarted.finally(() => { this.checks.delete(unstarted) })
      }
    }, wait))
  }

  /**
   * ESCROW_OPEN_WINDOW_MS after its creation (when its `startBy` is later), an agreement no session
   * has started and whose escrow is not on chain gives its GPUs back and is marked lapsed. A chain
   * that cannot be read lapses nothing: the `startBy` timer still bounds the wait.
   */
  private scheduleEscrowCheck (agreementId: string, terms: AgreementTerms): void {
    const check = this.c.escrowBacks
    const at = Number(terms.createdAt) + ESCROW_OPEN_WINDOW_MS
    if (check == null || at >= Number(terms.startBy)) return
    this.escrowTimers.get(agreementId)?.clear()
    this.escrowTimers.set(agreementId, this.c.clock.setTimeout(() => {
      this.escrowTimers.delete(agreementId)
      if (this.stopped || this.c.ledger.get(agreementId)?.committed !== true || this.c.sessionStarted(agreementId)) return
      const run = check(agreementId, terms).then(async (backed) => {
        if (backed || this.stopped || this.c.sessionStarted(agreementId) || this.c.ledger.get(agreementId)?.committed !== true) return
        this.startTimers.get(agreementId)?.clear()
        this.startTimers.delete(agreementId)
        this.renterOf.delete(agreementId)
        this.c.ledger.release(agreementId)
        this.c.logger.info('agreement without an escrow on chain in time: capacity released', { agreement: agreementId, windowMs: ESCROW_OPEN_WINDOW_MS })
        this.c.onHoldEnded?.(terms.renter, 'lapsed')
        await this.lapse(agreementId)
        this.c.onCapacityChange()
      }, (err: unknown) => { this.c.logger.warn('the escrow of an agreement could not be checked: its GPUs wait for its startBy', { agreement: agreementId, err }) })
      // not among the writes stop waits for: a chain that does not answer must not hold a stop
      this.checks.add(run)
      void run.finally(() => { this.checks.delete(run) })
    }, Math.max(0, at - this.c.clock.now())))
  }

  /**
   * After a restart the capacity ledger is empty, but the store may hold active agreements that no
   * session has started yet. Those still before their `startBy` get their GPUs committed again and
   * their start timer back; the others are marked lapsed. Without this, a restart would free GPUs a
   * renter holds an agreement for, and leave records active for ever.
   */
  async restore (): Promise<void> {
    const now = this.c.clock.now()
    for (const rec of await this.c.agreements.list({ role: 'supplier', status: 'active' })) {
      if (await this.c.startedBefore(rec.hash)) continue
      const terms = decodeTerms(rec.agreement.terms)
      const left = Number(terms.startBy) - now
      if (left <= 0) {
        await this.lapse(rec.hash)
        continue
      }
      try {
        this.c.ledger.hold(rec.hash, terms.gpuModel, terms.gpuCount, left)
        this.c.ledger.commit(rec.hash)
      } catch (err) {
        // the GPUs it names are gone (a smaller inventory since): it cannot be served
        this.c.logger.warn('an agreement could not get its GPUs back after a restart', { agreement: rec.hash, err })
        this.c.ledger.release(rec.hash)
        await this.lapse(rec.hash)
        continue
      }
      this.scheduleStart(rec.hash, terms)
      this.c.logger.info('agreement restored after a restart', { agreement: rec.hash, startsBy: new Date(Number(terms.startBy)).toISOString() })
    }
  }

  /** Stops every start timer and waits for lapse writes in flight. */
  async stop (): Promise<void> {
    this.stopped = true
    for (const t of [...this.startTimers.values(), ...this.escrowTimers.values(), ...this.lateChecks.values()]) t.clear()
    this.startTimers.clear()
    this.renterOf.clear()
    this.escrowTimers.clear()
    this.lateChecks.clear()
    await Promise.allSettled([...this.writes])
  }

  /** resolves when the escrow checks and lapse writes started so far are done (tests wait on it) */
  async idle (): Promise<void> {
    await Promise.allSettled([...this.checks])
    await Promise.allSettled([...this.writes])
  }
}
