import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const BIN = path.join(REPO, 'bin/bazaar.js')

let built = false
/**
 * The CLI runs from dist/. `npm test` builds before the suite and sets BAZAAR_TEST_PREBUILT; a test
 * file run on its own builds once here.
 */
export function ensureBuilt (): void {
  if (built || process.env.BAZAAR_TEST_PREBUILT === '1') return
  try {
    execFileSync(process.execPath, [path.join(REPO, 'node_modules/typescript/bin/tsc'), '-p', '.'], { cwd: REPO, stdio: 'pipe' })
  } catch {
    // type errors elsewhere still emit dist/
  }
  built = true
}

export interface CliResult { code: number | null, stdout: string, stderr: string }

/** Runs `bazaar <args>` to completion. */
export function bazaar (args: string[], opts: { env?: NodeJS.ProcessEnv, input?: string, timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    cwd: REPO,
    env: { ...process.env, ...opts.env },
    input: opts.input,
    timeout: opts.timeoutMs ?? 60_000
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** A long-running `bazaar` process (a daemon) with its output collected. */
export class CliProcess {
  readonly child: ChildProcess
  stdout = ''
  stderr = ''
  readonly exited: Promise<number | null>

  constructor (args: string[], opts: { env?: NodeJS.ProcessEnv } = {}) {
    this.child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    this.child.stdout!.on('data', (d: Buffer) => { this.stdout += d.toString() })
    this.child.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString() })
    this.exited = new Promise((resolve) => { this.child.once('exit', (code) => { resolve(code) }) })
  }

  /** resolves with the first match of `re` on stdout, as soon as the output holding it arrives */
  async waitFor (re: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const out = this.child.stdout!
    return await new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = (): void => {
        const m = this.stdout.match(re)
        if (m != null) { done(); resolve(m) }
      }
      const fail = (): void => {
        done()
        reject(new Error(`no ${String(re)} in output; stdout: ${this.stdout}\nstderr: ${this.stderr.slice(-2000)}`))
      }
      // wall time: a bound on a child process that never prints the line
      const timer = setTimeout(fail, timeoutMs)
      const done = (): void => { clearTimeout(timer); out.off('data', onData); this.child.off('exit', onExit) }
      // after this.stdout was appended by the constructor's listener (registered first)
      const onData = (): void => { check() }
      // the exit comes before the last output is read: wait for the stream's end, then check once more
      const onExit = (): void => {
        if (out.closed) { check(); fail() } else out.once('close', () => { check(); fail() })
      }
      out.on('data', onData)
      if (this.child.exitCode != null) onExit()
      else this.child.once('exit', onExit)
      check()
    })
  }

  async stop (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode == null) this.child.kill(signal)
    return await this.exited
  }
}
