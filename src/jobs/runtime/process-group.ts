import { spawn } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { RuntimeError } from '../errors.js'
import type { ProcessExit, RunningJob } from './types.js'

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
 * stderr piped. Resolves once the process runs.
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
  }
): Promise<RunningJob> {
  const child = spawn(file, args, {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true
  })
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => { resolve() })
    child.once('error', (err) => {
      reject(new RuntimeError('SPAWN_FAILED', `cannot start ${file}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err }))
    })
  })
  const pgid = child.pid
  if (pgid == null) throw new RuntimeError('SPAWN_FAILED', `cannot start ${file}`)
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
        await killGroup(pgid, graceMs)
      })()
      await stopping
    },
    pause: async () => {
      if (opts.onPause != null) await opts.onPause(true)
      else signalGroup(pgid, 'SIGSTOP')
    },
    resume: async () => {
      if (opts.onPause != null) await opts.onPause(false)
      else signalGroup(pgid, 'SIGCONT')
    }
  }
}
