import type { ChildProcess } from 'node:child_process'
import { watch } from 'node:fs'
import { mkdir, readFile, readdir, rmdir, writeFile } from 'node:fs/promises'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Jobs in cgroups of their own (cgroup v2), where the supplier may make them.
 *
 * A process group holds a job only while the job lets it: a process that calls setsid(2) leaves its
 * group, and a group kill no longer reaches it. A cgroup holds every descendant whatever it does,
 * and `cgroup.kill` ends them all at once; `cgroup.freeze` pauses them all, and `cgroup.events`
 * says when none is left (an inotify event, nothing to poll).
 *
 * Where: a directory `<name>` under the supplier's own cgroup, one child per job. Under systemd
 * the unit must say `Delegate=yes` for the service to own its cgroup (contrib/systemd does); a
 * supplier run as root elsewhere uses the cgroup it is in. The jobs' cgroups sit inside the
 * supplier's, so `systemctl stop` and a crash under systemd (KillMode=control-group) end them
 * too; a supplier that crashed outside systemd kills what it left at its next start (`sweep`).
 *
 * How a job enters its cgroup without a moment outside: the supplier moves itself into the job's
 * cgroup, spawns (libuv forks synchronously, so the child is born there), and moves itself back.
 * Nothing else runs in between: the event loop is held for the spawn call.
 */
export class JobCgroups {
  private constructor (
    /** the supplier's own cgroup directory */
    readonly own: string,
    /** the directory of its jobs' cgroups */
    readonly base: string
  ) {}

  /**
   * The job cgroups under this process's own cgroup v2, or why there are none (no cgroup v2
   * mounted, the cgroup not writable, this process not allowed to move itself).
   */
  static async open (name: string): Promise<JobCgroups | { unavailable: string }> {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new RangeError('a job cgroup name is 1 to 64 of [A-Za-z0-9._-]')
    let own: string
    try {
      own = ownCgroupDir(await readFile('/proc/self/cgroup', 'utf8'), await readFile('/proc/self/mountinfo', 'utf8'))
    } catch (err) {
      return { unavailable: `no cgroup v2 (${(err as Error).message})` }
    }
    try {
      // a move of this process into its own cgroup changes nothing and proves the later moves back
      await writeFile(path.join(own, 'cgroup.procs'), String(process.pid))
      const base = path.join(own, name)
      await mkdir(base, { recursive: true })
      return new JobCgroups(own, base)
    } catch (err) {
      return { unavailable: `cgroup ${own} not usable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` }
    }
  }

  /**
   * Kills and removes the job cgroups a previous run of this supplier left (it crashed, or was
   * killed, outside systemd); returns how many held processes.
   */
  async sweep (): Promise<number> {
    let names: string[]
    try {
      names = (await readdir(this.base, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name)
    } catch {
      return 0
    }
    let held = 0
    for (const n of names) {
      const cg = new JobCgroup(path.join(this.base, n))
      if (await cg.populated()) held++
      await cg.end(0)
    }
    return held
  }

  /**
   * Runs `start`, a synchronous `child_process.spawn`, inside a new cgroup named after the job: the
   * process it spawns is born there. The cgroup is removed again when `start` throws.
   */
  async spawn<C extends ChildProcess> (jobId: string, start: () => C): Promise<{ child: C, cgroup: JobCgroup }> {
    const dir = path.join(this.base, `job-${safeName(jobId)}-${process.hrtime.bigint().toString(36)}`)
    // recursive: the jobs' directory itself is made again if it went (`close` while jobs were ending)
    await mkdir(dir, { recursive: true })
    const cgroup = new JobCgroup(dir)
    const ownProcs = path.join(this.own, 'cgroup.procs')
    let child: C
    try {
      // synchronous writes on purpose: no other callback may run while this process is in the job's cgroup
      writeFileSync(path.join(dir, 'cgroup.procs'), String(process.pid))
      try {
        child = start()
      } finally {
        writeFileSync(ownProcs, String(process.pid))
      }
    } catch (err) {
      await rmdir(dir).catch(() => {})
      throw err
    }
    return { child, cgroup }
  }

  /** removes the jobs' directory when no job cgroup is left in it (at the supplier's stop) */
  async close (): Promise<void> {
    await rmdir(this.base).catch(() => {})
  }
}

/** One job's cgroup. */
export class JobCgroup {
  constructor (readonly dir: string) {}

  /** the pids in it; never this process (were it there, a kill of the cgroup would end the supplier) */
  async pids (): Promise<number[]> {
    const text = await readFile(path.join(this.dir, 'cgroup.procs'), 'utf8').catch(() => '')
    return text.split('\n').filter((l) => l !== '').map(Number).filter((p) => Number.isSafeInteger(p) && p > 0 && p !== process.pid)
  }

  /** whether any process is left in it (its `cgroup.events`) */
  async populated (): Promise<boolean> {
    const events = await readFile(path.join(this.dir, 'cgroup.events'), 'utf8').catch(() => 'populated 0')
    return /^populated 1$/m.test(events)
  }

  /** sends `signal` to each of its processes */
  async signal (signal: NodeJS.Signals): Promise<void> {
    for (const pid of await this.pids()) {
      try { process.kill(pid, signal) } catch {}
    }
  }

  /** freezes or thaws every process in it */
  async freeze (frozen: boolean): Promise<void> {
    await writeFile(path.join(this.dir, 'cgroup.freeze'), frozen ? '1' : '0')
  }

  /** waits until no process is left, at most `ms` (wall time: real processes); false if some are */
  async waitEmpty (ms: number): Promise<boolean> {
    if (!await this.populated()) return true
    const ac = new AbortController()
    let changed: () => void = () => {}
    try {
      const w = watch(path.join(this.dir, 'cgroup.events'), { signal: ac.signal }, () => { changed() })
      w.on('error', () => {})
    } catch {}
    const until = Date.now() + ms
    try {
      while (await this.populated()) {
        const left = until - Date.now()
        if (left <= 0) return false
        // the watch wakes this at once; the timeout bounds a missed event
        await new Promise<void>((resolve) => {
          changed = resolve
          void sleep(Math.min(left, 250), undefined, { signal: ac.signal }).then(resolve, resolve)
        })
      }
      return true
    } finally {
      ac.abort()
    }
  }

  /**
   * Ends every process in it: SIGTERM (thawed first), then after `graceMs` `cgroup.kill`; removes
   * the cgroup once empty.
   */
  async end (graceMs: number): Promise<void> {
    await this.freeze(false).catch(() => {})
    if (graceMs > 0 && await this.populated()) {
      await this.signal('SIGTERM')
      if (await this.waitEmpty(graceMs)) return await this.remove()
    }
    // a cgroup that somehow held this process is ended pid by pid, never as a whole
    const self = (await readFile(path.join(this.dir, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n').includes(String(process.pid))
    if (self) await this.signal('SIGKILL')
    else await writeFile(path.join(this.dir, 'cgroup.kill'), '1').catch(async () => { await this.signal('SIGKILL') })
    await this.waitEmpty(5000)
    await this.remove()
  }

  private async remove (): Promise<void> {
    await rmdir(this.dir).catch(() => {})
  }
}

/**
 * The cgroup v2 directory of this process: its `0::<path>` line in /proc/self/cgroup, under the
 * mount point of the cgroup2 filesystem in /proc/self/mountinfo (its root removed from the path).
 * @throws Error when there is no cgroup v2 membership or mount
 */
export function ownCgroupDir (procCgroup: string, mountinfo: string): string {
  const line = procCgroup.split('\n').find((l) => l.startsWith('0::'))
  if (line == null) throw new Error('no cgroup v2 membership')
  const member = line.slice(3)
  for (const m of mountinfo.split('\n')) {
    const [left, right] = m.split(' - ')
    if (right == null || right.split(' ')[0] !== 'cgroup2') continue
    const fields = left.split(' ')
    const root = unescapeMount(fields[3])
    const point = unescapeMount(fields[4])
    if (member !== root && !member.startsWith(root === '/' ? '/' : `${root}/`)) continue
    return path.join(point, path.relative(root, member))
  }
  throw new Error('no cgroup2 mount holds this process\'s cgroup')
}

/** mountinfo escapes space, tab, newline and backslash as octal */
function unescapeMount (s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))
}

/** a job id as part of a directory name: other characters become `_`, at most 40 */
function safeName (id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40)
}
