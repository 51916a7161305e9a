import { describe, expect, it } from 'vitest'
import { jobEnd, outputLines, rentEventLine } from '../../../src/cli/rent-story.js'
import { escrowEnd } from '../../../src/cli/commands/rent.js'

describe('the settled line of a rental', () => {
  it('says what was paid and refunded, and which part of the payment came back unmoved', () => {
    const base = { type: 'settled' as const, paid: '3000000000', refunded: '7000000000', unit: 'rao' as const, executed: true }
    expect(rentEventLine(base)).toEqual(['settled: paid 3 α to the supplier, refunded 7 α'])
    const [line] = rentEventLine({ ...base, carried: '3000000000' })
    expect(line).toMatch(/^settled: paid 3 α to the supplier, refunded 7 α \(of the payment, 3 α was too small to move as stake and came back with the refund\)$/)
  })

  it('a close approved but not executed says what it will pay, not the zeros of an escrow still open', () => {
    // before: "settled (not yet executed on chain): paid 0 α to the supplier, refunded 0 α"
    expect(rentEventLine({ type: 'settled', paid: '0', refunded: '0', unit: 'rao', executed: false, approved: '13947222' })).toEqual([
      'close approved, not yet executed on chain: it pays the supplier 0.013947222 α (the last voucher) and refunds the rest once the supplier approves it too, or the supplier closes with the arbiter'
    ])
  })
})

describe('the last line of a rental: how its escrow ended', () => {
  const escrow = { id: '0x' + 'ab'.repeat(32), asset: 'alpha', unit: 'rao' as const, locked: '833333334', paid: '0', refunded: '0', records: [] }
  it('settled: what it paid and refunded of what was locked', () => {
    expect(escrowEnd({ ...escrow, paid: '19511111', refunded: '813822223', status: 'closed' })).toBe('paid 0.019511111 α, refunded 0.813822223 α of 0.833333334 α locked (escrow closed)')
  })
  it('still open: what it holds, what the approved close pays, and where to follow it', () => {
    expect(escrowEnd({ ...escrow, status: 'open', approved: '13947222' })).toBe(`the escrow still holds 0.833333334 α: the close approved pays the supplier 0.013947222 α once executed (bazaar escrow show ${escrow.id})`)
    expect(escrowEnd({ ...escrow, status: 'unknown' })).toBe(`the escrow's state could not be read: it settles at the node's next look (bazaar escrow show ${escrow.id})`)
  })
})

describe('the job line of a rental', () => {
  it('names why a job failed where the supplier said (a refused image, a command that did not start)', () => {
    expect(rentEventLine({ type: 'job', exitCode: 0, reason: 'exited', outputs: [] })).toEqual(['job ended: exited, exit code 0'])
    expect(rentEventLine({ type: 'job', exitCode: -1, reason: 'failed', detail: 'IMAGE_REQUIRED', outputs: [] })).toEqual(['job ended: failed, exit code -1 (IMAGE_REQUIRED)'])
  })

  it('says a process a signal ended was killed by it (its exit code, -1, says nothing), with the reason where the supplier ended it', () => {
    expect(rentEventLine({ type: 'job', exitCode: -1, signal: 'SIGKILL', reason: 'exited', outputs: [] })).toEqual(['job ended: killed by SIGKILL'])
    expect(jobEnd({ exitCode: -1, signal: 'SIGTERM', reason: 'timeout' })).toBe('timeout, killed by SIGTERM')
    expect(jobEnd({ exitCode: -1, signal: 'SIGKILL', reason: 'failed', detail: 'OUTPUT_LIMIT' })).toBe('failed, killed by SIGKILL (OUTPUT_LIMIT)')
  })

  it('lists the outputs that did not arrive after the failure that stopped them', () => {
    expect(rentEventLine({ type: 'job', exitCode: 0, reason: 'failed', detail: 'DELIVERY_TIMEOUT', outputs: [{ name: 'a', sha256: 'ab', bytes: 1 }], undelivered: ['b'] })).toEqual([
      'job ended: failed, exit code 0 (DELIVERY_TIMEOUT)',
      '  output a (1 bytes) sha256 ab',
      '  output b not delivered (DELIVERY_TIMEOUT)'
    ])
  })
})

describe('the outputs at the end of a rental', () => {
  it('says "not written by the job" only of what the supplier said the job did not write, "not delivered" of the rest', () => {
    const job = { reason: 'failed', detail: 'DELIVERY_TIMEOUT', outputs: [{ name: 'a', sha256: 'ab', bytes: 1, path: '/out/a' }], missingOutputs: ['m'] }
    expect(outputLines(job, ['a', 'm', 'b'])).toEqual(['output a → /out/a', 'output m: not written by the job', 'output b: not delivered (DELIVERY_TIMEOUT)'])
    // a job that ended well: every output asked for is delivered, or said not written
    expect(outputLines({ reason: 'exited', outputs: [], missingOutputs: ['m'] }, ['m'])).toEqual(['output m: not written by the job'])
  })
})
