import type { AbstractLevel, AbstractSublevel } from 'abstract-level'
import { SignedAgreement, StoredAgreement } from '../../wire/agreement.js'
import { hex } from '../book/keys.js'
import { agreementHash } from './terms.js'
import { DELETE_BATCH, deleteKeys } from '../../util/level-delete.js'

/** Sublevel name and the key prefix of the current record version (never reuse a retired one). */
export const AGREEMENTS_SUBLEVEL = 'agreements'
export const AGREEMENT_KEY_PREFIX = 'v1/'

export type AgreementRole = 'renter' | 'supplier'
/** pending: both signatures, capacity held; active: committed on both sides; lapsed: the hold ran out */
export type AgreementStatus = 'pending' | 'active' | 'lapsed'

/** A stored agreement as callers see it. */
export interface AgreementRecord {
  hash: string
  agreement: SignedAgreement
  role: AgreementRole
  status: AgreementStatus
  updatedAt: number
  peer: string
}

type Db = AbstractLevel<any, any, any>
type Sub = AbstractSublevel<Db, any, string, Uint8Array>

/**
 * Agreements on one side of the market, in the `agreements` sublevel under `v1/<hash hex>`; the
 * value is a StoredAgreement (protobuf). Writes are synced to disk before they resolve: a supplier
 * acknowledges nothing it has not stored.
 */
export class AgreementStore {
  private readonly db: Sub

  constructor (parent: Db) {
    this.db = parent.sublevel<string, Uint8Array>(AGREEMENTS_SUBLEVEL, { keyEncoding: 'utf8', valueEncoding: 'view' }) as Sub
  }

  /** stores (or overwrites) an agreement with its role and status */
  async put (agreement: SignedAgreement, role: AgreementRole, status: AgreementStatus, now: number, peer = ''): Promise<string> {
    const h = hex(agreementHash(agreement.terms))
    const value = StoredAgreement.encode({ agreement, role, status, updatedAt: BigInt(now), peer })
    await this.db.put(AGREEMENT_KEY_PREFIX + h, value, { sync: true } as never)
    return h
  }

  async get (hash: string): Promise<AgreementRecord | undefined> {
    const v = await this.db.get(AGREEMENT_KEY_PREFIX + hash)
    return v == null ? undefined : toRecord(hash, v)
  }

  /** changes the status of a stored agreement; false when it is unknown */
  async setStatus (hash: string, status: AgreementStatus, now: number): Promise<boolean> {
    const r = await this.get(hash)
    if (r == null) return false
    await this.put(r.agreement, r.role, status, now, r.peer)
    return true
  }

  /**
   * Deletes the agreements of these hashes, whatever their status, in synced batches: those of
   * rentals done with long ago (`RecordPruner`). Replays stay refused as after `prune`. Returns how
   * many there were.
   */
  async delete (hashes: readonly string[]): Promise<number> {
    const keys: string[] = []
    for (let i = 0; i < hashes.length; i += DELETE_BATCH) {
      const some = hashes.slice(i, i + DELETE_BATCH).map((h) => AGREEMENT_KEY_PREFIX + h)
      const found = await this.db.getMany(some)
      keys.push(...some.filter((_, k) => found[k] != null))
    }
    await deleteKeys(this.db, keys)
    return keys.length
  }

  /**
   * Deletes dormant agreements: `pending` ones (the hold lives in memory, so one this old outlived
   * it, or the node restarted under it) and `lapsed` ones, once older than the retention, then the
   * oldest beyond `maxDormant`. Active agreements are never touched: they stand for jobs and
   * escrows. Dormant records cost a peer nothing to cause (a proposal that is never confirmed), so
   * without this their number would grow without bound. Returns how many went.
   *
   * Safe against replays: a proposal carries its createdAt, which the supplier refuses beyond a
   * few minutes of skew, so terms whose record was pruned after days cannot be proposed again.
   */
  async prune (opts: PruneOptions): Promise<number> {
    const grace = opts.graceMs ?? 60 * 60_000
    const dormant: Array<{ key: string, updatedAt: number }> = []
    for await (const [k, v] of this.db.iterator({ gte: AGREEMENT_KEY_PREFIX, lt: AGREEMENT_KEY_PREFIX.slice(0, -1) + '0' })) {
      const r = StoredAgreement.decode(v)
      if (r.status !== 'pending' && r.status !== 'lapsed') continue
      const updatedAt = Number(r.updatedAt)
      if (updatedAt > opts.now - grace) continue
      dormant.push({ key: k, updatedAt })
    }
    dormant.sort((a, b) => a.updatedAt - b.updatedAt || (a.key < b.key ? -1 : 1))
    const cutoff = opts.now - opts.retentionMs
    let keepFrom = 0
    while (keepFrom < dormant.length && dormant[keepFrom].updatedAt < cutoff) keepFrom++
    // recent records inside the grace window are not in `dormant` and do not count against the cap
    keepFrom = Math.max(keepFrom, dormant.length - opts.maxDormant)
    const doomed = dormant.slice(0, keepFrom)
    await deleteKeys(this.db, doomed.map((d) => d.key))
    return doomed.length
  }

  /** every stored agreement, in key order */
  async list (filter: { role?: AgreementRole, status?: AgreementStatus } = {}): Promise<AgreementRecord[]> {
    const out: AgreementRecord[] = []
    for await (const [k, v] of this.db.iterator({ gte: AGREEMENT_KEY_PREFIX, lt: AGREEMENT_KEY_PREFIX.slice(0, -1) + '0' })) {
      const r = toRecord(k.slice(AGREEMENT_KEY_PREFIX.length), v)
      if (filter.role !== undefined && r.role !== filter.role) continue
      if (filter.status !== undefined && r.status !== filter.status) continue
      out.push(r)
    }
    return out
  }
}

/** What `prune` keeps and drops; see `AgreementStore.prune`. */
export interface PruneOptions {
  now: number
  /** dormant records (pending or lapsed) last updated before now - retentionMs go */
  retentionMs: number
  /** at most this many dormant records stay; beyond it the oldest go */
  maxDormant: number
  /** records updated within this window before now are never touched (in-flight negotiations) */
  graceMs?: number
}

function toRecord (hash: string, v: Uint8Array): AgreementRecord {
  const s = StoredAgreement.decode(v)
  return {
    hash,
    agreement: s.agreement ?? SignedAgreement.decode(new Uint8Array()),
    role: s.role as AgreementRole,
    status: s.status as AgreementStatus,
    updatedAt: Number(s.updatedAt),
    peer: s.peer
  }
}
