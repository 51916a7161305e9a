import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Level } from 'level'
import { describe, expect, it } from 'vitest'
import { DELETE_BATCH, deleteKeys } from '../../../src/util/level-delete.js'

describe('deleteKeys', () => {
  it(`deletes in synced batches of ${DELETE_BATCH} keys`, async () => {
    const batches: Array<{ size: number, sync: boolean }> = []
    const keys = Array.from({ length: 2 * DELETE_BATCH + 1 }, (_, i) => `k${i}`)
    const seen: string[] = []
    await deleteKeys({ batch: async (ops, opts) => { batches.push({ size: ops.length, sync: opts.sync }); seen.push(...ops.filter((o) => o.type === 'del').map((o) => o.key)) } }, keys)
    expect(batches).toEqual([{ size: DELETE_BATCH, sync: true }, { size: DELETE_BATCH, sync: true }, { size: 1, sync: true }])
    expect(seen).toEqual(keys)
    await deleteKeys({ batch: async () => { throw new Error('no batch for no keys') } }, [])
  })

  it('leaves the other keys of a level database', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bazaar-level-delete-'))
    const db = new Level<string, string>(dir)
    try {
      await db.batch(Array.from({ length: 1200 }, (_, i) => ({ type: 'put' as const, key: `k${String(i).padStart(4, '0')}`, value: 'v' })))
      await deleteKeys(db, Array.from({ length: 1100 }, (_, i) => `k${String(i).padStart(4, '0')}`))
      expect(await db.keys().all()).toEqual(Array.from({ length: 100 }, (_, i) => `k${1100 + i}`))
    } finally {
      await db.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
