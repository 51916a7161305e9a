import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { GossipSub } from '@libp2p/gossipsub'
import type { Counter, Registry } from './metrics.js'

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
  log: (level: 'info' | 'debug', msg: string, fields: Record<string, unknown>) => void
  metrics?: GossipLinkMetrics
}

export interface GossipLinkKeeperInit {
  /** how often every connection's gossip streams are checked; default 5 s */
  auditIntervalMs?: number
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
 *   our outbound stream, and, when the peer's stream to us has been gone for two audits, a reset of
 *   ours so that the peer notices, drops us and opens a fresh pair.
 */
export class GossipLinkKeeper {
  private readonly ps: GossipSubInternals
  private readonly originals: Pick<GossipSubInternals, 'handlePeerReadStreamError' | 'createOutboundStream'>
  private timer?: NodeJS.Timeout
  /** peers seen without an inbound stream at the previous audit */
  private readonly inboundMissing = new Set<string>()
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
      let failure: unknown
      const watched = {
        newStream: async (...args: Parameters<Connection['newStream']>) => await connection.newStream(...args).catch((err: unknown) => { failure = err; throw err })
      }
      await createOutboundStream.call(ps, peerId, watched)
      const id = peerId.toString()
      if (failure != null) {
        this.dropped(peerId, 'outbound', failure)
        return
      }
      const out = ps.streamsOutbound.get(id)
      out?.rawStream.addEventListener('close', (evt) => {
        const err = (evt as Event & { error?: Error }).error
        if (err != null && ps.peers.has(id) && !this.resetting.has(out.rawStream)) this.dropped(peerId, 'outbound', err)
      }, { once: true })
    }
    this.timer = setInterval(() => { this.audit() }, this.init.auditIntervalMs ?? 5_000)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
    this.ps.handlePeerReadStreamError = this.originals.handlePeerReadStreamError
    this.ps.createOutboundStream = this.originals.createOutboundStream
    this.inboundMissing.clear()
  }

  private dropped (peer: PeerId, direction: 'inbound' | 'outbound', err: unknown): void {
    const reason = dropReason(err)
    this.c.metrics?.dropped.inc({ direction, reason })
    this.c.log('info', 'gossip link to peer lost', { peer: peer.toString(), direction, reason, err: (err as Error)?.message })
  }

  /**
   * One pass over the open connections that speak gossipsub (a meshsub stream, or a peer the router
   * knows). Returns how many links it started to restore.
   */
  audit (): number {
    const ps = this.ps
    let repairs = 0
    const seen = new Set<string>()
    for (const conn of this.c.connections()) {
      if (conn.status !== 'open') continue
      const id = conn.remotePeer.toString()
      if (seen.has(id)) continue
      const speaksGossip = ps.peers.has(id) || conn.streams.some((s) => s.protocol?.startsWith('/meshsub/') === true)
      if (!speaksGossip) continue
      seen.add(id)
      if (!ps.peers.has(id)) {
        // dropped from the router while the connection stayed up: add it back, as on a new connection
        ps.onPeerConnected(conn.remotePeer, conn)
        this.c.metrics?.repaired.inc({ kind: 'readd' })
        this.c.log('debug', 'gossip peer added back', { peer: id })
        repairs++
        continue
      }
      const out = ps.streamsOutbound.get(id)
      if (out == null || out.rawStream.writeStatus !== 'writable') {
        ps.streamsOutbound.delete(id)
        void ps.createOutboundStream(conn.remotePeer, conn)
        this.c.metrics?.repaired.inc({ kind: 'outbound' })
        repairs++
        continue
      }
      const inb = ps.streamsInbound.get(id)
      if (inb == null || inb.rawStream.readStatus === 'closing' || inb.rawStream.readStatus === 'closed') {
        if (this.inboundMissing.has(id)) {
          // the peer's side of the link is gone and it does not know: reset ours so it starts over
          this.inboundMissing.delete(id)
          this.resetting.add(out.rawStream)
          out.rawStream.abort(new Error('gossip stream from this peer lost'))
          this.c.metrics?.repaired.inc({ kind: 'reset' })
          repairs++
        } else {
          this.inboundMissing.add(id)
        }
      } else {
        this.inboundMissing.delete(id)
      }
    }
    for (const id of this.inboundMissing) if (!seen.has(id)) this.inboundMissing.delete(id)
    return repairs
  }
}
