import { describe, expect, it } from 'vitest'
import { SupplierJobs } from '../../../../src/node/roles/supplier/jobs.js'

describe('the supplier\'s session list', () => {
  it('finds a session by agreement and lists them oldest first', () => {
    const jobs = new SupplierJobs(10)
    const a = jobs.begin('a')
    jobs.begin('b')
    a.jobId = 'job-a'
    expect(jobs.get('a')?.jobId).toBe('job-a')
    expect(jobs.has('b')).toBe(true)
    expect(jobs.has('c')).toBe(false)
    expect(jobs.list().map((j) => j.agreementId)).toEqual(['a', 'b'])
  })

  it('keeps every running session and at most the bound of finished ones, dropping the oldest', () => {
    const jobs = new SupplierJobs(2)
    const running = jobs.begin('running')
    for (const id of ['f1', 'f2', 'f3', 'f4']) jobs.finish(jobs.begin(id))
    expect(jobs.list().map((j) => j.agreementId)).toEqual(['running', 'f3', 'f4'])
    jobs.finish(running)
    expect(jobs.list().map((j) => j.agreementId)).toEqual(['f3', 'f4'])
    expect(jobs.size).toBe(2)
  })

  it('a thousand sessions on a bound of 16 leave 16', () => {
    const jobs = new SupplierJobs(16)
    for (let i = 0; i < 1000; i++) jobs.finish(jobs.begin(`a${i}`))
    expect(jobs.size).toBe(16)
    expect(jobs.list()[0].agreementId).toBe('a984')
  })

  it('finishing twice, or a replaced record, counts once', () => {
    const jobs = new SupplierJobs(1)
    const old = jobs.begin('x')
    const again = jobs.begin('x')
    jobs.finish(old)
    expect(jobs.get('x')).toBe(again)
    jobs.finish(again)
    jobs.finish(again)
    jobs.finish(jobs.begin('y'))
    expect(jobs.list().map((j) => j.agreementId)).toEqual(['y'])
  })
})
