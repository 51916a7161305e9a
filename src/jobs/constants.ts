/**
 * Bounds of the job layer. Everything a renter controls in a job spec and everything a supplier
 * sends back is bounded by one of these.
 */

/** job ids: chosen by the renter, used as a directory name, so a conservative charset */
export const JOB_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
export const MAX_COMMAND_BYTES = 4096
export const MAX_ARGS = 1024
export const MAX_ARG_BYTES = 64 * 1024
export const MAX_ARGS_TOTAL_BYTES = 128 * 1024
export const MAX_ENV = 256
/** POSIX portable environment names (IEEE 1003.1 §8.1): letters, digits, underscore, no leading digit */
export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/
export const MAX_ENV_TOTAL_BYTES = 64 * 1024
/** names the supplier sets itself; a renter may not override them */
export const RESERVED_ENV = new Set(['CUDA_VISIBLE_DEVICES', 'NVIDIA_VISIBLE_DEVICES', 'HOME', 'TMPDIR', 'BAZAAR_JOB_ID', 'BAZAAR_JOB_DIR'])
export const MAX_INPUTS = 256
export const MAX_INPUTS_TOTAL_BYTES = 256 * 1024 * 1024
export const MAX_OUTPUTS = 256
export const MAX_PATH_BYTES = 1024
export const MAX_PATH_SEGMENTS = 32
export const MAX_GPU_COUNT = 64
/** 30 days */
export const MAX_DURATION_MS = 30 * 24 * 3600 * 1000
export const MAX_IMAGE_BYTES = 512

/** the largest JobFrame either side accepts */
export const MAX_JOB_FRAME_BYTES = 512 * 1024
/** input/output file chunks and stdout/stderr chunks */
export const MAX_CHUNK_BYTES = 256 * 1024
/** default cap on one output file and on all outputs of a job */
export const DEFAULT_MAX_OUTPUT_FILE_BYTES = 256 * 1024 * 1024
export const DEFAULT_MAX_OUTPUTS_TOTAL_BYTES = 1024 * 1024 * 1024
/**
 * The outputs go out within a window fixed when the job exits: this much, plus the time their
 * bytes take at MIN_OUTPUT_RATE (both sides hold the other to it). A renter that takes them slower,
 * or keeps going away and re-attaching, cannot hold the supplier's settlement (and its GPUs) past
 * it, and a supplier that sends them slower cannot hold the renter. 512 KiB/s is a slow home
 * uplink: 1 GiB of outputs gets 34 minutes.
 */
export const OUTPUT_DELIVERY_SLACK_MS = 60_000
export const MIN_OUTPUT_RATE_BYTES_PER_S = 512 * 1024
/** how long `bytes` take at MIN_OUTPUT_RATE_BYTES_PER_S */
export function outputTransferMs (bytes: number): number {
  return Math.ceil(bytes / MIN_OUTPUT_RATE_BYTES_PER_S * 1000)
}
/** the window for `bytes` of outputs (see OUTPUT_DELIVERY_SLACK_MS) */
export function outputDeliveryMs (bytes: number): number {
  return OUTPUT_DELIVERY_SLACK_MS + outputTransferMs(bytes)
}
/**
 * default cap on stdout + stderr streamed live to the renter, in all; past it the job runs on and
 * the rest of its output is counted, not streamed (the renter is told in a `stderr` line)
 */
export const DEFAULT_MAX_STREAM_BYTES = 64 * 1024 * 1024
/**
 * After a job's processes are gone, what they wrote is still read from its pipes and streamed
 * before the exit: a pipe a process that escaped the job holds open is given up after this much
 * wall time spent waiting on the pipe itself (time waiting for the renter's credit does not count)…
 */
export const EXIT_PIPE_WAIT_MS = 2000
/**
 * …or once this much more came through it: more than a pipe holds (1 MiB at most for an
 * unprivileged process, fs.pipe-max-size) with its stream's buffer
 */
export const EXIT_DRAIN_MAX_BYTES = 4 * 1024 * 1024
/** SIGTERM → SIGKILL grace */
export const DEFAULT_KILL_GRACE_MS = 3000
export const DEFAULT_TICK_INTERVAL_MS = 1000
/** how long the supplier waits for JobStart and for all inputs */
export const DEFAULT_START_TIMEOUT_MS = 60_000
/** bound on nvidia-smi's output and running time */
export const NVIDIA_SMI_MAX_BYTES = 64 * 1024
export const NVIDIA_SMI_TIMEOUT_MS = 10_000
export const MAX_GPUS = 256
