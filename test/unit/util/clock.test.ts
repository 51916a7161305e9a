import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ManualClock, systemClock } from '../../../src/util/clock.js'

describe('ManualClock', () => {
  it('fires timers in due order, each at its own time, and only when advanced past them', () => {
    const clock = new ManualClock(1000)
    const fired: Array<[string, number]> = []
    clock.setTimeout(() => { fired.push(['b', clock.now()]) }, 200)
    clock.setTimeout(() => { fired.push(['a', clock.now()]) }, 100)
    const c = clock.setTimeout(() => { fired.push(['c', clock.now()]) }, 150)
    c.clear()
    clock.advance(99)
    expect(fired).toEqual([])
    clock.advance(200)
    expect(fired).toEqual([['a', 1100], ['b', 1200]])
    expect(clock.now()).toBe(1299)
    expect(clock.pending).toBe(0)
  })

  it('repeats an interval until it is cleared', () => {
    const clock = new ManualClock(0)
    const at: number[] = []
    const h = clock.setInterval(() => { at.push(clock.now()); if (at.length === 3) h.clear() }, 50)
    clock.advance(1000)
    expect(at).toEqual([50, 100, 150])
  })

  it('lets a loop that awaits sleep take every step inside one advanceAsync', async () => {
    const clock = new ManualClock(0)
    const steps: number[] = []
    const loop = (async () => { for (let i = 0; i < 4; i++) { await clock.sleep(250); steps.push(clock.now()) } })()
    await clock.advanceAsync(1000)
    await loop
    expect(steps).toEqual([250, 500, 750, 1000])
  })

  it('ends a sleep with the abort reason, and clears its timer', async () => {
    const clock = new ManualClock(0)
    const ctl = new AbortController()
    const p = clock.sleep(10_000, { signal: ctl.signal })
    ctl.abort(new Error('stopped'))
    await expect(p).rejects.toThrow('stopped')
    expect(clock.pending).toBe(0)
  })

  it('runNext jumps to the next timer', async () => {
    const clock = new ManualClock(0)
    let fired = false
    clock.setTimeout(() => { fired = true }, 60_000)
    expect(await clock.runNext()).toBe(true)
    expect(fired).toBe(true)
    expect(clock.now()).toBe(60_000)
    expect(await clock.runNext()).toBe(false)
  })
})

describe('systemClock', () => {
  afterEach(() => { vi.useRealTimers() })

  it('waits out a delay longer than Node\'s timers take (2^31 - 1 ms) instead of firing at once', () => {
    vi.useFakeTimers()
    let fired = false
    const DAY = 86_400_000
    systemClock.setTimeout(() => { fired = true }, 30 * DAY)
    vi.advanceTimersByTime(25 * DAY)
    expect(fired).toBe(false)
    vi.advanceTimersByTime(5 * DAY - 1)
    expect(fired).toBe(false)
    vi.advanceTimersByTime(1)
    expect(fired).toBe(true)
  })

  it('holds the process open while a sleep is awaited, but not for a pending timer', () => {
    // a command that polls (its daemon, a chain) awaits a sleep: the process must not exit under it
    const clockTs = fileURLToPath(new URL('../../../src/util/clock.ts', import.meta.url))
    const run = (body: string): { code: number | null, stdout: string } => {
      const r = spawnSync(process.execPath, ['--experimental-strip-types', '--no-warnings', '--input-type=module', '-e', `import { systemClock } from ${JSON.stringify(clockTs)}\n${body}`], { encoding: 'utf8', timeout: 20_000 })
      return { code: r.status, stdout: r.stdout }
    }
    expect(run("await systemClock.sleep(50); console.log('woke')")).toEqual({ code: 0, stdout: 'woke\n' })
    expect(run("systemClock.setTimeout(() => { console.log('fired') }, 60_000); console.log('left')")).toEqual({ code: 0, stdout: 'left\n' })
  })

  it('clears a long timer between its steps', () => {
    vi.useFakeTimers()
    let fired = false
    const h = systemClock.setTimeout(() => { fired = true }, 2 ** 32)
    vi.advanceTimersByTime(2 ** 31)
    h.clear()
    vi.advanceTimersByTime(2 ** 32)
    expect(fired).toBe(false)
  })
})
