import type { ChildProcess } from 'node:child_process'
import { watch, writeFileSync } from 'node:fs'
import { mkdir, readFile, readdir, rmdir, writeFile } from 'node:fs/promises'
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
   * The job cgroups under this process's own cgroup v2, or why there are none: no cgroup v2
   * mounted, the cgroup not writable, this process not allowed to move itself, or a kernel without
   * `cgroup.freeze` (5.2) or `cgroup.kill` (5.14), which pause and stop rely on. Everything a job
   * start does is tried once here, on a probe cgroup, so that a supplier that says its jobs run in
   * cgroups can start them there.
   */
  static async open (name: string): Promise<JobCgroups | { unavailable: string }> {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new RangeError('a job cgroup name is 1 to 64 of [A-Za-z0-9._-]')
    let own: string
    try {
      own = ownCgroupDir(await readFile('/proc/self/cgroup', 'utf8'), await readFile('/proc/self/mountinfo', 'utf8'))
    } catch (err) {
      return { unavailable: `no cgroup v2 (${(err as Error).message})` }
    }
    const base = path.join(own, name)
    const probe = path.join(base, `probe-${process.pid}`)
    try {
      await mkdir(probe, { recursive: true })
      // written, not only looked at: thawing and killing an empty cgroup changes nothing
      for (const [f, v] of [['cgroup.freeze', '0'], ['cgroup.kill', '1']]) {
        await writeFile(path.join(probe, f), v).catch((err: NodeJS.ErrnoException) => {
          throw new Error(err.code === 'ENOENT' ? `no ${f} (a kernel before 5.14)` : `${f}: ${err.code ?? err.message}`)
        })
      }
      moveSelf(probe)
      moveSelfBack(own)
      await rmdir(probe)
      return new JobCgroups(own, base)
    } catch (err) {
      // back where it was, whatever failed
      try { moveSelfBack(own) } catch {}
      await rmdir(probe).catch(() => {})
      await rmdir(base).catch(() => {})
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
      const cg = new JobCgroup(path.join(this.base, n), this.own)
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
    const cgroup = new JobCgroup(dir, this.own)
    let child: C | undefined
    try {
      // synchronous on purpose: no other callback may run while this process is in the job's cgroup
      moveSelf(dir)
      try {
        child = start()
      } finally {
        moveSelfBack(this.own)
      }
    } catch (err) {
      // a child started before a failed move back is ended with its cgroup
      await cgroup.end(0)
      throw err
    }
    return { child, cgroup }
  }

  /** removes the jobs' directory when no job cgroup is left in it (at the supplier's stop) */
  async close (): Promise<void> {
    await rmdir(this.base).catch(() => {})
  }
}

/**
 * One job's cgroup, with whatever cgroups the job made inside it (a job may use cgroups itself).
 *
 * This holds a job that leaves its process group by accident or by design (setsid, a daemonising
 * tool). It is not a wall against a hostile job running as the supplier's own user, which can write
 * the cgroup files too (move itself out, or move the supplier in): that needs the job under another
 * user, or a container.
 */
export class JobCgroup {
  /** `own`: the supplier's own cgroup, where it puts itself back should a job have moved it in */
  constructor (readonly dir: string, private readonly own: string) {}

  /** this cgroup and every cgroup below it, parents before children */
  private async tree (): Promise<string[]> {
    const out = [this.dir]
    for (let i = 0; i < out.length && out.length < MAX_TREE; i++) {
      const entries = await readdir(out[i], { withFileTypes: true }).catch(() => [])
      for (const e of entries) if (e.isDirectory()) out.push(path.join(out[i], e.name))
    }
    return out
  }

  /** the pids in it and below it; never this process (were it there, a kill would end the supplier) */
  async pids (): Promise<number[]> {
    const out: number[] = []
    for (const dir of await this.tree()) {
      const text = await readFile(path.join(dir, 'cgroup.procs'), 'utf8').catch(() => '')
      for (const l of text.split('\n')) {
        const p = Number(l)
        if (l !== '' && Number.isSafeInteger(p) && p > 0 && p !== process.pid) out.push(p)
      }
    }
    return out
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
   * Ends every process in it and below it: SIGTERM (thawed first), then after `graceMs`
   * `cgroup.kill`; removes the cgroups once empty, children first.
   */
  async end (graceMs: number): Promise<void> {
    await this.freeze(false).catch(() => {})
    if (graceMs > 0 && await this.populated()) {
      await this.signal('SIGTERM')
      if (await this.waitEmpty(graceMs)) return await this.remove()
    }
    // the supplier out first, should the job have moved it in (it can write these files): a kill of
    // the cgroup would end it too. Where it cannot get out, its jobs are ended pid by pid.
    let inside = await this.holdsSelf()
    if (inside) {
      try { moveSelfBack(this.own) } catch {}
      inside = await this.holdsSelf()
    }
    if (inside) await this.signal('SIGKILL')
    else await writeFile(path.join(this.dir, 'cgroup.kill'), '1').catch(async () => { await this.signal('SIGKILL') })
    await this.waitEmpty(5000)
    await this.remove()
  }

  private async holdsSelf (): Promise<boolean> {
    for (const dir of await this.tree()) {
      const text = await readFile(path.join(dir, 'cgroup.procs'), 'utf8').catch(() => '')
      if (text.split('\n').includes(String(process.pid))) return true
    }
    return false
  }

  /** removes the cgroups, deepest first (a cgroup with children cannot go) */
  private async remove (): Promise<void> {
    for (const dir of (await this.tree()).reverse()) await rmdir(dir).catch(() => {})
  }
}

/** the most cgroups of one job's tree looked at (a job could make many) */
const MAX_TREE = 1024

/** moves this whole process (every thread) into the cgroup `dir`; synchronous */
function moveSelf (dir: string): void {
  writeFileSync(path.join(dir, 'cgroup.procs'), String(process.pid))
}

/** `moveSelf(own)`, tried three times: this process must not stay in a job's cgroup */
function moveSelfBack (own: string): void {
  for (let i = 0; ; i++) {
    try {
      moveSelf(own)
      return
    } catch (err) {
      if (i >= 2) throw err
    }
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
