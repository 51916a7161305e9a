import { MAX_RATE_PEERS } from '../constants.js'

/**
 * A fixed-window counter per peer: at most `limit` events per `windowMs`. The peer map is bounded:
 * when full, the oldest window is forgotten first (a Map iterates in insertion order), so a flood
 * of fresh peer ids costs memory it cannot grow.
 */
export class PeerRateLimiter {
  private readonly windows = new Map<string, { start: number, count: number }>()

  constructor (private readonly limit: number, private readonly windowMs: number, private readonly maxPeers = MAX_RATE_PEERS) {}

  /** counts one event for `peer` at `now`; false when over the limit */
  take (peer: string, now: number): boolean {
    let w = this.windows.get(peer)
    if (w == null || now - w.start >= this.windowMs) {
      this.windows.delete(peer)
      if (this.windows.size >= this.maxPeers) {
        const oldest = this.windows.keys().next().value
        if (oldest !== undefined) this.windows.delete(oldest)
      }
      w = { start: now, count: 0 }
      this.windows.set(peer, w)
    }
    w.count++
    return w.count <= this.limit
  }
}
