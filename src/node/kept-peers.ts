import { KEEP_ALIVE, type Connection, type PeerId } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Host } from './host.js'
import type { Logger } from './logger.js'
import { guardedNetworkOperation } from './process-guard.js'

/**
 * The tag that makes libp2p's reconnect queue redial a peer as soon as its connection drops (five
 * attempts, backing off from 1 s). Any tag that starts with `keep-alive` does; ours is named so that
 * it can be told apart from other services' tags.
 */
export const KEEP_ALIVE_TAG = `${KEEP_ALIVE}-bazaar`

/**
 * Dials a multiaddr within the guard of network operations (a timeout, and a socket error that
 * escaped libp2p, matched by the address and port, ends the dial instead of leaving it hanging).
 */
export async function dialAddr (host: Host, ma: Multiaddr, signal?: AbortSignal): Promise<Connection> {
  const parts = ma.getComponents()
  const ip = parts.find((p) => p.name === 'ip4' || p.name === 'ip6')?.value
  const port = Number(parts.find((p) => p.name === 'tcp')?.value)
  return await guardedNetworkOperation(async (s) => await host.dial(ma, { signal: s }), {
    signal, target: { host: ip, port: Number.isInteger(port) ? port : undefined }
  })
}

/**
 * The peers a node keeps connected: its bootstrap peers and every peer it was asked to dial
 * (`BazaarNode.dial`, `--bootstrap` at runtime). Discovered peers (mDNS, the DHT) come and go; these
 * do not.
 *
 * A connection can drop while both ends are alive: a ping that timed out on a stalled event loop, a
 * reset on the way. Without a redial the node stays cut off from that peer for good (nothing else
 * dials a bootstrap peer again once the node has started), and a node with one bootstrap peer is cut
 * off from the market. So each kept peer is tagged `keep-alive`: libp2p redials it at once. When the
 * reconnect queue gives up (the peer was down through all its attempts) it removes the tag; the
 * node's check (every minute) tags the peer again and dials it, so a peer that comes back later is
 * found again within a minute.
 */
export class KeptPeers {
  /** peer id → the address it was dialled at (bootstrap peers: from the config) */
  private readonly kept = new Map<string, { id: PeerId, addr: Multiaddr }>()
  private checking = false

  constructor (private readonly host: Host, private readonly logger: Logger, private readonly signal: AbortSignal) {}

  /** Keeps the peers of these addresses (each has its `/p2p/<id>`; the config validated them). */
  async keepAddrs (addrs: readonly string[]): Promise<void> {
    for (const a of addrs) {
      const ma = multiaddr(a)
      const id = ma.getComponents().find((c) => c.name === 'p2p')?.value
      if (id != null) await this.keep(peerIdFromString(id), ma)
    }
  }

  /** Keeps a peer: tags it so that libp2p redials it when its connection drops. */
  async keep (id: PeerId, addr: Multiaddr): Promise<void> {
    if (id.equals(this.host.peerId)) return
    this.kept.set(id.toString(), { id, addr })
    await this.tag(id)
  }

  private async tag (id: PeerId): Promise<void> {
    await this.host.peerStore.merge(id, { tags: { [KEEP_ALIVE_TAG]: { value: 1 } } })
  }

  /**
   * Tags again, and dials, every kept peer with no open connection (the reconnect queue gave up on
   * it, or it was never reached). One check at a time; a failed dial is logged at debug and tried at
   * the next check.
   */
  async check (): Promise<void> {
    if (this.checking || this.signal.aborted) return
    this.checking = true
    try {
      const connected = new Set(this.host.getConnections().filter((c) => c.status === 'open').map((c) => c.remotePeer.toString()))
      for (const [key, { id, addr }] of this.kept) {
        if (connected.has(key) || this.signal.aborted) continue
        try {
          await this.tag(id)
          await dialAddr(this.host, addr, this.signal)
          this.logger.info('reconnected to a kept peer', { peer: key })
        } catch (err) {
          this.logger.debug('kept peer not reachable, tried again at the next check', { peer: key, err })
        }
      }
    } finally {
      this.checking = false
    }
  }

  /** the peers kept, for `/v1/peers` and tests */
  get peers (): string[] { return [...this.kept.keys()] }
}
