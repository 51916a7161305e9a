import { BoundedMap } from '../../util/bounded-map.js'
import { systemClock, type Clock } from '../../util/clock.js'
import {
  COOLDOWN_BASE_MS, COOLDOWN_FROM, COOLDOWN_HALF_LIFE_MS, LAPSE_WEIGHT, MAX_COOLDOWN_MS, MAX_COOLDOWN_RENTERS,
  UNCONFIRMED_WEIGHT, WITHDRAW_WEIGHT
} from '../constants.js'
import type { RenterCooldownStore } from './cooldown-store.js'

/**
 * How a renter's hold on a supplier's GPUs ended without a job:
 * - `lapsed`: a committed agreement with no escrow on chain within its window, or no session by
 *   its `startBy`. The GPUs were held the whole time (minutes to an hour) for nothing.
 * - `withdrawn`: the renter gave a committed agreement back (/bazaar/withdraw/1.0.0). That is what
 *   an honest renter does when its rental fails after the agreement (the escrow did not open, a
 *   cancel, a failed attestation), and the GPUs come back at once, so it weighs a quarter of a
 *   lapse. It still weighs something: agreeing and withdrawing over and over, a few at a time,
 *   would keep the GPUs from everyone else just the same.
 * - `unconfirmed`: a hold the renter never confirmed (it went away between Accept and Confirm):
 *   10 s of GPUs, also a quarter, for the same reason.
 */
export type HoldEnd = 'lapsed' | 'withdrawn' | 'unconfirmed'

const WEIGHT: Record<HoldEnd, number> = { lapsed: LAPSE_WEIGHT, withdrawn: WITHDRAW_WEIGHT, unconfirmed: UNCONFIRMED_WEIGHT }

interface Strikes {
  /** the weighted count of hold ends, as of `at` */
  score: number
  /** the last hold end (clock ms) */
  at: number
}

/**
 * The largest score read back from the store. A score grows by at most 1 per hold end, and the
 * cooldown stops a renter from making new holds long before a score this high (it is at its
 * longest, 24 hours, from about 7.1, and halves four times over those 24 hours): a larger one
 * is damage, not a renter.
 */
const MAX_STORED_SCORE = 1024
/** how far ahead of the clock a stored hold end may lie (the clock stepped back across a restart) */
const MAX_STORED_AHEAD_MS = 60_000
/** the longest stored value read: `{"score":…,"at":…}` is about 60 characters */
const MAX_STORED_VALUE = 128
const HOTKEY_HEX = /^[0-9a-f]{64}$/

/** What `load` found: entries taken, and entries that did not read back (skipped and removed). */
export interface CooldownLoad {
  loaded: number
  skipped: number
  /** the first few skipped keys (cut to 80 characters), for the log */
  skippedKeys: string[]
}

/**
 * Remembers, per renter hotkey, the holds that ended without a job, and answers how long the renter
 * must wait before it may propose again. RENTER_LIMIT bounds how many agreements a renter holds at
 * once; without this, a renter that never pays could propose again as soon as each lapsed and keep
 * the GPUs from honest renters for good. The score decays (halves every COOLDOWN_HALF_LIFE_MS), so
 * an honest renter's occasional failure is forgotten; the cooldown doubles with each further lapse
 * while the score stays high, up to MAX_COOLDOWN_MS.
 *
 * Bounded to `maxRenters` hotkeys: recording one more forgets the renter whose last hold end is the
 * oldest (a renter's entry moves to the newest place at each record), which is the one whose
 * cooldown is most likely over.
 *
 * With a `store`, each change is written there and `load` reads them back at start, so a restart
 * of the supplier does not let a renter that never pays hold its GPUs again at once. Scores decay
 * across the time the supplier was stopped as they do while it runs: an entry keeps the time of
 * its last hold end, and the decay and the cooldown are both counted from it.
 */
export class RenterCooldown {
  private readonly renters: BoundedMap<string, Strikes>
  private readonly clock: Clock
  private readonly store?: RenterCooldownStore
  private readonly onStoreError: (err: unknown) => void
  /** the writes issued so far, in order (one renter's writes must land in the order made) */
  private writes: Promise<void> = Promise.resolve()

  constructor (init: { clock?: Clock, maxRenters?: number, store?: RenterCooldownStore, onStoreError?: (err: unknown) => void } = {}) {
    this.clock = init.clock ?? systemClock
    this.renters = new BoundedMap(init.maxRenters ?? MAX_COOLDOWN_RENTERS)
    this.store = init.store
    this.onStoreError = init.onStoreError ?? (() => {})
  }

  /** renters remembered */
  get size (): number { return this.renters.size }

  /** A hold of `renter` (hotkey hex) ended without a job. */
  record (renter: string, end: HoldEnd): void {
    const now = this.clock.now()
    const prior = this.renters.get(renter)
    const score = (prior != null ? decayed(prior, now) : 0) + WEIGHT[end]
    const evicted = this.renters.set(renter, { score, at: now })
    const store = this.store
    if (store == null) return
    this.write(async () => {
      await store.put(renter, score, now)
      if (evicted != null) await store.del([evicted[0]])
    })
  }

  /**
   * Reads back what the store holds (once, at start, before any proposal is answered): at most
   * `maxRenters` entries, those with the latest hold ends, and removes the rest from the store.
   * An entry that does not read back (not JSON, a key that is no hotkey, a score or time out of
   * range) is skipped and removed; `skipped` says how many. A renter already recorded in this run
   * keeps its newer entry.
   */
  async load (): Promise<CooldownLoad> {
    const out: CooldownLoad = { loaded: 0, skipped: 0, skippedKeys: [] }
    const store = this.store
    if (store == null) return out
    const now = this.clock.now()
    const max = this.renters.maxEntries
    const kept: Array<[string, Strikes]> = []
    const forget: string[] = []
    const latestFirst = (a: [string, Strikes], b: [string, Strikes]): number => b[1].at - a[1].at || (a[0] < b[0] ? -1 : 1)
    for await (const [key, value] of store.entries()) {
      const s = parseStored(key, value, now)
      if (s == null) {
        out.skipped++
        if (out.skippedKeys.length < 3) out.skippedKeys.push(key.slice(0, 80))
        forget.push(key)
        continue
      }
      kept.push([key, s])
      // bounded while reading: past twice the bound, the oldest beyond it go
      if (kept.length >= 2 * max) {
        kept.sort(latestFirst)
        for (const [k] of kept.splice(max)) forget.push(k)
      }
    }
    kept.sort(latestFirst)
    for (const [k] of kept.splice(max)) forget.push(k)
    // oldest first, so the least recent is the first the bound forgets, as in a run
    for (const [k, s] of kept.reverse()) {
      if (this.renters.has(k)) continue
      this.renters.set(k, s)
      out.loaded++
    }
    for (let i = 0; i < forget.length; i += 500) await store.del(forget.slice(i, i + 500))
    return out
  }

  /** Waits for the writes issued so far (a stop, before the database closes). */
  async flush (): Promise<void> { await this.writes }

  private write (op: () => Promise<void>): void {
    this.writes = this.writes.then(op).catch((err: unknown) => { this.onStoreError(err) })
  }

  /** milliseconds before `renter` (hotkey hex) may propose again; 0 when it may now */
  remaining (renter: string): number {
    const s = this.renters.get(renter)
    if (s == null || s.score < COOLDOWN_FROM) return 0
    const length = Math.min(MAX_COOLDOWN_MS, COOLDOWN_BASE_MS * 2 ** (s.score - COOLDOWN_FROM))
    return Math.max(0, Math.ceil(s.at + length - this.clock.now()))
  }
}

/** a stored entry, or undefined where it does not read back or lies out of range */
function parseStored (key: string, value: string, now: number): Strikes | undefined {
  if (!HOTKEY_HEX.test(key) || value.length > MAX_STORED_VALUE) return undefined
  let v: unknown
  try { v = JSON.parse(value) } catch { return undefined }
  if (typeof v !== 'object' || v === null) return undefined
  const { score, at } = v as { score?: unknown, at?: unknown }
  if (typeof score !== 'number' || !Number.isFinite(score) || score <= 0 || score > MAX_STORED_SCORE) return undefined
  if (typeof at !== 'number' || !Number.isSafeInteger(at) || at <= 0 || at > now + MAX_STORED_AHEAD_MS) return undefined
  return { score, at }
}

/** the score of `s` at `now`: halved every COOLDOWN_HALF_LIFE_MS since its last hold end */
function decayed (s: Strikes, now: number): number {
  return s.score * 2 ** (-Math.max(0, now - s.at) / COOLDOWN_HALF_LIFE_MS)
}
