import type { Readable } from 'node:stream'

/** What a runtime needs to start a job; the spec was validated and the inputs written to `dir`. */
export interface RuntimeJob {
  jobId: string
  /** the job's own working directory (absolute) */
  dir: string
  command: string
  args: string[]
  env: Record<string, string>
  /** CUDA indices of the GPUs assigned to the job */
  gpuIndices: number[]
  /** container image (container runtime) */
  image?: string
}

export interface ProcessExit {
  /** null when the process was ended by a signal */
  exitCode: number | null
  signal: NodeJS.Signals | null
}

/** A started job. */
export interface RunningJob {
  /** process group id (= pid of the group leader) */
  pgid: number
  stdout: Readable
  stderr: Readable
  /** resolves when the group leader exits */
  exited: Promise<ProcessExit>
  /**
   * Ends the job's whole process group: SIGTERM, then SIGKILL after `graceMs`; resolves once no
   * process of the group is left (or after a bounded wait). Safe to call more than once and after exit.
   */
  stop: (graceMs: number) => Promise<void>
  /**
   * Freezes the job (SIGSTOP to the group; `docker pause` for containers), e.g. while vouchers lag
   * past the metering grace window. A stopped job can still be stopped for good.
   */
  pause: () => Promise<void>
  resume: () => Promise<void>
}

/** Starts jobs; `process` runs them as child processes, `container` in docker or podman. */
export interface Runtime {
  readonly kind: 'process' | 'container'
  /**
   * @throws RuntimeError RUNTIME_UNAVAILABLE when the runtime cannot run here, SPAWN_FAILED when the
   * process could not be started
   */
  start: (job: RuntimeJob, opts?: { signal?: AbortSignal }) => Promise<RunningJob>
  /**
   * Whether this runtime runs a job naming `image` (empty: none), checked before the job's inputs
   * are taken. The process runtime runs no image; the container runtime needs one it allows.
   * @throws RuntimeError IMAGE_NOT_SUPPORTED, IMAGE_REQUIRED, IMAGE_NOT_ALLOWED
   */
  check?: (image: string | undefined) => void
}
