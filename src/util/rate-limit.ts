import { BoundedMap } from './bounded-map.js'

/** Default bound on the keys (peers) a limiter remembers. */
export const DEFAULT_LIMITER_KEYS = 4096

/**
 * A fixed-window counter per key (a peer): at most `limit` events per `windowMs`. The key table is
 * bounded: when full, the oldest window is forgotten first, so a flood of fresh peer ids costs
 * memory it cannot grow. A forgotten peer starts a fresh window, which grants it at most one more
 * window's budget.
 */
export class WindowLimiter {
  private readonly windows: BoundedMap<string, { start: number, used: number }>

  constructor (private readonly limit: number, private readonly windowMs: number, maxKeys = DEFAULT_LIMITER_KEYS) {
    this.windows = new BoundedMap(maxKeys)
  }

  /** counts one event for `key` at `now` (ms); false when over the limit (not counted) */
  take (key: string, now: number): boolean {
    let w = this.windows.get(key)
    if (w == null || now - w.start >= this.windowMs) {
      w = { start: now, used: 0 }
      this.windows.set(key, w)
    }
    if (w.used >= this.limit) return false
    w.used++
    return true
  }
}

/** A token bucket per key (`ratePerS` refill, `burst` capacity), bounded in keys. */
export class TokenBucketLimiter {
  private readonly buckets: BoundedMap<string, { tokens: number, at: number }>

  constructor (private readonly ratePerS: number, private readonly burst: number, maxKeys = DEFAULT_LIMITER_KEYS) {
    this.buckets = new BoundedMap(maxKeys)
  }

  /** takes one token for `key` at `now` (ms); false when the bucket is empty */
  take (key: string, now: number): boolean {
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.ratePerS)
    b.at = now
    const ok = b.tokens >= 1
    if (ok) b.tokens -= 1
    this.buckets.set(key, b)
    return ok
  }
}
