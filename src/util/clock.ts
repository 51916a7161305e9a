/**
 * Time is injected everywhere through a clock so that tests can stop it instead of sleeping.
 * Milliseconds since the Unix epoch.
 */
export interface Clock {
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

/** A clock that only moves when told to. */
export class ManualClock implements Clock {
  private t: number
  constructor (start = Date.UTC(2026, 0, 1)) { this.t = start }
  now (): number { return this.t }
  set (t: number): void { this.t = t }
  advance (ms: number): void { this.t += ms }
}
