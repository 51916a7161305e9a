import { describe, expect, it } from 'vitest'
import { abortable } from '../../../src/util/abortable.js'

describe('abortable', () => {
  it('ends with the signal when it aborts first, though the work behind the promise never ends', async () => {
    const ac = new AbortController()
    const never = new Promise<number>(() => {})
    const raced = abortable(never, ac.signal)
    ac.abort(new Error('deadline'))
    await expect(raced).rejects.toThrow('deadline')
  })

  it('gives the promise\'s own result or failure when it settles first', async () => {
    const ac = new AbortController()
    await expect(abortable(Promise.resolve(7), ac.signal)).resolves.toBe(7)
    await expect(abortable(Promise.reject(new Error('refused')), ac.signal)).rejects.toThrow('refused')
  })

  it('refuses at once on a signal that already aborted', async () => {
    await expect(abortable(Promise.resolve(1), AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone')
  })
})
