/**
 * What `bazaar jobs` prints for the daemon's answer: the control API is a local stand-in here that
 * answers with job views as the daemon writes them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../../src/cli/main.js'
import { reasonText, totals } from '../../../src/cli/commands/jobs.js'
import { JOB_RETENTION_MS, JOBS_PAGE } from '../../../src/jobs/page.js'
import { standInApi, type StandInApi } from '../../helpers/stand-in-api.js'

describe('bazaar jobs', () => {
  let stand: StandInApi
  let answer: unknown = []
  // the node's sums over every job; undefined: a node from before that route (404)
  let sums: unknown
  beforeAll(async () => {
    stand = await standInApi((path) => {
      if (path !== '/v1/jobs/totals') return { contentType: 'application/json', body: JSON.stringify(answer) }
      return sums != null
        ? { contentType: 'application/json', body: JSON.stringify(sums) }
        : { contentType: 'application/json', status: 404, body: JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no such endpoint: /v1/jobs/totals' } }) }
    })
  })
  afterAll(async () => { await stand?.close() })

  async function run (...extra: string[]): Promise<{ code: number, out: string[] }> {
    const out: string[] = []
    const code = await main(['jobs', '--home', stand.home, '--api', stand.api, ...extra], { out: (l) => out.push(l), err: (l) => out.push(l), env: {} })
    return { code, out }
  }

  it('a failed job shows its code as the reason, a cancelled one its signal as the exit, a supplier\'s restart its detail', async () => {
    const detail = 'CHANNEL_CLOSED, not taken up again: the enclave answered UNKNOWN_AGREEMENT: its supplier restarted or ended the agreement'
    answer = [
      { role: 'renter', id: 'job-1', state: 'failed', exitCode: -1, reason: 'failed', detail, agreementId: 'ab'.repeat(32), paid: '19511111', unit: 'rao', settledBy: 'arbiter' },
      { role: 'renter', id: 'job-2', state: 'cancelled', exitCode: -1, signal: 'SIGTERM', reason: 'cancelled', agreementId: 'cd'.repeat(32), paid: '6111111', unit: 'rao', settledBy: 'cooperative' },
      { role: 'supplier', id: 'job-3', state: 'failed', detail: 'SUPPLIER_RESTARTED', agreementId: 'ab'.repeat(32) }
    ]
    const { code, out } = await run()
    expect(code).toBe(0)
    const rows = out.join('\n').split('\n')
    expect(rows[0]).toMatch(/^role\s+id\s+state\s+exit\s+reason\s+agreement\s+paid α\s+settled$/)
    expect(rows[1]).toMatch(/^renter\s+job-1\s+failed\s+-1\s+CHANNEL_CLOSED\s+abababababab…\s+0\.019511111\s+arbiter$/)
    expect(rows[2]).toMatch(/^renter\s+job-2\s+cancelled\s+SIGTERM\s+cancelled\s+cdcdcdcdcdcd…\s+0\.006111111\s+cooperative$/)
    expect(rows[3]).toMatch(/^supplier\s+job-3\s+failed\s+SUPPLIER_RESTARTED\s+abababababab…\s*$/)
    // each role's totals below the table: a node without the totals route, those of the jobs listed
    expect(rows.slice(4)).toEqual(['supplier: 1 job, paid 0 α by their latest vouchers', 'renter: 2 jobs, paid 0.025622222 α, refunded 0 α'])
    // a node's own sums over every job it keeps
    sums = { supplier: { jobs: 1500, paid: '2500000000', refunded: '0', carried: '1000' }, renter: { jobs: 2, paid: '25622222', refunded: '7000000000', carried: '0' }, unit: 'rao' }
    expect((await run()).out.slice(-2)).toEqual(['supplier: 1500 jobs, paid 2.5 α by their latest vouchers (0.000001 α of it too small to move, back to the renters)', 'renter: 2 jobs, paid 0.025622222 α, refunded 7 α'])
    // jobs whose records were pruned count in the totals, and the line says how many
    sums = { supplier: { jobs: 1500, paid: '2500000000', refunded: '0', carried: '0', pruned: 1200 }, unit: 'rao' }
    expect((await run()).out.slice(-1)).toEqual([`supplier: 1500 jobs (1200 of them pruned, ended over ${JOB_RETENTION_MS / 86_400_000} days ago), paid 2.5 α by their latest vouchers`])
    sums = undefined
    // --json keeps the whole detail
    expect(JSON.parse((await run('--json')).out[0])[0].detail).toBe(detail)
  })

  it('no jobs: says so, and where every record was pruned, gives the totals still', async () => {
    answer = []
    sums = { unit: 'rao' }
    expect(await run()).toEqual({ code: 0, out: ['no jobs'] })
    // a node from before the totals route
    sums = undefined
    expect(await run()).toEqual({ code: 0, out: ['no jobs'] })
    sums = { supplier: { jobs: 2, paid: '16700000', refunded: '0', carried: '0', pruned: 2 }, unit: 'rao' }
    const days = JOB_RETENTION_MS / 86_400_000
    expect(await run()).toEqual({ code: 0, out: [`no job records (a job's record is pruned ${days} days after its end)`, `supplier: 2 jobs (2 of them pruned, ended over ${days} days ago), paid 0.0167 α by their latest vouchers`] })
    sums = undefined
  })

  it('totals: the supplier\'s by their vouchers less what was carried back, the renter\'s paid and refunded', () => {
    expect(totals([
      { role: 'supplier', paid: '1000000000' },
      { role: 'supplier', paid: '250000000', carried: '2780555' },
      { role: 'supplier' },
      { role: 'renter', paid: '13950000', refunded: '319383334' },
      { role: 'renter', paid: '2780555', refunded: '830552779', carried: '2780555' }
    ])).toEqual([
      'supplier: 3 jobs, paid 1.25 α by their latest vouchers (0.002780555 α of it too small to move, back to the renters)',
      'renter: 2 jobs, paid 0.016730555 α (0.002780555 α of it too small to move, back here), refunded 1.149936113 α'
    ])
    expect(totals([{ role: 'renter' }])).toEqual(['renter: 1 job, paid 0 α, refunded 0 α'])
    // a full page: the totals are those of the latest jobs listed, and say so
    expect(totals(Array.from({ length: JOBS_PAGE }, () => ({ role: 'supplier' as const, paid: '1000000000' })))).toEqual([`supplier: the ${JOBS_PAGE} latest jobs, paid ${JOBS_PAGE} α by their latest vouchers`])
    expect(totals([])).toEqual([])
  })

  it('the reason column: a code only where the detail begins with one', () => {
    expect(reasonText({ reason: 'failed', detail: 'OUTPUT_HASH_MISMATCH' })).toBe('OUTPUT_HASH_MISMATCH')
    expect(reasonText({ reason: 'failed', detail: 'the channel ended' })).toBe('failed')
    expect(reasonText({ reason: 'failed' })).toBe('failed')
    expect(reasonText({ reason: 'exited', detail: 'SPAWN_FAILED' })).toBe('exited')
    expect(reasonText({ detail: 'NO_MATCH' })).toBe('NO_MATCH')
    expect(reasonText({})).toBe('')
  })
})
