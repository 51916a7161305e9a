import { JobFrame } from '../../wire/job.js'
import { MAX_CHUNK_BYTES, MAX_JOB_FRAME_BYTES, MAX_ARGS, MAX_ENV, MAX_INPUTS, MAX_OUTPUTS, MAX_GPU_COUNT } from '../../jobs/constants.js'
import { JobProtocolError } from './errors.js'
import { systemClock } from '../../util/clock.js'
import type { FramedChannel } from '../framed.js'
import { SerialQueue } from '../../util/serial.js'
import type { Clock, TimerHandle } from '../../util/clock.js'

/** job protocol version carried in JobStart */
export const JOB_PROTOCOL_VERSION = 1

export type JobFrameKind = keyof JobFrame
/** A decoded frame of one kind: `{ kind: 'stdout', value: Uint8Array }` etc. */
export type DecodedJobFrame = { [K in JobFrameKind]: { kind: K, value: NonNullable<JobFrame[K]> } }[JobFrameKind]

const KINDS: JobFrameKind[] = ['start', 'input', 'cancel', 'started', 'stdout', 'stderr', 'tick', 'exit', 'output', 'outputChunk', 'done', 'error', 'metering', 'credit', 'attach']

/** bounds of repeated fields, applied while decoding so a peer cannot make us allocate */
const LIMITS = {
  start: { spec: { args: MAX_ARGS, env: MAX_ENV, inputs: MAX_INPUTS, outputs: MAX_OUTPUTS } },
  started: { gpuIndices: MAX_GPU_COUNT }
}

const MAX_TEXT = 4096

/**
 * Decodes one frame from the peer: size cap → bounded decode → exactly one field → per-kind
 * bounds (chunks ≤ 256 KiB, short strings). Deeper rules (the job spec, chunk order) are checked by
 * the side that consumes the frame.
 * @throws JobProtocolError FRAME_TOO_LARGE, FRAME_MALFORMED, FRAME_INVALID
 */
export function decodeJobFrame (bytes: Uint8Array): DecodedJobFrame {
  // [REJECT] frame over the size limit
  if (bytes.byteLength > MAX_JOB_FRAME_BYTES) throw new JobProtocolError('FRAME_TOO_LARGE', `frame of ${bytes.byteLength} bytes`)
  let frame: JobFrame
  try {
    frame = JobFrame.decode(bytes, { limits: LIMITS as never })
  } catch (err) {
    throw new JobProtocolError('FRAME_MALFORMED', 'not a JobFrame', { cause: err })
  }
  // [REJECT] exactly one field set
  const set = KINDS.filter((k) => frame[k] != null)
  if (set.length !== 1) throw new JobProtocolError('FRAME_INVALID', `frame sets ${set.length} fields, expected 1`)
  const decoded = { kind: set[0], value: frame[set[0]] } as DecodedJobFrame
  checkBounds(decoded)
  return decoded
}

/** fixed64 fields decode as signed: every 64-bit value on this protocol is in [0, 2^63 - 1] */
function nonNegative (...values: bigint[]): void {
  // [REJECT] a negative 64-bit value
  if (values.some((v) => v < 0n)) throw new JobProtocolError('FRAME_MALFORMED', 'negative 64-bit value')
}

function checkBounds (f: DecodedJobFrame): void {
  switch (f.kind) {
    case 'start':
      if (f.value.spec != null) {
        nonNegative(f.value.spec.maxDurationMs, f.value.spec.maxBudget, ...f.value.spec.inputs.map((i) => i.size))
      }
      break
    case 'started':
      nonNegative(f.value.startedAt)
      break
    case 'tick':
      nonNegative(f.value.elapsedMs, f.value.stdoutBytes, f.value.stderrBytes)
      break
    case 'input':
    case 'outputChunk':
      nonNegative(f.value.offset)
      // [REJECT] file chunks at most 256 KiB
      if (f.value.data.byteLength > MAX_CHUNK_BYTES) throw new JobProtocolError('FRAME_MALFORMED', 'file chunk over 256 KiB')
      break
    case 'stdout':
    case 'stderr':
      if (f.value.byteLength > MAX_CHUNK_BYTES) throw new JobProtocolError('FRAME_MALFORMED', 'output chunk over 256 KiB')
      break
    case 'exit':
      nonNegative(f.value.durationMs)
      if (f.value.signal.length > 32 || f.value.reason.length > 32 || f.value.detail.length > 64) throw new JobProtocolError('FRAME_MALFORMED', 'exit fields too long')
      break
    case 'error':
      if (f.value.code.length > 64 || f.value.message.length > MAX_TEXT) throw new JobProtocolError('FRAME_MALFORMED', 'error fields too long')
      break
    case 'cancel':
      if (f.value.reason.length > MAX_TEXT) throw new JobProtocolError('FRAME_MALFORMED', 'cancel reason too long')
      break
    case 'attach':
      // [REJECT] an agreement id is 32 bytes
      if (f.value.agreementId.byteLength !== 32) throw new JobProtocolError('FRAME_MALFORMED', 'attach: agreement id must be 32 bytes')
      break
    case 'output':
      nonNegative(f.value.size)
      if (f.value.name.length > MAX_TEXT || (!f.value.missing && f.value.sha256.byteLength !== 32)) throw new JobProtocolError('FRAME_MALFORMED', 'bad output header')
      break
    default:
      break
  }
}

/** Encodes a frame; throws FRAME_TOO_LARGE rather than sending something the peer will refuse. */
export function encodeJobFrame (frame: Partial<JobFrame>): Uint8Array {
  const bytes = JobFrame.encode(frame)
  if (bytes.byteLength > MAX_JOB_FRAME_BYTES) throw new JobProtocolError('FRAME_TOO_LARGE', `frame of ${bytes.byteLength} bytes`)
  return bytes
}

/** bytes of frames one side may have in flight before the other consumed them */
export const FLOW_WINDOW = 768 * 1024
/** how long a sender waits for credit before it declares the peer stalled */
export const DEFAULT_STALL_TIMEOUT_MS = 60_000

export interface JobLinkOptions {
  window?: number
  stallTimeoutMs?: number
  /** the stall timeout runs on its timers (a ManualClock in tests); the system clock by default */
  clock?: Clock
}

/**
 * The job protocol's view of a FramedChannel: decoded frames in, encoded frames out, with
 * credit-based flow control so neither side ever holds more than `window` bytes of the other's
 * unconsumed frames (the bound on a peer's memory use here, and what keeps a transport's receive
 * buffer from overflowing).
 *
 * - A background pump reads the channel: credit frames are applied at once; other frames are queued
 *   until `next()` hands them to the protocol. A peer that sends past its window is refused
 *   (FLOW_VIOLATION); frames that break the codec end the link (the error surfaces in `next()`).
 * - `send()` is serialised (a stream transport must not interleave writes) and waits while the
 *   frame would exceed the window; credit frames bypass that queue, so two senders waiting on each
 *   other always unblock. A peer that gives no credit for `stallTimeoutMs` ends the link (FLOW_STALLED).
 */
export class JobLink {
  private readonly window: number
  private readonly stallTimeoutMs: number
  private readonly clock: Clock
  private readonly queue: Array<{ frame: DecodedJobFrame, size: number }> = []
  private unconsumed = 0
  private consumedSinceCredit = 0
  private inFlight = 0
  private ended = false
  private failure?: Error
  private sendFailure?: Error
  private readonly sends = new SerialQueue()
  private changed = signal()

  constructor (private readonly channel: FramedChannel, opts: JobLinkOptions = {}) {
    this.window = opts.window ?? FLOW_WINDOW
    this.stallTimeoutMs = opts.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS
    this.clock = opts.clock ?? systemClock
    void this.pump()
  }

  /** the next frame from the peer; undefined when the peer closed its side */
  async next (): Promise<DecodedJobFrame | undefined> {
    while (true) {
      const item = this.queue.shift()
      if (item != null) {
        this.unconsumed -= item.size
        this.consumedSinceCredit += item.size
        if (this.consumedSinceCredit >= this.window / 4) {
          const credit = this.consumedSinceCredit
          this.consumedSinceCredit = 0
          // credit bypasses the send queue: a data frame waiting for the peer's credit must not hold it
          this.channel.send(JobFrame.encode({ credit })).catch(() => {})
        }
        return item.frame
      }
      if (this.failure != null) throw this.failure
      if (this.ended) return undefined
      await this.changed.promise
    }
  }

  /** sends one frame in order, once the peer's window has room for it */
  async send (frame: Partial<JobFrame>): Promise<void> {
    const bytes = encodeJobFrame(frame)
    await this.sends.run(async () => {
      if (this.sendFailure != null) throw this.sendFailure
      try {
        await this.waitForRoom(bytes.byteLength)
        this.inFlight += bytes.byteLength
        await this.transmit(bytes)
      } catch (err) {
        this.sendFailure = err as Error
        throw err
      }
    })
  }

  /** whether a send failed (the channel is gone) */
  get broken (): boolean { return this.sendFailure != null }

  /**
   * Hands `bytes` to the channel within the stall timeout. The credit window is larger than the
   * transport's own (yamux's 256 KiB), so a peer that stops reading blocks the write itself before
   * `waitForRoom` could notice; its frames must not hold the job (and its GPUs) forever. Wall time:
   * it bounds I/O with the peer, which a stopped test clock would never end.
   */
  private async transmit (bytes: Uint8Array): Promise<void> {
    const deadline = AbortSignal.timeout(this.stallTimeoutMs)
    try {
      await this.channel.send(bytes, { signal: deadline })
    } catch (err) {
      if (!deadline.aborted) throw err
      const stalled = new JobProtocolError('FLOW_STALLED', `the peer did not take a frame within ${this.stallTimeoutMs} ms`)
      this.channel.abort(stalled)
      throw stalled
    }
  }

  private async waitForRoom (size: number): Promise<void> {
    const deadline = this.clock.now() + this.stallTimeoutMs
    while (this.inFlight > 0 && this.inFlight + size > this.window) {
      if (this.failure != null) throw this.failure
      if (this.ended) throw new JobProtocolError('CHANNEL_CLOSED', 'the peer closed while we waited for credit')
      const left = deadline - this.clock.now()
      if (left <= 0) {
        const err = new JobProtocolError('FLOW_STALLED', `no credit from the peer for ${this.stallTimeoutMs} ms`)
        this.channel.abort(err)
        throw err
      }
      let timer: TimerHandle | undefined
      await Promise.race([this.changed.promise, new Promise<void>((resolve) => { timer = this.clock.setTimeout(resolve, left) })])
      timer?.clear()
    }
  }

  private wake (): void {
    const c = this.changed
    this.changed = signal()
    c.resolve()
  }

  private async pump (): Promise<void> {
    try {
      for await (const raw of this.channel.frames()) {
        const f = decodeJobFrame(raw)
        if (f.kind === 'credit') {
          // [REJECT] credit for more than was sent
          if (f.value > this.inFlight) throw new JobProtocolError('FLOW_VIOLATION', 'credit for bytes never sent')
          this.inFlight -= f.value
        } else {
          this.unconsumed += raw.byteLength
          // [REJECT] a peer that ignores our window
          if (this.unconsumed > this.window) throw new JobProtocolError('FLOW_VIOLATION', `peer sent past the ${this.window} byte window`)
          this.queue.push({ frame: f, size: raw.byteLength })
        }
        this.wake()
      }
      this.ended = true
    } catch (err) {
      this.failure = err as Error
      if (err instanceof JobProtocolError) this.channel.abort(err)
    }
    this.wake()
  }
}

/** a promise with its resolver (Promise.withResolvers is outside the es2023 lib the build targets) */
function signal (): { promise: Promise<void>, resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((r) => { resolve = r })
  return { promise, resolve }
}
