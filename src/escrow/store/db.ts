/**
 * The node's escrow database: one level directory with a key prefix per entity. Prefixes are
 * versioned ("escrows-v1", "vouchers-v1"); a format change takes a new prefix, never a reused one.
 */
import { Level } from 'level'
import { LEVEL_OPTIONS } from '../../util/level-options.js'
import { LevelEscrowStore } from './escrows.js'
import { LevelVoucherStore } from './vouchers.js'

export const ESCROWS_PREFIX = 'escrows-v1'
export const VOUCHERS_PREFIX = 'vouchers-v1'
/** escrows deleted in one batch by `drop` */
const DROP_BATCH = 250

export class EscrowDb {
  readonly escrows: LevelEscrowStore
  readonly vouchers: LevelVoucherStore
  private constructor (private readonly db: Level<string, string>) {
    this.escrows = new LevelEscrowStore(db, ESCROWS_PREFIX + '/')
    this.vouchers = new LevelVoucherStore(db, VOUCHERS_PREFIX + '/')
  }

  /** Opens (or creates) the database at `path`. One process opens a path at a time. */
  static async open (path: string): Promise<EscrowDb> {
    const db = new Level<string, string>(path, LEVEL_OPTIONS)
    await db.open()
    return new EscrowDb(db)
  }

  /**
   * Deletes the escrows of these ids and the latest vouchers kept for them (a payee's), each with
   * its voucher in one synced batch: for escrows settled long ago (`RecordPruner`). Returns how
   * many ids it was given.
   */
  async drop (escrowIds: readonly string[]): Promise<number> {
    let n = 0
    for (let i = 0; i < escrowIds.length; i += DROP_BATCH) {
      const ids = escrowIds.slice(i, i + DROP_BATCH)
      await this.db.batch(ids.flatMap((id) => [{ type: 'del' as const, key: ESCROWS_PREFIX + '/' + id }, { type: 'del' as const, key: VOUCHERS_PREFIX + '/' + id }]), { sync: true })
      n += ids.length
    }
    return n
  }

  async close (): Promise<void> {
    await this.db.close()
  }
}
