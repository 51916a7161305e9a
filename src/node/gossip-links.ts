import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { GossipSub } from '@libp2p/gossipsub'
import type { Counter, Registry } from './metrics.js'
import { systemClock, type Clock, type TimerHandle } from '../util/clock.js'

/**
 * Why a gossip link was lost: the error's class name when it is one libp2p and its stream
 * libraries throw, else `other`. Label values come from this closed set, never from a peer.
 */
const KNOWN_REASONS = new Set([
  'InvalidDataLengthError', 'InvalidDataLengthLengthError', 'InvalidMessageLengthError', 'UnexpectedEOFError',
  'StreamResetError', 'StreamAbortedError', 'StreamStateError', 'StreamClosedError', 'ConnectionClosedError',
  'TooManyOutboundProtocolStreamsError', 'TooManyInboundProtocolStreamsError', 'UnsupportedProtocolError',
  'ProtocolNegotiationError', 'MuxerClosedError', 'AbortError', 'TimeoutError'
])

export function dropReason (err: unknown): string {
  const name = (err as Error | undefined)?.name
  return typeof name === 'string' && KNOWN_REASONS.has(name) ? name : 'other'
}

/** Counters of lost and repaired gossip links, by reason or kind. */
export interface GossipLinkMetrics {
  dropped: Counter
  repaired: Counter
}

export function createGossipLinkMetrics (r: Registry): GossipLinkMetrics {
  return {
    dropped: r.counter('bazaar_gossip_peer_dropped_total', 'gossip links to connected peers lost for a transport reason, by direction and reason'),
    repaired: r.counter('bazaar_gossip_link_repairs_total', 'gossip links restored on a connection that stayed up, by kind')
  }
}

export interface GossipLinkKeeperComponents {
  pubsub: GossipSub
  /** the host's open connections */
  connections: () => Connection[]
  /**
   * the protocols a peer announced on this connection (identify, through the peer store); when
   * identify never completed (it too can time out while a connection opens), run it again
   */
  protocols: (conn: Connection) => Promise<string[]>
  log: (level: 'info' | 'debug', msg: string, fields: Record<string, unknown>) => void
  metrics?: GossipLinkMetrics
  /** runs the audit timer and measures how long a peer's stream has been missing; default the system clock */
  clock?: Clock
}

export interface GossipLinkKeeperInit {
  /** how often every connection's gossip streams are checked; default 5 s */
  auditIntervalMs?: number
  /**
   * called for each peer whose link the audit starts to restore: messages gossiped while the link
   * was down are not sent again, so the node pulls them by anti-entropy
   */
  onRepair?: (peer: PeerId) => void
}

/** the gossipsub internals the keeper hooks into (private in its typings, stable in its code) */
interface GossipSubInternals {
  handlePeerReadStreamError: (err: unknown, peerId: PeerId) => void
  createOutboundStream: (peerId: PeerId, connection: Pick<Connection, 'newStream'>) => Promise<void>
  onPeerConnected: (peerId: PeerId, connection: Connection) => void
  streamsInbound: Map<string, { rawStream: Stream }>
  streamsOutbound: Map<string, { rawStream: Stream }>
  peers: Map<string, PeerId>
}

/**
 * How long the peer's stream to us may be missing before ours is reset: longer than the peer may
 * take to open it (libp2p's protocol negotiation gives up after 10 s), so that a slow peer is never
 * reset while it is still opening its side.
 */
const INBOUND_GRACE_MS = 25_000

/**
 * Whether the router holds a working stream each way to a peer: `outbound` (ours, writable) and
 * `inbound` (the peer's, readable). A pair with only one of them is a one-way link.
 */
export function linkState (pubsub: GossipSub, peer: string): { inbound: boolean, outbound: boolean } {
  const ps = pubsub as unknown as GossipSubInternals
  const inb = ps.streamsInbound.get(peer)?.rawStream
  const out = ps.streamsOutbound.get(peer)?.rawStream
  return {
    inbound: inb != null && inb.readStatus !== 'closing' && inb.readStatus !== 'closed',
    outbound: out != null && out.writeStatus === 'writable'
  }
}

/**
 * Keeps gossip links alive for as long as their connection is.
 *
 * Gossipsub drops a peer from its router when that peer's stream fails (a frame over the size bound,
 * a reset, a stream limit) but leaves the connection open, and nothing ever adds the peer back: the
 * link is lost for good, sometimes in one direction only. The keeper
 * - logs every such loss at info with its reason and counts it (`bazaar_gossip_peer_dropped_total`);
 * - audits every open connection on a timer and restores what is missing: the peer in the router,
 *   our outbound stream, and, when the peer's stream to us has been gone for longer than the peer
 *   could take to open it, a reset of ours so that the peer notices, drops us and opens a fresh pair.
 */
/**
 * The `protocols` component for a libp2p host: the peer store's record, after a fresh identify on
 * the connection when the record has none.
 */
export function peerProtocols (host: { peerStore: { get: (p: PeerId) => Promise<{ protocols: string[] }> }, services: { identify: { identify: (c: Connection, o?: { signal?: AbortSignal }) => Promise<unknown> } } }): (conn: Connection) => Promise<string[]> {
  return async (conn) => {
    const known = await host.peerStore.get(conn.remotePeer).then((p) => p.protocols, () => [])
    if (known.length > 0) return known
    // wall time: it bounds a request to the peer on the wire, not protocol time
    await host.services.identify.identify(conn, { signal: AbortSignal.timeout(10_000) })
    return (await host.peerStore.get(conn.remotePeer)).protocols
  }
}

export class GossipLinkKeeper {
  private readonly ps: GossipSubInternals
  private readonly originals: Pick<GossipSubInternals, 'handlePeerReadStreamError' | 'createOutboundStream'>
  private timer?: TimerHandle
  /** peers seen without an inbound stream, since when (ms) */
  private readonly inboundMissing = new Map<string, number>()
  /** peers whose outbound stream is being opened (protocol negotiation can take seconds under load) */
  private readonly opening = new Set<string>()
  /** our outbound streams the audit reset on purpose: their close is not a loss */
  private readonly resetting = new WeakSet<Stream>()

  constructor (private readonly c: GossipLinkKeeperComponents, private readonly init: GossipLinkKeeperInit = {}) {
    this.ps = c.pubsub as unknown as GossipSubInternals
    this.originals = {
      handlePeerReadStreamError: this.ps.handlePeerReadStreamError,
      createOutboundStream: this.ps.createOutboundStream
    }
  }

  start (): void {
    const ps = this.ps
    const { handlePeerReadStreamError, createOutboundStream } = this.originals
    ps.handlePeerReadStreamError = (err, peerId) => {
      this.dropped(peerId, 'inbound', err)
      handlePeerReadStreamError.call(ps, err, peerId)
    }
    ps.createOutboundStream = async (peerId, connection) => {
      const id = peerId.toString()
      if (this.opening.has(id)) return
      let failure: unknown
      const watched = {
        newStream: async (...args: Parameters<Connection['newStream']>) => await connection.newStream(...args).catch((err: unknown) => { failure = err; throw err })
      }
      this.opening.add(id)
      try {
        await createOutboundStream.call(ps, peerId, watched)
      } finally {
        this.opening.delete(id)
      }
      if (failure != null) {
        this.dropped(peerId, 'outbound', failure)
        return
      }
      const out = ps.streamsOutbound.get(id)
      out?.rawStream.addEventListener('close', (evt) => {
        const err = (evt as Event & { error?: Error }).error
        // a stream gossipsub itself closed (its peer removed, or replaced) is no longer its current one
        if (err != null && ps.streamsOutbound.get(id) === out && !this.resetting.has(out.rawStream)) this.dropped(peerId, 'outbound', err)
      }, { once: true })
    }
    this.timer = (this.c.clock ?? systemClock).setInterval(() => { void this.audit().catch(() => {}) }, this.init.auditIntervalMs ?? 5_000)
  }

  stop (): void {
    this.timer?.clear()
    this.ps.handlePeerReadStreamError = this.originals.handlePeerReadStreamError
    this.ps.createOutboundStream = this.originals.createOutboundStream
    this.inboundMissing.clear()
  }

  private dropped (peer: PeerId, direction: 'inbound' | 'outbound', err: unknown): void {
    const reason = dropReason(err)
    this.c.metrics?.dropped.inc({ direction, reason })
    this.c.log('info', 'gossip link to peer lost', { peer: peer.toString(), direction, reason, err: (err as Error)?.message })
  }

  /** a peer known to the router, with a meshsub stream, or that announced gossipsub */
  private async speaksGossip (conn: Connection): Promise<boolean> {
    if (this.ps.peers.has(conn.remotePeer.toString())) return true
    if (conn.streams.some((s) => s.protocol?.startsWith('/meshsub/') === true)) return true
    try {
      return (await this.c.protocols(conn)).some((p) => p.startsWith('/meshsub/'))
    } catch {
      return false
    }
  }

  /**
   * One pass over the open connections to peers that speak gossipsub: a link lost after it was up,
   * and one that never came up when the connection opened (a stream refused or timed out then), are
   * both restored. Returns how many links it started to restore.
   */
  async audit (): Promise<number> {
    const ps = this.ps
    const now = (this.c.clock ?? systemClock).now()
    let repairs = 0
    const seen = new Set<string>()
    for (const conn of this.c.connections()) {
      if (conn.status !== 'open') continue
      const id = conn.remotePeer.toString()
      if (seen.has(id)) continue
      if (!(await this.speaksGossip(conn)) || conn.status !== 'open') continue
      seen.add(id)
      if (!ps.peers.has(id)) {
        // dropped from the router while the connection stayed up: add it back, as on a new connection
        ps.onPeerConnected(conn.remotePeer, conn)
        this.c.metrics?.repaired.inc({ kind: 'readd' })
        this.c.log('debug', 'gossip peer added back', { peer: id })
        this.init.onRepair?.(conn.remotePeer)
        repairs++
        continue
      }
      if (this.opening.has(id)) continue
      const out = ps.streamsOutbound.get(id)
      if (out == null || out.rawStream.writeStatus !== 'writable') {
        ps.streamsOutbound.delete(id)
        void ps.createOutboundStream(conn.remotePeer, conn)
        this.c.metrics?.repaired.inc({ kind: 'outbound' })
        this.init.onRepair?.(conn.remotePeer)
        repairs++
        continue
      }
      const inb = ps.streamsInbound.get(id)
      if (inb == null || inb.rawStream.readStatus === 'closing' || inb.rawStream.readStatus === 'closed') {
        const since = this.inboundMissing.get(id)
        if (since == null) {
          this.inboundMissing.set(id, now)
        } else if (now - since > INBOUND_GRACE_MS) {
          // the peer's side of the link is gone and it does not know: reset ours so it starts over
          this.inboundMissing.delete(id)
          this.resetting.add(out.rawStream)
          out.rawStream.abort(new Error('gossip stream from this peer lost'))
          this.c.metrics?.repaired.inc({ kind: 'reset' })
          this.init.onRepair?.(conn.remotePeer)
          repairs++
        }
      } else {
        this.inboundMissing.delete(id)
      }
    }
    for (const id of this.inboundMissing.keys()) if (!seen.has(id)) this.inboundMissing.delete(id)
    return repairs
  }
}
