import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { BazaarNode } from '../../src/node/bazaar-node.js'
import { defaultConfig } from '../../src/node/config/index.js'
import type { BazaarConfig } from '../../src/node/config/types.js'
import { silentLogger } from '../../src/node/logger.js'
import { devPair } from './keys.js'

/**
 * Real nodes on 127.0.0.1 in this process, each with its own database under a temp dir, built by
 * the node's one root (BazaarNode.init) with the market layer only: no chain, no roles.
 */
export class TestNet {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'bazaar-net-'))
  readonly nodes: BazaarNode[] = []

  async node (name: string, over: Partial<BazaarConfig> = {}, opts: { dbName?: string } = {}): Promise<BazaarNode> {
    const base = await defaultConfig()
    const config = { ...base, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], ...over } as BazaarConfig
    const node = await BazaarNode.init({
      config,
      identity: { peerKey: await generateKeyPair('Ed25519'), hotkey: await devPair(`${name}//hot`), coldkey: await devPair(name) },
      dbPath: path.join(this.dir, opts.dbName ?? `${name}-${this.nodes.length}`),
      roles: 'none',
      logger: silentLogger
    })
    this.nodes.push(node)
    return node
  }

  async close (): Promise<void> {
    await Promise.all(this.nodes.map(async (n) => { await n.close() }))
    rmSync(this.dir, { recursive: true, force: true })
  }
}
