import { describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import { BOOK_SYNC_PROTOCOL, BookSync, type BookSyncComponents } from '../../../src/protocols/book-sync/index.js'
import { ManualClock } from '../../../src/util/clock.js'

/**
 * A libp2p stand-in with one open connection whose dials are recorded and refused: what the
 * periodic pull of BookSync talks to, with no network.
 */
async function fakeLibp2p (): Promise<{ libp2p: BookSyncComponents['libp2p'], dials: PeerId[], remote: PeerId }> {
  const self = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const remote = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const dials: PeerId[] = []
  const target = new EventTarget()
  const libp2p = {
    peerId: self,
    handle: async () => {},
    unhandle: async () => {},
    getConnections: () => [{ status: 'open', remotePeer: remote }],
    dialProtocol: async (peer: PeerId) => { dials.push(peer); throw new Error('no network here') },
    addEventListener: target.addEventListener.bind(target),
    removeEventListener: target.removeEventListener.bind(target),
    dispatchEvent: target.dispatchEvent.bind(target)
  } as unknown as BookSyncComponents['libp2p']
  return { libp2p, dials, remote }
}

/** lets the refused dial's promise callbacks run */
const settle = async (): Promise<void> => { await new Promise((resolve) => setImmediate(resolve)) }

describe('book sync on the node clock', () => {
  it('pulls from a random peer every intervalMs of its clock, and leaves no timer after stop', async () => {
    const clock = new ManualClock()
    const { libp2p, dials, remote } = await fakeLibp2p()
    const sync = new BookSync({ libp2p, clock }, { entries: () => ({ offers: [], bids: [] }), accept: () => 'applied', intervalMs: 30_000 })
    await sync.start()
    clock.advance(29_999)
    await settle()
    expect(dials).toEqual([])
    clock.advance(1)
    await settle()
    expect(dials.map((p) => p.toString())).toEqual([remote.toString()])
    clock.advance(30_000)
    await settle()
    expect(dials).toHaveLength(2)
    await sync.stop()
    expect(clock.pending).toBe(0)
  })

  it('pulls once per connection on its first identify with the protocol, not on every identify push', async () => {
    const clock = new ManualClock()
    const { libp2p, dials, remote } = await fakeLibp2p()
    const sync = new BookSync({ libp2p, clock }, { entries: () => ({ offers: [], bids: [] }), accept: () => 'applied', intervalMs: 0 })
    await sync.start()
    const identify = (connection: object, protocols: string[]): void => {
      libp2p.dispatchEvent(new CustomEvent('peer:identify', { detail: { peerId: remote, protocols, connection } }))
    }
    const first = {}
    // a first identify without the protocol, then a push that adds it: the pull comes with the push
    identify(first, ['/ipfs/id/1.0.0'])
    await settle()
    expect(dials).toHaveLength(0)
    identify(first, [BOOK_SYNC_PROTOCOL])
    await settle()
    expect(dials).toHaveLength(1)
    // pushes on the same connection (an address confirmed, a handler added) pull nothing more
    identify(first, [BOOK_SYNC_PROTOCOL, '/ipfs/ping/1.0.0'])
    identify(first, [BOOK_SYNC_PROTOCOL])
    await settle()
    expect(dials).toHaveLength(1)
    // a new connection to the same peer (it went away and came back) pulls again
    identify({}, [BOOK_SYNC_PROTOCOL])
    await settle()
    expect(dials).toHaveLength(2)
    await sync.stop()
  })
})
