import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Level } from 'level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RecordPruner } from '../../../src/node/services/record-pruner.js'
import { silentLogger } from '../../../src/node/logger.js'
import { AGREEMENT_PRUNE_INTERVAL_MS, AGREEMENT_RETENTION_MS, AgreementStore } from '../../../src/market/index.js'
import { JobStore, type JobRecord } from '../../../src/jobs/store.js'
import { JOB_RETENTION_MS } from '../../../src/jobs/page.js'
import type { LevelEscrowStore, LocalEscrow } from '../../../src/escrow/store/escrows.js'
import { EscrowDb } from '../../../src/escrow/store/db.js'
import { SCAN_AFTER_EXPIRY_MS } from '../../../src/escrow/service.js'
import { ARBITER_ESCROW_RETENTION_MS } from '../../../src/escrow/constants.js'
import { ManualClock } from '../../../src/util/clock.js'
import { Registry } from '../../../src/node/metrics.js'
import { escrowId, parties, terms } from '../escrow/fixtures.js'
import { recordingLogger } from '../../helpers/nodes.js'

/** an agreement record with distinct terms (the store keys records by the terms' hash) */
const signed = (n: number): Parameters<AgreementStore['put']>[0] =>
  ({ terms: new Uint8Array([n, 1, 2, 3]), renterCert: undefined, renterSignature: new Uint8Array(), supplierCert: undefined, supplierSignature: new Uint8Array() })

const p = await parties()

describe('RecordPruner: records past their retention go on the node clock', () => {
  let dir = ''
  let db: Level<string, string>
  let agreements: AgreementStore
  let jobs: JobStore
  let escrowDb: EscrowDb
  let escrows: LevelEscrowStore
  const clock = new ManualClock()

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'bazaar-pruner-'))
    db = new Level<string, string>(path.join(dir, 'db'), { valueEncoding: 'utf8' })
    await db.open()
    agreements = new AgreementStore(db)
    jobs = new JobStore(db)
    escrowDb = await EscrowDb.open(path.join(dir, 'escrow'))
    escrows = escrowDb.escrows
  })
  afterEach(async () => {
    await db.close()
    await escrowDb.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('prunes dormant agreements at start and at each interval, keeps the active ones, and leaves no timer after stop', async () => {
    const stale = await agreements.put(signed(1), 'renter', 'lapsed', clock.now() - AGREEMENT_RETENTION_MS - 1)
    const active = await agreements.put(signed(2), 'renter', 'active', clock.now() - AGREEMENT_RETENTION_MS - 1)
    // lapsed now: dormant, but within the retention until the clock moves past it
    const later = await agreements.put(signed(3), 'supplier', 'lapsed', clock.now())
    const pruner = new RecordPruner({ agreements, clock, logger: silentLogger })
    await pruner.start()
    expect(clock.pending).toBe(1)
    // the start's run, queued first
    expect(await pruner.prune()).toEqual({ agreements: 0, jobs: 0, escrows: 0 })
    expect(await agreements.get(stale)).toBeUndefined()
    expect(await agreements.get(later)).toBeDefined()

    await clock.advanceAsync(AGREEMENT_RETENTION_MS + AGREEMENT_PRUNE_INTERVAL_MS)
    await pruner.prune()
    expect(await agreements.get(later)).toBeUndefined()
    expect((await agreements.list()).map((r) => r.hash)).toEqual([active])

    await pruner.stop()
    expect(clock.pending).toBe(0)
    // a stopped pruner prunes nothing
    await agreements.put(signed(4), 'renter', 'lapsed', clock.now() - AGREEMENT_RETENTION_MS - 1)
    expect((await pruner.prune()).agreements).toBe(0)
  })

  it(`prunes job records ${JOB_RETENTION_MS / 86_400_000} days after their end once settled, and an arbiter's unasked escrows ${ARBITER_ESCROW_RETENTION_MS / 86_400_000} days past their expiry`, async () => {
    const now = clock.now()
    const job = (id: string, endedAt: number): JobRecord => ({ id, role: 'supplier', state: 'succeeded', command: 'x', args: [], gpuCount: 1, createdAt: endedAt - 1, updatedAt: endedAt, endedAt, agreementId: 'ab'.repeat(32), settlement: { paid: '10', settledBy: 'cooperative' } })
    await jobs.put(job('old', now - JOB_RETENTION_MS - 1))
    await jobs.put(job('kept', now - JOB_RETENTION_MS + 1))
    const escrow = (n: number, role: LocalEscrow['role'], expiresAt: number, unasked: boolean): LocalEscrow =>
      ({ terms: terms(p, { escrowId: escrowId(n), expiresAt }), role, createdAt: now, ...(unasked ? { unasked: true as const } : {}) })
    const expired = now - ARBITER_ESCROW_RETENTION_MS - 1
    await escrows.put(escrow(1, 'arbiter', expired, true))
    await escrows.put(escrow(2, 'arbiter', expired, false))
    await escrows.put(escrow(3, 'payer', expired, false))
    await escrows.put(escrow(4, 'payee', expired, false))
    await escrows.put(escrow(5, 'arbiter', now - ARBITER_ESCROW_RETENTION_MS + 1, true))
    const { logger, records } = recordingLogger(() => true)
    const pruner = new RecordPruner({ agreements, jobs, escrowDb, clock, logger })
    expect(await pruner.prune()).toEqual({ agreements: 0, jobs: 1, escrows: 1 })
    expect((await jobs.list()).map((j) => j.id)).toEqual(['kept'])
    expect(await jobs.prunedTotals('supplier')).toEqual({ jobs: 1, paid: '10', refunded: '0', carried: '0' })
    expect((await escrows.list()).map((e) => e.terms.escrowId)).toEqual([2, 3, 4, 5].map(escrowId))
    expect(records.filter((l) => l.msg.startsWith('pruned')).map((l) => [l.msg, l.fields.count])).toEqual([['pruned job records', 1], ['pruned escrows this arbiter is done with', 1]])

    await clock.advanceAsync(2)
    expect(await pruner.prune()).toEqual({ agreements: 0, jobs: 1, escrows: 1 })
    expect(await jobs.list()).toEqual([])
    expect((await escrows.list()).map((e) => e.terms.escrowId)).toEqual([2, 3, 4].map(escrowId))
  })

  it('prunes with each settled job\'s record its agreement and the escrow this node paid or was paid from, with its voucher; a job whose escrow expired too recently waits for it', async () => {
    const now = clock.now()
    const old = now - JOB_RETENTION_MS - 1
    // agreement n, as the node stored it: its hash is the job's agreement id, and its escrow's id
    const agreement = async (n: number, role: 'supplier' | 'renter'): Promise<string> => await agreements.put(signed(n), role, 'active', old)
    const job = (id: string, role: 'supplier' | 'renter', agreementId: string, settled: boolean): JobRecord => ({ id, role, state: 'succeeded', command: 'x', args: [], gpuCount: 1, createdAt: old, updatedAt: old, endedAt: old, agreementId, ...(settled ? { settlement: { paid: '10', refunded: '90', settledBy: 'cooperative' as const } } : {}) })
    const escrow = (agreementId: string, role: LocalEscrow['role'], expiresAt: number): LocalEscrow => ({ terms: terms(p, { escrowId: '0x' + agreementId, expiresAt }), role, createdAt: old })
    const expired = now - SCAN_AFTER_EXPIRY_MS - 1
    // settled, escrow long expired: all three go, and the payee's latest voucher with the escrow
    const paid = await agreement(11, 'supplier')
    await jobs.put(job('paid', 'supplier', paid, true))
    await escrows.put(escrow(paid, 'payee', expired))
    await escrowDb.vouchers.put({ escrowId: '0x' + paid, cumulative: 10n, sequence: 3n, signature: '0x' + '11'.repeat(64) })
    const rented = await agreement(12, 'renter')
    await jobs.put(job('rented', 'renter', rented, true))
    await escrows.put(escrow(rented, 'payer', expired))
    // settled, but its escrow expired under SCAN_AFTER_EXPIRY_MS ago: all wait
    const late = await agreement(13, 'supplier')
    await jobs.put(job('late', 'supplier', late, true))
    await escrows.put(escrow(late, 'payee', now - SCAN_AFTER_EXPIRY_MS + 1))
    // not settled: all stay
    const unsettled = await agreement(14, 'supplier')
    await jobs.put(job('unsettled', 'supplier', unsettled, false))
    await escrows.put(escrow(unsettled, 'payee', expired))
    // a settled job whose escrow the node does not hold: the record and its agreement go
    const noEscrow = await agreement(15, 'renter')
    await jobs.put(job('no-escrow', 'renter', noEscrow, true))
    // an escrow no job names stays
    await escrows.put(escrow('ff'.repeat(32), 'payer', expired))

    const { logger, records } = recordingLogger(() => true)
    const counter = new Registry().counter('bazaar_records_pruned_total', 'records pruned')
    const pruner = new RecordPruner({ agreements, jobs, escrowDb, clock, logger, pruned: counter })
    expect(await pruner.prune()).toEqual({ agreements: 3, jobs: 3, escrows: 2 })
    expect([counter.get({ kind: 'agreements' }), counter.get({ kind: 'jobs' }), counter.get({ kind: 'escrows' })]).toEqual([3, 3, 2])
    expect((await jobs.list()).map((j) => `${j.role}/${j.id}`)).toEqual(['supplier/late', 'supplier/unsettled'])
    expect((await escrows.list()).map((e) => e.terms.escrowId).sort()).toEqual([late, unsettled, 'ff'.repeat(32)].map((h) => '0x' + h).sort())
    expect((await agreements.list()).map((a) => a.hash).sort()).toEqual([late, unsettled].sort())
    expect(await escrowDb.vouchers.latest('0x' + paid)).toBeUndefined()
    expect(await jobs.prunedTotals('renter')).toEqual({ jobs: 2, paid: '20', refunded: '180', carried: '0' })
    expect(records.filter((l) => l.msg.startsWith('pruned')).map((l) => [l.msg, l.fields.count])).toEqual([
      ['pruned the agreements of job records done with', 3], ['pruned settled escrows with their job records', 2], ['pruned job records', 3]
    ])

    // once its escrow expired long enough, the held job goes with it
    await clock.advanceAsync(2)
    expect(await pruner.prune()).toEqual({ agreements: 1, jobs: 1, escrows: 1 })
    expect([counter.get({ kind: 'agreements' }), counter.get({ kind: 'jobs' }), counter.get({ kind: 'escrows' })]).toEqual([4, 4, 3])
    expect((await jobs.list()).map((j) => j.id)).toEqual(['unsettled'])
    expect((await agreements.list()).map((a) => a.hash)).toEqual([unsettled])
  })

  it('a kind whose pruning fails is logged and the others still go', async () => {
    await db.sublevel('jobs-pruned-v1').put('renter', 'damaged')
    const expired = clock.now() - ARBITER_ESCROW_RETENTION_MS - 1
    await escrows.put({ terms: terms(p, { escrowId: escrowId(1), expiresAt: expired }), role: 'arbiter', createdAt: 0, unasked: true })
    const { logger, records } = recordingLogger(() => true)
    const pruner = new RecordPruner({ agreements, jobs, escrowDb, clock, logger })
    expect(await pruner.prune()).toEqual({ agreements: 0, jobs: 0, escrows: 1 })
    expect(records.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual(['pruning job records failed'])
  })
})
