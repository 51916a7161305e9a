import { constants as fsc } from 'node:fs'
import { access, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { RuntimeError } from '../errors.js'
import { systemProbe } from './detect.js'
import { spawnGroupLeader } from './process-group.js'
import type { CommandProbe } from './detect.js'
import type { Runtime, RunningJob, RuntimeJob } from './types.js'
import type { JobCgroups } from './cgroup.js'

const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin'

/** `ulimit`-style limits applied through prlimit(1) when it is installed. */
export interface ResourceLimits {
  /** RLIMIT_NOFILE */
  openFiles?: number
  /** RLIMIT_NPROC (per user, so it counts the supplier's other processes too) */
  processes?: number
  /** RLIMIT_AS in bytes; note that CUDA maps large virtual ranges, so leave it unset on GPU jobs */
  addressSpaceBytes?: number
  /** RLIMIT_FSIZE in bytes: the largest file the job may write */
  fileSizeBytes?: number
  /** RLIMIT_CORE; 0 by default so a crashing job leaves no core dump in its directory */
  coreBytes?: number
}

export interface ProcessRuntimeInit {
  /** PATH given to jobs (the supplier's own PATH by default) */
  path?: string
  limits?: ResourceLimits
  /** detects prlimit; injectable for tests */
  probe?: CommandProbe
  /** cgroups to run each job in (see cgroup.ts); without them a job is held by its process group only */
  cgroups?: JobCgroups
}

/**
 * Runs a job as a child process in its own directory and its own process group, and in a cgroup of
 * its own where `cgroups` is given.
 *
 * The child sees a minimal environment (the supplier's environment may hold secrets): PATH, HOME
 * and TMPDIR set to the job directory, LANG, the spec's variables, BAZAAR_JOB_ID/BAZAAR_JOB_DIR and
 * CUDA_VISIBLE_DEVICES with the assigned GPU indices (empty for a CPU-only job, which hides every
 * GPU). CUDA_VISIBLE_DEVICES only steers well-behaved CUDA programs; isolation between tenants needs
 * the container runtime or a TEE per job.
 *
 * The job's environment is also prlimit's, which reads it before it has set a limit: a job that sets
 * PATH or a variable of the dynamic loader (`isLoaderEnv`) is refused (SPAWN_FAILED), and prlimit
 * itself is looked up once in the supplier's own PATH and spawned by its absolute path.
 */
export function processRuntime (init: ProcessRuntimeInit = {}): Runtime {
  const probe = init.probe ?? systemProbe
  let prlimit: Promise<string | undefined> | undefined
  let hard: Promise<HardLimits> | undefined
  return {
    kind: 'process',
    check: (image) => {
      // [REJECT] a job that names an image expects it to run there, not as a process on the host
      if (image != null && image.length > 0) throw new RuntimeError('IMAGE_NOT_SUPPORTED', 'this supplier runs jobs as processes, not in containers: the job must name no image')
    },
    start: async (job: RuntimeJob): Promise<RunningJob> => {
      const env = jobEnv(job, init.path ?? process.env.PATH ?? DEFAULT_PATH)
      // resolved here so that a missing command is SPAWN_FAILED with or without the prlimit wrapper
      const command = await resolveCommand(job.command, env.PATH, job.dir)
      hard ??= readHardLimits()
      const limitArgs = prlimitArgs(withinHardLimits(init.limits ?? {}, await hard))
      // by its absolute path: given a bare name, spawn looks it up in the PATH of `env`, where the
      // job's own `prlimit` (an input) could come first and run without the limits
      prlimit ??= findTool('prlimit', probe)
      const prlimitFile = await prlimit
      if (prlimitFile != null) {
        // prlimit sets the limits on itself and execs the command: same pid, same process group
        return await spawnGroupLeader(prlimitFile, [...limitArgs, '--', command, ...job.args], { cwd: job.dir, env, cgroups: init.cgroups, jobId: job.jobId })
      }
      return await spawnGroupLeader(command, job.args, { cwd: job.dir, env, cgroups: init.cgroups, jobId: job.jobId })
    }
  }
}

/**
 * The executable a command names, as execvp(3) finds it: a name with a slash is a path (relative
 * to the job directory), any other name is looked up in PATH.
 * @throws RuntimeError SPAWN_FAILED when no executable regular file is found
 */
export async function resolveCommand (command: string, pathVar: string, cwd: string): Promise<string> {
  const candidates = command.includes('/')
    ? [path.resolve(cwd, command)]
    : pathVar.split(':').filter((d) => d.length > 0).map((d) => path.join(d, command))
  for (const c of candidates) {
    try {
      await access(c, fsc.X_OK)
      if ((await stat(c)).isFile()) return c
    } catch {}
  }
  throw new RuntimeError('SPAWN_FAILED', `no executable ${command}`)
}

/**
 * The absolute path of a tool in the supplier's own PATH (its absolute entries: a relative one
 * would depend on the working directory), when it answers `--version`; undefined otherwise.
 */
async function findTool (name: string, probe: CommandProbe): Promise<string | undefined> {
  const dirs = (process.env.PATH ?? DEFAULT_PATH).split(':').filter((d) => path.isAbsolute(d))
  let file: string
  try {
    file = await resolveCommand(name, dirs.join(':'), '/')
  } catch {
    return undefined
  }
  return await probe(file, ['--version'], 5000) ? file : undefined
}

/**
 * Names a job may not set under this runtime. The job's environment is prlimit's too, read before
 * prlimit has set a limit: PATH (the supplier gives its own), the dynamic loader's LD_* and
 * GLIBC_TUNABLES, and libc's GCONV_PATH and LOCPATH can each make prlimit load or parse files of the
 * job's. They are those of the variables glibc itself drops for setuid programs
 * (sysdeps/generic/unsecvars.h) that load code or feed the loader.
 */
export function isLoaderEnv (name: string): boolean {
  return name === 'PATH' || name.startsWith('LD_') || name === 'GLIBC_TUNABLES' || name === 'GCONV_PATH' || name === 'LOCPATH'
}

/**
 * The environment of a job process.
 * @throws RuntimeError SPAWN_FAILED when the job sets a name `isLoaderEnv` reserves
 */
export function jobEnv (job: RuntimeJob, path: string): Record<string, string> {
  const reserved = Object.keys(job.env).find(isLoaderEnv)
  // [REJECT] PATH and the loader's variables are the supplier's to set (they reach prlimit)
  if (reserved != null) throw new RuntimeError('SPAWN_FAILED', `${reserved} is set by the supplier`)
  return {
    PATH: path,
    LANG: 'C.UTF-8',
    ...job.env,
    HOME: job.dir,
    TMPDIR: job.dir,
    BAZAAR_JOB_ID: job.jobId,
    BAZAAR_JOB_DIR: job.dir,
    CUDA_VISIBLE_DEVICES: job.gpuIndices.join(',')
  }
}

/** The supplier's own hard limits a job's are bounded by (undefined: unlimited, or not known). */
export interface HardLimits {
  openFiles?: number
  processes?: number
  addressSpaceBytes?: number
  fileSizeBytes?: number
}

const PROC_LIMIT_NAMES: ReadonlyArray<[string, keyof HardLimits]> = [
  ['Max open files', 'openFiles'], ['Max processes', 'processes'], ['Max address space', 'addressSpaceBytes'], ['Max file size', 'fileSizeBytes']
]

/** The hard limits of /proc/self/limits (Linux); none where it cannot be read. */
export async function readHardLimits (file = '/proc/self/limits'): Promise<HardLimits> {
  const text = await readFile(file, 'utf8').catch(() => '')
  const out: HardLimits = {}
  for (const line of text.split('\n')) {
    // "Max open files            20000                20000                files"
    const cols = line.trim().split(/\s{2,}/)
    const key = PROC_LIMIT_NAMES.find(([name]) => name === cols[0])?.[1]
    const value = Number(cols[2])
    if (key != null && Number.isSafeInteger(value) && value >= 0) out[key] = value
  }
  return out
}

/**
 * The limits, none above the supplier's own hard limit: a process may lower its hard limit but not
 * raise it, so prlimit would refuse (and the job would not start) where the supplier's is lower
 * than the config asks (a container's open files, for instance). The config is a bound, and this
 * is the nearest bound that can be set.
 */
export function withinHardLimits (limits: ResourceLimits, hard: HardLimits): ResourceLimits {
  const out: ResourceLimits = { ...limits }
  for (const [, key] of PROC_LIMIT_NAMES) {
    const want = limits[key]
    const max = hard[key]
    if (want !== undefined && max !== undefined && want > max) out[key] = max
  }
  return out
}

/** prlimit(1) options for the limits; soft and hard limits are set equal */
export function prlimitArgs (limits: ResourceLimits): string[] {
  const args = [`--core=${limits.coreBytes ?? 0}`]
  if (limits.openFiles !== undefined) args.push(`--nofile=${limits.openFiles}`)
  if (limits.processes !== undefined) args.push(`--nproc=${limits.processes}`)
  if (limits.addressSpaceBytes !== undefined) args.push(`--as=${limits.addressSpaceBytes}`)
  if (limits.fileSizeBytes !== undefined) args.push(`--fsize=${limits.fileSizeBytes}`)
  return args
}
