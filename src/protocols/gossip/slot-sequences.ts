import { BoundedMap } from '../../util/bounded-map.js'

/**
 * Times kept per accepted message are whole seconds since this epoch (2023-11-14): small integers
 * until about 2057, which V8 stores unboxed in a Map, where milliseconds since 1970 would each be a
 * 12-byte heap number. An expiry is rounded up to its second: an entry lives at most a second longer.
 */
const EPOCH_S = 1_700_000_000

/** an expiry, `ms` since 1970, as whole seconds since EPOCH_S, rounded up */
export function epochSeconds (ms: number): number {
  return Math.ceil(ms / 1000) - EPOCH_S
}

/**
 * The latest expiry in seconds (`epochSeconds`) that has passed at `now` (ms since 1970): an entry
 * expiring in that second or before is forgotten, never one whose expiry is still ahead.
 */
export function expiredBy (now: number): number {
  return Math.floor(now / 1000) - EPOCH_S
}

/** the packed form holds a sequence below this (2^21), and seconds below 2^32, in one exact double */
const PACKED_SEQUENCE_LIMIT = 2 ** 21
const SECONDS = 2 ** 32

/** a slot whose sequence or expiry does not fit the packed form */
interface Wide { readonly sequence: bigint, readonly expiresS: number }

/**
 * The highest accepted sequence of each (party, id) slot until its message expires, bounded: what
 * the validator consults to refuse a replayed or reordered older message (`STALE_SEQUENCE`).
 *
 * Most entries are one number: a sequence below 2^21 and the expiry in seconds (`epochSeconds`),
 * packed as sequence * 2^32 + seconds, 12 bytes on the V8 heap against 48 for an object holding a
 * bigint and a number. Others keep such an object. With the seen-cache's expiries in seconds too,
 * the validator keeps 235 bytes per accepted offer instead of 315 (`npm run bench:book`).
 */
export class SlotSequences {
  private readonly map: BoundedMap<string, number | Wide>

  constructor (maxEntries: number) {
    this.map = new BoundedMap(maxEntries)
  }

  get size (): number { return this.map.size }

  /** whether `sequence` is at most the one held for `slot` (a replay, or an older message) */
  isStale (slot: string, sequence: bigint): boolean {
    const v = this.map.get(slot)
    if (v === undefined) return false
    // a bigint compares with a number exactly
    return typeof v === 'number' ? sequence <= Math.floor(v / SECONDS) : sequence <= v.sequence
  }

  /** holds `sequence` for `slot` until `expiresAt` (ms since 1970) */
  set (slot: string, sequence: bigint, expiresAt: number): void {
    const s = epochSeconds(expiresAt)
    if (sequence >= 0n && sequence < PACKED_SEQUENCE_LIMIT && s >= 0 && s < SECONDS) this.map.set(slot, Number(sequence) * SECONDS + s)
    else this.map.set(slot, { sequence, expiresS: s })
  }

  /** forgets the slots whose message expired by `now` (ms since 1970); returns how many */
  prune (now: number): number {
    const past = expiredBy(now)
    return this.map.prune((v) => (typeof v === 'number' ? v % SECONDS : v.expiresS) <= past)
  }
}
