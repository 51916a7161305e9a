import { describe, expect, it } from 'vitest'
import { jobEnd, outputLines, rentEventLine } from '../../../src/cli/rent-story.js'

describe('the settled line of a rental', () => {
  it('says what was paid and refunded, and which part of the payment came back unmoved', () => {
    const base = { type: 'settled' as const, paid: '3000000000', refunded: '7000000000', unit: 'rao' as const, executed: true }
    expect(rentEventLine(base)).toEqual(['settled: paid 3 α to the supplier, refunded 7 α'])
    const [line] = rentEventLine({ ...base, carried: '3000000000' })
    expect(line).toMatch(/^settled: paid 3 α to the supplier, refunded 7 α \(of the payment, 3 α was too small to move as stake and came back with the refund\)$/)
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
