import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CapacityLedger, processRuntime, WorkDirTrash } from '../../src/jobs/index.js'
import { removeJobDir } from '../../src/jobs/workdir.js'
import { JobProtocolError, runJobClient, runJobServer } from '../../src/protocols/job/index.js'
import { memoryChannelPair } from '../../src/protocols/framed.js'
import { JobFrame } from '../../src/wire/job.js'
import type { JobResult, JobSpec } from '../../src/jobs/index.js'
import type { JobClientOptions, JobServerOptions, JobServerResult } from '../../src/protocols/job/index.js'
import { ManualClock } from '../../src/util/clock.js'
import { waitFor } from '../helpers/wait.js'
import { jobLimits } from '../../src/node/services/supplier.js'
import { defaultConfig } from '../../src/node/config/index.js'
import type { FramedChannel } from '../../src/protocols/framed.js'

const NODE = process.execPath
const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex')

let root: string
let workRoot: string
let outputDir: string
let ledger: CapacityLedger
/** where the jobs' directories go: drained before the work root is checked */
let trash: WorkDirTrash
let renterCtl: { send: (b: Uint8Array) => Promise<void> } | undefined
/**
 * Protocol time of both sides (ticks, the start window, the maximum duration): it moves only when a
 * test advances it. The jobs are real processes on wall time; tests wait on their events.
 */
let clock: ManualClock

/** advances the clock a step at a time until `done` holds (at most `maxSteps` steps) */
async function advanceUntil (done: () => boolean, stepMs: number, maxSteps = 1000): Promise<void> {
  for (let i = 0; i < maxSteps && !done(); i++) await clock.advanceAsync(stepMs)
}

beforeEach(async () => {
  clock = new ManualClock()
  root = await mkdtemp(path.join(tmpdir(), 'bazaar-job-'))
  workRoot = path.join(root, 'work')
  outputDir = path.join(root, 'out')
  ledger = new CapacityLedger([{ index: 0, model: 'h100-80gb' }, { index: 1, model: 'h100-80gb' }, { index: 2, model: 'h100-80gb' }])
  ledger.hold('agr-1', 'h100-80gb', 2, 60_000)
  trash = new WorkDirTrash()
})

afterEach(async () => {
  // no capacity leaks, whatever the way the job ended
  expect(ledger.active()).toEqual([])
  expect(ledger.available('h100-80gb')).toBe(3)
  // the supplier's job directory is gone
  await trash.drain()
  expect(existsSync(workRoot) ? readdirSync(workRoot) : []).toEqual([])
  await rm(root, { recursive: true, force: true })
})

interface Run {
  server: PromiseSettledResult<JobServerResult>
  client: PromiseSettledResult<JobResult>
  stdout: string
  stderr: string
  ticks: number
}

async function run (spec: JobSpec, opts: { server?: Partial<JobServerOptions>, client?: Partial<JobClientOptions>, wrapRenter?: (c: FramedChannel) => FramedChannel } = {}): Promise<Run> {
  const [renter, supplier] = memoryChannelPair()
  const out = { stdout: '', stderr: '', ticks: 0 }
  const server = runJobServer(supplier, {
    runtime: processRuntime(),
    workRoot,
    trash,
    lease: { ledger, agreementId: 'agr-1' },
    clock,
    tickIntervalMs: 100,
    killGraceMs: 300,
    ...opts.server
  })
  const client = runJobClient(opts.wrapRenter?.(renter) ?? renter, spec, {
    outputDir,
    clock,
    jobId: 'job-1',
    onStdout: (c) => { out.stdout += Buffer.from(c).toString() },
    onStderr: (c) => { out.stderr += Buffer.from(c).toString() },
    onTick: () => { out.ticks++ },
    ...opts.client
  })
  const [s, c] = await Promise.allSettled([server, client])
  return { server: s, client: c, ...out }
}

function ok<T> (r: PromiseSettledResult<T>): T {
  if (r.status === 'rejected') throw r.reason
  return r.value
}

function gone (pid: number, group = false): boolean {
  try {
    process.kill(group ? -pid : pid, 0)
    return false
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

describe('jobs over a framed channel', () => {
  it('runs a job: live output, inputs in, outputs back with their sha256, GPUs assigned', async () => {
    const input = new Uint8Array(700 * 1024).map((_, i) => (i * 7) % 256) // three input chunks
    // the job runs until the test signals it (SIGUSR1), so that ticks come while it runs
    const script = `
      const fs = require('node:fs')
      const crypto = require('node:crypto')
      const data = fs.readFileSync('data/input.bin')
      const alive = setInterval(() => {}, 1 << 30)
      process.once('SIGUSR1', () => {
        clearInterval(alive)
        fs.mkdirSync('results')
        fs.writeFileSync('results/result.txt', 'gpus=' + process.env.CUDA_VISIBLE_DEVICES + ' input=' + crypto.createHash('sha256').update(data).digest('hex') + ' seed=' + process.env.SEED)
        fs.writeFileSync('big.bin', Buffer.alloc(600 * 1024).map((_, i) => i % 251))
        console.log('finished')
      })
      console.log('started')
      console.error('to stderr')
    `
    let ticks = 0
    let ticksAtFirstStdout = -1
    let pgid = 0
    const r0 = { stdout: '', stderr: '' }
    const r = await run({
      command: NODE,
      args: ['-e', script],
      env: { SEED: '42' },
      inputs: [{ name: 'data/input.bin', data: input }],
      outputs: ['results/result.txt', 'big.bin'],
      gpuCount: 2,
      limits: { maxDurationMs: 30_000 }
    }, {
      server: { onStarted: (info) => { pgid = info.pgid } },
      client: {
        onStdout: (c) => {
          if (ticksAtFirstStdout < 0) {
            ticksAtFirstStdout = ticks
            // three ticks of the job's clock while it runs, then the job finishes
            void clock.advanceAsync(300).then(() => { process.kill(pgid, 'SIGUSR1') })
          }
          r0.stdout += Buffer.from(c).toString()
        },
        onStderr: (c) => { r0.stderr += Buffer.from(c).toString() },
        onTick: () => { ticks++ }
      }
    })
    const result = ok(r.client)
    expect(result).toMatchObject({ jobId: 'job-1', exitCode: 0, reason: 'exited', missingOutputs: [] })
    expect(r0.stdout).toBe('started\nfinished\n')
    expect(r0.stderr).toBe('to stderr\n')
    // live: the first line arrived before the ticks the clock then gave, each sent while the job ran
    expect(ticksAtFirstStdout).toBe(0)
    expect(ticks).toBe(3)

    const expectedText = `gpus=0,1 input=${sha256(input)} seed=42`
    const expectedBig = Buffer.alloc(600 * 1024).map((_, i) => i % 251)
    expect(result.outputs).toEqual([
      { name: 'results/result.txt', sha256: sha256(expectedText), bytes: expectedText.length, path: path.join(outputDir, 'results/result.txt') },
      { name: 'big.bin', sha256: sha256(expectedBig), bytes: 600 * 1024, path: path.join(outputDir, 'big.bin') }
    ])
    expect(await readFile(path.join(outputDir, 'results/result.txt'), 'utf8')).toBe(expectedText)
    expect(sha256(await readFile(path.join(outputDir, 'big.bin')))).toBe(sha256(expectedBig))
    expect(ok(r.server)).toMatchObject({ reason: 'exited', exitCode: 0, outputs: [{ name: 'results/result.txt' }, { name: 'big.bin' }] })
  })

  it('runs an executable input in a minimal environment that does not leak the supplier\'s', async () => {
    process.env.BAZAAR_TEST_SUPPLIER_SECRET = 'hunter2'
    try {
      const script = '#!/bin/sh\nenv | sort | grep -c SECRET; echo "home=$HOME tmp=$TMPDIR id=$BAZAAR_JOB_ID gpus=[$CUDA_VISIBLE_DEVICES] cwd=$(pwd)"\n'
      const r = await run({ command: './bin/run.sh', inputs: [{ name: 'bin/run.sh', data: new TextEncoder().encode(script), executable: true }], gpuCount: 0, limits: { maxDurationMs: 10_000 } }, { server: { keepWorkDir: false } })
      expect(ok(r.client)).toMatchObject({ reason: 'exited', exitCode: 0 })
      const dir = path.join(realpathSync(workRoot), 'job-1')
      expect(r.stdout).toBe(`0\nhome=${dir} tmp=${dir} id=job-1 gpus=[] cwd=${dir}\n`)
    } finally {
      delete process.env.BAZAAR_TEST_SUPPLIER_SECRET
    }
  })

  it('refuses a job naming a container image, before its inputs: the process runtime would run its command on the host', async () => {
    const r = await run({ command: 'sh', args: ['-c', 'touch ran'], image: 'docker.io/library/alpine:3', gpuCount: 1, inputs: [{ name: 'a.bin', data: new Uint8Array(10) }], limits: { maxDurationMs: 60_000 } })
    expect(r.server.status === 'rejected' && (r.server.reason as { code?: string }).code).toBe('IMAGE_NOT_SUPPORTED')
    expect(r.client.status === 'rejected' && (r.client.reason as { remoteCode?: string }).remoteCode).toBe('IMAGE_NOT_SUPPORTED')
  })

  it('refuses a job whose image is not its agreement\'s, before its inputs and before the runtime\'s own check', async () => {
    const spec = (image?: string): JobSpec => ({ command: 'sh', args: ['-c', 'touch ran'], ...(image !== undefined ? { image } : {}), gpuCount: 1, inputs: [{ name: 'a.bin', data: new Uint8Array(10) }], limits: { maxDurationMs: 60_000 } })
    const codes = async (image: string | undefined, agreedImage: string | null): Promise<[unknown, unknown]> => {
      const r = await run(spec(image), { server: { agreedImage } })
      return [r.server.status === 'rejected' && (r.server.reason as { code?: string }).code, r.client.status === 'rejected' && (r.client.reason as { remoteCode?: string }).remoteCode]
    }
    // an image where the agreement names none, another image than the agreed one, none where one was agreed
    expect(await codes('docker.io/library/alpine:3', null)).toEqual(['IMAGE_NOT_AGREED', 'IMAGE_NOT_AGREED'])
    expect(await codes('docker.io/library/alpine:3', 'docker.io/library/alpine:3.20')).toEqual(['IMAGE_NOT_AGREED', 'IMAGE_NOT_AGREED'])
    expect(await codes(undefined, 'docker.io/library/alpine:3')).toEqual(['IMAGE_NOT_AGREED', 'IMAGE_NOT_AGREED'])
    // the agreed image passes this check and meets the runtime's (processes run no image)
    expect(await codes('docker.io/library/alpine:3', 'docker.io/library/alpine:3')).toEqual(['IMAGE_NOT_SUPPORTED', 'IMAGE_NOT_SUPPORTED'])
    expect(existsSync(path.join(workRoot, 'job-1'))).toBe(false)
  })

  it('bills no usage past the exit while a child that escaped the job holds its output open', async () => {
    const ticks: number[] = []
    let leader = 0
    let child = 0
    let out = ''
    let exitedSeen = false
    // the leader prints its pid and its escaped child's, and exits at once; the child keeps stdout
    const script = 'setsid sleep 5 & echo child=$! leader=$$'
    const running = run({ command: 'sh', args: ['-c', script], gpuCount: 1, limits: { maxDurationMs: 60_000 } }, {
      server: { onUsageTick: (tick) => { ticks.push(tick.elapsedMs); if (exitedSeen) ticks.push(-1) } },
      client: { onStdout: (c) => { out += Buffer.from(c).toString(); leader = Number(/leader=(\d+)/.exec(out)?.[1] ?? 0); child = Number(/child=(\d+)/.exec(out)?.[1] ?? 0) } }
    })
    try {
      await waitFor(() => leader > 0 && gone(leader), 10_000, 'the job to exit')
      exitedSeen = true
      // the supplier waits (up to 2 s of wall time) for the child to let go of the pipes: a tick of
      // the clock meanwhile would bill time past the exit
      for (let i = 0; i < 5; i++) await clock.advanceAsync(100)
      expect(ticks).not.toContain(-1)
    } finally {
      if (child > 0) try { process.kill(child, 'SIGKILL') } catch {}
    }
    const r = await running
    expect(ok(r.server)).toMatchObject({ reason: 'exited', exitCode: 0 })
  })

  it('reports a failing job with its exit code and stderr', async () => {
    const r = await run({ command: 'sh', args: ['-c', 'echo broken >&2; exit 3'], gpuCount: 1, limits: { maxDurationMs: 10_000 }, outputs: ['never.txt'] })
    expect(ok(r.client)).toMatchObject({ exitCode: 3, reason: 'exited', outputs: [], missingOutputs: ['never.txt'] })
    expect(r.stderr).toBe('broken\n')
  })

  it('cancels from the renter: the whole process group goes, grandchild included, even one ignoring SIGTERM', async () => {
    const ac = new AbortController()
    let pgid = 0
    let grandchild = 0
    let seen = ''
    // the leader prints its pid; a child shell ignoring SIGTERM starts a grandchild `sleep` (which
    // inherits the ignored SIGTERM) and prints its pid
    const script = 'echo leader=$$; sh -c \'trap "" TERM; sleep 1000 & echo grandchild=$!; wait\' & wait'
    const r = await run({ command: 'sh', args: ['-c', script], gpuCount: 2, limits: { maxDurationMs: 60_000 } }, {
      client: {
        signal: ac.signal,
        onStdout: (c) => {
          seen += Buffer.from(c).toString()
          pgid = Number(/leader=(\d+)/.exec(seen)?.[1] ?? 0)
          grandchild = Number(/grandchild=(\d+)/.exec(seen)?.[1] ?? 0)
          if (pgid > 0 && grandchild > 0 && !ac.signal.aborted) {
            expect(gone(grandchild)).toBe(false)
            ac.abort()
          }
        }
      }
    })
    expect(ok(r.client)).toMatchObject({ reason: 'cancelled' })
    expect(ok(r.server)).toMatchObject({ reason: 'cancelled' })
    expect(pgid).toBeGreaterThan(0)
    expect(grandchild).toBeGreaterThan(0)
    expect(gone(pgid, true)).toBe(true)
    expect(gone(grandchild)).toBe(true)
  })

  it('stops a job that outlives its max duration', async () => {
    let pgid = 0
    const r = await run({ command: 'sh', args: ['-c', 'echo $$; exec sleep 30'], gpuCount: 0, limits: { maxDurationMs: 500 } }, {
      client: {
        onStdout: (c) => {
          if (pgid > 0) return
          pgid = Number(Buffer.from(c).toString().trim())
          // the job runs: move its clock to one millisecond short of the limit, then onto it
          void clock.advanceAsync(499).then(() => { expect(gone(pgid, true)).toBe(false) }).then(async () => { await clock.advanceAsync(1) })
        }
      }
    })
    const result = ok(r.client)
    expect(result).toMatchObject({ reason: 'timeout', exitCode: -1, signal: 'SIGTERM', durationMs: 500 })
    expect(gone(pgid, true)).toBe(true)
  })

  it.each<[string, Partial<JobServerOptions>]>([
    ['the agreed duration', { maxDurationMs: 500 }],
    ['the time the escrow\'s settlement needs before its expiry', { runUntil: 0 }]
  ])('stops a job at the supplier\'s own bound on its run, %s, whatever the spec asks for', async (_n, bound) => {
    let pgid = 0
    const server = { ...bound, ...(bound.runUntil != null ? { runUntil: clock.now() + 500 } : {}) }
    const r = await run({ command: 'sh', args: ['-c', 'echo $$; exec sleep 30'], gpuCount: 0, limits: { maxDurationMs: 3_600_000 } }, {
      server,
      client: {
        onStdout: (c) => {
          if (pgid > 0) return
          pgid = Number(Buffer.from(c).toString().trim())
          void clock.advanceAsync(499).then(() => { expect(gone(pgid, true)).toBe(false) }).then(async () => { await clock.advanceAsync(1) })
        }
      }
    })
    expect(ok(r.client)).toMatchObject({ reason: 'timeout', exitCode: -1, signal: 'SIGTERM', durationMs: 500 })
    expect(gone(pgid, true)).toBe(true)
  })

  it('multiplexes metering on the job channel and stops the job when the hook says the budget is spent', async () => {
    const vouchers: string[] = []
    const reports: string[] = []
    const r = await run({ command: 'sleep', args: ['30'], gpuCount: 1, limits: { maxDurationMs: 30_000, maxBudget: 300n } }, {
      server: {
        // a tick every 100 ms of the clock until three vouchers came back
        onStarted: () => { void advanceUntil(() => vouchers.length >= 3, 100, 50) },
        onUsageTick: async (tick, ctl) => { await ctl.sendMetering(new TextEncoder().encode(`usage:${tick.gpuCount}`)) },
        onMetering: (bytes, ctl) => {
          vouchers.push(Buffer.from(bytes).toString())
          if (vouchers.length === 3) ctl.stop('budget')
        }
      },
      client: {
        onMetering: async (bytes, ctl) => {
          reports.push(Buffer.from(bytes).toString())
          await ctl.send(new TextEncoder().encode(`voucher:${reports.length * 100}`))
        }
      }
    })
    expect(ok(r.client)).toMatchObject({ reason: 'budget' })
    expect(reports.slice(0, 3)).toEqual(['usage:1', 'usage:1', 'usage:1'])
    expect(vouchers.slice(0, 3)).toEqual(['voucher:100', 'voucher:200', 'voucher:300'])
  })

  it.each<[string, Partial<JobServerOptions>, Partial<JobClientOptions>]>([
    ['a usage hook that throws', { onUsageTick: () => { throw new Error('meter broken') } }, {}],
    ['a metering handler that throws', { onMetering: () => { throw new Error('meter broken') } }, { onStarted: () => { void renterCtl?.send(new Uint8Array([1])) } }]
  ])('ends the job as failed with METERING_FAILED on %s', async (_what, server, client) => {
    const [renter, supplier] = memoryChannelPair()
    renterCtl = { send: async (b) => { await renter.send(JobFrame.encode({ metering: new Uint8Array(b) })) } }
    // one tick of the clock once the job runs (the usage hook's turn)
    const s = runJobServer(supplier, { runtime: processRuntime(), workRoot, trash, lease: { ledger, agreementId: 'agr-1' }, clock, tickIntervalMs: 50, onStarted: () => { void clock.advanceAsync(50) }, ...server })
    const c = runJobClient(renter, { command: 'sleep', args: ['30'], gpuCount: 0, limits: { maxDurationMs: 30_000 } }, { outputDir, clock, ...client })
    expect(await c).toMatchObject({ reason: 'failed', detail: 'METERING_FAILED' })
    expect(await s).toMatchObject({ reason: 'failed', detail: 'METERING_FAILED' })
  })

  it('stops streaming past the output bound and says so, but runs the job on and delivers its outputs', async () => {
    // 300,000 bytes of logs in 30 writes, then an output written after them
    const total = 300_000
    const script = "const b = Buffer.alloc(10000, 97); let i = 0; (function w () { if (i++ < 30) process.stdout.write(b, w); else require('node:fs').writeFileSync('done.txt', 'ok') })()"
    const r = await run({ command: NODE, args: ['-e', script], outputs: ['done.txt'], gpuCount: 0, limits: { maxDurationMs: 30_000 } }, { server: { maxStreamBytes: 100_000 } })
    expect(ok(r.client)).toMatchObject({ reason: 'exited', exitCode: 0, outputs: [{ name: 'done.txt', bytes: 2 }], missingOutputs: [] })
    expect(await readFile(path.join(outputDir, 'done.txt'), 'utf8')).toBe('ok')
    const server = ok(r.server)
    expect(server).toMatchObject({ reason: 'exited', exitCode: 0 })
    expect(server).not.toHaveProperty('detail')
    // what was streamed is the start of what the job printed, within the bound; the rest was counted
    expect(r.stdout.length).toBeLessThanOrEqual(100_000)
    expect(r.stdout).toBe('a'.repeat(r.stdout.length))
    expect(r.stdout.length + server.droppedOutputBytes!).toBe(total)
    // the renter heard of it at the bound, and how much it missed before the exit
    expect(r.stderr).toContain('streaming cap of 100000 bytes')
    expect(r.stderr).toContain(`[bazaar] ${total - r.stdout.length} bytes of output past the streaming cap were not streamed`)
  })

  it('does not hand out a symlink or a directory as an output', async () => {
    const r = await run({ command: 'sh', args: ['-c', 'ln -s /etc/passwd leak; mkdir d; ln -s / up'], gpuCount: 0, outputs: ['leak', 'd', 'up/etc/passwd'], limits: { maxDurationMs: 10_000 } })
    expect(ok(r.client)).toMatchObject({ reason: 'exited', exitCode: 0, outputs: [], missingOutputs: ['leak', 'd', 'up/etc/passwd'] })
  })

  it('pauses and resumes the job\'s processes for the metering layer, and still stops a paused job', async () => {
    // a signal reaches the process on the kernel's time: look in /proc until it shows (bounded)
    const stat = (pid: number): string => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0]
    const state = async (pid: number, want: (s: string) => boolean): Promise<string> =>
      await waitFor(() => want(stat(pid)), 5_000).then(() => stat(pid), () => 'timeout')
    const seen: string[] = []
    let pausedTick!: () => void
    const sawPausedTick = new Promise<void>((resolve) => { pausedTick = resolve })
    const r = await run({ command: 'sleep', args: ['30'], gpuCount: 0, limits: { maxDurationMs: 30_000 } }, {
      server: {
        onStarted: ({ pgid }, ctl) => {
          void (async () => {
            await ctl.pause()
            seen.push(await state(pgid, (s) => s === 'T'))
            await ctl.resume()
            seen.push(await state(pgid, (s) => s !== 'T'))
            await ctl.pause()
            seen.push(await state(pgid, (s) => s === 'T'))
            // the next tick says paused; then stop the frozen job for good
            await clock.advanceAsync(100)
            await sawPausedTick
            ctl.stop('budget')
          })()
        }
      },
      client: { onTick: (t) => { if (t.paused) pausedTick() } }
    })
    expect(ok(r.client)).toMatchObject({ reason: 'budget', signal: 'SIGTERM' })
    expect(seen.map((s) => s === 'T')).toEqual([true, false, true])
  })

  it('reports a command that cannot start as failed with SPAWN_FAILED', async () => {
    const r = await run({ command: '/nonexistent/bin/tool', gpuCount: 0, outputs: ['out.txt'], limits: { maxDurationMs: 10_000 } })
    expect(ok(r.client)).toMatchObject({ reason: 'failed', detail: 'SPAWN_FAILED', exitCode: -1, missingOutputs: ['out.txt'] })
  })

  it('applies resource limits through prlimit when it is installed', async (ctx) => {
    if (!existsSync('/usr/bin/prlimit') && !existsSync('/bin/prlimit')) ctx.skip()
    const r = await run({ command: 'sh', args: ['-c', 'ulimit -n; ulimit -c'], gpuCount: 0, limits: { maxDurationMs: 10_000 } }, {
      server: { runtime: processRuntime({ limits: { openFiles: 64 } }) }
    })
    expect(ok(r.client)).toMatchObject({ reason: 'exited', exitCode: 0 })
    expect(r.stdout).toBe('64\n0\n')
  })

  it('applies a supplier\'s jobs config: the process and open-file limits, and a file past jobs.fileMib ends the job with SIGXFSZ', async (ctx) => {
    if (!existsSync('/usr/bin/prlimit') && !existsSync('/bin/prlimit')) ctx.skip()
    const runtime = processRuntime({ limits: jobLimits({ ...(await defaultConfig()).jobs, fileMib: 1 }) })
    const limits = (text: string): string[] => text.split('\n').filter((l) => /^Max (processes|open files|file size) /.test(l)).map((l) => l.split(/\s{2,}/).slice(0, 3).join('|'))
    const r = await run({ command: 'sh', args: ['-c', 'cat /proc/self/limits; head -c 2097152 /dev/zero > big'], gpuCount: 0, limits: { maxDurationMs: 10_000 } }, { server: { runtime } })
    // 16384 processes and 65536 open files, or the supplier's own hard limit where that is lower
    const hard = (name: string): number => Number(limits(readFileSync('/proc/self/limits', 'utf8')).find((l) => l.startsWith(name))!.split('|')[2])
    const procs = Math.min(16384, hard('Max processes'))
    const files = Math.min(65536, hard('Max open files'))
    expect(limits(r.stdout)).toEqual(['Max file size|1048576|1048576', `Max processes|${procs}|${procs}`, `Max open files|${files}|${files}`])
    expect(ok(r.client)).toMatchObject({ reason: 'exited', exitCode: 128 + 25 })
    // without a file limit (0) none is set
    ledger.hold('agr-1', 'h100-80gb', 2, 60_000)
    const open = await run({ command: 'cat', args: ['/proc/self/limits'], gpuCount: 0, limits: { maxDurationMs: 10_000 } }, { server: { runtime: processRuntime({ limits: jobLimits({ processes: 0, openFiles: 64, fileMib: 0 }) }) } })
    expect(limits(open.stdout)[0]).toBe('Max file size|unlimited|unlimited')
  })

  it('runs prlimit found in the supplier\'s own PATH, not a job\'s file of that name first in the job\'s', async (ctx) => {
    if (!existsSync('/usr/bin/prlimit') && !existsSync('/bin/prlimit')) ctx.skip()
    // a `prlimit` that sets no limit and runs the command, where the PATH the job gets looks first
    const fake = new TextEncoder().encode('#!/bin/sh\nwhile [ "$1" != "--" ]; do shift; done; shift\nexec "$@"\n')
    const r = await run({ command: '/bin/sh', args: ['-c', 'ulimit -f'], inputs: [{ name: 'prlimit', data: fake, executable: true }], gpuCount: 0, limits: { maxDurationMs: 10_000 } }, {
      server: { runtime: processRuntime({ path: '.:/usr/bin:/bin', limits: { fileSizeBytes: 4096 } }) }
    })
    expect(ok(r.client)).toMatchObject({ reason: 'exited', exitCode: 0 })
    // 4096 bytes in the shell's 512-byte blocks
    expect(r.stdout).toBe('8\n')
  })

  it.each([
    ['PATH', '.:/usr/bin:/bin'], ['LD_PRELOAD', '/nonexistent/evil.so'], ['LD_LIBRARY_PATH', '.'], ['GLIBC_TUNABLES', 'glibc.malloc.check=3'], ['GCONV_PATH', '.']
  ])('refuses a job that sets %s, which prlimit would read before its limits (SPAWN_FAILED)', async (name, value) => {
    const r = await run({ command: 'sh', args: ['-c', 'echo ran'], env: { [name]: value }, gpuCount: 0, limits: { maxDurationMs: 10_000 } })
    expect(ok(r.client)).toMatchObject({ reason: 'failed', detail: 'SPAWN_FAILED' })
    expect(r.stdout).toBe('')
  })

  it('reports a runtime that is not available here as failed with its code', async (ctx) => {
    const { detectContainerEngine, containerRuntime } = await import('../../src/jobs/index.js')
    if (await detectContainerEngine() != null) ctx.skip()
    const r = await run({ command: 'true', image: 'alpine:3', gpuCount: 0, outputs: ['a', 'b'], limits: { maxDurationMs: 10_000 } }, { server: { runtime: containerRuntime() } })
    expect(ok(r.client)).toMatchObject({ reason: 'failed', detail: 'RUNTIME_UNAVAILABLE' })
  })

  it('refuses a job that asks for more GPUs than the agreement holds', async () => {
    const r = await run({ command: 'true', gpuCount: 3, limits: { maxDurationMs: 10_000 } })
    expect(r.client.status).toBe('rejected')
    const err = (r.client as PromiseRejectedResult).reason as JobProtocolError
    expect(err.code).toBe('REMOTE_REJECTED')
    expect(err.remoteCode).toBe('GPU_COUNT_EXCEEDS')
    expect(((r.server as PromiseRejectedResult).reason as JobProtocolError).code).toBe('GPU_COUNT_EXCEEDS')
  })

  it('rejects an output whose bytes do not match the sha256 the supplier declared', async () => {
    // flips one byte of the first output chunk on its way to the renter
    const tamper = (c: FramedChannel): FramedChannel => ({
      send: async (f, o) => { await c.send(f, o) },
      close: async () => { await c.close() },
      abort: (e) => { c.abort(e) },
      frames: async function * () {
        for await (const f of c.frames()) {
          const frame = JobFrame.decode(f)
          if (frame.outputChunk != null) {
            frame.outputChunk.data[0] ^= 1
            yield JobFrame.encode(frame)
          } else {
            yield f
          }
        }
      }
    })
    const r = await run({ command: 'sh', args: ['-c', 'echo payload > out.txt'], gpuCount: 0, outputs: ['out.txt'], limits: { maxDurationMs: 10_000 } }, { wrapRenter: tamper })
    expect(r.client.status).toBe('rejected')
    expect(((r.client as PromiseRejectedResult).reason as JobProtocolError).code).toBe('OUTPUT_HASH_MISMATCH')
    expect(existsSync(outputDir) ? readdirSync(outputDir) : []).toEqual([])
  })

  it('stops the job when the renter goes away', async () => {
    const [renter, supplier] = memoryChannelPair()
    let pgid = 0
    const server = runJobServer(supplier, {
      runtime: processRuntime(),
      workRoot,
      trash,
      lease: { ledger, agreementId: 'agr-1' },
      clock,
      killGraceMs: 300,
      onStarted: (info) => { pgid = info.pgid }
    })
    // the renter crashes once it knows the job runs
    const client = runJobClient(renter, { command: 'sleep', args: ['30'], gpuCount: 1, limits: { maxDurationMs: 30_000 } }, { outputDir, clock, onStarted: () => { renter.abort(new Error('renter crashed')) } })
    await expect(client).rejects.toThrow()
    expect(await server).toMatchObject({ reason: 'cancelled', detail: 'CHANNEL_CLOSED' })
    expect(gone(pgid, true)).toBe(true)
  })
})

describe('the job\'s output at the exit', () => {
  it('sends everything the job printed before the exit frame, to a renter that gave no credit across the exit', async () => {
    const [renter, supplier] = memoryChannelPair()
    // the renter takes no output until the supplier reports the job's processes gone (its pipes
    // then hold what did not fit the window), and gives credit for every frame from then on
    let owed = 0
    let crediting = false
    const credit = (): void => {
      if (!crediting || owed === 0) return
      const c = owed
      owed = 0
      void renter.send(JobFrame.encode({ credit: c })).catch(() => {})
    }
    const server = runJobServer(supplier, { runtime: processRuntime(), workRoot, trash, lease: { ledger, agreementId: 'agr-1' }, clock, onExited: () => { crediting = true; credit() } })
    // past the 768 KiB window, less than the window and what the pipe and its stream hold: the job
    // can write it all and exit while the renter gives no credit
    const total = 800 * 1024
    const script = `process.stdout.write(Buffer.alloc(${total}, 97)); process.stdout.write('THE-END\\n')`
    await renter.send(JobFrame.encode({ start: { version: 1, jobId: 'tail', spec: { command: NODE, args: ['-e', script], env: [], inputs: [], outputs: [], gpuCount: 0, maxDurationMs: 60_000n, maxBudget: 0n, image: '' } } }))
    let stdout = ''
    let atExit: string | undefined
    const kinds: string[] = []
    for await (const raw of renter.frames()) {
      owed += raw.byteLength
      const f = JobFrame.decode(raw)
      if (f.stdout != null) stdout += Buffer.from(f.stdout).toString()
      if (f.exit != null) { atExit = stdout; kinds.push('exit') }
      if (f.done != null) { kinds.push('done'); await renter.close(); break }
      credit()
    }
    expect(kinds).toEqual(['exit', 'done'])
    expect(atExit).toBe('a'.repeat(total) + 'THE-END\n')
    expect(stdout).toBe(atExit)
    expect(await server).toMatchObject({ reason: 'exited', exitCode: 0 })
  })

  it('holds the output of a renter that never gives credit at the exit no longer than the outputs\' window (DELIVERY_TIMEOUT)', async () => {
    const [renter, supplier] = memoryChannelPair()
    let exited!: () => void
    const exitedP = new Promise<void>((resolve) => { exited = resolve })
    // a stall timeout far past the window: what ends the wait here is the window
    const server = runJobServer(supplier, { runtime: processRuntime(), workRoot, trash, lease: { ledger, agreementId: 'agr-1' }, clock, stallTimeoutMs: 3_600_000, onExited: () => { exited() } })
    const script = `process.stdout.write(Buffer.alloc(${800 * 1024}, 97))`
    await renter.send(JobFrame.encode({ start: { version: 1, jobId: 'job-1', spec: { command: NODE, args: ['-e', script], env: [], inputs: [], outputs: [], gpuCount: 1, maxDurationMs: 60_000n, maxBudget: 0n, image: '' } } }))
    const kinds: string[] = []
    const reading = (async () => {
      try {
        for await (const raw of renter.frames()) {
          const f = JobFrame.decode(raw)
          kinds.push(Object.keys(f).find((k) => (f as Record<string, unknown>)[k] != null) ?? '')
        }
      } catch (err) { return err }
    })()
    await exitedP
    // the job's GPUs are free while its last output waits for credit; a minute from the exit
    // (no outputs) the window ends
    expect(ledger.get('agr-1')).toBeUndefined()
    await clock.advanceAsync(60_000)
    expect(await server).toMatchObject({ reason: 'exited', exitCode: 0, outputs: [], deliveryTimedOut: true })
    expect(await reading).toMatchObject({ code: 'DELIVERY_TIMEOUT' })
    expect(kinds).not.toContain('exit')
  })

  it('gives up the pipe of a process that escaped the job and floods it: the exit and outputs still go out', async () => {
    let child = 0
    let out = ''
    // the leader leaves a child in a session of its own (out of reach of the group's kill) that
    // writes without end, and exits once the child is there
    const script = "setsid sh -c 'echo $$ > child.pid; exec yes' & while [ ! -s child.pid ]; do sleep 0.01; done; echo child=$(cat child.pid); echo ok > done.txt"
    try {
      const r = await run({ command: 'sh', args: ['-c', script], outputs: ['done.txt'], gpuCount: 0, limits: { maxDurationMs: 60_000 } }, {
        client: { onStdout: (c) => { if (child === 0) { out += Buffer.from(c).toString(); child = Number(/child=(\d+)/.exec(out)?.[1] ?? 0) } } }
      })
      expect(ok(r.client)).toMatchObject({ reason: 'exited', exitCode: 0, outputs: [{ name: 'done.txt', bytes: 3 }] })
      expect(ok(r.server)).toMatchObject({ reason: 'exited', exitCode: 0 })
      expect(child).toBeGreaterThan(0)
    } finally {
      if (child > 0) try { process.kill(child, 'SIGKILL') } catch {}
    }
  })
})

describe('the job directory after the job', () => {
  it('is moved aside at once and removed in the background: the result does not wait on its removal', async () => {
    // a removal held until the test lets it go, as one of millions of files would take its time
    let release!: () => void
    const held = new Promise<void>((resolve) => { release = resolve })
    const removing: string[] = []
    const slow = new WorkDirTrash({ remove: async (dir) => { removing.push(dir); await held; await removeJobDir(dir) } })
    const script = "const fs = require('node:fs'); fs.mkdirSync('many'); for (let i = 0; i < 100; i++) fs.writeFileSync('many/f' + i, 'x'); fs.writeFileSync('out.txt', 'ok')"
    const r = await run({ command: NODE, args: ['-e', script], outputs: ['out.txt'], gpuCount: 0, limits: { maxDurationMs: 60_000 } }, { server: { trash: slow } })
    // both sides are done (the supplier would settle now) while the removal is still held
    expect(ok(r.client)).toMatchObject({ reason: 'exited', exitCode: 0, outputs: [{ name: 'out.txt', bytes: 2 }] })
    expect(ok(r.server)).toMatchObject({ reason: 'exited', outputs: [{ name: 'out.txt' }] })
    expect(slow.size).toBe(1)
    // the job's id is free already: its directory waits for removal under another name, beside it
    expect(removing).toHaveLength(1)
    expect(readdirSync(workRoot)).toEqual([path.basename(removing[0])])
    expect(readdirSync(path.join(removing[0], 'many'))).toHaveLength(100)
    release()
    await slow.drain()
    expect(readdirSync(workRoot)).toEqual([])
  })
})

describe('the outputs\' window', () => {
  it('frees the GPUs at the exit and resets a renter that does not take the outputs within their window (DELIVERY_TIMEOUT), however long its stall timeout', async () => {
    const [renter, supplier] = memoryChannelPair()
    let exited = false
    let result: JobServerResult | undefined
    // a stall timeout far past the window: what ends the delivery here is the window
    const server = runJobServer(supplier, {
      runtime: processRuntime(), workRoot, trash, lease: { ledger, agreementId: 'agr-1' }, clock, killGraceMs: 300, stallTimeoutMs: 3_600_000, onExited: () => { exited = true }
    }).then((r) => { result = r; return r })
    const script = "require('node:fs').writeFileSync('big', Buffer.alloc(6 * 1024 * 1024, 1))"
    await renter.send(JobFrame.encode({ start: { version: 1, jobId: 'job-1', spec: { command: NODE, args: ['-e', script], env: [], inputs: [], outputs: ['big'], gpuCount: 1, maxDurationMs: 60_000n, maxBudget: 0n, image: '' } } }))
    // a renter that reads what comes and never gives credit: the supplier's window fills
    let sawExit!: () => void
    const exitSeen = new Promise<void>((resolve) => { sawExit = resolve })
    const kinds: string[] = []
    const reading = (async () => {
      try {
        for await (const raw of renter.frames()) {
          const f = JobFrame.decode(raw)
          const kind = Object.keys(f).find((k) => (f as Record<string, unknown>)[k] != null) ?? ''
          kinds.push(kind)
          if (kind === 'exit') sawExit()
        }
      } catch (err) { return err }
    })()
    await exitSeen
    // the job's processes are gone: its GPUs are free while the outputs wait for credit
    await waitFor(() => exited && kinds.includes('outputChunk'))
    expect(ledger.get('agr-1')).toBeUndefined()
    // 6 MiB at 512 KiB/s is 12 s, and a minute more: 72 s from the exit
    await clock.advanceAsync(71_000)
    for (let i = 0; i < 5; i++) await new Promise((resolve) => { setImmediate(resolve) })
    expect(result).toBeUndefined()
    await clock.advanceAsync(1_000)
    expect(await server).toMatchObject({ reason: 'exited', exitCode: 0, outputs: [], deliveryTimedOut: true })
    expect(await reading).toMatchObject({ code: 'DELIVERY_TIMEOUT' })
    expect(kinds).not.toContain('done')
  })
})

describe('the job server refuses a renter that breaks the protocol', () => {
  const enc = (f: Partial<JobFrame>): Uint8Array => JobFrame.encode(f)
  const spec = { command: 'true', args: [], env: [], inputs: [], outputs: [], gpuCount: 0, maxDurationMs: 10_000n, maxBudget: 0n, image: '' }
  const oneInput = { ...spec, inputs: [{ name: 'in.txt', size: 3n, sha256: new Uint8Array(createHash('sha256').update('abc').digest()), executable: false }] }

  it.each<[string, Array<Partial<JobFrame>>, string]>([
    ['a first frame that is not start', [{ cancel: { reason: '' } }], 'UNEXPECTED_FRAME'],
    ['an unknown protocol version', [{ start: { version: 2, jobId: 'j', spec } }], 'VERSION_UNSUPPORTED'],
    ['a bad job id', [{ start: { version: 1, jobId: '../j', spec } }], 'JOB_ID_INVALID'],
    ['a spec with an input path leaving the job dir', [{ start: { version: 1, jobId: 'j', spec: { ...spec, inputs: [{ name: '../x', size: 1n, sha256: new Uint8Array(32), executable: false }] } } }], 'INPUT_PATH_INVALID'],
    ['an input hash of the wrong length', [{ start: { version: 1, jobId: 'j', spec: { ...spec, inputs: [{ name: 'x', size: 1n, sha256: new Uint8Array(4), executable: false }] } } }], 'INPUT_HASH_INVALID'],
    ['a reserved env name', [{ start: { version: 1, jobId: 'j', spec: { ...spec, env: [{ name: 'CUDA_VISIBLE_DEVICES', value: '0' }] } } }], 'ENV_RESERVED'],
    // podman would load it from the supplier's own disk (one of the job's inputs), whatever its pull policy
    ['an image from a docker archive on the supplier\'s disk', [{ start: { version: 1, jobId: 'j', spec: { ...spec, image: 'docker-archive:/var/lib/bazaar/jobs/j/img.tar' } } }], 'IMAGE_INVALID'],
    ['input bytes that do not match their hash', [{ start: { version: 1, jobId: 'j', spec: oneInput } }, { input: { file: 0, offset: 0n, data: new TextEncoder().encode('abd') } }], 'INPUT_HASH_MISMATCH'],
    ['an input chunk at the wrong offset', [{ start: { version: 1, jobId: 'j', spec: oneInput } }, { input: { file: 0, offset: 1n, data: new TextEncoder().encode('abc') } }], 'CHUNK_INVALID'],
    ['an input chunk past the declared size', [{ start: { version: 1, jobId: 'j', spec: oneInput } }, { input: { file: 0, offset: 0n, data: new TextEncoder().encode('abcd') } }], 'CHUNK_INVALID'],
    ['inputs that never come', [{ start: { version: 1, jobId: 'j', spec: oneInput } }], 'START_TIMEOUT'],
    ['no start at all', [], 'START_TIMEOUT']
  ])('%s → %s', async (_what, frames, code) => {
    const [renter, supplier] = memoryChannelPair()
    const server = runJobServer(supplier, { runtime: processRuntime(), workRoot, trash, lease: { ledger, agreementId: 'agr-1' }, clock, startTimeoutMs: 200 })
    for (const f of frames) await renter.send(enc(f))
    let settled = false
    const outcome = server.catch((e: unknown) => e).finally(() => { settled = true })
    // a renter that stays silent: the start window passes on the clock, timer by timer
    if (code === 'START_TIMEOUT') {
      while (!settled) if (!await clock.runNext()) await new Promise((resolve) => setImmediate(resolve))
    }
    const err = await outcome as { code?: string }
    expect(err.code).toBe(code)
    // the renter is told why in an error frame
    const received: string[] = []
    for await (const f of renter.frames()) received.push(JobFrame.decode(f).error?.code ?? 'other')
    expect(received).toEqual([code])
  })

  it('stops a running job when the supplier shuts down', async () => {
    const ac = new AbortController()
    const r = await run({ command: 'sleep', args: ['30'], gpuCount: 0, limits: { maxDurationMs: 30_000 } }, {
      server: { signal: ac.signal },
      // the supplier shuts down once the renter knows the job runs
      client: { onStarted: () => { ac.abort() } }
    })
    expect(ok(r.client)).toMatchObject({ reason: 'failed', detail: 'SUPPLIER_SHUTDOWN' })
  })
})
