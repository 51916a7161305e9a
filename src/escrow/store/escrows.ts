import type { Level } from 'level'
import { fromJson, toJson } from '../chain/embedded/codec.js'
import type { EscrowTerms } from '../types.js'
import { firstInOrder } from '../../util/first-in-order.js'
import { deleteKeys } from '../../util/level-delete.js'

/** This node's part in an escrow. */
export type EscrowRole = 'payer' | 'payee' | 'arbiter'

/** What a node remembers of an escrow it takes part in. */
export interface LocalEscrow {
  terms: EscrowTerms
  role: EscrowRole
  /** ms since epoch when the node first stored it */
  createdAt: number
  /**
   * the block of its open record, where this node saw it on chain: a restarted daemon reads escrow
   * records from the oldest one still in play (`EscrowService.scanStart`), however far back
   */
  openBlock?: number
  /**
   * role `arbiter` only: kept as the chain showed it opened, before any party asked this arbiter
   * about it (`EscrowService.keepOpened`). Such an escrow's per-escrow key never held
   * anything, so the sweep passes it over; a party's request clears it (`Arbiter`).
   */
  unasked?: true
  /**
   * role `arbiter` only: a sweep found nothing left behind on it for this arbiter (its
   * per-escrow key emptied, no approval of it pending; `ChainPort.sweep`'s `onSwept`), so the
   * pruning may drop it like an unasked one
   */
  swept?: true
}

/** The `escrows-v1` sublevel: key escrow id, value the local escrow (bigints tagged, see codec). */
export class LevelEscrowStore {
  constructor (private readonly db: Level<string, string>, private readonly prefix: string) {}

  async put (e: LocalEscrow): Promise<void> {
    await this.db.put(this.prefix + e.terms.escrowId, toJson(e), { sync: true })
  }

  async get (escrowId: string): Promise<LocalEscrow | undefined> {
    const raw = await this.db.get(this.prefix + escrowId)
    return raw == null ? undefined : fromJson<LocalEscrow>(raw)
  }

  /** the escrows of these ids, in their order (undefined where none is stored), in one read */
  async getMany (escrowIds: readonly string[]): Promise<Array<LocalEscrow | undefined>> {
    const raws = await this.db.getMany(escrowIds.map((id) => this.prefix + id))
    return raws.map((raw) => raw == null ? undefined : fromJson<LocalEscrow>(raw))
  }

  /** every escrow, in the order of their ids, read as it goes */
  async * all (): AsyncGenerator<LocalEscrow> {
    for await (const raw of this.db.values({ gte: this.prefix, lt: this.prefix + '\xff' })) yield fromJson<LocalEscrow>(raw)
  }

  /** the `limit` escrows stored last (by `createdAt`), the latest first, ties in the order of their ids */
  async recent (limit: number): Promise<LocalEscrow[]> {
    return await firstInOrder(this.all(), limit, (a, b) => b.createdAt - a.createdAt)
  }

  /**
   * Deletes the escrows this node arbitrates that it is done with and that expired before
   * `expiredBefore`: those no party ever asked it about (`unasked`: their per-escrow keys never
   * held anything) and those a sweep found nothing left on (`swept`). The chain has settled them
   * or the payer's refund is long due, and an arbiter keeps one for every escrow naming it, so
   * without this its database grows with the market. One that a party asks about later is stored
   * again from the chain's record (`Arbiter`). Escrows this node paid or was paid from, and asked
   * ones no sweep has emptied, are kept. Returns how many went.
   */
  async pruneArbitrated (expiredBefore: number): Promise<number> {
    const keys: string[] = []
    for await (const e of this.all()) {
      if (e.role === 'arbiter' && (e.unasked === true || e.swept === true) && e.terms.expiresAt < expiredBefore) keys.push(this.prefix + e.terms.escrowId)
    }
    await deleteKeys(this.db, keys)
    return keys.length
  }

  /** up to `limit` escrows in the order of their ids, those after the id `after` where given */
  async list (limit = 1000, after?: string): Promise<LocalEscrow[]> {
    const out: LocalEscrow[] = []
    const from = after != null ? { gt: this.prefix + after } : { gte: this.prefix }
    for await (const raw of this.db.values({ ...from, lt: this.prefix + '\xff', limit })) out.push(fromJson<LocalEscrow>(raw))
    return out
  }
}
