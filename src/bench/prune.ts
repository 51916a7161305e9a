/**
 * `npm run bench:prune`: what the node's record pruning costs and saves on a supplier with a long
 * history.
 *
 *   node dist/bench/prune.js [--jobs 100000] [--json]
 *
 * Fills a fresh database as a supplier's would be after `--jobs` rentals that ended over 30 days
 * ago, each with its job record (settled), its agreement and the escrow it was paid from (expired)
 * with its latest voucher. Then times, before and after one pruning run (`RecordPruner`), what
 * reads them all: the totals of `bazaar jobs` (`GET /v1/jobs/totals`), its page of the latest
 * jobs, and a pass over every escrow (a supplier's start, each sweep, `scanStart`); and the run
 * itself. Prints the figures and the database's size on disk before and after.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { Level } from 'level'
import { LEVEL_OPTIONS } from '../util/level-options.js'
import { JobStore, type JobRecord } from '../jobs/store.js'
import { JOB_RETENTION_MS, JOBS_PAGE, JobSum } from '../jobs/page.js'
import { AgreementStore } from '../market/agreement/store.js'
import { agreementHash } from '../market/agreement/terms.js'
import { StoredAgreement } from '../wire/agreement.js'
import { EscrowDb } from '../escrow/store/db.js'
import { toJson } from '../escrow/chain/embedded/codec.js'
import type { LocalEscrow } from '../escrow/store/escrows.js'
import { RecordPruner } from '../node/services/record-pruner.js'
import { silentLogger } from '../node/logger.js'
import { ManualClock } from '../util/clock.js'

const { values } = parseArgs({ options: { jobs: { type: 'string' }, json: { type: 'boolean' } } })
const N = Math.max(1, Number(values.jobs ?? 100_000))
const results: Record<string, number> = { jobs: N }

const dir = await mkdtemp(path.join(tmpdir(), 'bazaar-bench-prune-'))
const clock = new ManualClock()
const ended = clock.now() - JOB_RETENTION_MS - 24 * 3_600_000
const payer = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty'
const payee = '5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y'

async function size (d: string): Promise<number> {
  let n = 0
  for (const e of await readdir(d, { withFileTypes: true })) n += e.isDirectory() ? await size(path.join(d, e.name)) : (await stat(path.join(d, e.name))).size
  return n
}

async function timed (name: string, f: () => Promise<unknown>): Promise<void> {
  const t = performance.now()
  await f()
  results[name] = Math.round(performance.now() - t)
}

try {
  // the history, written in batches (the node writes each record as it happens)
  const db = new Level<string, string>(path.join(dir, 'db'), { ...LEVEL_OPTIONS, valueEncoding: 'utf8' })
  await db.open()
  const escrowLevel = new Level<string, string>(path.join(dir, 'escrow'), { ...LEVEL_OPTIONS, valueEncoding: 'utf8' })
  await escrowLevel.open()
  const jobsDb = db.sublevel<string, string>('jobs-v1', { valueEncoding: 'utf8' })
  const agreementsDb = db.sublevel<string, Uint8Array>('agreements', { keyEncoding: 'utf8', valueEncoding: 'view' })
  for (let i = 0; i < N; i += 1000) {
    const jobOps = []; const agreementOps = []; const escrowOps = []
    for (let k = i; k < Math.min(N, i + 1000); k++) {
      const terms = new TextEncoder().encode(`bench agreement ${k}`)
      const hash = Buffer.from(agreementHash(terms)).toString('hex')
      const job: JobRecord = { id: `job-${k}`, role: 'supplier', state: 'succeeded', agreementId: hash, command: 'python3', args: ['train.py'], gpuCount: 1, createdAt: ended - 60_000, updatedAt: ended, startedAt: ended - 60_000, endedAt: ended, exitCode: 0, reason: 'exited', settlement: { paid: '8350000', settledBy: 'cooperative' } }
      jobOps.push({ type: 'put' as const, key: `supplier/${job.id}`, value: JSON.stringify(job) })
      agreementOps.push({ type: 'put' as const, key: `v1/${hash}`, value: StoredAgreement.encode({ agreement: { terms, renterSignature: new Uint8Array(64), supplierSignature: new Uint8Array(64) }, role: 'supplier', status: 'active', updatedAt: BigInt(ended), peer: '' }) })
      const escrow: LocalEscrow = { terms: { escrowId: '0x' + hash, agreementHash: '0x' + hash, payer, payee, arbiter: payer, amount: 833_333_334n, netuid: 1, voucherKey: '0x' + '11'.repeat(32), expiresAt: ended + 3_600_000 }, role: 'payee', createdAt: ended - 60_000, openBlock: k }
      escrowOps.push({ type: 'put' as const, key: `escrows-v1/0x${hash}`, value: toJson(escrow) })
      escrowOps.push({ type: 'put' as const, key: `vouchers-v1/0x${hash}`, value: JSON.stringify({ cumulative: '8350000', sequence: '4', signature: '0x' + '22'.repeat(64) }) })
    }
    await jobsDb.batch(jobOps)
    await agreementsDb.batch(agreementOps)
    await escrowLevel.batch(escrowOps)
  }
  await escrowLevel.close()
  const escrowDb = await EscrowDb.open(path.join(dir, 'escrow'))
  const jobs = new JobStore(db)
  const agreements = new AgreementStore(db)
  results.diskBeforeKiB = Math.round((await size(dir)) / 1024)

  const reads = async (when: string): Promise<void> => {
    await timed(`${when}TotalsMs`, async () => {
      const sum = new JobSum()
      sum.addPruned(await jobs.prunedTotals('supplier'))
      for await (const j of jobs.records('supplier')) sum.add(j.settlement ?? {})
      if (sum.jobs !== N) throw new Error(`totals counted ${sum.jobs} jobs of ${N}`)
    })
    await timed(`${when}PageMs`, async () => await jobs.recent('supplier', JOBS_PAGE))
    await timed(`${when}EscrowsMs`, async () => { for await (const e of escrowDb.escrows.all()) void e })
  }
  await reads('before')
  const pruner = new RecordPruner({ agreements, jobs, escrowDb, clock, logger: silentLogger })
  let pruned = { agreements: 0, jobs: 0, escrows: 0 }
  await timed('pruneMs', async () => { pruned = await pruner.prune() })
  if (pruned.jobs !== N || pruned.escrows !== N || pruned.agreements !== N) throw new Error(`pruned ${JSON.stringify(pruned)} of ${N} each`)
  await reads('after')
  await db.close()
  await escrowDb.close()
  results.diskAfterKiB = Math.round((await size(dir)) / 1024)
} finally {
  await rm(dir, { recursive: true, force: true })
}

if (values.json === true) console.log(JSON.stringify(results))
else {
  const row = (label: string, text: string): void => { console.log(`  ${label.padEnd(36)} ${text}`) }
  console.log(`a supplier's history of ${N} rentals ended over 30 days ago (job record, agreement, escrow and voucher each)`)
  row('bazaar jobs totals (every record)', `${results.beforeTotalsMs} ms before pruning, ${results.afterTotalsMs} ms after`)
  row(`bazaar jobs page (${JOBS_PAGE} latest)`, `${results.beforePageMs} ms before, ${results.afterPageMs} ms after`)
  row('a pass over every escrow', `${results.beforeEscrowsMs} ms before, ${results.afterEscrowsMs} ms after`)
  row('the pruning run', `${results.pruneMs} ms (${N} jobs, ${N} agreements, ${N} escrows)`)
  // LevelDB deletes by writing tombstones: the space comes back as its compactions run
  row('databases on disk', `${results.diskBeforeKiB} KiB before, ${results.diskAfterKiB} KiB after (deletions free space at LevelDB's compactions)`)
}
