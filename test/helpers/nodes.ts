import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { BazaarNode, type BazaarNodeInit } from '../../src/node/bazaar-node.js'
import { LOOPBACK_NETWORK } from '../../src/node/host.js'
import { defaultConfig } from '../../src/node/config/index.js'
import type { BazaarConfig } from '../../src/node/config/types.js'
import { silentLogger, type Logger } from '../../src/node/logger.js'
import type { Registry } from '../../src/node/metrics.js'
import { devPair } from './keys.js'

/** what a test may set on a market node besides its config (host shape, shared verifiers, clock, logger) */
export type TestNodeInit = Omit<Partial<BazaarNodeInit>, 'config' | 'identity' | 'dbPath' | 'home' | 'roles'>

/**
 * Real nodes on 127.0.0.1 in this process, each with its own database under a temp dir, built by
 * the node's one root (BazaarNode.init) with the market layer only: no chain, no roles.
 */
export class TestNet {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'bazaar-net-'))
  readonly nodes: BazaarNode[] = []

  async node (name: string, over: Partial<BazaarConfig> = {}, opts: { dbName?: string, init?: TestNodeInit } = {}): Promise<BazaarNode> {
    const base = await defaultConfig()
    const config = { ...base, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], ...over } as BazaarConfig
    const node = await BazaarNode.init({
      logger: silentLogger,
      ...opts.init,
      // every test node listens on 127.0.0.1: exempt from libp2p's inbound limits per IP (5 a second)
      network: { allow: [LOOPBACK_NETWORK], ...opts.init?.network },
      config,
      identity: { peerKey: await generateKeyPair('Ed25519'), hotkey: await devPair(`${name}//hot`), coldkey: await devPair(name) },
      dbPath: path.join(this.dir, opts.dbName ?? `${name}-${this.nodes.length}`),
      roles: 'none'
    })
    this.nodes.push(node)
    return node
  }

  async close (): Promise<void> {
    await Promise.all(this.nodes.map(async (n) => { await n.close() }))
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** one line a node logged */
export interface LogRecord { level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> }

/** A logger that keeps what `keep` selects (and drops the rest): a test reads a node's log lines as data. */
export function recordingLogger (keep: (r: LogRecord) => boolean): { logger: Logger, records: LogRecord[] } {
  const records: LogRecord[] = []
  const make = (base: Record<string, unknown>): Logger => {
    const at = (level: LogRecord['level']) => (msg: string, fields: Record<string, unknown> = {}): void => {
      const r = { level, msg, fields: { ...base, ...fields } }
      if (keep(r)) records.push(r)
    }
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (f) => make({ ...base, ...f }) }
  }
  return { logger: make({}), records }
}

/**
 * The value of one series of a counter or gauge in a node's registry (0 when absent), read from its
 * Prometheus rendering as `/metrics` serves it; `labels` must name every label of the series.
 */
export function metricValue (registry: Registry, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',')
  for (const line of registry.render().split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (m == null || m[1] !== name) continue
    if ((m[2] ?? '').split(',').filter((s) => s !== '').sort().join(',') === want) return Number(m[3])
  }
  return 0
}
