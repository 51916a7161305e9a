import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Level } from 'level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { JobStore, JobStoreError, stateForResult } from '../../../src/jobs/index.js'
import type { JobRecord } from '../../../src/jobs/index.js'

let dir: string
let db: Level<string, string>

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'bazaar-jobstore-'))
  db = new Level(path.join(dir, 'db'))
  await db.open()
})

afterEach(async () => {
  await db.close()
  await rm(dir, { recursive: true, force: true })
})

const rec = (id: string, role: 'supplier' | 'renter' = 'supplier'): JobRecord => ({
  id, role, state: 'queued', command: 'python3', args: ['a.py'], gpuCount: 1, createdAt: 1000, updatedAt: 1000
})

describe('JobStore', () => {
  it('puts, gets and lists by role and state, surviving a reopen', async () => {
    const store = new JobStore(db)
    await store.put(rec('a'))
    await store.put(rec('b'))
    await store.put(rec('a', 'renter'))
    await store.transition('supplier', 'b', 'running', 2000, { gpuIndices: [3] })
    await db.close()
    db = new Level(path.join(dir, 'db'))
    await db.open()
    const again = new JobStore(db)
    expect(await again.get('supplier', 'b')).toMatchObject({ state: 'running', startedAt: 2000, gpuIndices: [3] })
    expect(await again.get('supplier', 'zz')).toBeUndefined()
    expect((await again.list({ role: 'supplier' })).map((r) => r.id)).toEqual(['a', 'b'])
    expect((await again.list({ state: 'queued' })).map((r) => `${r.role}/${r.id}`)).toEqual(['renter/a', 'supplier/a'])
    // keys live under the versioned sublevel prefix
    const keys = await db.keys().all()
    expect(keys.every((k) => k.startsWith('!jobs-v1!'))).toBe(true)
  })

  it('records the end of a job once', async () => {
    const store = new JobStore(db)
    await store.put(rec('a'))
    await store.transition('supplier', 'a', 'running', 2000)
    const done = await store.transition('supplier', 'a', stateForResult('exited', 3), 3000, { exitCode: 3, reason: 'exited' })
    expect(done).toMatchObject({ state: 'failed', endedAt: 3000, exitCode: 3 })
    const err = await store.transition('supplier', 'a', 'running', 4000).catch((e: unknown) => e)
    expect((err as JobStoreError).code).toBe('INVALID_TRANSITION')
    const missing = await store.transition('supplier', 'nope', 'running', 4000).catch((e: unknown) => e)
    expect((missing as JobStoreError).code).toBe('NOT_FOUND')
  })

  it.each([
    ['exited', 0, 'succeeded'], ['exited', 3, 'failed'], ['cancelled', -1, 'cancelled'],
    ['timeout', -1, 'timeout'], ['budget', -1, 'failed'], ['failed', -1, 'failed']
  ] as const)('stateForResult(%s, %i) = %s', (reason, code, state) => {
    expect(stateForResult(reason, code)).toBe(state)
  })

  it('refuses bad records and damaged values with INVALID_RECORD', async () => {
    const store = new JobStore(db)
    for (const bad of [{ ...rec('a'), id: '../x' }, { ...rec('a'), state: 'exploded' }, { ...rec('a'), gpuCount: 'x' }]) {
      const err = await store.put(bad as never).catch((e: unknown) => e)
      expect((err as JobStoreError).code).toBe('INVALID_RECORD')
    }
    await db.sublevel('jobs-v1').put('supplier/x', '{not json')
    const err = await store.get('supplier', 'x').catch((e: unknown) => e)
    expect((err as JobStoreError).code).toBe('INVALID_RECORD')
  })
})
