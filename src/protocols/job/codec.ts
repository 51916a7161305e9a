import { JobFrame } from '../schema/job.js'
import { MAX_CHUNK_BYTES, MAX_JOB_FRAME_BYTES, MAX_ARGS, MAX_ENV, MAX_INPUTS, MAX_OUTPUTS, MAX_GPU_COUNT } from '../../jobs/constants.js'
import { JobProtocolError } from './errors.js'
import type { FramedChannel } from '../framed.js'

/** job protocol version carried in JobStart */
export const JOB_PROTOCOL_VERSION = 1

export type JobFrameKind = keyof JobFrame
/** A decoded frame of one kind: `{ kind: 'stdout', value: Uint8Array }` etc. */
export type DecodedJobFrame = { [K in JobFrameKind]: { kind: K, value: NonNullable<JobFrame[K]> } }[JobFrameKind]

const KINDS: JobFrameKind[] = ['start', 'input', 'cancel', 'started', 'stdout', 'stderr', 'tick', 'exit', 'output', 'outputChunk', 'done', 'error', 'metering']

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

/**
 * Serialises sends on a channel: stdout, stderr, ticks and metering are produced concurrently but a
 * stream transport must not interleave two writes. Each `send` resolves when its frame went out, so
 * awaiting it gives back-pressure.
 */
export class FrameWriter {
  private tail: Promise<void> = Promise.resolve()
  private failed?: Error
  constructor (private readonly channel: FramedChannel) {}

  async send (frame: Partial<JobFrame>): Promise<void> {
    const bytes = encodeJobFrame(frame)
    const next = this.tail.then(async () => {
      if (this.failed != null) throw this.failed
      try {
        await this.channel.send(bytes)
      } catch (err) {
        this.failed = err as Error
        throw err
      }
    })
    this.tail = next.catch(() => {})
    await next
  }

  /** whether a send failed (the channel is gone) */
  get broken (): boolean { return this.failed != null }
}
