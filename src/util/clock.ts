/**
 * Time is injected everywhere through a clock, so that tests can stop it instead of sleeping: the
 * clock tells the time and owns every timer. Code never calls the global `setTimeout`,
 * `setInterval` or `Date.now()` for protocol time; it asks its clock. Under a `ManualClock` a timer
 * fires only when the test advances the clock past it, so a test of a start-by window, a metering
 * tick or a settlement wait runs in no wall time and the same way on a busy machine.
 *
 * Protocol time is every window, tick, expiry, retry and interval the protocol defines: job ticks,
 * start windows and maximum durations, flow-control stall and cancel timeouts, metering ticks,
 * book-sync and republish intervals, rate windows, DHT provide retries, chain polls and their
 * deadlines. A loop that waits for a deadline reads the deadline and sleeps on the same clock
 * (`clock.sleep`), or it never ends under a stopped clock.
 *
 * Deadlines on I/O stay on wall time (`AbortSignal.timeout`, a plain timer), each with a comment
 * saying so: a read or write on a stream with a peer, a dial, a websocket connect, an HTTP request
 * to the daemon, the grace a real child process gets before SIGKILL, waiting for a child to listen.
 * Sockets and processes run on real time whatever a test's clock says, and a stopped clock would
 * leave them open forever. A test that runs a real process waits on its events (its output, its
 * exit, `/proc`), not on elapsed time.
 *
 * Milliseconds since the Unix epoch.
 */
export interface Clock {
  now(): number
  /** calls `fn` once, `ms` from now; `clear()` on the handle cancels it */
  setTimeout(fn: () => void, ms: number): TimerHandle
  /** calls `fn` every `ms` until cleared */
  setInterval(fn: () => void, ms: number): TimerHandle
  /**
   * resolves `ms` from now; with a signal it rejects with the signal's reason as soon as it aborts
   * (so a loop that sleeps ends with its owner)
   */
  sleep(ms: number, opts?: { signal?: AbortSignal }): Promise<void>
}

/** A timer a clock started. Clearing twice, or after it fired, does nothing. */
export interface TimerHandle {
  clear(): void
}

/** the longest delay Node's timers take (2^31 - 1 ms); a longer one would fire at once */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * Node's setTimeout for any delay: one over 2^31 - 1 ms (about 24.8 days) would fire at once, so a
 * long deadline (a job's maximum duration) waits in steps of at most that until it is due.
 * `ref: false` lets the process exit while the timer waits.
 */
function wallTimer (fn: () => void, ms: number, ref: boolean): TimerHandle {
  let t: NodeJS.Timeout
  const arm = (left: number): void => {
    const step = Math.min(left, MAX_TIMER_MS)
    t = setTimeout(() => { if (left > step) arm(left - step); else fn() }, step)
    if (!ref) t.unref()
  }
  arm(Math.max(0, ms))
  return { clear: () => { clearTimeout(t) } }
}

/** the timer an awaited wait runs on: it holds the process open, as `node:timers/promises` does */
const heldTimers = { setTimeout: (fn: () => void, ms: number): TimerHandle => wallTimer(fn, ms, true) }

/**
 * The system clock: wall time and Node's timers. A timer (`setTimeout`, `setInterval`: a tick, a
 * retry, a deadline beside other work) is unref'd, so a pending one never holds a process open. A
 * `sleep` is different: someone awaits it, so it holds the process open until it ends; with an
 * unref'd one, a command polling its daemon or a chain would exit silently in the middle of its wait.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout (fn, ms) { return wallTimer(fn, ms, false) },
  setInterval (fn, ms) {
    const t = setInterval(fn, Math.max(1, ms))
    t.unref()
    return { clear: () => { clearInterval(t) } }
  },
  async sleep (ms, opts = {}) { await sleepOn(heldTimers, ms, opts.signal) }
}

/**
 * A clock that only moves when told to. `advance` fires every timer that falls due, in due order,
 * each at its own time (`now()` reads the timer's due time inside its callback); `advanceAsync`
 * also lets promise callbacks run between timers, so code that awaits a sleep in a loop takes its
 * next step inside the same advance.
 */
export class ManualClock implements Clock {
  private t: number
  private seq = 0
  private readonly timers = new Map<number, { due: number, every?: number, fn: () => void }>()

  constructor (start = Date.UTC(2026, 0, 1)) { this.t = start }

  now (): number { return this.t }

  /** sets the time without firing timers (a jump, as after a suspend) */
  set (t: number): void { this.t = t }

  setTimeout (fn: () => void, ms: number): TimerHandle { return this.add(fn, ms) }

  setInterval (fn: () => void, ms: number): TimerHandle { return this.add(fn, ms, Math.max(1, ms)) }

  async sleep (ms: number, opts: { signal?: AbortSignal } = {}): Promise<void> { await sleepOn(this, ms, opts.signal) }

  /** timers waiting to fire */
  get pending (): number { return this.timers.size }

  /** moves time forward by `ms`, firing what falls due on the way */
  advance (ms: number): void {
    const end = this.t + ms
    for (let next = this.nextDue(end); next != null; next = this.nextDue(end)) this.fire(next)
    this.t = end
  }

  /**
   * moves time forward by `ms` like `advance`, letting queued promise callbacks run before and
   * after each timer (a sleeping loop's next iteration, a write that follows a timeout)
   */
  async advanceAsync (ms: number): Promise<void> {
    const end = this.t + ms
    await flushMicrotasks()
    for (let next = this.nextDue(end); next != null; next = this.nextDue(end)) {
      this.fire(next)
      await flushMicrotasks()
    }
    this.t = end
    await flushMicrotasks()
  }

  /** advances to the next timer and fires it (and others due at the same time); false when none waits */
  async runNext (): Promise<boolean> {
    const next = this.nextDue(Infinity)
    if (next == null) return false
    await this.advanceAsync(Math.max(0, this.timers.get(next)!.due - this.t))
    return true
  }

  private add (fn: () => void, ms: number, every?: number): TimerHandle {
    const id = ++this.seq
    this.timers.set(id, { due: this.t + Math.max(0, ms), every, fn })
    return { clear: () => { this.timers.delete(id) } }
  }

  /** the id of the earliest timer due by `end` (ties: the one set first) */
  private nextDue (end: number): number | undefined {
    let best: number | undefined
    let bestDue = Infinity
    for (const [id, t] of this.timers) {
      if (t.due <= end && t.due < bestDue) { best = id; bestDue = t.due }
    }
    return best
  }

  private fire (id: number): void {
    const timer = this.timers.get(id)!
    this.t = Math.max(this.t, timer.due)
    if (timer.every != null) timer.due += timer.every
    else this.timers.delete(id)
    timer.fn()
  }
}

async function sleepOn (clock: Pick<Clock, 'setTimeout'>, ms: number, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted()
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => { timer.clear(); reject(signal!.reason) }
    const timer = clock.setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve() }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** lets every promise callback queued so far (and the ones they queue) run */
async function flushMicrotasks (): Promise<void> {
  // a macrotask boundary: everything already in the microtask queue has run when it fires
  await new Promise<void>((resolve) => { setImmediate(resolve) })
}

/** a clock that reads a fixed time source but keeps real timers (tools that pin `now` only) */
export function clockAt (now: () => number): Clock {
  return { ...systemClock, now, sleep: async (ms, opts = {}) => { await sleepOn(heldTimers, ms, opts.signal) } }
}
