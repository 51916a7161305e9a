/**
 * `bazaar rent`'s exit status once the node's summary has come: 0 for a job that exited 0, the job's
 * own exit code for one that exited non-zero (as `docker run` and `ssh` give it), 1 for a job ended
 * any other way. The node is a stand-in control API answering the rent stream with its summary.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../../src/cli/main.js'
import { standInApi, type StandInApi } from '../../helpers/stand-in-api.js'

let job: Record<string, unknown> = {}
let stand: StandInApi

beforeAll(async () => {
  const escrow = { id: '0x' + '11'.repeat(32), asset: 'alpha', unit: 'rao', locked: '10', paid: '4', refunded: '6', status: 'closed', records: [] }
  // the rent stream: the summary line alone
  stand = await standInApi(() => ({
    contentType: 'application/x-ndjson',
    body: JSON.stringify({ type: 'summary', agreementId: '22'.repeat(32), supplier: 'x', attestation: { ok: true, kind: 'simulated', measurement: '' }, job, vouchers: 1, escrow }) + '\n'
  }))
})

afterAll(async () => { await stand?.close() })

async function rent (): Promise<{ code: number, err: string[] }> {
  const err: string[] = []
  const code = await main(['rent', '--home', stand.home, '--api', stand.api, '--gpu', 'h100', '--max-price', '1', '--duration', '1m', '--json', '--', 'sh', '-c', 'exit 7'], { out: () => {}, err: (l) => err.push(l), env: {} })
  return { code, err }
}

describe('bazaar rent: the exit status after the summary', () => {
  it.each([
    { what: 'a job that exited 0', end: { reason: 'exited', exitCode: 0 }, code: 0, line: undefined },
    { what: 'a job that exited 7', end: { reason: 'exited', exitCode: 7 }, code: 7, line: /^bazaar rent: the job ended: .*exit code 7/ },
    { what: 'a job killed by a signal', end: { reason: 'exited', signal: 'SIGKILL' }, code: 1, line: /^bazaar rent: the job ended: .*killed by SIGKILL/ },
    { what: 'a job past its time', end: { reason: 'timeout', exitCode: 0 }, code: 1, line: /^bazaar rent: the job ended/ }
  ])('$what: exit $code', async ({ end, code, line }) => {
    job = { state: 'succeeded', ...end }
    const r = await rent()
    expect(r.code, r.err.join('\n')).toBe(code)
    if (line == null) expect(r.err).toEqual([])
    else expect(r.err).toEqual([expect.stringMatching(line)])
  })
})

describe('bazaar rent: the summary as a person reads it', () => {
  it('counts the vouchers the supplier acknowledged, beside what the escrow paid', async () => {
    job = { state: 'succeeded', reason: 'exited', exitCode: 0, outputs: [], missingOutputs: [] }
    const out: string[] = []
    const err: string[] = []
    const code = await main(['rent', '--home', stand.home, '--api', stand.api, '--gpu', 'h100', '--max-price', '1', '--duration', '1m', '--', 'true'], { out: (l) => out.push(l), err: (l) => err.push(l), env: {} })
    expect(code, err.join('\n')).toBe(0)
    expect(out.filter((l) => l.startsWith('done in'))).toEqual([expect.stringMatching(/^done in [0-9.]+s: 1 voucher acknowledged, /)])
  })
})
