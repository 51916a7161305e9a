import { BoundedMap } from '../../util/bounded-map.js'
import { systemClock, type Clock } from '../../util/clock.js'
import {
  COOLDOWN_BASE_MS, COOLDOWN_FROM, COOLDOWN_HALF_LIFE_MS, LAPSE_WEIGHT, MAX_COOLDOWN_MS, MAX_COOLDOWN_RENTERS,
  UNCONFIRMED_WEIGHT, WITHDRAW_WEIGHT
} from '../constants.js'

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
 * Remembers, per renter hotkey, the holds that ended without a job, and answers how long the renter
 * must wait before it may propose again. RENTER_LIMIT bounds how many agreements a renter holds at
 * once; without this, a renter that never pays could propose again as soon as each lapsed and keep
 * the GPUs from honest renters for good. The score decays (halves every COOLDOWN_HALF_LIFE_MS), so
 * an honest renter's occasional failure is forgotten; the cooldown doubles with each further lapse
 * while the score stays high, up to MAX_COOLDOWN_MS.
 *
 * In memory, bounded to `maxRenters` hotkeys: recording one more forgets the renter whose last hold
 * end is the oldest (a renter's entry moves to the newest place at each record), which is the one
 * whose cooldown is most likely over. A restart forgets everything, like the holds themselves.
 */
export class RenterCooldown {
  private readonly renters: BoundedMap<string, Strikes>
  private readonly clock: Clock

  constructor (init: { clock?: Clock, maxRenters?: number } = {}) {
    this.clock = init.clock ?? systemClock
    this.renters = new BoundedMap(init.maxRenters ?? MAX_COOLDOWN_RENTERS)
  }

  /** renters remembered */
  get size (): number { return this.renters.size }

  /** A hold of `renter` (hotkey hex) ended without a job. */
  record (renter: string, end: HoldEnd): void {
    const now = this.clock.now()
    const prior = this.renters.get(renter)
    const score = (prior != null ? decayed(prior, now) : 0) + WEIGHT[end]
    this.renters.set(renter, { score, at: now })
  }

  /** milliseconds before `renter` (hotkey hex) may propose again; 0 when it may now */
  remaining (renter: string): number {
    const s = this.renters.get(renter)
    if (s == null || s.score < COOLDOWN_FROM) return 0
    const length = Math.min(MAX_COOLDOWN_MS, COOLDOWN_BASE_MS * 2 ** (s.score - COOLDOWN_FROM))
    return Math.max(0, Math.ceil(s.at + length - this.clock.now()))
  }
}

/** the score of `s` at `now`: halved every COOLDOWN_HALF_LIFE_MS since its last hold end */
function decayed (s: Strikes, now: number): number {
  return s.score * 2 ** (-Math.max(0, now - s.at) / COOLDOWN_HALF_LIFE_MS)
}
