import { afterAll, describe, expect, it } from 'vitest'
import { TestNet } from '../helpers/nodes.js'
import { waitFor } from '../helpers/wait.js'

describe('local discovery', () => {
  const net = new TestNet()
  afterAll(async () => { await net.close() })

  it('two nodes with mDNS and no bootstrap list find and dial each other', async () => {
    const a = await net.node('Alice', { mdns: true, listen: ['/ip4/127.0.0.1/tcp/0'] })
    const b = await net.node('Bob', { mdns: true, listen: ['/ip4/127.0.0.1/tcp/0'] })
    await waitFor(() => a.host.getPeers().some((p) => p.equals(b.peerId)) || b.host.getPeers().some((p) => p.equals(a.peerId)), 20_000, 'an mDNS-discovered connection')
    expect(a.host.getPeers().some((p) => p.equals(b.peerId)) || b.host.getPeers().some((p) => p.equals(a.peerId))).toBe(true)
  })
})
