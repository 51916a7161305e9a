import { STANDINGS, type Standing } from '../types.js'

/**
 * What a cancel leaves in its slot: the sequence that an older copy must beat, and the signed
 * cancel itself until it expires, so that anti-entropy can serve it to a peer that still holds the
 * entry (a cancel made on the other side of a partition).
 */
export interface Tombstone {
  /** `<party hotkey hex>/<id>` */
  readonly key: string
  readonly sequence: bigint
  /** the cancel's own expiry: after it no peer would accept the envelope */
  readonly expiresN: number
  envelope: Uint8Array | undefined
}

/**
 * The tombstones of one side of the book (offers or bids), bounded so that no party can push out
 * another's by cancelling slots it never used.
 *
 * - One map per standing, each holding at most `max`: a cancel pushes out the oldest tombstone of
 *   its own standing only. Anyone can make hotkeys, so parties of no standing can crowd out one
 *   another, but never a registered party's tombstones (a captured copy of a withdrawn offer would
 *   then be accepted again).
 * - A party keeps at most `perParty`; past it, its own oldest goes. Registered hotkeys are scarce
 *   (a subnet holds 256 UIDs on the main network), so with the defaults (256 per supplier, 100,000
 *   per standing) the registered map never fills.
 *
 * `gone` hears of each tombstone pushed out (not of one replaced by a cancel of the same slot).
 */
export class Tombstones {
  private readonly byStanding: Array<Map<string, Tombstone>> = STANDINGS.map(() => new Map())
  /** each party's tombstone keys, oldest first */
  private readonly byParty = new Map<string, Set<string>>()

  constructor (
    private readonly max: number,
    private readonly perParty: number,
    private readonly gone: (key: string) => void
  ) {
    if (!Number.isSafeInteger(max) || max < 1 || !Number.isSafeInteger(perParty) || perParty < 1) throw new RangeError('tombstone bounds must be positive integers')
  }

  get (key: string): Tombstone | undefined {
    for (const m of this.byStanding) {
      const t = m.get(key)
      if (t !== undefined) return t
    }
    return undefined
  }

  get size (): number {
    let n = 0
    for (const m of this.byStanding) n += m.size
    return n
  }

  * values (): IterableIterator<Tombstone> {
    for (const m of this.byStanding) yield * m.values()
  }

  /**
   * Records `t` for its slot under the party's standing now (replacing the slot's tombstone, in
   * whatever standing it was made); returns whether the slot had none. A party at its limit loses
   * a tombstone whose cancel has expired by `now` first (no peer accepts it any more), else its oldest.
   */
  set (t: Tombstone, standing: Standing, now: number): boolean {
    const party = t.key.slice(0, 64)
    let fresh = true
    for (const m of this.byStanding) if (m.delete(t.key)) fresh = false
    let keys = this.byParty.get(party)
    if (keys !== undefined && !fresh) keys.delete(t.key)
    if (fresh && keys !== undefined && keys.size >= this.perParty) {
      this.evict(this.spentOf(keys, now) ?? keys.values().next().value as string)
    }
    const m = this.byStanding[standing]
    if (m.size >= this.max) this.evict(m.keys().next().value as string)
    m.set(t.key, t)
    // the evictions above may have emptied and dropped the party's set
    keys = this.byParty.get(party)
    if (keys === undefined) {
      keys = new Set()
      this.byParty.set(party, keys)
    }
    keys.add(t.key)
    return fresh
  }

  /**
   * Moves each tombstone whose party's standing changed (`standingOf`, by party hex) to that
   * standing's map, pushing out that map's oldest where it is full; returns how many moved.
   */
  restand (standingOf: (party: string) => Standing): number {
    const moves: Array<[Tombstone, Standing]> = []
    const asked = new Map<string, Standing>()
    this.byStanding.forEach((m, s) => {
      for (const t of m.values()) {
        const party = t.key.slice(0, 64)
        let now = asked.get(party)
        if (now === undefined) asked.set(party, now = standingOf(party))
        if (now !== s) moves.push([t, now])
      }
    })
    // every mover out first, then in: a full map pushes out its oldest only when the movers
    // leaving it have not made the room
    for (const [t] of moves) for (const m of this.byStanding) m.delete(t.key)
    for (const [t, s] of moves) {
      const m = this.byStanding[s]
      if (m.size >= this.max) this.evict(m.keys().next().value as string)
      m.set(t.key, t)
    }
    return moves.length
  }

  /** a tombstone of `keys` whose cancel expired by `now`, if any (looked for among at most perParty) */
  private spentOf (keys: Set<string>, now: number): string | undefined {
    for (const k of keys) {
      const t = this.get(k)
      if (t !== undefined && t.expiresN <= now) return k
    }
    return undefined
  }

  private evict (key: string): void {
    for (const m of this.byStanding) m.delete(key)
    const party = key.slice(0, 64)
    const keys = this.byParty.get(party)
    if (keys !== undefined) {
      keys.delete(key)
      if (keys.size === 0) this.byParty.delete(party)
    }
    this.gone(key)
  }
}
