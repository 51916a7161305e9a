import { createHash, randomBytes } from 'node:crypto'
import { constants as fsc } from 'node:fs'
import { open, realpath, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { DEFAULT_MAX_OUTPUT_FILE_BYTES, DEFAULT_MAX_OUTPUTS_TOTAL_BYTES, MAX_CHUNK_BYTES, outputTransferMs } from '../../jobs/constants.js'
import { isSafeRelativePath, validateJobId, validateJobSpec } from '../../jobs/spec.js'
import { JobLink, JOB_PROTOCOL_VERSION } from './codec.js'
import { JobProtocolError } from './errors.js'
import { remoteCode } from '../remote-code.js'
import { systemClock } from '../../util/clock.js'
import type { FileHandle } from 'node:fs/promises'
import type { Clock, TimerHandle } from '../../util/clock.js'
import type { FramedChannel } from '../framed.js'
import type { JobEndReason, JobOutput, JobResult, JobSpec } from '../../jobs/types.js'
import type { Exit, Tick } from '../../wire/job.js'
import { makeDirs } from '../../util/fs.js'

const REASONS = new Set<string>(['exited', 'cancelled', 'timeout', 'budget', 'failed'])
/** a signal name (SIGKILL, SIGRTMIN+3) */
const SIGNAL_RE = /^SIG[A-Z0-9+]{1,12}$/

export interface JobClientOptions {
  /** outputs are written here under their relative names (created when missing) */
  outputDir: string
  /** renter-chosen id; random when omitted */
  jobId?: string
  onStarted?: (info: { gpuIndices: number[] }) => void
  /**
   * the job's exit arrived (its outputs follow): the renter's metering pays nothing past it. `exit`
   * is how the job ended, as the result will say it; it stands even when the delivery of the
   * outputs fails afterwards
   */
  onExit?: (exit: JobExit) => void
  /**
   * one output asked for is settled: `output` verified and renamed into place, or undefined when
   * the supplier said the job did not write it. Those settled before a failure stay on disk.
   */
  onOutput?: (name: string, output: JobOutput | undefined) => void
  onStdout?: (chunk: Uint8Array) => void
  onStderr?: (chunk: Uint8Array) => void
  onTick?: (tick: Tick) => void
  /** metering bytes from the supplier (usage reports); `send` answers on the same channel (vouchers) */
  onMetering?: (bytes: Uint8Array, ctl: { send: (bytes: Uint8Array) => Promise<void> }) => void | Promise<void>
  /** aborting sends a cancel; the job still ends with a result (reason "cancelled") */
  signal?: AbortSignal
  /** how long the supplier has to confirm a cancel before the channel is aborted */
  cancelTimeoutMs?: number
  /** the cancel window and the stall timeout run on its timers (a ManualClock in tests); the system clock by default */
  clock?: Clock
  /** a supplier that gives no flow-control credit for this long is gone; 60 s by default */
  stallTimeoutMs?: number
  /**
   * how long to wait for the supplier's next frame before the start and after the exit, and past
   * the job's maximum duration while it runs (default DEFAULT_SUPPLIER_SILENCE_MS)
   */
  supplierSilenceMs?: number
  /** the job's maximum duration (`runJobClient` takes it from the spec); without it a running job's frames are waited for without bound */
  maxDurationMs?: number
  maxOutputFileBytes?: number
  maxOutputsTotalBytes?: number
}

/** How a job ended, as its `exit` frame says it (the part of JobResult known before the outputs). */
export type JobExit = Pick<JobResult, 'exitCode' | 'signal' | 'reason' | 'detail' | 'durationMs'>

/** the exit frame as the result says it: the supplier's words reach logs and terminals, so a signal name and a code, or nothing */
function exitOf (exit: Exit): JobExit {
  const out: JobExit = { exitCode: exit.exitCode, reason: exit.reason as JobEndReason, durationMs: Number(exit.durationMs) }
  if (SIGNAL_RE.test(exit.signal)) out.signal = exit.signal
  if (exit.detail.length > 0) out.detail = remoteCode(exit.detail)
  return out
}

interface Receiving {
  file: number
  name: string
  size: number
  sha256: string
  got: number
  hash: ReturnType<typeof createHash>
  fh: FileHandle
  /** the file the bytes go to until they are verified: one this run created, beside `final` */
  tmp: string
  final: string
}

/**
 * Runs a job on the supplier at the other end of `channel`: sends JobStart and the inputs, forwards
 * live stdout/stderr/ticks, and writes each requested output into `outputDir` once its size and
 * SHA-256 match what the supplier declared (written to a new hidden file beside it, renamed into
 * place when verified).
 *
 * @throws JobSpecError for a spec that breaks a rule (nothing is sent)
 * @throws JobProtocolError REMOTE_REJECTED (with `remoteCode`) when the supplier refuses the job,
 * OUTPUT_HASH_MISMATCH / OUTPUT_SIZE_MISMATCH / OUTPUT_INVALID for a bad output, CHANNEL_CLOSED when
 * the channel ends before the job did, CANCEL_TIMEOUT when a cancel is not confirmed in time
 */
export async function runJobClient (channel: FramedChannel, spec: JobSpec, opts: JobClientOptions): Promise<JobResult> {
  validateJobSpec(spec)
  const jobId = opts.jobId ?? randomBytes(12).toString('hex')
  validateJobId(jobId)
  const wanted = spec.outputs ?? []
  const inputs = spec.inputs ?? []
  return await followJob(channel, jobId, wanted, { maxDurationMs: spec.limits.maxDurationMs, ...opts }, async (writer) => {
    await writer.send({
      start: {
        version: JOB_PROTOCOL_VERSION,
        jobId,
        spec: {
          command: spec.command,
          args: spec.args ?? [],
          env: Object.entries(spec.env ?? {}).map(([name, value]) => ({ name, value })),
          inputs: inputs.map((f) => ({ name: f.name, size: BigInt(f.data.byteLength), sha256: new Uint8Array(createHash('sha256').update(f.data).digest()), executable: f.executable === true })),
          outputs: wanted,
          gpuCount: spec.gpuCount,
          maxDurationMs: BigInt(spec.limits.maxDurationMs),
          maxBudget: spec.limits.maxBudget ?? 0n,
          image: spec.image ?? ''
        }
      }
    })
    for (const [file, f] of inputs.entries()) {
      for (let off = 0; off < f.data.byteLength; off += MAX_CHUNK_BYTES) {
        await writer.send({ input: { file, offset: BigInt(off), data: new Uint8Array(f.data.subarray(off, off + MAX_CHUNK_BYTES)) } })
      }
    }
  })
}

export interface JobAttachClientOptions extends Omit<JobClientOptions, 'jobId'> {
  /** the agreement whose job this session takes up again (32 bytes) */
  agreementId: Uint8Array
  /** the outputs the job was started with, in the order asked (they come back as for a new job) */
  outputs: string[]
}

/**
 * Takes up the job of an agreement after this renter's earlier session dropped (a restart): sends
 * `attach` as the session's first frame, then follows the job as `runJobClient` does, from where it
 * is: live output from now on, or at once its exit and outputs when it ended meanwhile and the
 * supplier kept them. Nothing is started or sent again.
 *
 * @throws JobProtocolError REMOTE_REJECTED with `remoteCode` ATTACH_NOT_RENTER, ATTACH_UNKNOWN_JOB
 * or ATTACH_JOB_ENDED when the supplier refuses, and the errors of `runJobClient` otherwise
 */
export async function attachJobClient (channel: FramedChannel, opts: JobAttachClientOptions): Promise<JobResult> {
  // [REJECT] an agreement id is 32 bytes (the supplier refuses anything else)
  if (opts.agreementId.byteLength !== 32) throw new JobProtocolError('FRAME_MALFORMED', 'agreement id must be 32 bytes')
  for (const name of opts.outputs) if (!isSafeRelativePath(name)) throw new JobProtocolError('OUTPUT_INVALID', 'unsafe output name')
  return await followJob(channel, '', opts.outputs, opts, async (writer) => {
    await writer.send({ attach: { version: JOB_PROTOCOL_VERSION, agreementId: new Uint8Array(opts.agreementId) } })
  })
}

/**
 * How long the renter waits for the supplier's next frame before the job starts and after it
 * exited: the supplier answers a start at once and sends its outputs steadily, so this long
 * without anything is a supplier gone silent, and the rental must not wait on it forever. While
 * the job runs the supplier's frames are its metering ticks, whose period is its own to set (up to
 * an hour), so the bound there is the job's own: its maximum duration and this much more.
 */
export const DEFAULT_SUPPLIER_SILENCE_MS = 120_000

/**
 * The next frame, or SUPPLIER_SILENT after `ms` without one (none: no bound). Wall time: it bounds
 * a read from the peer, which a stopped test clock would never end.
 */
async function nextWithin (link: JobLink, bound: { ms: number, window: boolean } | undefined): ReturnType<JobLink['next']> {
  if (bound == null) return await link.next()
  const { ms, window } = bound
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([
      link.next(),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          reject(window
            ? new JobProtocolError('DELIVERY_TIMEOUT', 'the outputs did not arrive within their window')
            : new JobProtocolError('SUPPLIER_SILENT', `nothing from the supplier in ${ms} ms`))
        }, Math.max(0, ms))
      })
    ])
  } finally {
    clearTimeout(timer)
  }
}

/** sends the session's opening frames with `open`, then follows the job to its Done */
async function followJob (channel: FramedChannel, jobId: string, wanted: string[], opts: Omit<JobClientOptions, 'jobId'>, open: (writer: JobLink) => Promise<void>): Promise<JobResult> {
  const clock = opts.clock ?? systemClock
  const writer = new JobLink(channel, { clock, stallTimeoutMs: opts.stallTimeoutMs })
  const maxFile = opts.maxOutputFileBytes ?? DEFAULT_MAX_OUTPUT_FILE_BYTES
  let budget = opts.maxOutputsTotalBytes ?? DEFAULT_MAX_OUTPUTS_TOTAL_BYTES
  await makeDirs(opts.outputDir)
  const outDir = await realpath(opts.outputDir)

  let cancelTimer: TimerHandle | undefined
  const onAbort = (): void => {
    void writer.send({ cancel: { reason: 'renter cancelled' } }).catch(() => {})
    cancelTimer = clock.setTimeout(() => {
      channel.abort(new JobProtocolError('CANCEL_TIMEOUT', 'the supplier did not confirm the cancel'))
    }, opts.cancelTimeoutMs ?? 30_000)
  }

  let current: Receiving | undefined
  try {
    await open(writer)
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    if (opts.signal?.aborted === true) onAbort()

    let exit: Exit | undefined
    let started = false
    let nextFile = 0
    const outputs: JobOutput[] = []
    const missing: string[] = []
    const finish = async (): Promise<void> => {
      if (current == null) return
      const c = current
      current = undefined
      const digest = c.hash.digest('hex')
      try {
        await c.fh.close()
        if (c.got !== c.size) throw new JobProtocolError('OUTPUT_SIZE_MISMATCH', `output ${c.name}: ${c.got} of ${c.size} bytes`)
        // [REJECT] the bytes are those the supplier declared
        if (digest !== c.sha256) throw new JobProtocolError('OUTPUT_HASH_MISMATCH', `output ${c.name} does not match its sha256`)
        await rename(c.tmp, c.final)
      } catch (err) {
        await rm(c.tmp, { force: true })
        throw err
      }
      const output = { name: c.name, sha256: digest, bytes: c.size, path: c.final }
      outputs.push(output)
      opts.onOutput?.(c.name, output)
    }

    const silenceMs = opts.supplierSilenceMs ?? DEFAULT_SUPPLIER_SILENCE_MS
    // while the job runs: until its maximum duration (counted from the `started` we saw) and the silence more
    let runEnds: number | undefined
    // before the start and after the exit, the silence counts from the last frame that moved the job
    // on (the session's opening, `started`, `exit`, an output): ticks or metering a supplier keeps
    // sending meanwhile do not hold the renter
    let movedAt = Date.now()
    // after the exit, the outputs as a whole: the silence, and the time the declared bytes take at
    // MIN_OUTPUT_RATE_BYTES_PER_S, so that a supplier trickling them in just inside the silence
    // cannot hold the rental
    let deliverBy = Infinity
    const bound = (): { ms: number, window: boolean } | undefined => {
      const now = Date.now()
      if (exit != null) return deliverBy < movedAt + silenceMs ? { ms: deliverBy - now, window: true } : { ms: movedAt + silenceMs - now, window: false }
      if (!started) return { ms: movedAt + silenceMs - now, window: false }
      return runEnds != null ? { ms: runEnds - now, window: false } : undefined
    }
    while (true) {
      const f = await nextWithin(writer, bound())
      if (f == null) break
      if (f.kind === 'started' || f.kind === 'exit' || f.kind === 'output' || f.kind === 'outputChunk') movedAt = Date.now()
      if (f.kind === 'started') {
        // [REJECT] one start per session: a repeated one would move the run's bound on without end
        if (started) throw new JobProtocolError('UNEXPECTED_FRAME', 'second started')
        started = true
        if (opts.maxDurationMs != null) runEnds = Date.now() + opts.maxDurationMs + silenceMs
      }
      switch (f.kind) {
        case 'started': opts.onStarted?.({ gpuIndices: f.value.gpuIndices }); break
        case 'stdout': if (exit == null) opts.onStdout?.(f.value); break
        case 'stderr': if (exit == null) opts.onStderr?.(f.value); break
        // a tick after the exit is a leftover: the job no longer runs
        case 'tick': if (exit == null) opts.onTick?.(f.value); break
        case 'metering': await opts.onMetering?.(f.value, { send: async (b) => { await writer.send({ metering: new Uint8Array(b) }) } }); break
        case 'error': {
          const code = remoteCode(f.value.code)
          throw new JobProtocolError('REMOTE_REJECTED', `supplier refused the job: ${code}`, { remoteCode: code })
        }
        case 'exit':
          // [REJECT] one exit with a known reason
          if (exit != null || !REASONS.has(f.value.reason)) throw new JobProtocolError('UNEXPECTED_FRAME', 'second or malformed exit')
          exit = f.value
          deliverBy = Date.now() + silenceMs
          opts.onExit?.(exitOf(exit))
          // the cancel is confirmed; outputs may take longer than the cancel timeout to arrive
          cancelTimer?.clear()
          break
        case 'output': {
          await finish()
          const h = f.value
          // [REJECT] outputs after the exit, in the order asked, under the names asked
          if (exit == null || h.file !== nextFile || h.file >= wanted.length || h.name !== wanted[h.file]) throw new JobProtocolError('OUTPUT_INVALID', 'output not asked for or out of order')
          nextFile++
          if (h.missing) { missing.push(h.name); opts.onOutput?.(h.name, undefined); break }
          const size = Number(h.size)
          // [REJECT] within the renter's bounds
          if (h.size > BigInt(Math.min(maxFile, budget))) throw new JobProtocolError('OUTPUT_INVALID', `output ${h.name} of ${h.size} bytes over the bound`)
          budget -= size
          deliverBy += outputTransferMs(size)
          current = await openReceiving(outDir, h.file, h.name, size, Buffer.from(h.sha256).toString('hex'))
          break
        }
        case 'outputChunk': {
          const c = f.value
          // [REJECT] in order, not empty (an empty chunk moves nothing on), not past the declared size
          if (current == null || c.file !== current.file || c.offset !== BigInt(current.got) || c.data.byteLength === 0 || current.got + c.data.byteLength > current.size) {
            throw new JobProtocolError('CHUNK_INVALID', 'output chunk out of order, empty or past the declared size')
          }
          await current.fh.write(c.data)
          current.hash.update(c.data)
          current.got += c.data.byteLength
          break
        }
        case 'done': {
          await finish()
          if (exit == null || nextFile !== wanted.length) throw new JobProtocolError('UNEXPECTED_FRAME', 'done before the exit and every output')
          await channel.close()
          return { jobId, ...exitOf(exit), outputs, missingOutputs: missing }
        }
        default:
          throw new JobProtocolError('UNEXPECTED_FRAME', `unexpected ${f.kind} from the supplier`)
      }
    }
    throw new JobProtocolError('CHANNEL_CLOSED', 'the channel ended before the job did')
  } catch (err) {
    if (current != null) {
      await current.fh.close().catch(() => {})
      await rm(current.tmp, { force: true })
    }
    // a peer that broke the protocol gets the channel reset; errors of the channel itself pass through
    if (err instanceof JobProtocolError && err.code !== 'REMOTE_REJECTED' && err.code !== 'CHANNEL_CLOSED') channel.abort(err)
    throw err
  } finally {
    cancelTimer?.clear()
    opts.signal?.removeEventListener('abort', onAbort)
  }
}

async function openReceiving (outDir: string, file: number, name: string, size: number, sha256: string): Promise<Receiving> {
  // [REJECT] a name that would leave the output directory (also checked against the asked names)
  if (!isSafeRelativePath(name)) throw new JobProtocolError('OUTPUT_INVALID', 'unsafe output name')
  const final = path.join(outDir, name)
  await makeDirs(path.dirname(final))
  const realParent = await realpath(path.dirname(final))
  if (realParent !== outDir && !realParent.startsWith(outDir + path.sep)) throw new JobProtocolError('OUTPUT_INVALID', 'output leaves the output directory')
  // A name of its own, never `<name>.partial`: that may be another output, or a file of the user's.
  // O_EXCL: it is a new file, so removing it on a failure removes nothing but what came in.
  for (let attempt = 0; ; attempt++) {
    const tmp = path.join(path.dirname(final), `.bazaar-${randomBytes(12).toString('hex')}.partial`)
    try {
      const fh = await open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600)
      return { file, name, size, sha256, got: 0, hash: createHash('sha256'), fh, tmp, final }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 2) throw err
    }
  }
}
