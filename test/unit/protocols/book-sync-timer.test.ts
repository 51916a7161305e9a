import { describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import { pbStream, streamPair } from '@libp2p/utils'
import { BOOK_SYNC_PROTOCOL, BookSync, type BookSyncComponents } from '../../../src/protocols/book-sync/index.js'
import { VALIDATE_YIELD_EVERY } from '../../../src/protocols/book-sync/constants.js'
import { BookSyncChunk, BookSyncRequest } from '../../../src/wire/book-sync.js'
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

describe('book sync validating a page', () => {
  it('gives the event loop back every few envelopes: a chunk of fresh signers does not hold it', async () => {
    const [near, far] = await streamPair()
    const { libp2p } = await fakeLibp2p()
    ;(libp2p as { dialProtocol: unknown }).dialProtocol = async () => near
    const log: string[] = []
    const sync = new BookSync({ libp2p, clock: new ManualClock() }, {
      entries: () => ({ offers: [], bids: [] }),
      // what validation costs is beside the point here: each call is logged where it falls
      accept: () => { log.push('accept'); return 'duplicate' },
      intervalMs: 0
    })
    // the responder: one page of one chunk of 64 envelopes (their bytes are never decoded here)
    const served = (async () => {
      const pb = pbStream(far)
      await pb.read(BookSyncRequest)
      await pb.write({ offers: Array.from({ length: 64 }, (_, i) => Uint8Array.of(i)), bids: [], offerCancels: [], bidCancels: [], last: true, more: false, digests: new Uint8Array(0) }, BookSyncChunk)
    })()
    // a probe that runs whenever the event loop comes round
    let probing = true
    const probe = (): void => { log.push('loop'); if (probing) setImmediate(probe) }
    setImmediate(probe)
    const result = await sync.pull(libp2p.getConnections()[0].remotePeer)
    probing = false
    await served
    expect(result).toMatchObject({ received: 64, duplicate: 64 })
    const between = log.slice(log.indexOf('accept'), log.lastIndexOf('accept'))
    expect(between.filter((e) => e === 'accept')).toHaveLength(63)
    // 64 envelopes at VALIDATE_YIELD_EVERY (16) a turn: the loop came round between the batches
    expect(between.filter((e) => e === 'loop').length).toBeGreaterThanOrEqual(64 / VALIDATE_YIELD_EVERY - 1)
  })
})
