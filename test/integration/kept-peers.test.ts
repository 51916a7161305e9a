import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PeerId } from '@libp2p/interface'
import type { BazaarNode } from '../../src/node/bazaar-node.js'
import { KEEP_ALIVE_TAG } from '../../src/node/kept-peers.js'
import { TestNet } from '../helpers/nodes.js'

/** resolves when `node` next emits `event` for `peer` */
async function nextPeerEvent (node: BazaarNode, event: 'peer:connect' | 'peer:disconnect', peer: PeerId): Promise<void> {
  await new Promise<void>((resolve) => {
    const on = ({ detail }: CustomEvent<PeerId>): void => {
      if (!detail.equals(peer)) return
      node.host.removeEventListener(event, on)
      resolve()
    }
    node.host.addEventListener(event, on)
  })
}
const nextConnect = async (node: BazaarNode, peer: PeerId): Promise<void> => { await nextPeerEvent(node, 'peer:connect', peer) }
/** resolves when `node` has no connection to `peer` left */
async function disconnected (node: BazaarNode, peer: PeerId): Promise<void> {
  if (node.host.getConnections(peer).length > 0) await nextPeerEvent(node, 'peer:disconnect', peer)
}

describe('kept peers: a peer the node dialled is dialled again when its connection drops', () => {
  const net = new TestNet()
  let a: BazaarNode
  let b: BazaarNode
  let c: BazaarNode

  beforeAll(async () => {
    a = await net.node('kept-a', {}, { init: { network: { dht: false } } })
    b = await net.node('kept-b', {}, { init: { network: { dht: false } } })
    // c bootstraps from b: its config names b, so b is kept from the start
    c = await net.node('kept-c', { bootstrap: [`${b.host.getMultiaddrs()[0].toString()}`] }, { init: { network: { dht: false } } })
  })
  afterAll(async () => { await net.close() })

  it('a dialled peer whose connection the other side aborted is connected again at once', async () => {
    // b registers the connection a moment after a's dial returns
    const seen = nextConnect(b, a.peerId)
    await a.dial(b.host.getMultiaddrs()[0].toString())
    await seen
    expect(a.kept.peers).toEqual([b.peerId.toString()])
    expect((await a.host.peerStore.get(b.peerId)).tags.has(KEEP_ALIVE_TAG)).toBe(true)
    const back = nextConnect(a, b.peerId)
    const backAtB = nextConnect(b, a.peerId)
    // the far end drops it (as a ping that timed out on its side would)
    for (const conn of b.host.getConnections(a.peerId)) conn.abort(new Error('dropped by the test'))
    await back
    await backAtB
    expect(a.host.getConnections(b.peerId).some((conn) => conn.status === 'open')).toBe(true)
    // b did not dial a: it never kept a; the connection is a's
    expect(b.kept.peers).toEqual([])
    // what `bazaar peers` shows
    expect(a.peers().find((p) => p.peerId === b.peerId.toString())?.kept).toBe(true)
    expect(b.peers().find((p) => p.peerId === a.peerId.toString())?.kept).toBe(false)
  })

  it('a bootstrap peer is kept from the start', async () => {
    expect(c.kept.peers).toEqual([b.peerId.toString()])
    expect((await c.host.peerStore.get(b.peerId)).tags.has(KEEP_ALIVE_TAG)).toBe(true)
  })

  it('a kept peer the reconnect queue gave up on is tagged again and dialled by the check', async () => {
    if (b.host.getConnections(a.peerId).length === 0) {
      const seen = nextConnect(b, a.peerId)
      await a.dial(b.host.getMultiaddrs()[0].toString())
      await seen
    }
    // as when libp2p's reconnect queue gives up: the tag goes, then the connection
    await a.host.peerStore.merge(b.peerId, { tags: { [KEEP_ALIVE_TAG]: undefined } })
    const gone = disconnected(a, b.peerId)
    for (const conn of b.host.getConnections(a.peerId)) conn.abort(new Error('dropped by the test'))
    await gone
    expect(a.host.getConnections(b.peerId)).toEqual([])
    await a.kept.check()
    expect(a.host.getConnections(b.peerId).some((conn) => conn.status === 'open')).toBe(true)
    expect((await a.host.peerStore.get(b.peerId)).tags.has(KEEP_ALIVE_TAG)).toBe(true)
  })
})
