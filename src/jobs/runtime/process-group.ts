import { spawn, type ChildProcessByStdio } from 'node:child_process'
import type { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { RuntimeError } from '../errors.js'
import type { ProcessExit, RunningJob } from './types.js'
import type { JobCgroup, JobCgroups } from './cgroup.js'

/** whether any process of group `pgid` is left (zombies not yet reaped count) */
export function groupAlive (pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** sends `signal` to every process of the group; false when none is left */
export function signalGroup (pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal)
    return true
  } catch {
    return false
  }
}

/**
 * waits until the group is gone; false if it is still there after `ms`. Wall time, not a clock: it
 * waits on real processes (the kernel reaps them on real time), and there is no event for a whole
 * group's end to wait on instead, so it looks every 20 ms
 */
export async function waitGroupGone (pgid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms
  while (groupAlive(pgid)) {
    if (Date.now() >= until) return false
    await sleep(20)
  }
  return true
}

/**
 * SIGTERM to the whole group, SIGKILL to whatever is left after `graceMs`. The group, not just the
 * leader: a job's children and grandchildren share its group (spawned with `detached: true`, i.e.
 * setsid), so none outlives the job unless it calls setsid itself.
 */
export async function killGroup (pgid: number, graceMs: number): Promise<void> {
  if (graceMs > 0 && signalGroup(pgid, 'SIGTERM')) {
    // a paused (SIGSTOPped) process only sees SIGTERM once continued
    signalGroup(pgid, 'SIGCONT')
    if (await waitGroupGone(pgid, graceMs)) return
  }
  signalGroup(pgid, 'SIGKILL')
  await waitGroupGone(pgid, 5000)
}

/**
 * Spawns `file args` as the leader of a new session and process group, stdin closed, stdout and
 * stderr piped. Resolves once the process runs. With `cgroups`, the job is born in a cgroup of its
 * own (see cgroup.ts): stop, pause and resume then reach every process it started, one that left
 * the group with setsid included.
 * @throws RuntimeError SPAWN_FAILED (no such command, not executable, ...)
 */
export async function spawnGroupLeader (
  file: string,
  args: string[],
  opts: {
    cwd: string
    env: Record<string, string>
    onStop?: () => Promise<void>
    /** replaces SIGSTOP/SIGCONT to the group (containers are paused through the engine) */
    onPause?: (paused: boolean) => Promise<void>
    /** the supplier's job cgroups, where it may make them; `jobId` names the job's */
    cgroups?: JobCgroups
    jobId?: string
  }
): Promise<RunningJob> {
  const start = (): ChildProcessByStdio<null, Readable, Readable> => spawn(file, args, {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true
  })
  let child: ChildProcessByStdio<null, Readable, Readable>
  let cgroup: JobCgroup | undefined
  if (opts.cgroups != null) {
    try {
      ({ child, cgroup } = await opts.cgroups.spawn(opts.jobId ?? 'job', start))
    } catch (err) {
      throw new RuntimeError('SPAWN_FAILED', `cannot start ${file} in a cgroup: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err })
    }
  } else {
    child = start()
  }
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => { resolve() })
    child.once('error', (err) => {
      void cgroup?.end(0)
      reject(new RuntimeError('SPAWN_FAILED', `cannot start ${file}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err }))
    })
  })
  const pgid = child.pid
  if (pgid == null) {
    await cgroup?.end(0)
    throw new RuntimeError('SPAWN_FAILED', `cannot start ${file}`)
  }
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (exitCode, signal) => { resolve({ exitCode, signal }) })
  })
  let stopping: Promise<void> | undefined
  return {
    pgid,
    stdout: child.stdout,
    stderr: child.stderr,
    exited,
    stop: async (graceMs) => {
      stopping ??= (async () => {
        await opts.onStop?.().catch(() => {})
        // the cgroup, where there is one: the group is within it, and so is whatever left the group
        if (cgroup != null) await cgroup.end(graceMs)
        else await killGroup(pgid, graceMs)
      })()
      await stopping
    },
    pause: async () => {
      if (opts.onPause != null) await opts.onPause(true)
      else if (cgroup != null) await cgroup.freeze(true)
      else signalGroup(pgid, 'SIGSTOP')
    },
    resume: async () => {
      if (opts.onPause != null) await opts.onPause(false)
      else if (cgroup != null) await cgroup.freeze(false)
      else signalGroup(pgid, 'SIGCONT')
    }
  }
}
