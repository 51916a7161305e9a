import { createHash } from 'node:crypto'
import { systemClock } from '../../util/clock.js'
import { BazaarError } from '../../util/errors.js'
import {
  DEFAULT_KILL_GRACE_MS, DEFAULT_MAX_OUTPUT_FILE_BYTES, DEFAULT_MAX_OUTPUTS_TOTAL_BYTES,
  DEFAULT_MAX_STREAM_BYTES, DEFAULT_START_TIMEOUT_MS, DEFAULT_TICK_INTERVAL_MS, EXIT_DRAIN_MAX_BYTES, EXIT_PIPE_WAIT_MS,
  MAX_CHUNK_BYTES, outputDeliveryMs
} from '../../jobs/constants.js'
import { validateJobId, validateSpecShape } from '../../jobs/spec.js'
import { JobSpecError } from '../../jobs/errors.js'
import { createFileIn, createJobDir, openOutput, outputsSize, WorkDirTrash } from '../../jobs/workdir.js'
import { JobLink, JOB_PROTOCOL_VERSION } from './codec.js'
import { JobProtocolError } from './errors.js'
import { bytesEqual } from '../../util/bytes.js'
import { fromHex } from '../../util/hex.js'
import type { FramedChannel } from '../framed.js'
import type { Clock, TimerHandle } from '../../util/clock.js'
import type { CapacityLedger } from '../../jobs/capacity.js'
import type { Runtime, RunningJob } from '../../jobs/runtime/types.js'
import type { JobEndReason, JobOutput, UsageTick } from '../../jobs/types.js'
import type { SpecShape } from '../../jobs/spec.js'
import type { DecodedJobFrame } from './codec.js'
import type { InputDecl, JobStart } from '../../wire/job.js'

/** Lets the metering layer talk on the job channel and stop the job. */
export interface JobControl {
  readonly jobId: string
  /** sends opaque metering bytes (a usage report) to the renter on the job channel */
  sendMetering: (bytes: Uint8Array) => Promise<void>
  /** stops the job: "budget" when vouchers lag or the budget is spent, "failed" with a detail code otherwise */
  stop: (reason: 'budget' | 'failed', detail?: string) => void
  /** freezes the job's processes (vouchers lag past the grace window); time keeps counting */
  pause: () => Promise<void>
  resume: () => Promise<void>
}

export interface JobServerOptions {
  runtime: Runtime
  /** job directories are created under it, one per job id */
  workRoot: string
  /** CUDA indices assigned to this session; with `lease`, the lease's GPUs are used instead */
  gpuIndices?: number[]
  /**
   * capacity of the agreement: committed when the job starts, released when the job ends, fails,
   * is refused or is cancelled
   */
  lease?: { ledger: CapacityLedger, agreementId: string }
  /**
   * the image the agreement names, null for none (a process job): a job naming another, or none
   * where one was agreed, is refused (IMAGE_NOT_AGREED) before any input. The agreement's image is
   * what the supplier checked against its offer in negotiation; the job's own is what it runs.
   * Undefined: not checked (a job without an agreement)
   */
  agreedImage?: string | null
  /**
   * protocol time: the start window, ticks, the maximum duration and the stall timeout run on its
   * timers (a ManualClock in tests); the job's own processes and pipes keep wall time
   */
  clock?: Clock
  signal?: AbortSignal
  /** called every tick while the job runs (the metering layer sends a UsageReport from here) */
  onUsageTick?: (tick: UsageTick, ctl: JobControl) => void | Promise<void>
  /** metering bytes from the renter (vouchers) */
  onMetering?: (bytes: Uint8Array, ctl: JobControl) => void | Promise<void>
  /**
   * the job exited at `exitedAt` (on `clock`): awaited before the exit frame is sent, so the metering
   * layer can bill the time since the last tick (it bounds its own wait). Called once, with a renter
   * attached: at the exit, or when a renter away at the exit re-attaches; never for a renter that
   * does not come back.
   */
  onJobEnd?: (exitedAt: number, ctl: JobControl) => Promise<void>
  /** the job process started (for logs and the job store); `ctl` as given to the metering hooks */
  onStarted?: (info: { jobId: string, pgid: number, dir: string, gpuIndices: number[] }, ctl: JobControl) => void
  tickIntervalMs?: number
  killGraceMs?: number
  startTimeoutMs?: number
  /**
   * stdout + stderr streamed live, in all (DEFAULT_MAX_STREAM_BYTES by default). Past it the job runs
   * on: what it prints is read, counted and dropped, the renter is told so in one `stderr` line at
   * the cap and the count in another before the exit, and the outputs come back as usual.
   */
  maxStreamBytes?: number
  maxOutputFileBytes?: number
  maxOutputsTotalBytes?: number
  /** keep the job directory after the job (removed by default) */
  keepWorkDir?: boolean
  /**
   * where the job directory goes after the job: moved aside at once and removed in the background,
   * so that the result (and the supplier's settlement on it) does not wait on the removal of what
   * the job left. One of its own by default, which nobody waits for; a supplier passes its own and
   * drains it when it stops.
   */
  trash?: WorkDirTrash
  /** the job directory could not be removed (the job left what even its owner cannot delete): for the logs; may come after the result */
  onWorkDirLeft?: (dir: string, err: unknown) => void
  /** a renter that gives no flow-control credit (stopped reading) for this long is gone; 60 s by default */
  stallTimeoutMs?: number
  /** lets the job outlive its renter's session, for a renter that comes back (absent: a renter gone cancels the job) */
  reattach?: JobReattach
  /**
   * the supplier's own bounds on the job's run, over the spec's `maxDurationMs` (the renter's):
   * `maxDurationMs` from the start (the agreed duration), and `runUntil`, a time on the clock (the
   * escrow's expiry less the time the settlement needs). Past either the job is stopped ("timeout").
   */
  maxDurationMs?: number
  runUntil?: number
  /**
   * the latest time on the clock the exit and outputs may still be going out (the escrow's expiry
   * less the time the close needs); the window from the exit (`outputDeliveryMs`) ends sooner
   */
  deliverUntil?: number
  /** the job's processes are gone and its GPUs released (its outputs may still be going out) */
  onExited?: () => void
}

/** Hands an accepted job a new session's channel (and its link, whose first frame was `attach`); false once the job's stream is over. */
export type JobAttachFn = (channel: FramedChannel, link: JobLink) => boolean

/**
 * A job that outlives its renter's session for a bounded time, so that a renter that restarts
 * takes the job up again (`runJobAttach`). While no renter is attached nothing is streamed and
 * usage reports go unanswered: the metering layer pauses the job once they lag past its grace
 * window (`onAway` holds off its stop window), so the supplier does no work beyond the last voucher
 * and the agreed credit; the job is stopped when nobody came back within `keepMs`. A job that ends
 * while its renter is away keeps its exit and outputs `keepMs`.
 */
export interface JobReattach {
  /**
   * how long, on the clock, a job waits for a renter that went away: a running job is stopped
   * ("cancelled", CHANNEL_CLOSED) when no renter came back within it; an ended job's exit and
   * outputs wait as long
   */
  keepMs: number
  /** the renter went away (the metering stops expecting vouchers to the end of the wait) */
  onAway?: () => void
  /** a renter re-attached */
  onBack?: () => void
  /** the job was accepted: from now on `attach` hands it a new session (until `unregister`) */
  register: (attach: JobAttachFn) => void
  /** the job's stream is over (delivered, or nobody came back in time): no attach any more */
  unregister: () => void
}

/** the renter's end of the job stream: a session's channel and the job link over it */
interface RenterLink { writer: JobLink, channel: FramedChannel }

/** How a job ended, on the supplier's side. */
export interface JobServerResult {
  jobId: string
  reason: JobEndReason
  exitCode: number
  signal?: string
  detail?: string
  durationMs: number
  /** the outputs delivered (none where the renter did not take them) */
  outputs: JobOutput[]
  /** the renter did not take the exit and outputs within their window: it was reset (DELIVERY_TIMEOUT) */
  deliveryTimedOut?: true
  /** bytes of stdout and stderr the job printed past `maxStreamBytes`, not streamed */
  droppedOutputBytes?: number
}

/**
 * Serves one job on an attested channel: receives JobStart and the inputs, runs the job, streams
 * stdout/stderr and ticks, enforces the duration and output limits, honours cancel, sends the exit
 * status and the requested outputs with their SHA-256, then closes the channel.
 *
 * A job that cannot be accepted (malformed frames, an invalid spec, too many GPUs) gets an error
 * frame and the promise rejects with the typed error. A job that was accepted always resolves with
 * its result, whatever the exit, including a command that could not be started ("failed",
 * SPAWN_FAILED) and a renter that went away ("cancelled", CHANNEL_CLOSED).
 */
export async function runJobServer (channel: FramedChannel, opts: JobServerOptions): Promise<JobServerResult> {
  const clock = opts.clock ?? systemClock
  const writer = new JobLink(channel, { stallTimeoutMs: opts.stallTimeoutMs, clock })
  const frames = writer
  let dir: string | undefined
  try {
    const start = await receiveStart(frames, opts, clock)
    const jobId = start.jobId
    const spec = start.spec!
    // [REJECT] an image other than the agreement's (or none where it named one), before any input is taken
    if (opts.agreedImage !== undefined && (spec.image.length > 0 ? spec.image : null) !== opts.agreedImage) {
      throw new JobProtocolError('IMAGE_NOT_AGREED', opts.agreedImage == null ? 'the agreement names no image' : 'the job\'s image is not the agreement\'s')
    }
    // [REJECT] an image this runtime does not run (or none where it needs one), before any input is taken
    opts.runtime.check?.(spec.image.length > 0 ? spec.image : undefined)
    let gpuIndices = opts.gpuIndices ?? []
    if (opts.lease != null) {
      const hold = opts.lease.ledger.get(opts.lease.agreementId)
      if (hold == null) throw new JobProtocolError('NO_CAPACITY', 'the agreement holds no capacity')
      gpuIndices = opts.lease.ledger.commit(opts.lease.agreementId).gpuIndices
    }
    // [REJECT] more GPUs than the agreement assigned
    if (spec.gpuCount > gpuIndices.length) throw new JobProtocolError('GPU_COUNT_EXCEEDS', `job asks ${spec.gpuCount} GPUs, ${gpuIndices.length} assigned`)
    gpuIndices = gpuIndices.slice(0, spec.gpuCount)
    try {
      dir = await createJobDir(opts.workRoot, jobId)
    } catch (err) {
      throw new JobProtocolError('WORKDIR_FAILED', 'cannot create the job directory', { cause: err })
    }
    await receiveInputs(frames, spec.inputs, dir, opts, clock)
    const result = await runAccepted({ channel, writer, frames, opts, clock, jobId, dir, gpuIndices, start })
    return result
  } catch (err) {
    if (!writer.broken) {
      const code = err instanceof BazaarError ? err.code : 'INTERNAL'
      await writer.send({ error: { code, message: err instanceof BazaarError ? err.message : 'internal error' } }).catch(() => {})
      await channel.close().catch(() => {})
    }
    throw err
  } finally {
    if (opts.lease != null) opts.lease.ledger.release(opts.lease.agreementId)
    if (dir != null && opts.keepWorkDir !== true) {
      const left = dir
      await (opts.trash ?? new WorkDirTrash()).discard(left, (err) => { opts.onWorkDirLeft?.(left, err) })
    }
  }
}

type Frames = JobLink

export interface JobAttachOptions {
  clock?: Clock
  signal?: AbortSignal
  /** how long the `attach` frame may take to arrive */
  startTimeoutMs?: number
  stallTimeoutMs?: number
  /**
   * the job the attach names, or why it is refused: the session's renter is not the agreement's
   * (ATTACH_NOT_RENTER), no job of it ran here (ATTACH_UNKNOWN_JOB), its stream is over (ATTACH_JOB_ENDED)
   */
  resolve: (agreementId: Uint8Array) => JobAttachFn | 'ATTACH_NOT_RENTER' | 'ATTACH_UNKNOWN_JOB' | 'ATTACH_JOB_ENDED'
}

/**
 * Serves a session whose renter re-attaches to the job of its agreement: its first frame is
 * `attach`, checked (version, the agreement, the renter) before the job's stream moves to this
 * channel. A refusal is an error frame with its code, then the channel closes.
 * @throws JobProtocolError with the refusal's code, or UNEXPECTED_FRAME, VERSION_UNSUPPORTED, START_TIMEOUT, CHANNEL_CLOSED
 */
export async function runJobAttach (channel: FramedChannel, opts: JobAttachOptions): Promise<void> {
  const clock = opts.clock ?? systemClock
  const link = new JobLink(channel, { stallTimeoutMs: opts.stallTimeoutMs, clock })
  try {
    const f = await nextFrame(link, clock.now() + (opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS), clock, opts.signal)
    if (f == null) throw new JobProtocolError('CHANNEL_CLOSED', 'channel closed before JobAttach')
    // [REJECT] this session re-attaches: its first frame is JobAttach
    if (f.kind !== 'attach') throw new JobProtocolError('UNEXPECTED_FRAME', `expected attach, got ${f.kind}`)
    // [REJECT] a version we speak
    if (f.value.version !== JOB_PROTOCOL_VERSION) throw new JobProtocolError('VERSION_UNSUPPORTED', `job protocol version ${f.value.version}`)
    const found = opts.resolve(f.value.agreementId)
    // [REJECT] another renter's job, a job never started here, or one whose stream is over
    if (typeof found === 'string') throw new JobProtocolError(found, 'job not re-attached')
    if (!found(channel, link)) throw new JobProtocolError('ATTACH_JOB_ENDED', 'the job\'s stream is over')
  } catch (err) {
    if (!link.broken) {
      const code = err instanceof BazaarError ? err.code : 'INTERNAL'
      await link.send({ error: { code, message: err instanceof BazaarError ? err.message : 'internal error' } }).catch(() => {})
      await channel.close().catch(() => {})
    }
    throw err
  }
}

async function nextFrame (frames: Frames, deadline: number, clock: Clock, signal?: AbortSignal): Promise<DecodedJobFrame | undefined> {
  const ms = Math.max(0, deadline - clock.now())
  // ends the wait (and clears its timer) once a frame came or the supplier stops
  const ac = new AbortController()
  const onAbort = (): void => { ac.abort() }
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const r = await Promise.race([
      frames.next(),
      clock.sleep(ms, { signal: ac.signal }).then(() => { throw new JobProtocolError('START_TIMEOUT', 'no frame in time') })
    ])
    return r
  } finally {
    ac.abort()
    signal?.removeEventListener('abort', onAbort)
  }
}

async function receiveStart (frames: Frames, opts: JobServerOptions, clock: Clock): Promise<JobStart> {
  const deadline = clock.now() + (opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS)
  const f = await nextFrame(frames, deadline, clock, opts.signal)
  if (f == null) throw new JobProtocolError('CHANNEL_CLOSED', 'channel closed before JobStart')
  // [REJECT] a re-attach to a job this session's agreement never started
  if (f.kind === 'attach') throw new JobProtocolError('ATTACH_UNKNOWN_JOB', 'no job of this agreement to re-attach to')
  // [REJECT] the first frame is JobStart
  if (f.kind !== 'start') throw new JobProtocolError('UNEXPECTED_FRAME', `expected start, got ${f.kind}`)
  const start = f.value
  // [REJECT] a version we speak
  if (start.version !== JOB_PROTOCOL_VERSION) throw new JobProtocolError('VERSION_UNSUPPORTED', `job protocol version ${start.version}`)
  validateJobId(start.jobId)
  const spec = start.spec
  if (spec == null) throw new JobSpecError('COMMAND_INVALID', 'JobStart without a spec')
  for (const i of spec.inputs) {
    if (i.size > BigInt(Number.MAX_SAFE_INTEGER)) throw new JobSpecError('INPUTS_TOO_LARGE', 'input size')
    if (i.sha256.byteLength !== 32) throw new JobSpecError('INPUT_HASH_INVALID', 'input sha256 must be 32 bytes')
  }
  if (spec.maxDurationMs > BigInt(Number.MAX_SAFE_INTEGER)) throw new JobSpecError('DURATION_INVALID', 'duration')
  const shape: SpecShape = {
    command: spec.command,
    args: spec.args,
    env: spec.env.map((e) => [e.name, e.value]),
    inputs: spec.inputs.map((i) => ({ name: i.name, size: Number(i.size) })),
    outputs: spec.outputs,
    gpuCount: spec.gpuCount,
    maxDurationMs: Number(spec.maxDurationMs),
    maxBudget: spec.maxBudget,
    image: spec.image
  }
  validateSpecShape(shape)
  return start
}

/** receives every declared input in order and checks its size and SHA-256 */
async function receiveInputs (frames: Frames, inputs: InputDecl[], dir: string, opts: JobServerOptions, clock: Clock): Promise<void> {
  const deadline = clock.now() + (opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS)
  for (const [index, decl] of inputs.entries()) {
    const size = Number(decl.size)
    const fh = await createFileIn(dir, decl.name, decl.executable ? 0o700 : 0o600)
    const hash = createHash('sha256')
    try {
      let got = 0
      while (got < size) {
        const f = await nextFrame(frames, deadline, clock, opts.signal)
        if (f == null) throw new JobProtocolError('CHANNEL_CLOSED', 'channel closed during inputs')
        if (f.kind !== 'input') throw new JobProtocolError('UNEXPECTED_FRAME', `expected input, got ${f.kind}`)
        const c = f.value
        // [REJECT] chunks of one file in order, no gap, not past the declared size
        if (c.file !== index || c.offset !== BigInt(got) || c.data.byteLength === 0 || got + c.data.byteLength > size) {
          throw new JobProtocolError('CHUNK_INVALID', `bad input chunk for file ${index}`)
        }
        await fh.write(c.data)
        hash.update(c.data)
        got += c.data.byteLength
      }
    } finally {
      await fh.close()
    }
    // [REJECT] the bytes are those the renter declared
    if (!bytesEqual(hash.digest(), decl.sha256)) throw new JobProtocolError('INPUT_HASH_MISMATCH', `input ${index} does not match its sha256`)
  }
}

interface Accepted {
  channel: FramedChannel
  writer: JobLink
  frames: Frames
  opts: JobServerOptions
  clock: Clock
  jobId: string
  dir: string
  gpuIndices: number[]
  start: JobStart
}

async function runAccepted (a: Accepted): Promise<JobServerResult> {
  const { opts, clock, jobId, dir, gpuIndices } = a
  const spec = a.start.spec!
  const startedAt = clock.now()
  const killGraceMs = opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS
  const reattach = opts.reattach
  const env: Record<string, string> = {}
  for (const e of spec.env) env[e.name] = e.value

  let running: RunningJob
  try {
    running = await opts.runtime.start({ jobId, dir, command: spec.command, args: spec.args, env, gpuIndices, image: spec.image.length > 0 ? spec.image : undefined }, { signal: opts.signal })
  } catch (err) {
    const detail = err instanceof BazaarError ? err.code : 'SPAWN_FAILED'
    try {
      await a.writer.send({ exit: { exitCode: -1, signal: '', reason: 'failed', durationMs: 0n, detail } })
      for (const [file, name] of spec.outputs.entries()) {
        await a.writer.send({ output: { file, name, size: 0n, sha256: new Uint8Array(0), missing: true } })
      }
      await a.writer.send({ done: { outputs: spec.outputs.length } })
      await a.channel.close()
    } catch {}
    return { jobId, reason: 'failed', exitCode: -1, detail, durationMs: 0, outputs: [] }
  }

  let stopReason: JobEndReason | undefined
  let stopDetail: string | undefined
  let exitedFlag = false
  const requestStop = (reason: JobEndReason, detail?: string): void => {
    // the first reason wins; a job that already exited by itself keeps "exited"
    if (stopReason != null || exitedFlag) return
    stopReason = reason
    stopDetail = detail
    void running.stop(killGraceMs)
  }

  // The renter's link. Without `reattach`, a renter that goes away cancels the job. With it, the
  // job goes on without a renter (nothing is streamed; usage reports go unanswered, so the metering
  // pauses the job, then stops it, unpaid), and a new session of the same renter takes over the
  // job's stream through `attach` (see JobReattach).
  let link: RenterLink = { writer: a.writer, channel: a.channel }
  let renterGone = false
  /** the job's stream is over (done sent, or no renter came back in time): no attach after it */
  let over = false
  /** the outputs' window after the exit ran out (see `deliverBy`): the renter was reset, nothing waits for it */
  let deliveryExpired = false
  let wakeAttached: (() => void) | undefined
  /** stops a running job whose renter stayed away past `reattach.keepMs` */
  let awayTimer: TimerHandle | undefined
  /** the job was stopped because nobody came back in time: its result is not kept any longer */
  let awayExpired = false
  const gone = (l: RenterLink): void => {
    // a link that was replaced by a re-attach is nobody's concern any more
    if (l !== link || renterGone) return
    renterGone = true
    if (reattach == null) { requestStop('cancelled', 'CHANNEL_CLOSED'); return }
    // reset at the end of the outputs' window: nothing waits for the renter any more
    if (deliveryExpired) return
    reattach.onAway?.()
    if (!exitedFlag) {
      awayTimer?.clear()
      awayTimer = clock.setTimeout(() => {
        if (!renterGone) return
        awayExpired = true
        requestStop('cancelled', 'CHANNEL_CLOSED')
      }, reattach.keepMs)
    }
  }

  let paused = false
  const ctl: JobControl = {
    jobId,
    sendMetering: async (bytes) => {
      // without a renter a usage report goes nowhere: it stays unanswered, which is what pauses
      // and then stops an unpaid job
      const l = link
      if (renterGone) return
      try {
        await l.writer.send({ metering: new Uint8Array(bytes) })
      } catch {
        gone(l)
      }
    },
    stop: (reason, detail) => { requestStop(reason, detail) },
    pause: async () => {
      if (stopReason != null || paused) return
      paused = true
      await running.pause()
    },
    resume: async () => {
      if (!paused) return
      paused = false
      if (stopReason == null) await running.resume()
    }
  }
  const sendOrGone = async (frame: Parameters<JobLink['send']>[0]): Promise<void> => {
    const l = link
    if (renterGone) return
    try {
      await l.writer.send(frame)
    } catch {
      gone(l)
    }
  }

  opts.onStarted?.({ jobId, pgid: running.pgid, dir, gpuIndices }, ctl)
  await sendOrGone({ started: { gpuIndices, startedAt: BigInt(startedAt) } })

  // output streams, live up to `maxStream` bytes in all. A long job's logs (a progress bar over
  // hours) pass any such bound, and the job is worth its outputs: past it the job runs on, its pipes
  // are still read (it would block on a full pipe otherwise) and what comes is counted and dropped,
  // so the renter's buffers and the supplier's memory stay bounded
  const maxStream = opts.maxStreamBytes ?? DEFAULT_MAX_STREAM_BYTES
  const counts = { stdout: 0, stderr: 0 }
  let capped = false
  let dropped = 0
  // Once the job's processes are gone (`drain`), what they wrote is still read and sent, before the
  // exit frame, however long the renter takes to give credit for it (its stall timeout and the
  // outputs' window bound that). What bounds a pipe is a process that escaped the job holding it
  // open: a pump gives its pipe up after EXIT_PIPE_WAIT_MS of waiting on the pipe itself, in all, or
  // once EXIT_DRAIN_MAX_BYTES more came through it (more than a pipe and its stream hold). Wall
  // time, not the clock: it bounds I/O from a real process, which a stopped clock would never release.
  const drains: Array<() => void> = []
  const pump = async (which: 'stdout' | 'stderr'): Promise<void> => {
    const stream = running[which]
    let draining = false
    let onPipe = false
    let pipeWaitLeft = EXIT_PIPE_WAIT_MS
    let drainBytesLeft = EXIT_DRAIN_MAX_BYTES
    let waitingSince = 0
    let timer: NodeJS.Timeout | undefined
    const arm = (): void => {
      waitingSince = Date.now()
      timer = setTimeout(() => { stream.destroy() }, Math.max(0, pipeWaitLeft))
    }
    const disarm = (): void => {
      if (timer == null) return
      clearTimeout(timer)
      timer = undefined
      pipeWaitLeft -= Date.now() - waitingSince
    }
    drains.push(() => {
      draining = true
      if (onPipe) arm()
    })
    const chunks = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]()
    try {
      while (true) {
        onPipe = true
        if (draining) arm()
        const next = await chunks.next()
        onPipe = false
        disarm()
        if (next.done === true) break
        const buf = next.value
        if (draining) {
          drainBytesLeft -= buf.byteLength
          if (drainBytesLeft < 0) { stream.destroy(); break }
        }
        if (capped || counts.stdout + counts.stderr + buf.byteLength > maxStream) {
          dropped += buf.byteLength
          if (capped) continue
          capped = true
          await sendOrGone({ stderr: new TextEncoder().encode(`\n[bazaar] the job's output passed the supplier's streaming cap of ${maxStream} bytes: the rest is not streamed (the job runs on; its outputs come back)\n`) })
          continue
        }
        counts[which] += buf.byteLength
        for (let off = 0; off < buf.byteLength; off += MAX_CHUNK_BYTES) {
          if (!renterGone) await sendOrGone({ [which]: new Uint8Array(buf.subarray(off, off + MAX_CHUNK_BYTES)) })
        }
      }
    } catch {
      // the pipe was given up (destroyed) or failed: nothing more comes through it
    } finally {
      disarm()
    }
  }
  const pumps = Promise.all([pump('stdout'), pump('stderr')])

  // the metering frame being handled: a voucher that came just before the renter closed is stored
  // (and the caller settles on it) before the result is returned, even past the reader's bound
  let metering: Promise<void> = Promise.resolve()
  // frames from the renter on one link while the job runs and until the channel closes
  const read = async (l: RenterLink): Promise<void> => {
    try {
      while (true) {
        const f = await l.writer.next()
        if (f == null) break
        if (f.kind === 'cancel') requestStop('cancelled')
        else if (f.kind === 'metering') {
          const bytes = f.value
          metering = (async () => {
            try {
              await opts.onMetering?.(bytes, ctl)
            } catch {
              // a failing metering layer is our fault, not the renter's: end the job, keep the channel
              requestStop('failed', 'METERING_FAILED')
            }
          })()
          await metering
        }
        else throw new JobProtocolError('UNEXPECTED_FRAME', `unexpected ${f.kind} from the renter`)
      }
      if (!exitedFlag) gone(l)
    } catch (err) {
      // [IGNORE] what a replaced link does after the renter re-attached elsewhere
      if (l !== link) return
      if (err instanceof JobProtocolError) {
        requestStop('failed', err.code)
        l.channel.abort(err)
      } else {
        gone(l)
      }
    }
  }
  let reader = read(link)

  // the limit counts from `startedAt`, the time the renter is told in `started` and `exit`, not from
  // here (the `started` frame may have waited for flow-control credit)
  const endBy = Math.min(startedAt + Math.min(Number(spec.maxDurationMs), opts.maxDurationMs ?? Infinity), opts.runUntil ?? Infinity)
  const durationTimer = clock.setTimeout(() => { requestStop('timeout') }, Math.max(0, endBy - clock.now()))
  const tickTimer = clock.setInterval(() => {
    const tick: UsageTick = { jobId, elapsedMs: clock.now() - startedAt, gpuCount: gpuIndices.length, stdoutBytes: counts.stdout, stderrBytes: counts.stderr, paused }
    void sendOrGone({ tick: { elapsedMs: BigInt(Math.max(0, tick.elapsedMs)), stdoutBytes: BigInt(tick.stdoutBytes), stderrBytes: BigInt(tick.stderrBytes), gpuCount: tick.gpuCount, paused } })
    if (opts.onUsageTick != null) {
      Promise.resolve().then(async () => { await opts.onUsageTick!(tick, ctl) }).catch(() => { requestStop('failed', 'METERING_FAILED') })
    }
  }, opts.tickIntervalMs ?? DEFAULT_TICK_INTERVAL_MS)
  const onAbort = (): void => { requestStop('failed', 'SUPPLIER_SHUTDOWN'); wakeAttached?.() }
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  if (opts.signal?.aborted === true) onAbort()

  // a new session of the agreement's renter takes the job's stream over: the old link (if it is
  // still up) is closed, `started` tells the renter the job is there, and what the job prints from
  // now on, or its exit and outputs, go to the new link
  reattach?.register((channel, writer) => {
    if (over) return false
    const old = link
    link = { writer, channel }
    renterGone = false
    if (old.channel !== channel) old.channel.abort(new Error('the renter re-attached on another session'))
    awayTimer?.clear()
    reattach.onBack?.()
    reader = read(link)
    void sendOrGone({ started: { gpuIndices, startedAt: BigInt(startedAt) } })
    wakeAttached?.()
    return true
  })

  let exit
  let exitedAt = clock.now()
  try {
    exit = await running.exited
    exitedAt = clock.now()
    exitedFlag = true
    // usage ends at the exit: no tick while stragglers are stopped and the pipes drain (the time
    // since the last tick is billed once, up to `exitedAt`)
    tickTimer.clear()
    durationTimer.clear()
    // stragglers the job left in its group (background children) go with it
    await running.stop(stopReason != null ? killGraceMs : 0)
    // the GPUs are free once the job's processes are: not held while their output and the outputs go out
    if (opts.lease != null) opts.lease.ledger.release(opts.lease.agreementId)
    opts.onExited?.()
  } finally {
    durationTimer.clear()
    tickTimer.clear()
    awayTimer?.clear()
    opts.signal?.removeEventListener('abort', onAbort)
  }
  const durationMs = Math.max(0, clock.now() - startedAt)
  const reason: JobEndReason = stopReason ?? 'exited'
  const exitCode = exit.exitCode ?? -1
  const result: JobServerResult = { jobId, reason, exitCode, durationMs, outputs: [] }
  if (exit.signal != null) result.signal = exit.signal
  if (stopDetail != null) result.detail = stopDetail

  // The rest of the job's output, the exit and the outputs go to the renter's link; a renter away (or
  // lost on the way) may come back within `reattach.keepMs` and gets the exit and outputs from the
  // start. All of it within one window fixed now, on the clock: a renter that takes them slower than
  // MIN_OUTPUT_RATE_BYTES_PER_S, or keeps re-attaching, would otherwise hold the supplier's
  // settlement until the escrow could be refunded. Past it the link is reset (DELIVERY_TIMEOUT) and
  // the job settles as it stands.
  const outputBytes = await outputsSize(a.dir, spec.outputs, opts.maxOutputFileBytes ?? DEFAULT_MAX_OUTPUT_FILE_BYTES, opts.maxOutputsTotalBytes ?? DEFAULT_MAX_OUTPUTS_TOTAL_BYTES)
  const deliverBy = Math.min(exitedAt + (reattach?.keepMs ?? 0) + outputDeliveryMs(outputBytes), opts.deliverUntil ?? Infinity)
  const deliveryTimer = clock.setTimeout(() => {
    deliveryExpired = true
    over = true
    if (!renterGone) link.channel.abort(new JobProtocolError('DELIVERY_TIMEOUT', 'the outputs were not taken in time'))
    wakeAttached?.()
  }, Math.max(0, deliverBy - clock.now()))

  // everything the job wrote goes out before the exit frame (the renter takes no output after it)
  for (const drain of drains) drain()
  await pumps
  running.stdout.destroy()
  running.stderr.destroy()
  if (dropped > 0) {
    result.droppedOutputBytes = dropped
    await sendOrGone({ stderr: new TextEncoder().encode(`[bazaar] ${dropped} bytes of output past the streaming cap were not streamed\n`) })
  }

  // the time since the last tick is billed before the renter hears of the exit, once, on the first
  // link that is up: a renter away at the exit is asked when it re-attaches, before its exit frame
  let endBilled = false
  const billEnd = async (): Promise<void> => {
    if (endBilled || renterGone || opts.onJobEnd == null) return
    endBilled = true
    await opts.onJobEnd(exitedAt, ctl).catch(() => {})
  }
  await billEnd()

  let delivered = false
  while (!delivered && !deliveryExpired) {
    if (renterGone && (reattach == null || awayExpired || !(await awaitAttach(reattach.keepMs)))) break
    await billEnd()
    const l = link
    try {
      await l.writer.send({ exit: { exitCode, signal: exit.signal ?? '', reason, durationMs: BigInt(durationMs), detail: stopDetail ?? '' } })
      result.outputs = await sendOutputs(a, l.writer, spec.outputs)
      await l.writer.send({ done: { outputs: spec.outputs.length } })
      await l.channel.close().catch(() => {})
      delivered = true
    } catch {
      gone(l)
      if (l === link && !renterGone) break
    }
  }
  over = true
  deliveryTimer.clear()
  reattach?.unregister()
  if (!delivered) { await metering; return { ...result, outputs: [], ...(deliveryExpired ? { deliveryTimedOut: true } : {}) } }
  // the renter closes after Done; a renter that lingers does not hold the job open (wall time: a
  // bound on socket I/O after the protocol is done, like a stream close timeout)
  await within(reader, 1000)
  await metering
  return result

  /** true once a renter re-attached, false after `ms` on the clock or when the supplier stops */
  async function awaitAttach (ms: number): Promise<boolean> {
    const stopping = (): boolean => opts.signal?.aborted === true
    if (stopping()) return false
    let timer: TimerHandle | undefined
    await new Promise<void>((resolve) => {
      wakeAttached = resolve
      timer = clock.setTimeout(resolve, ms)
    })
    timer?.clear()
    wakeAttached = undefined
    return !renterGone && !stopping() && !deliveryExpired
  }
}

async function sendOutputs (a: Accepted, writer: JobLink, names: string[]): Promise<JobOutput[]> {
  const maxFile = a.opts.maxOutputFileBytes ?? DEFAULT_MAX_OUTPUT_FILE_BYTES
  let budget = a.opts.maxOutputsTotalBytes ?? DEFAULT_MAX_OUTPUTS_TOTAL_BYTES
  const sent: JobOutput[] = []
  for (const [file, name] of names.entries()) {
    const found = await openOutput(a.dir, name, Math.min(maxFile, budget))
    if (found == null) {
      await writer.send({ output: { file, name, size: 0n, sha256: new Uint8Array(0), missing: true } })
      continue
    }
    try {
      budget -= found.size
      await writer.send({ output: { file, name, size: BigInt(found.size), sha256: fromHex(found.sha256), missing: false } })
      let offset = 0
      for await (const data of found.chunks()) {
        await writer.send({ outputChunk: { file, offset: BigInt(offset), data } })
        offset += data.byteLength
      }
      sent.push({ name, sha256: found.sha256, bytes: found.size })
    } finally {
      await found.close()
    }
  }
  return sent
}

/** waits for `p` at most `ms` of wall time, leaving no timer behind (I/O bounds only, see the callers) */
async function within (p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([p, new Promise<void>((resolve) => { timer = setTimeout(resolve, ms) })])
  clearTimeout(timer)
}

