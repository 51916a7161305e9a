/**
 * The templates of a network on one machine (`bazaar init --template local-supplier|local-renter|
 * arbiter`) must work as written: valid, distinct ports, the local chain, and an arbiter that is
 * the one `bazaar init --dev ferdie` makes.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { PACKAGE_CONFIG_DIR, mergeLayers, readConfigFile, readConfigTemplate, validateConfig, type BazaarConfig } from '../../../src/node/config/index.js'
import { deriveAccounts } from '../../../src/node/keystore/accounts.js'
import { devPeerKey } from '../../../src/node/keystore/peer-key.js'

async function template (name: string): Promise<BazaarConfig> {
  // what bazaar init checks and a daemon loads: the defaults file under the template
  return validateConfig(mergeLayers(await readConfigFile(PACKAGE_CONFIG_DIR + 'default.json', true) ?? {}, await readConfigTemplate(name)))
}

describe('local network templates', () => {
  it('are valid, on the local chain, with distinct peer and API ports', async () => {
    const configs = await Promise.all(['arbiter', 'local-supplier', 'local-renter'].map(template))
    expect(configs.map((c) => c.role)).toEqual(['arbiter', 'supplier', 'renter'])
    for (const c of configs) {
      expect(c.chain.adapter).toBe('subtensor')
      expect(c.chain.endpoint).toBe('ws://127.0.0.1:9944')
      expect(c.api.host).toBe('127.0.0.1')
    }
    const peerPorts = configs.map((c) => Number(multiaddr(c.listen[0]).getComponents().find((x) => x.name === 'tcp')?.value))
    expect(new Set(peerPorts).size).toBe(3)
    expect(new Set(configs.map((c) => c.api.port)).size).toBe(3)
    expect(peerPorts.every((p) => p !== 0)).toBe(true)
  })

  it('name as arbiter the hotkey and peer id of bazaar init --dev ferdie, where the arbiter template listens', async () => {
    const ferdie = await deriveAccounts({ kind: 'dev', name: 'Ferdie' })
    const ferdiePeer = peerIdFromPrivateKey(await devPeerKey('Ferdie')).toString()
    const arbiter = await template('arbiter')
    const tcpPort = (a: string): number => Number(multiaddr(a).getComponents().find((x) => x.name === 'tcp')?.value)
    for (const name of ['local-supplier', 'local-renter']) {
      const c = await template(name)
      expect(c.chain.arbiter).toBe(ferdie.hotkey.address)
      const peer = multiaddr(c.chain.arbiterPeer!)
      expect(peer.getComponents().find((x) => x.name === 'p2p')?.value).toBe(ferdiePeer)
      expect(tcpPort(c.chain.arbiterPeer!)).toBe(tcpPort(arbiter.listen[0]))
      // the arbiter is also the bootstrap peer both join through
      expect(c.bootstrap).toEqual([c.chain.arbiterPeer])
    }
  })

  it('a local supplier offers configured GPUs behind the simulated enclave; the renter accepts it', async () => {
    const s = await template('local-supplier')
    expect(s.gpus?.length).toBeGreaterThan(0)
    expect(s.tee.provider).toBe('simulated')
    expect(s.market.teeKinds).toEqual(['simulated'])
    const r = await template('local-renter')
    expect(r.tee.allowSimulated).toBe(true)
    expect(r.market.teeKinds).toEqual(['simulated'])
  })
})
