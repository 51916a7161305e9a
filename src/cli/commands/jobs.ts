import type { Command } from '../command.js'
import { flag, str } from '../command.js'
import { ApiClient } from '../client.js'
import { alpha, table } from '../format.js'
import type { JobView } from '../../node/daemon-routes.js'

/** `bazaar jobs`: the jobs of a running node, as supplier and as renter. */
export const jobsCommand: Command = {
  name: 'jobs',
  usage: `usage: bazaar jobs [--home <dir>] [--api <host:port>] [--json]

Lists the jobs of the running node: the jobs its supplier role ran since it started (with what the
latest voucher pays and how the escrow was settled) and the jobs it rented (stored in its database).`,
  options: { home: { type: 'string' }, api: { type: 'string' }, json: { type: 'boolean' } },
  async run (args, ctx) {
    const api = await ApiClient.fromHome({ home: str(args, 'home'), env: ctx.env, api: str(args, 'api') })
    const jobs = await api.call<JobView[]>('GET', '/v1/jobs')
    if (flag(args, 'json')) { ctx.out(JSON.stringify(jobs)); return 0 }
    if (jobs.length === 0) { ctx.out('no jobs'); return 0 }
    ctx.out(table(['role', 'id', 'state', 'exit', 'reason', 'agreement', 'paid α', 'settled'], jobs.map((j) => [
      j.role, j.id, j.state, j.signal ?? (j.exitCode != null ? String(j.exitCode) : ''), reasonText(j),
      j.agreementId != null ? j.agreementId.slice(0, 12) + '…' : '', j.paid != null ? alpha(j.paid) : '', j.settledBy ?? ''
    ])))
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
