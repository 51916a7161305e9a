import { describe, expect, it } from 'vitest'
import { rentEventLine } from '../../../src/cli/rent-story.js'

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
})
