import type { AbstractLevel, AbstractSublevel } from 'abstract-level'
import { SignedAgreement, StoredAgreement } from '../../protocols/schema/agreement.js'
import { hex } from '../book/keys.js'
import { agreementHash } from './terms.js'

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
