import type { ValidatedMessage } from './validate.js'

/**
 * The valid signed messages a node holds: the latest per slot (signer + id), replaced by a higher
 * sequence, dropped on cancel or expiry, bounded in size. It keeps the wire bytes so the node can
 * serve a supplier's current offers to late joiners byte for byte.
 */
export class HeldMessages<M extends ValidatedMessage> {
  private readonly byKey = new Map<string, M>()
  constructor (private readonly maxEntries: number) {}

  get size (): number { return this.byKey.size }

  /**
   * Applies a validated message: a cancel removes its slot, anything else replaces a lower sequence.
   * When full, the message closest to expiry is evicted, so a flood of short-lived messages cannot push
   * out long-lived ones. Returns what the holding now is for the slot (undefined after a cancel).
   */
  apply (m: M): M | undefined {
    const cur = this.byKey.get(m.key)
    const seq = (x: M): bigint => x.kind === 'offer' ? x.offer.sequence : x.bid.sequence
    if (cur != null && seq(cur) >= seq(m)) return cur
    if (cancelled(m)) { this.byKey.delete(m.key); return undefined }
    if (cur == null && this.byKey.size >= this.maxEntries) this.evictOne()
    this.byKey.set(m.key, m)
    return m
  }

  get (key: string): M | undefined { return this.byKey.get(key) }

  values (): M[] { return [...this.byKey.values()] }

  /** removes expired messages; returns them */
  prune (now: number): M[] {
    const gone: M[] = []
    for (const [k, m] of this.byKey) {
      if (expiresAt(m) <= now) { this.byKey.delete(k); gone.push(m) }
    }
    return gone
  }

  private evictOne (): void {
    let victim: string | undefined
    let soonest = Infinity
    for (const [k, m] of this.byKey) {
      const e = expiresAt(m)
      if (e < soonest) { soonest = e; victim = k }
    }
    if (victim != null) this.byKey.delete(victim)
  }
}

function cancelled (m: ValidatedMessage): boolean {
  return m.kind === 'offer' ? m.offer.cancelled : m.bid.cancelled
}

function expiresAt (m: ValidatedMessage): number {
  return Number(m.kind === 'offer' ? m.offer.expiresAt : m.bid.expiresAt)
}
