/** keys deleted in one batch by `deleteKeys` */
export const DELETE_BATCH = 500

/**
 * Deletes `keys` from `db` in synced batches of DELETE_BATCH keys, so that no one write grows with
 * what is deleted: the node's pruning can delete a long history at once (its first run on a
 * database from before it).
 */
export async function deleteKeys (db: { batch: (ops: Array<{ type: 'del', key: string }>, opts: { sync: boolean }) => Promise<void> }, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += DELETE_BATCH) {
    await db.batch(keys.slice(i, i + DELETE_BATCH).map((key) => ({ type: 'del' as const, key })), { sync: true })
  }
}
