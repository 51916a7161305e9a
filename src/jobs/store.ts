import { JobStoreError } from './errors.js'
import { JOB_ID_RE } from './constants.js'
import type { AbstractLevel, AbstractSublevel } from 'abstract-level'
import type { JobEndReason, JobOutput } from './types.js'

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'timeout'
export type JobRole = 'supplier' | 'renter'

/** A job as the node remembers it. Amounts are not stored here (they live with the escrow). */
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
  attach?: { enclave: string, addrs: string[], outputDir: string, outputs: string[], maxDurationMs?: number }
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
const MAX_RECORD_BYTES = 256 * 1024

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

  constructor (db: Db) {
    this.db = db.sublevel<string, string>(JOB_STORE_PREFIX, { keyEncoding: 'utf8', valueEncoding: 'utf8' })
  }

  /** writes a record (replacing one of the same role and id) */
  async put (record: JobRecord): Promise<void> {
    checkRecord(record)
    await this.db.put(key(record.role, record.id), JSON.stringify(record))
  }

  async get (role: JobRole, id: string): Promise<JobRecord | undefined> {
    const v = await this.db.get(key(role, id))
    return v == null ? undefined : parse(v)
  }

  /** records in key order (role, then id), optionally of one role and state */
  async list (filter: { role?: JobRole, state?: JobState, limit?: number } = {}): Promise<JobRecord[]> {
    const range = filter.role != null ? { gte: `${filter.role}/`, lt: `${filter.role}0` } : {}
    const out: JobRecord[] = []
    const limit = filter.limit ?? 1000
    for await (const v of this.db.values(range)) {
      const r = parse(v)
      if (filter.state != null && r.state !== filter.state) continue
      out.push(r)
      if (out.length >= limit) break
    }
    return out
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
    if (state === 'running' && next.startedAt == null) next.startedAt = now
    if (TERMINAL.has(state) && next.endedAt == null) next.endedAt = now
    await this.put(next)
    return next
  }
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
