/**
 * Jobs in cgroups of their own (src/jobs/runtime/cgroup.ts): a process that leaves its process
 * group with setsid is still ended by a stop, frozen by a pause, and ended by the next start of a
 * supplier that crashed. Needs a cgroup v2 this process may write (root here); skips with a note
 * where there is none.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { spawn } from 'node:child_process'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CapacityLedger, JobCgroups, ownCgroupDir, processRuntime } from '../../src/jobs/index.js'
import { runJobClient, runJobServer, type JobControl } from '../../src/protocols/job/index.js'
import type { JobResult } from '../../src/jobs/index.js'
import { memoryChannelPair } from '../../src/protocols/framed.js'
import { ManualClock } from '../../src/util/clock.js'
import { waitFor } from '../helpers/wait.js'

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    // a zombie waiting for its parent counts as gone
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

describe('job cgroups', () => {
  let cgroups: JobCgroups | undefined
  let unavailable = ''
  let root = ''
  const escaped: number[] = []
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'bazaar-cgroup-'))
    const opened = await JobCgroups.open(`bazaar-test-${process.pid}`)
    if (opened instanceof JobCgroups) cgroups = opened
    else {
      unavailable = opened.unavailable
      console.log(`[skip] job cgroups: ${unavailable}`)
    }
  })
  afterAll(async () => {
    for (const pid of escaped) try { process.kill(pid, 'SIGKILL') } catch {}
    await cgroups?.close()
    if (cgroups != null) expect(existsSync(cgroups.base)).toBe(false)
    await rm(root, { recursive: true, force: true })
  })

  /**
   * Runs `script` as a job: `during` sees its stdout so far and may cancel through `ac`;
   * `onStarted` gets the supplier's control of the job and the stdout so far. Returns the stdout
   * and how the renter's side ended.
   */
  const runScript = async (
    script: string,
    runtime: ReturnType<typeof processRuntime>,
    during: (out: string, ac: AbortController, pid: (name: string) => number) => Promise<void> | void,
    onStarted?: (ctl: JobControl, out: () => string) => void
  ): Promise<{ out: string, client: PromiseSettledResult<JobResult> }> => {
    const clock = new ManualClock()
    const ledger = new CapacityLedger([{ index: 0, model: 'h100-80gb' }])
    ledger.hold('agr-1', 'h100-80gb', 1, 60_000)
    const [renter, supplier] = memoryChannelPair()
    const ac = new AbortController()
    let out = ''
    let busy: Promise<void> | undefined
    const pid = (name: string): number => Number(new RegExp(`${name}=(\\d+)`).exec(out)?.[1] ?? 0)
    const server = runJobServer(supplier, {
      runtime, workRoot: path.join(root, 'work'), lease: { ledger, agreementId: 'agr-1' }, clock, tickIntervalMs: 100, killGraceMs: 300,
      ...(onStarted != null ? { onStarted: (_info: unknown, ctl: JobControl) => { onStarted(ctl, () => out) } } : {})
    })
    const client = runJobClient(renter, { command: 'sh', args: ['-c', script], gpuCount: 0, limits: { maxDurationMs: 60_000 } }, {
      outputDir: path.join(root, 'out'),
      clock,
      jobId: 'job-1',
      signal: ac.signal,
      onStdout: (c) => {
        out += Buffer.from(c).toString()
        busy ??= Promise.resolve(during(out, ac, pid)).finally(() => { busy = undefined })
      }
    })
    const [, c] = await Promise.allSettled([server, client])
    await busy
    return { out, client: c }
  }

  // the job starts a `sleep` in a session of its own (setsid), out of the job's process group
  const ESCAPE = 'echo leader=$$; setsid sh -c \'echo escaped=$$; exec sleep 1000\' & wait'

  it('a process group kill misses a job\'s setsid child; the job\'s cgroup does not', async (ctx) => {
    if (cgroups == null) ctx.skip()
    // without a cgroup: the escaped process outlives the cancelled job
    let without = 0
    await runScript(ESCAPE, processRuntime(), async (out, ac, pid) => {
      if (pid('escaped') === 0 || ac.signal.aborted) return
      without = pid('escaped')
      escaped.push(without)
      ac.abort()
    })
    expect(without).toBeGreaterThan(0)
    expect(alive(without)).toBe(true)
    process.kill(without, 'SIGKILL')

    // with one: gone with the job, and the job's cgroup removed
    let within = 0
    await runScript(ESCAPE, processRuntime({ cgroups }), async (out, ac, pid) => {
      if (pid('escaped') === 0 || ac.signal.aborted) return
      within = pid('escaped')
      escaped.push(within)
      ac.abort()
    })
    expect(within).toBeGreaterThan(0)
    await waitFor(() => !alive(within), 5_000)
    expect(alive(within)).toBe(false)
    // the job's cgroup went with it
    await waitFor(() => readdirSync(cgroups!.base, { withFileTypes: true }).filter((d) => d.isDirectory()).length === 0, 5_000)
    expect(readdirSync(cgroups!.base, { withFileTypes: true }).filter((d) => d.isDirectory())).toEqual([])
  })

  it('a pause freezes the setsid child too, a resume thaws it, and the supervisor never stays in a job cgroup', async (ctx) => {
    if (cgroups == null) ctx.skip()
    const frozen: string[] = []
    const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')
    const cgroupOf = (pid: number | 'self'): string => ownCgroupDir(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), mountinfo)
    // the escaped process's cgroup, as the kernel names it
    const events = (pid: number): string => readFileSync(path.join(cgroupOf(pid), 'cgroup.events'), 'utf8')
    const { out, client: c } = await runScript(ESCAPE, processRuntime({ cgroups }), () => {}, (ctl, stdout) => {
      void (async () => {
        try {
          await waitFor(() => /escaped=\d+/.test(stdout()), 5_000)
          const pid = Number(/escaped=(\d+)/.exec(stdout())![1])
          escaped.push(pid)
          // the escaped process is in the job's cgroup, and this process is back in its own
          expect(path.dirname(cgroupOf(pid))).toBe(cgroups!.base)
          expect(cgroupOf('self')).toBe(cgroups!.own)
          await ctl.pause()
          await waitFor(() => events(pid).includes('frozen 1'), 5_000)
          frozen.push(events(pid).includes('frozen 1') ? 'frozen' : 'running')
          await ctl.resume()
          await waitFor(() => events(pid).includes('frozen 0'), 5_000)
          frozen.push(events(pid).includes('frozen 0') ? 'running' : 'frozen')
          await ctl.pause()
        } finally {
          // a failed check above ends the job too (and shows in `frozen`), not the test's timeout
          ctl.stop('budget')
        }
      })()
    })
    expect(c).toMatchObject({ status: 'fulfilled', value: { reason: 'budget' } })
    expect(frozen).toEqual(['frozen', 'running'])
    const pid = Number(/escaped=(\d+)/.exec(out)![1])
    await waitFor(() => !alive(pid), 5_000)
    expect(alive(pid)).toBe(false)
  })

  it('a job that makes cgroups of its own inside its cgroup is ended whole, and the whole tree removed', async (ctx) => {
    if (cgroups == null) ctx.skip()
    const mount = ownCgroupDir('0::/\n', readFileSync('/proc/self/mountinfo', 'utf8'))
    // the job finds its cgroup, makes one inside it and moves there, then starts a setsid child
    const script = `cg=${JSON.stringify(mount)}$(sed -n 's/^0:://p' /proc/self/cgroup); mkdir "$cg/inner" && echo $$ > "$cg/inner/cgroup.procs" && echo inner=$$ && setsid sh -c 'echo escaped=$$; exec sleep 1000' & wait`
    let inner = 0
    let child = 0
    const { out } = await runScript(script, processRuntime({ cgroups }), async (o, ac, pid) => {
      if (pid('inner') === 0 || pid('escaped') === 0 || ac.signal.aborted) return
      inner = pid('inner')
      child = pid('escaped')
      escaped.push(inner, child)
      ac.abort()
    })
    expect(out).toMatch(/inner=\d+/)
    await waitFor(() => !alive(inner) && !alive(child), 5_000)
    expect([alive(inner), alive(child)]).toEqual([false, false])
    await waitFor(() => readdirSync(cgroups!.base, { withFileTypes: true }).filter((d) => d.isDirectory()).length === 0, 5_000)
    expect(readdirSync(cgroups!.base, { withFileTypes: true }).filter((d) => d.isDirectory())).toEqual([])
  })

  it('the next start of a supplier that died ends the jobs it left, setsid children included', async (ctx) => {
    if (cgroups == null) ctx.skip()
    const name = `bazaar-test-crash-${process.pid}`
    const first = await JobCgroups.open(name)
    if (!(first instanceof JobCgroups)) throw new Error(first.unavailable)
    // a job of the run that "crashed": nothing stops it
    const { child } = await first.spawn('left', () => spawn('sh', ['-c', 'setsid sleep 1000 & echo $!; wait'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] }))
    const line = await new Promise<string>((resolve) => { child.stdout.once('data', (d: Buffer) => { resolve(d.toString()) }) })
    const orphan = Number(line.trim())
    escaped.push(orphan, child.pid!)
    expect(alive(orphan)).toBe(true)
    // the restart: the same name, from the same home
    const second = await JobCgroups.open(name)
    if (!(second instanceof JobCgroups)) throw new Error(second.unavailable)
    expect(await second.sweep()).toBe(1)
    await waitFor(() => !alive(orphan) && !alive(child.pid!), 5_000)
    expect([alive(orphan), alive(child.pid!)]).toEqual([false, false])
    expect(await second.sweep()).toBe(0)
    await second.close()
    expect(existsSync(second.base)).toBe(false)
  })

  it('finds its own cgroup v2 directory from /proc, under a mount whose root is not /', () => {
    const mountinfo = [
      '30 25 0:26 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu',
      '40 30 0:37 /system.slice /sys/fs/cgroup/my\\040mount rw,relatime - cgroup2 cgroup2 rw'
    ].join('\n')
    expect(ownCgroupDir('1:cpu:/\n0::/system.slice/bazaar.service\n', mountinfo)).toBe('/sys/fs/cgroup/my mount/bazaar.service')
    expect(() => ownCgroupDir('1:cpu:/\n', mountinfo)).toThrow(/no cgroup v2 membership/)
    expect(() => ownCgroupDir('0::/user.slice/x\n', mountinfo)).toThrow(/no cgroup2 mount/)
    expect(() => ownCgroupDir('0::/\n', '30 25 0:26 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu')).toThrow(/no cgroup2 mount/)
  })
})
