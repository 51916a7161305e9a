/** An input file placed in the job directory before the job starts. */
export interface JobInput {
  /** relative POSIX path inside the job directory */
  name: string
  data: Uint8Array
  /** written with mode 0700 (a script run directly, `./run.sh`); 0600 otherwise */
  executable?: boolean
}

/** What a renter asks to run. */
export interface JobSpec {
  /** the executable (process runtime) or the command inside the image (container runtime) */
  command: string
  args?: string[]
  env?: Record<string, string>
  inputs?: JobInput[]
  /** relative paths to collect from the job directory after the job ends */
  outputs?: string[]
  /** GPUs the job runs on (0 for a CPU-only job) */
  gpuCount: number
  limits: {
    /** the job is stopped with reason "timeout" after this long */
    maxDurationMs: number
    /** budget in base units (rao); enforced by the metering hook, which stops the job with "budget" */
    maxBudget?: bigint
  }
  /** container image, required by the container runtime */
  image?: string
}

/** How a job ended. */
export type JobEndReason = 'exited' | 'cancelled' | 'timeout' | 'budget' | 'failed'

/** One collected output file. */
export interface JobOutput {
  name: string
  /** hex SHA-256 of the bytes, checked by the renter */
  sha256: string
  bytes: number
  /** where the renter wrote it (renter side only) */
  path?: string
}

/** What the renter learns when a job ends. */
export interface JobResult {
  jobId: string
  /** the process exit code; -1 when it was ended by a signal or never ran */
  exitCode: number
  signal?: string
  reason: JobEndReason
  /** stable code explaining a "failed" reason (e.g. "SPAWN_FAILED", "METERING_FAILED") */
  detail?: string
  outputs: JobOutput[]
  /** outputs the job did not produce */
  missingOutputs: string[]
  durationMs: number
}

/** Usage since the job started, given to the metering hook every tick. */
export interface UsageTick {
  jobId: string
  elapsedMs: number
  gpuCount: number
  stdoutBytes: number
  stderrBytes: number
  /** the job is paused (see JobControl.pause); metering should not charge for paused time */
  paused: boolean
}
