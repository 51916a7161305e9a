import { execFile } from 'node:child_process'
import { RuntimeError } from '../errors.js'
import { systemProbe } from './detect.js'
import { spawnGroupLeader } from './process-group.js'
import type { CommandProbe } from './detect.js'
import type { Runtime, RunningJob, RuntimeJob } from './types.js'

export type ContainerEngine = 'docker' | 'podman'

/**
 * Finds a working container engine: `docker info`, then `podman info`, must exit 0. A docker client
 * without a running daemon fails `docker info`, so it counts as absent.
 */
export async function detectContainerEngine (probe: CommandProbe = systemProbe): Promise<ContainerEngine | undefined> {
  for (const engine of ['docker', 'podman'] as const) {
    if (await probe(engine, ['info'], 10_000)) return engine
  }
  return undefined
}

export interface ContainerOptions {
  /** --network; "none" by default (a job reaches nothing unless the supplier allows it) */
  network?: string
  /** --user uid:gid so that files the job writes belong to the supplier; the caller's ids by default */
  user?: string
  /** --pids-limit */
  pidsLimit?: number
  /** --memory in bytes */
  memoryBytes?: number
}

/** docker/podman container names allow [a-zA-Z0-9][a-zA-Z0-9_.-]* */
export function containerName (jobId: string): string {
  return `bazaar-job-${jobId.replace(/[^A-Za-z0-9_.-]/g, '_')}`
}

/**
 * The `run` argv (without the engine itself) for a job:
 * `run --rm --init --name N --network none [--gpus '"device=0,1"'] -v DIR:/job -w /job -e K=V... IMAGE CMD ARGS...`.
 *
 * GPUs: docker's `--gpus` takes a CSV list, so a list of devices must be quoted inside the value
 * (`"device=0,1"`, as in docker's own documentation); podman takes CDI devices
 * (`--device nvidia.com/gpu=N`). The command follows the image, so an image ENTRYPOINT still wraps it.
 */
export function buildContainerArgv (engine: ContainerEngine, job: RuntimeJob, opts: ContainerOptions = {}): string[] {
  if (job.image == null || job.image.length === 0) throw new RuntimeError('RUNTIME_UNAVAILABLE', 'the container runtime needs an image')
  // no capabilities and no setuid gains: a job needs neither, and both widen what escapes reach
  const argv = ['run', '--rm', '--init', '--name', containerName(job.jobId), '--network', opts.network ?? 'none', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges']
  const user = opts.user ?? defaultUser()
  if (user != null) argv.push('--user', user)
  if (opts.pidsLimit !== undefined) argv.push('--pids-limit', String(opts.pidsLimit))
  if (opts.memoryBytes !== undefined) argv.push('--memory', String(opts.memoryBytes))
  if (job.gpuIndices.length > 0) {
    if (engine === 'docker') argv.push('--gpus', `"device=${job.gpuIndices.join(',')}"`)
    else for (const i of job.gpuIndices) argv.push('--device', `nvidia.com/gpu=${i}`)
  }
  argv.push('-v', `${job.dir}:/job`, '-w', '/job')
  const env: Record<string, string> = {
    ...job.env,
    HOME: '/job',
    TMPDIR: '/job',
    BAZAAR_JOB_ID: job.jobId,
    BAZAAR_JOB_DIR: '/job',
    // what NVIDIA's runtime hook reads where it is the engine's default runtime: the image's own
    // value (CUDA images say "all") would otherwise hand a job every GPU of the host; "void" is none
    NVIDIA_VISIBLE_DEVICES: job.gpuIndices.length > 0 ? job.gpuIndices.join(',') : 'void'
  }
  for (const [k, v] of Object.entries(env)) argv.push('-e', `${k}=${v}`)
  argv.push(job.image, job.command, ...job.args)
  return argv
}

async function engineCommand (engine: ContainerEngine, args: string[]): Promise<void> {
  await new Promise<void>((resolve) => { execFile(engine, args, { timeout: 10_000 }, () => { resolve() }) })
}

function defaultUser (): string | undefined {
  return typeof process.getuid === 'function' && typeof process.getgid === 'function' ? `${process.getuid()}:${process.getgid()}` : undefined
}

export interface ContainerRuntimeInit extends ContainerOptions {
  /** skip detection and use this engine */
  engine?: ContainerEngine
  probe?: CommandProbe
}

/**
 * Runs a job in a container. The engine client is the group leader; stopping the job also kills the
 * container by name, since SIGKILL to the client does not reach the container.
 * @throws RuntimeError RUNTIME_UNAVAILABLE when no container engine works here
 */
export function containerRuntime (init: ContainerRuntimeInit = {}): Runtime {
  let engine: Promise<ContainerEngine | undefined> | undefined
  return {
    kind: 'container',
    start: async (job: RuntimeJob): Promise<RunningJob> => {
      engine ??= init.engine != null ? Promise.resolve(init.engine) : detectContainerEngine(init.probe)
      const e = await engine
      if (e == null) throw new RuntimeError('RUNTIME_UNAVAILABLE', 'no container engine: neither `docker info` nor `podman info` succeeds')
      const argv = buildContainerArgv(e, job, init)
      const name = containerName(job.jobId)
      return await spawnGroupLeader(e, argv, {
        cwd: job.dir,
        env: { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: process.env.HOME ?? job.dir },
        onStop: async () => { await engineCommand(e, ['kill', name]) },
        onPause: async (paused) => { await engineCommand(e, [paused ? 'pause' : 'unpause', name]) }
      })
    }
  }
}
