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

  it('closes the records an earlier run left queued or running as failed, and only those of the role asked', async () => {
    const store = new JobStore(db)
    await store.put(rec('queued'))
    await store.put(rec('running'))
    await store.transition('supplier', 'running', 'running', 2000)
    await store.put(rec('done'))
    await store.transition('supplier', 'done', 'running', 2000)
    await store.transition('supplier', 'done', 'succeeded', 3000, { exitCode: 0, reason: 'exited' })
    await store.put(rec('theirs', 'renter'))
    expect(await store.closeInterrupted('supplier', 'SUPPLIER_RESTARTED', 5000)).toBe(2)
    expect((await store.list({ role: 'supplier' })).map((r) => [r.id, r.state, r.detail ?? ''])).toEqual([
      ['done', 'succeeded', ''], ['queued', 'failed', 'SUPPLIER_RESTARTED'], ['running', 'failed', 'SUPPLIER_RESTARTED']
    ])
    expect((await store.get('supplier', 'running'))?.endedAt).toBe(5000)
    expect((await store.get('renter', 'theirs'))?.state).toBe('queued')
    expect(await store.closeInterrupted('supplier', 'SUPPLIER_RESTARTED', 6000)).toBe(0)
  })

  it('keeps two agreements\' jobs that share a renter-chosen id apart; the same agreement writes over its own', async () => {
    const store = new JobStore(db)
    const a = 'a'.repeat(64)
    const b = 'b'.repeat(64)
    expect(await store.putForAgreement({ ...rec('job-1'), agreementId: a })).toBe('job-1')
    expect(await store.putForAgreement({ ...rec('job-1'), agreementId: a, gpuCount: 2 })).toBe('job-1')
    expect(await store.putForAgreement({ ...rec('job-1'), agreementId: b })).toBe(`job-1.${'b'.repeat(16)}`)
    expect((await store.get('supplier', 'job-1'))).toMatchObject({ agreementId: a, gpuCount: 2 })
    expect((await store.get('supplier', `job-1.${'b'.repeat(16)}`))?.agreementId).toBe(b)
    // the longest id a renter may choose still makes a valid id
    const long = 'x'.repeat(64)
    await store.putForAgreement({ ...rec(long), agreementId: a })
    expect(await store.putForAgreement({ ...rec(long), agreementId: b })).toHaveLength(64)
  })

  it('lists every record unless a limit is asked: recovery at start sees past the first thousand', async () => {
    const store = new JobStore(db)
    for (let i = 0; i < 1200; i++) await store.put(rec(`j${String(i).padStart(4, '0')}`))
    expect(await store.list({ role: 'supplier' })).toHaveLength(1200)
    expect(await store.list({ role: 'supplier', limit: 1000 })).toHaveLength(1000)
  })

  it('recent: the records of a role created last, the latest first, ties in id order, past damaged ones', async () => {
    const store = new JobStore(db)
    const n = 1030
    // stored in an order unlike their ids' and their times'; j(2k) and j(2k+1) share a time
    for (let k = 0; k < n; k++) {
      const i = (k * 409) % n
      await store.put({ ...rec(`j${String(i).padStart(4, '0')}`), createdAt: 1000 + Math.floor(i / 2) })
    }
    await store.put({ ...rec('r', 'renter'), createdAt: 10_000 })
    await db.sublevel('jobs-v1').put('supplier/x', '{not json')
    const damaged: string[] = []
    const latest = await store.recent('supplier', 1000, (key) => { damaged.push(key) })
    const expected = Array.from({ length: n }, (_, i) => i).sort((a, b) => Math.floor(b / 2) - Math.floor(a / 2) || a - b).slice(0, 1000).map((i) => `j${String(i).padStart(4, '0')}`)
    expect(latest.map((r) => r.id)).toEqual(expected)
    expect(latest[0]!.id).toBe('j1028')
    expect(damaged).toEqual(['supplier/x'])
    expect((await store.recent('renter', 1000)).map((r) => r.id)).toEqual(['r'])
    expect(await store.recent('supplier', 0)).toEqual([])
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

describe('JobStore.prune: records of jobs done with go, their amounts stay in the totals', () => {
  /** a job of `role` that ended at `endedAt`, with an agreement and a settlement where given */
  const ended = (id: string, role: 'supplier' | 'renter', endedAt: number, opts: { agreement?: boolean, settlement?: JobRecord['settlement'], state?: JobRecord['state'] } = {}): JobRecord => ({
    ...rec(id, role),
    state: opts.state ?? 'succeeded',
    endedAt,
    updatedAt: endedAt,
    ...(opts.agreement !== false ? { agreementId: 'ab'.repeat(32) } : {}),
    ...(opts.settlement != null ? { settlement: opts.settlement } : {})
  })

  it('deletes ended jobs whose escrow settled or that had none, keeps the rest, and adds their amounts to the role\'s sums', async () => {
    const store = new JobStore(db)
    await store.put(ended('settled', 'supplier', 1000, { settlement: { paid: '100', carried: '5', settledBy: 'cooperative' } }))
    await store.put(ended('unsettled', 'supplier', 1000))
    await store.put(ended('no-escrow', 'supplier', 1000, { agreement: false, state: 'failed' }))
    await store.put(ended('recent', 'supplier', 2000, { settlement: { paid: '9', settledBy: 'arbiter' } }))
    await store.put({ ...rec('running'), state: 'running', updatedAt: 500 })
    await store.put(ended('refunded', 'renter', 1500, { settlement: { paid: '7', refunded: '93', settledBy: 'refund' } }))
    await db.sublevel('jobs-v1').put('supplier/damaged', '{not json')

    expect(await store.prunedTotals('supplier')).toEqual({ jobs: 0, paid: '0', refunded: '0', carried: '0' })
    expect(await store.prune(2000)).toBe(3)
    expect((await store.list({ role: 'supplier' })).map((r) => r.id)).toEqual(['recent', 'running', 'unsettled'])
    expect(await store.list({ role: 'renter' })).toEqual([])
    // a damaged record is left for the operator to see, not pruned
    expect(await db.sublevel('jobs-v1').get('supplier/damaged')).toBe('{not json')
    expect(await store.prunedTotals('supplier')).toEqual({ jobs: 2, paid: '100', refunded: '0', carried: '5' })
    expect(await store.prunedTotals('renter')).toEqual({ jobs: 1, paid: '7', refunded: '93', carried: '0' })

    // a later run adds to the sums, which outlive a reopen
    expect(await store.prune(2001)).toBe(1)
    await db.close()
    db = new Level(path.join(dir, 'db'))
    await db.open()
    const again = new JobStore(db)
    expect(await again.prunedTotals('supplier')).toEqual({ jobs: 3, paid: '109', refunded: '0', carried: '5' })
    expect(await again.prune(10_000)).toBe(0)
  })

  it('prunes past one batch, and sums each job once, two prunes at once too', async () => {
    const store = new JobStore(db)
    for (let i = 0; i < 1203; i++) await store.put(ended(`j${i}`, i % 3 === 0 ? 'renter' : 'supplier', 1000 + i, { settlement: { paid: String(i), refunded: '1', settledBy: 'cooperative' } }))
    expect(await Promise.all([store.prune(1000 + 600), store.prune(1000 + 1203)])).toEqual([600, 603])
    expect(await store.list()).toEqual([])
    const sum = (pick: (i: number) => boolean): string => String(Array.from({ length: 1203 }, (_, i) => i).filter(pick).reduce((a, b) => a + b, 0))
    expect(await store.prunedTotals('renter')).toEqual({ jobs: 401, paid: sum((i) => i % 3 === 0), refunded: '401', carried: '0' })
    expect(await store.prunedTotals('supplier')).toEqual({ jobs: 802, paid: sum((i) => i % 3 !== 0), refunded: '802', carried: '0' })
  })

  it('keeps this time the records its caller holds back, and lists what it would prune', async () => {
    const store = new JobStore(db)
    await store.put(ended('a', 'supplier', 1000, { agreement: false }))
    await store.put(ended('b', 'renter', 1000, { settlement: { paid: '3', settledBy: 'refund' } }))
    await store.put(ended('c', 'renter', 1000))
    const prunable: string[] = []
    for await (const r of store.prunable(2000)) prunable.push(r.id)
    expect(prunable).toEqual(['b', 'a'])
    expect(await store.prune(2000, (r) => r.id === 'b')).toBe(1)
    expect((await store.list()).map((r) => r.id)).toEqual(['b', 'c'])
    expect(await store.prune(2000)).toBe(1)
    expect(await store.prunedTotals('renter')).toEqual({ jobs: 1, paid: '3', refunded: '0', carried: '0' })
  })

  it('refuses damaged sums with INVALID_RECORD', async () => {
    const store = new JobStore(db)
    await db.sublevel('jobs-pruned-v1').put('supplier', '{"jobs":-1,"paid":"0","refunded":"0","carried":"0"}')
    const err = await store.prunedTotals('supplier').catch((e: unknown) => e)
    expect((err as JobStoreError).code).toBe('INVALID_RECORD')
    // and a prune of that role stops before deleting anything
    await store.put(ended('a', 'supplier', 1, { agreement: false }))
    expect(((await store.prune(2).catch((e: unknown) => e)) as JobStoreError).code).toBe('INVALID_RECORD')
    expect(await store.get('supplier', 'a')).toBeDefined()
  })
})

describe('JobStore records over the size it reads back', () => {
  // what the supplier records at a job's end: the renter chose the names (up to 256 of 1 KiB)
  const longName = (i: number): string => `${['a', 'b', 'c', 'd'].map((c) => c.repeat(250)).join('/')}/f${i}`
  const outputs = Array.from({ length: 256 }, (_, i) => ({ name: longName(i), sha256: 'ab'.repeat(32), bytes: i }))

  it('cuts the outputs of a supplier record to what fits, so that the role still lists its jobs', async () => {
    const store = new JobStore(db)
    await store.put(rec('a'))
    await store.put({ ...rec('b'), state: 'running' })
    const done = await store.transition('supplier', 'b', 'succeeded', 3000, { exitCode: 0, reason: 'exited', outputs })
    const listed = await store.list({ role: 'supplier' })
    expect(listed.map((r) => r.id)).toEqual(['a', 'b'])
    const b = listed[1]
    expect(b).toMatchObject({ state: 'succeeded', exitCode: 0, endedAt: 3000 })
    // a prefix of the outputs, and the count of those left out
    expect(b.outputs!.length).toBeGreaterThan(0)
    expect(b.outputs!.length).toBeLessThan(256)
    expect(b.outputs).toEqual(outputs.slice(0, b.outputs!.length))
    expect(b.cut).toEqual({ outputs: 256 - b.outputs!.length })
    expect(await store.get('supplier', 'b')).toEqual(b)
    // the record handed back is what was asked; a record that fits is stored as it is
    expect(done.outputs).toHaveLength(256)
    expect(listed[0]).not.toHaveProperty('cut')
  })

  it('cuts a renter record with long arguments and outputs, keeping what a restart needs while it fits', async () => {
    const store = new JobStore(db)
    const attach = { enclave: 'e', addrs: [], outputDir: '/out', outputs: outputs.slice(0, 50).map((o) => o.name) }
    // 128 KiB of control characters: each is six characters of JSON
    await store.put({ ...rec('r', 'renter'), args: Array.from({ length: 64 }, () => '\u0001'.repeat(2048)), attach })
    const r = (await store.list({ role: 'renter' }))[0]
    expect(r.attach).toEqual(attach)
    expect(r.args.length).toBeGreaterThan(0)
    expect(r.args.length).toBeLessThan(64)
    expect(r.cut).toEqual({ args: 64 - r.args.length })
    // a later transition keeps the count of the arguments it did not touch, and cuts the outputs
    await store.transition('renter', 'r', 'succeeded', 3000, { outputs })
    const done = (await store.list({ role: 'renter' }))[0]
    expect(done).toMatchObject({ state: 'succeeded', attach, args: r.args })
    expect(done.outputs!.length).toBeGreaterThan(0)
    expect(done.cut).toEqual({ args: 64 - r.args.length, outputs: 256 - done.outputs!.length })
  })

  it('lists past records it cannot read back and hands each to onDamaged', async () => {
    const store = new JobStore(db)
    await store.put(rec('a'))
    await store.put(rec('c'))
    const raw = db.sublevel('jobs-v1')
    await raw.put('supplier/b', '{not json')
    await raw.put('supplier/bb', JSON.stringify({ ...rec('bb'), outputs, pad: 'x'.repeat(300 * 1024) }))
    const damaged: Array<[string, string]> = []
    const listed = await store.list({ role: 'supplier', onDamaged: (key, err) => { damaged.push([key, err.code]) } })
    expect(listed.map((r) => r.id)).toEqual(['a', 'c'])
    expect(damaged).toEqual([['supplier/b', 'INVALID_RECORD'], ['supplier/bb', 'INVALID_RECORD']])
    // without a callback too
    expect((await store.list()).map((r) => r.id)).toEqual(['a', 'c'])
  })
})
