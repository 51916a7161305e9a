import { JobStoreError } from './errors.js'
import { JOB_ID_RE } from './constants.js'
import { firstInOrder } from '../util/first-in-order.js'
import type { AbstractLevel, AbstractSublevel } from 'abstract-level'
import type { JobEndReason, JobOutput } from './types.js'
import { JobSum, type JobTotals } from './page.js'

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'timeout'
export type JobRole = 'supplier' | 'renter'

/** A job as the node remembers it. Amounts are not stored here (they live with the escrow). */
export interface JobSettlement {
  paid: string
  refunded?: string
  carried?: string
  settledBy: 'cooperative' | 'arbiter' | 'refund' | 'none'
}

export interface JobRecord {
  id: string
  role: JobRole
  state: JobState
  agreementId?: string
  /** the other party (peer id or ss58) */
  peer?: string
  command: string
  args: string[]
  gpuCount: number
  gpuIndices?: number[]
  createdAt: number
  updatedAt: number
  startedAt?: number
  endedAt?: number
  exitCode?: number
  signal?: string
  reason?: JobEndReason
  detail?: string
  outputs?: JobOutput[]
  /**
   * renter: what a restarted renter needs to take its job up again (the enclave, where outputs go,
   * and the job's maximum duration, which bounds how long it follows the job)
   */
  attach?: {
    enclave: string
    addrs: string[]
    outputDir: string
    outputs: string[]
    maxDurationMs?: number
    /** the job's own start on the renter's clock (its `started`): a restart's metering counts from it */
    startedAt?: number
  }
  /**
   * how the job's escrow settled, once it did (base units as decimal strings): what the voucher
   * paid, what went back to the renter, of the payment what was too small to move and went back
   * too (alpha escrows), and how it closed
   */
  settlement?: JobSettlement
  /**
   * what was left out so that the record fits MAX_RECORD_BYTES (see `put`): how many entries were
   * cut off the end of `outputs` and of `args`, and whether `detail` was shortened and `attach`
   * dropped
   */
  cut?: { outputs?: number, args?: number, detail?: boolean, attach?: boolean }
}

const STATES = new Set<JobState>(['queued', 'running', 'succeeded', 'failed', 'cancelled', 'timeout'])
const TERMINAL = new Set<JobState>(['succeeded', 'failed', 'cancelled', 'timeout'])
const NEXT: Record<JobState, Set<JobState>> = {
  queued: new Set(['running', 'succeeded', 'failed', 'cancelled', 'timeout']),
  running: new Set(['succeeded', 'failed', 'cancelled', 'timeout']),
  succeeded: new Set(),
  failed: new Set(),
  cancelled: new Set(),
  timeout: new Set()
}

/** the sublevel name; a new record layout gets a new name, a retired one is never reused */
export const JOB_STORE_PREFIX = 'jobs-v1'
/**
 * the sublevel of what pruned records added up to, by role (`JobTotals` as JSON): the totals of
 * `bazaar jobs` count them after their records go
 */
export const JOB_PRUNED_PREFIX = 'jobs-pruned-v1'
/** records deleted in one batch, with the sums they add */
const PRUNE_BATCH = 500
/** the largest record `parse` reads back, in UTF-16 code units of its JSON as `level` stores it */
const MAX_RECORD_BYTES = 256 * 1024
/** `detail` is a code or a short message; a longer one is cut to this when the record is too large */
const MAX_CUT_DETAIL = 1024
/** what is kept of `args`, as JSON, in a record that is too large */
const MAX_CUT_ARGS = 16 * 1024

/** The state a finished job is recorded in. */
export function stateForResult (reason: JobEndReason, exitCode: number): JobState {
  switch (reason) {
    case 'exited': return exitCode === 0 ? 'succeeded' : 'failed'
    case 'cancelled': return 'cancelled'
    case 'timeout': return 'timeout'
    default: return 'failed'
  }
}

/** a level database or one of its sublevels */
type Db = AbstractLevel<any, any, any>

/**
 * Jobs by role and id over a `level` sublevel (`jobs-v1`), keys `<role>/<id>`, JSON values. Records
 * read back are checked, so a damaged database gives a typed error instead of a crash.
 */
export class JobStore {
  private readonly db: AbstractSublevel<any, any, string, string>
  private readonly pruned: AbstractSublevel<any, any, string, string>
  private pruning: Promise<number> = Promise.resolve(0)

  constructor (private readonly root: Db) {
    this.db = root.sublevel<string, string>(JOB_STORE_PREFIX, { keyEncoding: 'utf8', valueEncoding: 'utf8' })
    this.pruned = root.sublevel<string, string>(JOB_PRUNED_PREFIX, { keyEncoding: 'utf8', valueEncoding: 'utf8' })
  }

  /**
   * Deletes the records of jobs that ended before `before` and are done with (`prunable`), but
   * those `keep` holds back this time. What the deleted records paid, refunded and carried is
   * added to their role's pruned sums (`prunedTotals`) in the same synced batch as the deletions,
   * so the totals of every job the node ran survive their records, and a crash mid-prune neither
   * loses nor counts twice a job's amounts. Damaged records are left as they are. One prune runs
   * at a time. Returns how many records went.
   */
  async prune (before: number, keep: (r: JobRecord) => boolean = () => false): Promise<number> {
    // runs one at a time: each adds to the sums it read at its start
    const run = this.pruning.then(async () => await this.pruneNow(before, keep))
    this.pruning = run.catch(() => 0)
    return await run
  }

  /**
   * The records `prune(before)` deletes: jobs in a terminal state that ended before `before`, with
   * their escrow's settlement recorded or with no agreement (no escrow to settle). A job whose
   * escrow never showed settled keeps its record, as the sign of money not yet accounted for.
   */
  async * prunable (before: number): AsyncGenerator<JobRecord> {
    for await (const r of this.records()) if (isPrunable(r, before)) yield r
  }

  private async pruneNow (before: number, keep: (r: JobRecord) => boolean): Promise<number> {
    // each role's sums so far, to which the records deleted here are added
    const sums = { supplier: new JobSum(), renter: new JobSum() }
    sums.supplier.addPruned(await this.prunedTotals('supplier'))
    sums.renter.addPruned(await this.prunedTotals('renter'))
    let keys: Array<{ role: JobRole, key: string }> = []
    let count = 0
    const flush = async (): Promise<void> => {
      if (keys.length === 0) return
      const roles = new Set(keys.map((k) => k.role))
      await this.root.batch([
        ...keys.map((k) => ({ type: 'del' as const, key: k.key, sublevel: this.db })),
        ...[...roles].map((role) => ({ type: 'put' as const, key: role, value: JSON.stringify(stored(sums[role].totals)), sublevel: this.pruned }))
      ], { sync: true } as never)
      count += keys.length
      keys = []
    }
    for await (const r of this.prunable(before)) {
      if (keep(r)) continue
      sums[r.role].add(r.settlement ?? {})
      keys.push({ role: r.role, key: key(r.role, r.id) })
      if (keys.length >= PRUNE_BATCH) await flush()
    }
    await flush()
    return count
  }

  /** what the pruned records of `role` added up to; zero where none went */
  async prunedTotals (role: JobRole): Promise<JobTotals> {
    const v = await this.pruned.get(role)
    const zero: JobTotals = { jobs: 0, paid: '0', refunded: '0', carried: '0' }
    if (v == null) return zero
    try {
      const t = JSON.parse(v) as JobTotals
      const ok = Number.isSafeInteger(t.jobs) && t.jobs >= 0 && [t.paid, t.refunded, t.carried].every((a) => typeof a === 'string' && AMOUNT_RE.test(a))
      if (ok) return { jobs: t.jobs, paid: t.paid, refunded: t.refunded, carried: t.carried }
    } catch {}
    throw new JobStoreError('INVALID_RECORD', `the pruned jobs' sums of role ${role} are damaged`)
  }

  /**
   * Writes a record (replacing one of the same role and id). A record over MAX_RECORD_BYTES would
   * never read back, so it is cut to fit (`cut` says what went) instead: its lists are the renter's
   * to size (up to 256 outputs of 1 KiB names, 128 KiB of arguments), and the job must still have
   * its record.
   * @throws JobStoreError INVALID_RECORD for a malformed record, or one that does not fit even cut
   */
  async put (record: JobRecord): Promise<void> {
    checkRecord(record)
    await this.db.put(key(record.role, record.id), fit(record))
  }

  async get (role: JobRole, id: string): Promise<JobRecord | undefined> {
    const v = await this.db.get(key(role, id))
    return v == null ? undefined : parse(v)
  }

  /**
   * The `limit` records of `role` created last, the latest first (ties in key order): what the
   * control API lists. In key order a store past the page listed whichever records the renters'
   * ids put first. Reads every record of the role; one that does not read back is passed over as
   * in `list`.
   */
  async recent (role: JobRole, limit: number, onDamaged?: (key: string, err: JobStoreError) => void): Promise<JobRecord[]> {
    return await firstInOrder(this.records(role, onDamaged), limit, (a, b) => b.createdAt - a.createdAt)
  }

  /**
   * Records in key order (role, then id), optionally of one role and state. A record that does not
   * read back (damaged, or written by a version that wrote it too large) is skipped and handed to
   * `onDamaged` with its key and error, so that one bad record does not stop the roles that list
   * their jobs at start.
   */
  async list (filter: { role?: JobRole, state?: JobState, limit?: number, onDamaged?: (key: string, err: JobStoreError) => void } = {}): Promise<JobRecord[]> {
    const out: JobRecord[] = []
    // no bound unless asked: the roles' recovery at start must see every record (a cap left
    // interrupted jobs past it unrecovered)
    const limit = filter.limit ?? Infinity
    for await (const r of this.records(filter.role, filter.onDamaged)) {
      if (filter.state != null && r.state !== filter.state) continue
      out.push(r)
      if (out.length >= limit) break
    }
    return out
  }

  /** every record (of `role`) in key order, read as it goes; one that does not read back goes to `onDamaged` */
  async * records (role?: JobRole, onDamaged?: (key: string, err: JobStoreError) => void): AsyncGenerator<JobRecord> {
    const range = role != null ? { gte: `${role}/`, lt: `${role}0` } : {}
    for await (const [k, v] of this.db.iterator(range)) {
      let r: JobRecord
      try {
        r = parse(v)
      } catch (err) {
        onDamaged?.(k, err as JobStoreError)
        continue
      }
      yield r
    }
  }

  /**
   * Stores the record of an agreement's job under its job id, unless another agreement's record has
   * that id: the id is the renter's choice, and no renter may replace another's record. Then it is
   * stored under the id with the agreement's first 16 hex digits appended. Returns the id used.
   */
  async putForAgreement (r: JobRecord & { agreementId: string }): Promise<string> {
    const prior = await this.get(r.role, r.id).catch(() => undefined)
    const id = prior == null || prior.agreementId === r.agreementId ? r.id : `${r.id.slice(0, 47)}.${r.agreementId.slice(0, 16)}`
    await this.put({ ...r, id })
    return id
  }

  /**
   * Ends as failed, with `detail`, every record of `role` still queued or running. At a role's start
   * no job of it runs yet, so such a record belongs to a run that ended with its process (a crash,
   * a kill): left as it was, `bazaar jobs` would show it running for good. Returns how many.
   */
  async closeInterrupted (role: JobRole, detail: string, now: number, onDamaged?: (key: string, err: JobStoreError) => void): Promise<number> {
    let closed = 0
    for (const j of await this.list({ role, ...(onDamaged != null ? { onDamaged } : {}) })) {
      if (j.state !== 'queued' && j.state !== 'running') continue
      await this.transition(role, j.id, 'failed', now, { detail })
      closed++
    }
    return closed
  }

  /** records how the job's escrow settled, whatever the job's state (it is terminal by then) */
  async settled (role: JobRole, id: string, settlement: JobSettlement, now: number): Promise<void> {
    const cur = await this.get(role, id)
    if (cur == null) throw new JobStoreError('NOT_FOUND', `no ${role} job ${id}`)
    await this.put({ ...cur, settlement, updatedAt: now })
  }

  /**
   * Moves a job to `state` and merges `patch`; refuses to leave a terminal state.
   * @throws JobStoreError NOT_FOUND, INVALID_TRANSITION
   */

  async transition (role: JobRole, id: string, state: JobState, now: number, patch: Partial<Omit<JobRecord, 'id' | 'role' | 'state'>> = {}): Promise<JobRecord> {
    const cur = await this.get(role, id)
    if (cur == null) throw new JobStoreError('NOT_FOUND', `no ${role} job ${id}`)
    if (!NEXT[cur.state].has(state)) throw new JobStoreError('INVALID_TRANSITION', `${cur.state} → ${state}`)
    const next: JobRecord = { ...cur, ...patch, id, role, state, updatedAt: now }
    // what an earlier write cut from a field is no longer true once the patch replaces the field
    if (cur.cut != null && patch.cut == null) {
      const cut = Object.fromEntries(Object.entries(cur.cut).filter(([f]) => !(f in patch)))
      if (Object.keys(cut).length > 0) next.cut = cut; else delete next.cut
    }
    if (state === 'running' && next.startedAt == null) next.startedAt = now
    if (TERMINAL.has(state) && next.endedAt == null) next.endedAt = now
    await this.put(next)
    return next
  }
}

/**
 * The record's JSON, cut to MAX_RECORD_BYTES when it is over. Each step only while it is still
 * over: a `detail` past 1 KiB shortened (a code or a short message otherwise), the end of `args` cut
 * to 16 KiB (shown to 200 characters), the end of `outputs` cut to what fits (the renter has the
 * files), `attach` dropped (a restarted renter cannot take the job up again, and ends it as
 * RENTER_RESTARTED).
 * @throws JobStoreError INVALID_RECORD when it does not fit even so (a command or peer over the bounds)
 */
function fit (record: JobRecord): string {
  const json = JSON.stringify(record)
  if (json.length <= MAX_RECORD_BYTES) return json
  const r: JobRecord = { ...record }
  const cut = { ...record.cut }
  const encode = (): string => JSON.stringify({ ...r, cut })
  const fits = (): boolean => encode().length <= MAX_RECORD_BYTES
  const dropped = (f: 'args' | 'outputs', n: number): void => {
    const total = (record.cut?.[f] ?? 0) + n
    if (total > 0) cut[f] = total; else delete cut[f]
  }
  if (r.detail != null && r.detail.length > MAX_CUT_DETAIL) {
    r.detail = r.detail.slice(0, MAX_CUT_DETAIL)
    cut.detail = true
    if (fits()) return encode()
  }
  const args = r.args
  if (JSON.stringify(args).length > MAX_CUT_ARGS) {
    longestFitting(args.length, (n) => { r.args = args.slice(0, n); dropped('args', args.length - n); return JSON.stringify(r.args).length <= MAX_CUT_ARGS })
    if (fits()) return encode()
  }
  const outputs = r.outputs
  const fitOutputs = (): boolean => outputs == null ? fits() : longestFitting(outputs.length, (n) => { r.outputs = outputs.slice(0, n); dropped('outputs', outputs.length - n); return fits() }) >= 0
  if (fitOutputs()) return encode()
  if (r.attach != null) {
    delete r.attach
    cut.attach = true
    if (fitOutputs()) return encode()
  }
  throw new JobStoreError('INVALID_RECORD', 'record too large')
}

/**
 * The largest n in [0, max] for which `tryN(n)` holds, left applied; -1 (with 0 applied) when none
 * does. `tryN` is monotone: fewer entries never make a record larger.
 */
function longestFitting (max: number, tryN: (n: number) => boolean): number {
  if (!tryN(0)) return -1
  let lo = 0
  let hi = max
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    if (tryN(mid)) lo = mid; else hi = mid - 1
  }
  tryN(lo)
  return lo
}

const AMOUNT_RE = /^[0-9]{1,40}$/

function isPrunable (r: JobRecord, before: number): boolean {
  return TERMINAL.has(r.state) && (r.endedAt ?? r.updatedAt) < before && (r.agreementId == null || r.settlement != null)
}

/** the sums as the pruned sublevel keeps them: every job counted there is a pruned one */
function stored (t: JobTotals): JobTotals {
  return { jobs: t.jobs, paid: t.paid, refunded: t.refunded, carried: t.carried }
}

function key (role: JobRole, id: string): string {
  if (role !== 'supplier' && role !== 'renter') throw new JobStoreError('INVALID_RECORD', 'bad role')
  if (!JOB_ID_RE.test(id)) throw new JobStoreError('INVALID_RECORD', 'bad job id')
  return `${role}/${id}`
}

function parse (v: string): JobRecord {
  if (v.length > MAX_RECORD_BYTES) throw new JobStoreError('INVALID_RECORD', 'record too large')
  let r: unknown
  try {
    r = JSON.parse(v)
  } catch (err) {
    throw new JobStoreError('INVALID_RECORD', 'record is not JSON', { cause: err })
  }
  checkRecord(r as JobRecord)
  return r as JobRecord
}

function checkRecord (r: JobRecord): void {
  const ok = r != null && typeof r === 'object' &&
    typeof r.id === 'string' && JOB_ID_RE.test(r.id) &&
    (r.role === 'supplier' || r.role === 'renter') &&
    STATES.has(r.state) &&
    typeof r.command === 'string' && Array.isArray(r.args) &&
    Number.isSafeInteger(r.gpuCount) &&
    Number.isFinite(r.createdAt) && Number.isFinite(r.updatedAt)
  if (!ok) throw new JobStoreError('INVALID_RECORD', 'malformed job record')
}
