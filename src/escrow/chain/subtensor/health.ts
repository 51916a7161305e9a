import type { Clock, TimerHandle } from '../../../util/clock.js'
import { SubtensorError } from './errors.js'
import { answered } from './submit.js'

/**
 * How often the watch asks the node for a sign of life. One `system_health` is a few bytes each
 * way and answered from the node's memory; @polkadot/api itself sends one every 10 s as a
 * keepalive, and reads nothing from its answer.
 */
export const HEALTH_INTERVAL_MS = 15_000
/** how long one probe may go unanswered: a node answers `system_health` in milliseconds */
export const HEALTH_TIMEOUT_MS = 5_000
/**
 * Probes missed in a row before the socket is dropped. One missed answer can be a loaded public
 * endpoint's queue or a stall of this process; two in a row (the second sent at once after the
 * first, so 10 s without an answer to a call that takes milliseconds) is a node that answers
 * nothing. A drop costs every read in flight a retry and a reconnect, so one miss is not enough.
 * The silence is found at most HEALTH_INTERVAL_MS + 2 x HEALTH_TIMEOUT_MS (25 s) after it began,
 * before a read sent into it reaches its own deadline (READ_TIMEOUT_MS, 30 s): such a read ends
 * with the drop and is made again on the new socket (`retrying`).
 */
export const HEALTH_MISSES = 2

export interface HealthWatchInit {
  /** the probes, their deadlines and the wait between them run on it */
  clock: Clock
  /** the cheap call whose answer, whatever it says, shows the node is there */
  probe: () => Promise<unknown>
  /** whether the socket is up: nothing is probed while it is down (the provider reconnects by itself) */
  connected: () => boolean
  /** the node answered none of HEALTH_MISSES probes in a row while the socket stayed up */
  onUnresponsive: () => void
  intervalMs?: number
  timeoutMs?: number
  misses?: number
}

/**
 * Watches a node that may stop answering on an open websocket (a stuck RPC node, a half-open TCP
 * connection, a proxy that keeps the socket): neither @polkadot/api nor `WsProvider` checks the
 * answers to their keepalive, so such a socket stays "connected" until TCP gives up. Every
 * `intervalMs` of the clock, while the socket is up, it sends `probe` with its own deadline; after
 * `misses` probes in a row with no answer it calls `onUnresponsive` (the adapter drops the socket and
 * reconnects). `stop()` ends the watch and a probe in flight; no timer is left behind.
 */
export class HealthWatch {
  private timer?: TimerHandle
  private readonly stopping = new AbortController()
  private missed = 0

  constructor (private readonly init: HealthWatchInit) {}

  start (): void {
    if (this.timer != null || this.stopping.signal.aborted) return
    this.schedule()
  }

  stop (): void {
    this.stopping.abort()
    this.timer?.clear()
    this.timer = undefined
  }

  private schedule (): void {
    if (this.stopping.signal.aborted) return
    this.timer = this.init.clock.setTimeout(() => {
      this.timer = undefined
      void this.tick()
    }, this.init.intervalMs ?? HEALTH_INTERVAL_MS)
  }

  private async tick (): Promise<void> {
    const { clock, connected } = this.init
    if (!connected()) {
      this.missed = 0
      this.schedule()
      return
    }
    let silent = false
    try {
      await answered(this.init.probe(), 'system_health', { clock, signal: this.stopping.signal, timeoutMs: this.init.timeoutMs ?? HEALTH_TIMEOUT_MS })
    } catch (err) {
      // an error the node sent is an answer; a socket that dropped meanwhile is the provider's
      silent = err instanceof SubtensorError && err.code === 'CHAIN_TIMEOUT' && connected()
    }
    if (this.stopping.signal.aborted) return
    if (!silent) {
      this.missed = 0
      this.schedule()
      return
    }
    // the next probe at once: a node that answers nothing is dropped without another interval's wait
    if (++this.missed < (this.init.misses ?? HEALTH_MISSES)) { await this.tick(); return }
    this.missed = 0
    this.init.onUnresponsive()
    this.schedule()
  }
}
