import type { Command } from '../command.js'
import { flag, str } from '../command.js'
import { ApiClient } from '../client.js'
import { alpha, table } from '../format.js'
import type { JobView } from '../../node/daemon-routes.js'
import { JOB_RETENTION_MS, JOBS_PAGE, JobSum, type JobTotals } from '../../jobs/page.js'

/** `bazaar jobs`: the jobs of a running node, as supplier and as renter. */
export const jobsCommand: Command = {
  name: 'jobs',
  usage: `usage: bazaar jobs [--home <dir>] [--api <host:port>] [--json]

Lists the jobs of the running node, from its database: the jobs its supplier role ran (with what the
latest voucher pays and how the escrow was settled) and the jobs it rented, the latest first, the
${JOBS_PAGE} latest of each. Below the table, each role's totals: what the supplier's jobs were paid,
and what the renter's paid and got back, over every job the node ran: a job's record is pruned
${JOB_RETENTION_MS / 86_400_000} days after its end once its escrow settled, and its amounts stay in the totals.`,
  options: { home: { type: 'string' }, api: { type: 'string' }, json: { type: 'boolean' } },
  async run (args, ctx) {
    const api = await ApiClient.fromHome({ home: str(args, 'home'), env: ctx.env, api: str(args, 'api') })
    const jobs = await api.call<JobView[]>('GET', '/v1/jobs')
    if (flag(args, 'json')) { ctx.out(JSON.stringify(jobs)); return 0 }
    if (jobs.length > 0) ctx.out(table(['role', 'id', 'state', 'exit', 'reason', 'agreement', 'paid α', 'settled'], jobs.map((j) => [
      j.role, j.id, j.state, j.signal ?? (j.exitCode != null ? String(j.exitCode) : ''), reasonText(j),
      j.agreementId != null ? j.agreementId.slice(0, 12) + '…' : '', j.paid != null ? alpha(j.paid) : '', j.settledBy ?? ''
    ])))
    // summed over every job by the node; a node from before that route has only its page to sum
    const all = await api.call<{ supplier?: JobTotals, renter?: JobTotals }>('GET', '/v1/jobs/totals').catch((err: unknown) => {
      if ((err as { code?: string }).code === 'NOT_FOUND') return undefined
      throw err
    })
    const lines = all != null ? totalLines(all) : totals(jobs)
    // a node whose every job was pruned still has their totals
    if (jobs.length === 0) ctx.out(lines.length > 0 ? `no job records (a job's record is pruned ${JOB_RETENTION_MS / 86_400_000} days after its end)` : 'no jobs')
    for (const line of lines) ctx.out(line)
    return 0
  }
}

/**
 * The table's reason: a failed job's code says more than "failed", which its state already says.
 * A detail begins with its code (`CHANNEL_CLOSED, not taken up again: ...`); `--json` has it whole.
 */
export function reasonText (j: Pick<JobView, 'reason' | 'detail'>): string {
  const code = /^[A-Z][A-Z0-9_]*\b/.exec(j.detail ?? '')?.[0]
  if (j.reason === 'failed' && code != null) return code
  return j.reason ?? j.detail ?? ''
}

/**
 * Each role's totals, one line each where it has jobs: a supplier's are paid by their latest
 * vouchers (a running job's so far), less what was too small to move and went back to the renter;
 * a renter's paid and refunded are those of the escrows that settled.
 */
export function totalLines (t: { supplier?: JobTotals, renter?: JobTotals }, count: (n: number) => string = jobCount): string[] {
  const lines: string[] = []
  const label = (r: JobTotals): string => count(r.jobs) + (r.pruned != null && r.pruned > 0 ? ` (${r.pruned} of them pruned, ended over ${JOB_RETENTION_MS / 86_400_000} days ago)` : '')
  if (t.supplier != null) {
    const carried = BigInt(t.supplier.carried)
    const back = carried > 0n ? ` (${alpha(carried)} α of it too small to move, back to the renters)` : ''
    lines.push(`supplier: ${label(t.supplier)}, paid ${alpha(BigInt(t.supplier.paid))} α by their latest vouchers${back}`)
  }
  if (t.renter != null) {
    const carried = BigInt(t.renter.carried)
    const back = carried > 0n ? ` (${alpha(carried)} α of it too small to move, back here)` : ''
    lines.push(`renter: ${label(t.renter)}, paid ${alpha(BigInt(t.renter.paid))} α${back}, refunded ${alpha(BigInt(t.renter.refunded))} α`)
  }
  return lines
}

const jobCount = (n: number): string => `${n} job${n === 1 ? '' : 's'}`

/**
 * The totals of the jobs listed (a node without `/v1/jobs/totals`): past a full page they are
 * those of the latest jobs, and say so.
 */
export function totals (jobs: ReadonlyArray<Pick<JobView, 'role' | 'paid' | 'refunded' | 'carried'>>): string[] {
  const t: { supplier?: JobTotals, renter?: JobTotals } = {}
  for (const role of ['supplier', 'renter'] as const) {
    const sum = new JobSum()
    for (const j of jobs) if (j.role === role) sum.add(j)
    if (sum.jobs > 0) t[role] = sum.totals
  }
  return totalLines(t, (n) => n >= JOBS_PAGE ? `the ${n} latest jobs` : jobCount(n))
}
