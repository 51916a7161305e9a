import { describe, expect, it } from 'vitest'
import { rentalsToResume } from '../../../src/node/services/renter.js'
import { escrowIdOfAgreement } from '../../../src/escrow/index.js'
import type { JobRecord } from '../../../src/jobs/index.js'

const attach = { enclave: '12D3KooWEnclave', addrs: ['/ip4/127.0.0.1/tcp/4102'], outputDir: '/tmp/out', outputs: ['out.txt'], maxDurationMs: 60_000 }
const record = (over: Partial<JobRecord>): JobRecord => ({
  id: 'job-1', role: 'renter', state: 'running', agreementId: 'ab'.repeat(32), command: 'python3', args: [], gpuCount: 1,
  createdAt: 1_000, updatedAt: 2_000, startedAt: 1_500, ...over
})

describe('the rentals a restarted renter takes up again', () => {
  it('counts a job from its own start, not from the attestation the record kept until then', () => {
    const rentals = rentalsToResume([record({ attach: { ...attach, startedAt: 1_800 } })])
    expect([...rentals.entries()]).toEqual([[escrowIdOfAgreement('ab'.repeat(32)), { ...attach, agreementId: 'ab'.repeat(32), startedAt: 1_800 }]])
  })

  it('does not take up a job whose start was never recorded (a renter stopped between the attestation and the start): its escrow settles on the last voucher', () => {
    // `startedAt` here is the attestation's: counted from it, a supplier could claim the setup as used time
    expect(rentalsToResume([record({ attach })]).size).toBe(0)
  })

  it('takes up only running jobs with an agreement and what it needs to reach them', () => {
    const ok = { attach: { ...attach, startedAt: 1_800 } }
    expect(rentalsToResume([
      record({ ...ok, state: 'queued' }),
      record({ ...ok, state: 'succeeded' }),
      record({ ...ok, agreementId: undefined }),
      record({ attach: undefined })
    ]).size).toBe(0)
  })
})
