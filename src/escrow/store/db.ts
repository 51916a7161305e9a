/**
 * The node's escrow database: one level directory with a key prefix per entity. Prefixes are
 * versioned ("escrows-v1", "vouchers-v1"); a format change takes a new prefix, never a reused one.
 */
import { Level } from 'level'
import { LEVEL_OPTIONS } from '../../util/level-options.js'
import { deleteKeys } from '../../util/level-delete.js'
import { LevelEscrowStore } from './escrows.js'
import { LevelVoucherStore } from './vouchers.js'

export const ESCROWS_PREFIX = 'escrows-v1'
export const VOUCHERS_PREFIX = 'vouchers-v1'

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
   * Deletes the escrows of these ids and the latest vouchers kept for them (a payee's), in synced
   * batches: for escrows settled long ago (`RecordPruner`). Returns how many ids it was given.
   */
  async drop (escrowIds: readonly string[]): Promise<number> {
    await deleteKeys(this.db, escrowIds.flatMap((id) => [ESCROWS_PREFIX + '/' + id, VOUCHERS_PREFIX + '/' + id]))
    return escrowIds.length
  }

  async close (): Promise<void> {
    await this.db.close()
  }
}
