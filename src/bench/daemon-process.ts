/**
 * Daemons as an operator runs them, for the benches that measure them from outside
 * (`bench:daemon`, `bench:sync --joiner-process`): `bazaar init`, `bazaar node start` in a process
 * of its own on 127.0.0.1 with its embedded defaults, its control API and /metrics, and a stop.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/bazaar.js')
export const PASSPHRASE = 'bench passphrase'

export interface Daemon { proc: ChildProcess, home: string, url: string, token: string, metricsToken: string, peerId: string, port: number }

/** `bazaar init` of a fresh home, with `args` beside it (`--dev Alice`, `--json`) */
export function initHome (home: string, args: string[] = []): void {
  const r = spawnSync(process.execPath, [BIN, 'init', '--home', home, ...args], { env: { ...process.env, BAZAAR_PASSPHRASE: PASSPHRASE }, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`bazaar init failed: ${r.stderr}`)
}

/**
 * Starts `bazaar node start` on `home` and resolves once it printed its control API. `nodeOptions`
 * replaces NODE_OPTIONS when given; `onSpawn` sees the process as soon as it exists.
 */
export async function startDaemon (home: string, opts: { nodeOptions?: string, bootstrap?: string, onSpawn?: (proc: ChildProcess) => void } = {}): Promise<Daemon> {
  const args = [BIN, 'node', 'start', '--home', home, '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--no-mdns', ...(opts.bootstrap != null ? ['--bootstrap', opts.bootstrap] : [])]
  const env = { ...process.env, BAZAAR_PASSPHRASE: PASSPHRASE, ...(opts.nodeOptions != null ? { NODE_OPTIONS: opts.nodeOptions } : {}) }
  const proc = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
  opts.onSpawn?.(proc)
  let out = ''
  proc.stderr?.on('data', (d: Buffer) => { out += d.toString() })
  await new Promise<void>((resolve, reject) => {
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      if (/control API/.test(out)) resolve()
    })
    proc.once('exit', (code) => { reject(new Error(`daemon exited ${code}: ${out.slice(-2000)}`)) })
  })
  const api = JSON.parse(readFileSync(path.join(home, 'api.json'), 'utf8')) as { url: string }
  const listening = /listening (\S+)/.exec(out)?.[1] ?? ''
  return {
    proc,
    home,
    url: api.url,
    token: readFileSync(path.join(home, 'api-token'), 'utf8').trim(),
    metricsToken: readFileSync(path.join(home, 'metrics-token'), 'utf8').trim(),
    peerId: /peer id (\S+)/.exec(out)?.[1] ?? '',
    port: Number(/\/tcp\/(\d+)/.exec(listening)?.[1])
  }
}

/** SIGTERM, and the daemon's exit */
export async function stopDaemon (d: Daemon): Promise<void> {
  if (d.proc.exitCode != null) return
  const exited = new Promise((resolve) => d.proc.once('exit', resolve))
  d.proc.kill('SIGTERM')
  await exited
}

/** a daemon's /metrics text */
export async function daemonMetrics (d: Daemon): Promise<string> {
  const res = await fetch(d.url + '/metrics', { headers: { authorization: `Bearer ${d.metricsToken}` }, signal: AbortSignal.timeout(30_000) })
  return await res.text()
}

/** a counter's series in /metrics text, summed by the value of one of its labels (all of them under '' without one) */
export function counterBy (text: string, name: string, label?: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? ([-+0-9.eE]+)$`, 'gm'))) {
    const key = label == null ? '' : (new RegExp(`${label}="([^"]*)"`).exec(m[1] ?? '')?.[1] ?? '')
    out.set(key, (out.get(key) ?? 0) + Number(m[2]))
  }
  return out
}
