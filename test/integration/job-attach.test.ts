/**
 * Re-attaching to a job (`attach` on the job protocol): the job outlives its renter's session, and
 * a new session of the renter takes its stream up again: the output from then on, the exit and the
 * outputs. A job that ended while its renter was away keeps its result for a bounded time, and an
 * attach is refused with a typed code when the job's stream is over or the resolver refuses it.
 * Protocol time (the keep window) is a ManualClock; the jobs are real processes.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { processRuntime } from '../../src/jobs/index.js'
import { attachJobClient, JobProtocolError, runJobAttach, runJobClient, runJobServer } from '../../src/protocols/job/index.js'
import type { JobAttachClientOptions, JobAttachFn, JobServerOptions, JobServerResult } from '../../src/protocols/job/index.js'
import { memoryChannelPair, type FramedChannel } from '../../src/protocols/framed.js'
import { JobFrame } from '../../src/wire/job.js'
import { ManualClock } from '../../src/util/clock.js'
import { waitFor } from '../helpers/wait.js'

const AGREEMENT = new Uint8Array(32).fill(7)
const KEEP_MS = 60_000
/** prints "alive" until the file $GO exists, then writes out.txt and exits */
const JOB = 'const fs = require("fs"); const t = setInterval(() => { console.log("alive"); if (fs.existsSync(process.env.GO)) { fs.writeFileSync("out.txt", "done\\n"); clearInterval(t) } }, 50)'

let root: string
let clock: ManualClock
beforeEach(async () => {
  clock = new ManualClock()
  root = await mkdtemp(path.join(tmpdir(), 'bazaar-attach-'))
})
afterEach(async () => { await rm(root, { recursive: true, force: true }) })

/** a job whose first renter session is dropped once it printed something; the attach function it registered */
async function detachedJob (hooks: Pick<JobServerOptions, 'onJobEnd' | 'onMetering'> = {}): Promise<{ server: Promise<JobServerResult>, attach: () => JobAttachFn | undefined, go: () => void, first: Promise<unknown>, events: string[] }> {
  const go = path.join(root, 'go')
  let attach: JobAttachFn | undefined
  const events: string[] = []
  const [supplierEnd, renterEnd] = memoryChannelPair()
  const server = runJobServer(supplierEnd, {
    runtime: processRuntime(),
    workRoot: path.join(root, 'work'),
    gpuIndices: [0],
    clock,
    ...hooks,
    reattach: { keepMs: KEEP_MS, register: (fn) => { attach = fn }, unregister: () => { attach = undefined }, onAway: () => { events.push('away') }, onBack: () => { events.push('back') } }
  })
  let printed = false
  const first = runJobClient(renterEnd, {
    command: process.execPath, args: ['-e', JOB], env: { GO: go }, outputs: ['out.txt'], gpuCount: 1, limits: { maxDurationMs: 600_000 }
  }, { outputDir: path.join(root, 'out-1'), clock, onStdout: () => { printed = true } }).catch((err: unknown) => err)
  await waitFor(() => printed, 20_000, 'the job printing on the first session')
  // the renter's process dies: its end of the channel goes away under the job
  renterEnd.abort(new Error('renter gone'))
  await waitFor(() => events.includes('away'), 20_000, 'the job noticing its renter gone')
  return { server, attach: () => attach, go: () => { writeFileSync(go, '') }, first, events }
}

/** a new session of the renter, re-attaching */
function reattach (fn: JobAttachFn | undefined | 'ATTACH_NOT_RENTER', onStdout?: () => void, onMetering?: JobAttachClientOptions['onMetering']): { client: Promise<unknown>, served: Promise<unknown> } {
  const [supplierEnd, renterEnd] = memoryChannelPair()
  const served = runJobAttach(supplierEnd, {
    clock,
    resolve: (id) => Buffer.from(id).equals(Buffer.from(AGREEMENT)) ? (fn ?? 'ATTACH_JOB_ENDED') : 'ATTACH_UNKNOWN_JOB'
  }).catch((err: unknown) => err)
  const client = attachJobClient(renterEnd, { agreementId: AGREEMENT, outputs: ['out.txt'], outputDir: path.join(root, 'out-2'), clock, ...(onStdout != null ? { onStdout } : {}), ...(onMetering != null ? { onMetering } : {}) }).catch((err: unknown) => err)
  return { client, served }
}

describe('re-attaching to a job', () => {
  it('a renter whose session dropped re-attaches: the running job goes on, its later output, exit and outputs arrive', async () => {
    const job = await detachedJob()
    // the first session ended with the channel under it
    expect(await job.first).toBeInstanceOf(Error)
    expect(job.attach()).toBeDefined()
    let alive = 0
    const { client, served } = reattach(job.attach(), () => { alive++ })
    // the job is still running: its output reaches the new session
    await waitFor(() => alive > 0, 20_000, 'output on the new session')
    expect(await served).toBeUndefined()
    job.go()
    const result = await client as Awaited<ReturnType<typeof attachJobClient>>
    expect(result.reason).toBe('exited')
    expect(result.exitCode).toBe(0)
    expect(result.outputs.map((o) => o.name)).toEqual(['out.txt'])
    expect(readFileSync(path.join(root, 'out-2', 'out.txt'), 'utf8')).toBe('done\n')
    const s = await job.server
    expect(s).toMatchObject({ reason: 'exited', exitCode: 0 })
    expect(s.outputs.map((o) => o.name)).toEqual(['out.txt'])
    // the stream is over: nothing to attach to any more
    expect(job.attach()).toBeUndefined()
    expect(job.events).toEqual(['away', 'back'])
  }, 60_000)

  it('a renter that does not come back within the wait: the running job is stopped, and nothing is kept for later', async () => {
    const job = await detachedJob()
    await job.first
    await clock.advanceAsync(KEEP_MS - 1)
    expect(job.attach()).toBeDefined()
    await clock.advanceAsync(1)
    const s = await job.server
    expect(s).toMatchObject({ reason: 'cancelled', detail: 'CHANNEL_CLOSED', outputs: [] })
    expect(job.attach()).toBeUndefined()
    expect(clock.pending).toBe(0)
  }, 60_000)

  it('a job that ended while its renter was away keeps its result: a renter that comes back in time gets it', async () => {
    const job = await detachedJob()
    await job.first
    job.go()
    // the job exits with nobody attached; its result waits on the keep window and the outputs'
    // window (the two timers left)
    await waitFor(() => clock.pending === 2, 20_000, 'the job ended, its result kept')
    await clock.advanceAsync(KEEP_MS - 1)
    const { client } = reattach(job.attach())
    const result = await client as Awaited<ReturnType<typeof attachJobClient>>
    expect(result).toMatchObject({ reason: 'exited', exitCode: 0 })
    expect(readFileSync(path.join(root, 'out-2', 'out.txt'), 'utf8')).toBe('done\n')
    expect((await job.server).outputs.map((o) => o.name)).toEqual(['out.txt'])
  }, 60_000)

  it('a renter away at the exit is billed for the job\'s end when it comes back, before its exit frame', async () => {
    // the metering layer's part, as supplierMeteringHooks plays it: a last report up to the exit,
    // then a wait for the renter's answer to it
    const billed: number[] = []
    let answered: ((bytes: Uint8Array) => void) | undefined
    const job = await detachedJob({
      onJobEnd: async (exitedAt, ctl) => {
        billed.push(exitedAt)
        const answer = new Promise<Uint8Array>((resolve) => { answered = resolve })
        await ctl.sendMetering(Uint8Array.from([1, 2, 3]))
        expect(await answer).toEqual(Uint8Array.from([9]))
      },
      onMetering: (bytes) => { answered?.(bytes) }
    })
    await job.first
    const exitAt = clock.now()
    job.go()
    await waitFor(() => clock.pending === 2, 20_000, 'the job ended, its result kept')
    // nobody to ask at the exit
    expect(billed).toEqual([])
    await clock.advanceAsync(5_000)
    const reports: number[][] = []
    const { client } = reattach(job.attach(), undefined, async (bytes, ctl) => {
      reports.push([...bytes])
      await ctl.send(Uint8Array.from([9]))
    })
    const result = await client as Awaited<ReturnType<typeof attachJobClient>>
    expect(result).toMatchObject({ reason: 'exited', exitCode: 0 })
    // asked once, on the new session, for the time up to the exit (not up to the attach)
    expect(billed).toEqual([exitAt])
    expect(reports).toEqual([[1, 2, 3]])
    expect(readFileSync(path.join(root, 'out-2', 'out.txt'), 'utf8')).toBe('done\n')
    expect((await job.server).outputs.map((o) => o.name)).toEqual(['out.txt'])
  }, 60_000)

  it('past the keep window the result is gone: the attach is refused with ATTACH_JOB_ENDED', async () => {
    let billed = 0
    const job = await detachedJob({ onJobEnd: async () => { billed++ } })
    await job.first
    job.go()
    await waitFor(() => clock.pending === 2, 20_000, 'the job ended, its result kept')
    const attachFn = job.attach()!
    await clock.advanceAsync(KEEP_MS)
    const s = await job.server
    // nobody took the result: the supplier settles on what was paid, nothing was delivered
    expect(s).toMatchObject({ reason: 'exited', exitCode: 0, outputs: [] })
    expect(job.attach()).toBeUndefined()
    // a renter holding on to the old job (the resolver still found it) is refused all the same
    const { client, served } = reattach(attachFn)
    const err = await client
    expect(err).toBeInstanceOf(JobProtocolError)
    expect(err).toMatchObject({ code: 'REMOTE_REJECTED', remoteCode: 'ATTACH_JOB_ENDED' })
    expect(await served).toMatchObject({ code: 'ATTACH_JOB_ENDED' })
    expect(existsSync(path.join(root, 'out-2', 'out.txt'))).toBe(false)
    // nobody was there to bill the end to
    expect(billed).toBe(0)
  }, 60_000)

  it('a renter that comes back after the exit and goes again, time after time, holds the result no longer than the outputs\' window', async () => {
    const job = await detachedJob()
    await job.first
    const exitAt = clock.now()
    job.go()
    await waitFor(() => clock.pending === 2, 20_000, 'the job ended, its result kept')
    // each time the renter's new session breaks as the exit goes out to it
    const comeAndGo = async (): Promise<void> => {
      const [supplierEnd, renterEnd] = memoryChannelPair()
      const breaking: FramedChannel = {
        send: async (f, o) => {
          if (JobFrame.decode(f).exit != null) { supplierEnd.abort(new Error('renter gone again')); throw new Error('renter gone again') }
          await supplierEnd.send(f, o)
        },
        close: async () => { await supplierEnd.close() },
        abort: (e) => { supplierEnd.abort(e) },
        frames: () => supplierEnd.frames()
      }
      const away = job.events.length
      const served = runJobAttach(breaking, { clock, resolve: () => job.attach() ?? 'ATTACH_JOB_ENDED' }).catch((err: unknown) => err)
      const client = attachJobClient(renterEnd, { agreementId: AGREEMENT, outputs: ['out.txt'], outputDir: path.join(root, 'out-2'), clock }).catch((err: unknown) => err)
      await served
      await client
      await waitFor(() => job.events.length === away + 2, 20_000, 'the renter back, then away again')
    }
    // within each keep window, the second time just before the outputs' window ends (a minute more
    // than the keep window, and the 5 bytes' millisecond)
    await clock.advanceAsync(KEEP_MS - 1)
    await comeAndGo()
    await clock.advanceAsync(exitAt + 2 * KEEP_MS - 1_000 - clock.now())
    await comeAndGo()
    expect(job.attach()).toBeDefined()
    await clock.advanceAsync(exitAt + KEEP_MS + 60_001 - clock.now())
    expect(await job.server).toMatchObject({ reason: 'exited', exitCode: 0, outputs: [], deliveryTimedOut: true })
    expect(job.attach()).toBeUndefined()
    expect(job.events).toEqual(['away', 'back', 'away', 'back', 'away'])
  }, 60_000)

  it('refusals are typed: another renter, an unknown job, and an attach on a session that starts a job', async () => {
    for (const code of ['ATTACH_NOT_RENTER', 'ATTACH_JOB_ENDED'] as const) {
      const [supplierEnd, renterEnd] = memoryChannelPair()
      const served = runJobAttach(supplierEnd, { clock, resolve: () => code }).catch((err: unknown) => err)
      const err = await attachJobClient(renterEnd, { agreementId: AGREEMENT, outputs: [], outputDir: path.join(root, 'out-r'), clock }).catch((e: unknown) => e)
      expect(err).toMatchObject({ code: 'REMOTE_REJECTED', remoteCode: code })
      expect(await served).toMatchObject({ code })
    }
    // an attach on a session whose agreement has no job yet: the job server refuses it as unknown
    const [supplierEnd, renterEnd] = memoryChannelPair()
    const served = runJobServer(supplierEnd, { runtime: processRuntime(), workRoot: path.join(root, 'work'), gpuIndices: [0], clock }).catch((err: unknown) => err)
    const err = await attachJobClient(renterEnd, { agreementId: AGREEMENT, outputs: [], outputDir: path.join(root, 'out-r'), clock }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'REMOTE_REJECTED', remoteCode: 'ATTACH_UNKNOWN_JOB' })
    expect(await served).toMatchObject({ code: 'ATTACH_UNKNOWN_JOB' })
    // a malformed agreement id never leaves the renter
    await expect(attachJobClient(renterEnd, { agreementId: new Uint8Array(31), outputs: [], outputDir: path.join(root, 'out-r'), clock })).rejects.toMatchObject({ code: 'FRAME_MALFORMED' })
  }, 60_000)

  it('without reattach a renter gone still cancels the job (the old behaviour)', async () => {
    const [supplierEnd, renterEnd] = memoryChannelPair()
    const server = runJobServer(supplierEnd, { runtime: processRuntime(), workRoot: path.join(root, 'work'), gpuIndices: [0], clock })
    let printed = false
    const first = runJobClient(renterEnd, {
      command: process.execPath, args: ['-e', JOB], env: { GO: path.join(root, 'never') }, gpuCount: 1, limits: { maxDurationMs: 600_000 }
    }, { outputDir: path.join(root, 'out-1'), clock, onStdout: () => { printed = true } }).catch((err: unknown) => err)
    await waitFor(() => printed, 20_000, 'the job printing')
    renterEnd.abort(new Error('renter gone'))
    await first
    expect(await server).toMatchObject({ reason: 'cancelled', detail: 'CHANNEL_CLOSED' })
  }, 60_000)
})
