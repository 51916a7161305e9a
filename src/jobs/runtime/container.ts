import { execFile } from 'node:child_process'
import { constants as fsc } from 'node:fs'
import { access, open, readdir } from 'node:fs/promises'
import path from 'node:path'
import { RuntimeError } from '../errors.js'
import { imageAllowed } from '../../util/image-ref.js'
import { systemProbe } from './detect.js'
import { spawnGroupLeader } from './process-group.js'
import { readHardLimits, withinHardLimits, type HardLimits, type ResourceLimits } from './process.js'
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

/** When the engine pulls a job's image: `missing` (the engines' default) or `never` (only images already here run). */
export type PullPolicy = 'missing' | 'never'

export interface ContainerOptions {
  /** --network; "none" by default (a job reaches nothing unless the supplier allows it) */
  network?: string
  /** --user uid:gid so that files the job writes belong to the supplier; the caller's ids by default */
  user?: string
  /** --pids-limit: the processes and threads of the container (its own cgroup's, not the user's) */
  pidsLimit?: number
  /** --memory in bytes, and --memory-swap the same (no swap on top) */
  memoryBytes?: number
  /** --ulimit for open files, processes and file size, soft and hard alike; core dumps are always 0 */
  limits?: ResourceLimits
  /** --pull (default missing) */
  pull?: PullPolicy
  /** names start with it (default `bazaar-job-`): a supplier's own prefix lets it find what a crash left */
  namePrefix?: string
}

const DEFAULT_PREFIX = 'bazaar-job-'

/** docker/podman container names allow [a-zA-Z0-9][a-zA-Z0-9_.-]* */
export function containerName (jobId: string, prefix = DEFAULT_PREFIX): string {
  return `${prefix}${jobId.replace(/[^A-Za-z0-9_.-]/g, '_')}`
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
  if (job.image == null || job.image.length === 0) throw new RuntimeError('IMAGE_REQUIRED', 'the container runtime needs an image')
  // no capabilities and no setuid gains: a job needs neither, and both widen what escapes reach
  const argv = ['run', '--rm', '--init', '--name', containerName(job.jobId, opts.namePrefix), '--network', opts.network ?? 'none', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges']
  if (opts.pull != null) argv.push(`--pull=${opts.pull}`)
  const user = opts.user ?? defaultUser()
  if (user != null) argv.push('--user', user)
  if (opts.pidsLimit !== undefined) argv.push('--pids-limit', String(opts.pidsLimit))
  if (opts.memoryBytes !== undefined) argv.push('--memory', String(opts.memoryBytes), '--memory-swap', String(opts.memoryBytes))
  if (opts.limits != null) argv.push(...ulimitArgs(opts.limits))
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

/**
 * `--ulimit` options, soft and hard alike (the job cannot raise them). The engines otherwise give a
 * container their own defaults (podman's open files 1,048,576), which a host with lower hard limits
 * refuses at start.
 */
export function ulimitArgs (limits: ResourceLimits): string[] {
  const out = ['--ulimit', `core=${limits.coreBytes ?? 0}:${limits.coreBytes ?? 0}`]
  const each: Array<[string, number | undefined]> = [['nofile', limits.openFiles], ['nproc', limits.processes], ['fsize', limits.fileSizeBytes]]
  for (const [name, v] of each) if (v !== undefined) out.push('--ulimit', `${name}=${v}:${v}`)
  return out
}

/** Whether `image` is one a supplier's `jobs.images` allows (util/image-ref.ts, which an offer's images share). */
export { imageAllowed }

/** what the engine client needs of the supplier's environment to reach its engine, and nothing else */
const ENGINE_ENV = ['PATH', 'HOME', 'USER', 'XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'DOCKER_HOST', 'DOCKER_CONFIG', 'DOCKER_CONTEXT', 'DOCKER_CERT_PATH', 'DOCKER_TLS_VERIFY', 'CONTAINER_HOST', 'CONTAINERS_CONF', 'CONTAINERS_STORAGE_CONF', 'CONTAINERS_REGISTRIES_CONF']

export function engineEnv (env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = { PATH: '/usr/local/bin:/usr/bin:/bin' }
  for (const k of ENGINE_ENV) {
    const v = env[k]
    if (v != null) out[k] = v
  }
  return out
}

const ENGINE_COMMAND_MS = 10_000

/** runs an engine command, bounded; resolves with its stdout, or undefined where it failed */
async function engineCommand (engine: ContainerEngine, args: string[]): Promise<string | undefined> {
  return await new Promise((resolve) => {
    execFile(engine, args, { timeout: ENGINE_COMMAND_MS, maxBuffer: 1024 * 1024, env: engineEnv() }, (err, stdout) => { resolve(err == null ? stdout : undefined) })
  })
}

function defaultUser (): string | undefined {
  return typeof process.getuid === 'function' && typeof process.getgid === 'function' ? `${process.getuid()}:${process.getgid()}` : undefined
}

/** where CDI specs live (the CDI specification's defaults, which podman reads) */
export const CDI_SPEC_DIRS = ['/etc/cdi', '/var/run/cdi']
/** NVIDIA's container hooks, one of which docker's `--gpus` runs (nvidia-container-toolkit) */
const NVIDIA_DOCKER_TOOLS = ['nvidia-container-runtime-hook', 'nvidia-container-cli']

/**
 * Whether the engine can hand a container NVIDIA GPUs, as the runtime asks for them: podman through
 * a CDI spec of kind `nvidia.com/gpu` (`nvidia-ctk cdi generate`), docker's `--gpus` through
 * NVIDIA's container toolkit. Undefined where it can, else what is missing, as one line.
 */
export async function gpuAccessMissing (engine: ContainerEngine, opts: { cdiDirs?: readonly string[], path?: string } = {}): Promise<string | undefined> {
  if (engine === 'podman') {
    for (const dir of opts.cdiDirs ?? CDI_SPEC_DIRS) {
      const names = await readdir(dir).catch(() => [] as string[])
      for (const name of names.filter((n) => /\.(json|ya?ml)$/.test(n)).slice(0, 64)) {
        const text = await readBounded(path.join(dir, name), 1024 * 1024).catch(() => '')
        if (/["']?kind["']?\s*:\s*["']?nvidia\.com\/gpu["']?/.test(text)) return undefined
      }
    }
    return `podman finds no CDI spec for nvidia.com/gpu in ${(opts.cdiDirs ?? CDI_SPEC_DIRS).join(' or ')} (nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml)`
  }
  const dirs = (opts.path ?? process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':').filter((d) => d.length > 0)
  for (const tool of NVIDIA_DOCKER_TOOLS) {
    for (const d of dirs) if (await access(path.join(d, tool), fsc.X_OK).then(() => true, () => false)) return undefined
  }
  return 'docker cannot give a container GPUs here: NVIDIA\'s container toolkit (nvidia-container-runtime-hook) is not installed'
}

async function readBounded (file: string, max: number): Promise<string> {
  const fh = await open(file, 'r')
  try {
    const buf = Buffer.alloc(max)
    const { bytesRead } = await fh.read(buf, 0, max, 0)
    return buf.subarray(0, bytesRead).toString('utf8')
  } finally {
    await fh.close()
  }
}

export interface ContainerRuntimeInit extends ContainerOptions {
  /** skip detection and use this engine */
  engine?: ContainerEngine
  probe?: CommandProbe
  /** the images jobs may name (see `imageAllowed`); empty or absent: any */
  images?: readonly string[]
  /** the supplier's own hard limits (/proc/self/limits by default): the ulimits are lowered to them */
  hardLimits?: HardLimits
}

/** A container runtime: a Runtime, and what a supplier does with its engine at start. */
export interface ContainerRuntime extends Runtime {
  readonly kind: 'container'
  /** the engine that runs the jobs, found once; undefined where none works here */
  engine: () => Promise<ContainerEngine | undefined>
  /**
   * Removes every container of this runtime's name prefix, running or not: the jobs a crashed run
   * of the supplier left (a container outlives its engine client). Resolves with how many.
   */
  sweep: () => Promise<number>
}

/**
 * Runs a job in a container. The engine client is the group leader; stopping the job also kills the
 * container by name, since SIGKILL to the client does not reach the container.
 *
 * Each job gets `--network none`, no capabilities, no new privileges, the supplier's uid and gid,
 * the `limits` as ulimits (lowered to the supplier's own hard limits, as prlimit's are for the
 * process runtime), `pidsLimit` and `memoryBytes` through the container's cgroup (the engine's, so
 * this bounds memory where the process runtime cannot), and only its GPUs.
 * @throws RuntimeError RUNTIME_UNAVAILABLE when no container engine works here
 */
export function containerRuntime (init: ContainerRuntimeInit = {}): ContainerRuntime {
  let engine: Promise<ContainerEngine | undefined> | undefined
  let hard: Promise<HardLimits> | undefined
  const prefix = init.namePrefix ?? DEFAULT_PREFIX
  const found = async (): Promise<ContainerEngine | undefined> => {
    engine ??= init.engine != null ? Promise.resolve(init.engine) : detectContainerEngine(init.probe)
    return await engine
  }
  return {
    kind: 'container',
    engine: found,
    check: (image) => {
      // [REJECT] a container runs an image, and only one the supplier allows
      if (image == null || image.length === 0) throw new RuntimeError('IMAGE_REQUIRED', 'this supplier runs jobs in containers: the job must name an image')
      if (!imageAllowed(image, init.images ?? [])) throw new RuntimeError('IMAGE_NOT_ALLOWED', 'this supplier does not run that image')
    },
    sweep: async () => {
      const e = await found()
      if (e == null) return 0
      const listed = await engineCommand(e, ['ps', '-a', '--filter', `name=^${prefix}`, '--format', '{{.Names}}'])
      // the filter matches anywhere in the name on some engines: only names of this prefix go
      const names = (listed ?? '').split('\n').map((s) => s.trim()).filter((s) => s.startsWith(prefix) && /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(s))
      // at once: podman's `rm -f` otherwise gives each container its 10 s stop timeout first
      if (names.length > 0) await engineCommand(e, e === 'podman' ? ['rm', '-f', '-t', '0', ...names] : ['rm', '-f', ...names])
      return names.length
    },
    start: async (job: RuntimeJob): Promise<RunningJob> => {
      const e = await found()
      if (e == null) throw new RuntimeError('RUNTIME_UNAVAILABLE', 'no container engine: neither `docker info` nor `podman info` succeeds')
      hard ??= init.hardLimits != null ? Promise.resolve(init.hardLimits) : readHardLimits()
      const h = await hard
      // podman's engine process is the supplier's child and cannot raise a hard limit past the
      // supplier's; a limit left unset is the engine's own default (podman's may lie above a
      // host's hard limits, and the container then does not start: set jobs.processes and openFiles)
      const limits = withinHardLimits(init.limits ?? {}, h)
      const argv = buildContainerArgv(e, job, { ...init, limits, namePrefix: prefix })
      const name = containerName(job.jobId, prefix)
      const running = await spawnGroupLeader(e, argv, {
        cwd: job.dir,
        env: engineEnv(),
        onStop: async () => { await engineCommand(e, ['kill', name]) },
        onPause: async (paused) => { await engineCommand(e, [paused ? 'pause' : 'unpause', name]) }
      })
      // `--rm` is the client's to do: a client stopped while the engine created or started the
      // container leaves it behind (created, or running with its GPUs already given back), so
      // whatever ended the client, the container goes by name before the exit counts
      const exited = running.exited.then(async (x) => {
        await engineCommand(e, e === 'podman' ? ['rm', '-f', '-t', '0', '--ignore', name] : ['rm', '-f', name])
        return x
      })
      return { ...running, exited }
    }
  }
}
