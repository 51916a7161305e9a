import { KeyedSerialQueue } from '../util/serial.js'
import { EscrowError, throwIfAborted } from './errors.js'

/** one settling operation of an escrow and everyone waiting for its outcome */
interface Flight<T> {
  promise: Promise<T>
  controller: AbortController
  /** callers waiting that may still give up; a caller without a signal never does */
  waiting: number
  /** a caller without a signal waits: the task is never aborted */
  held: boolean
}

/**
 * Serializes the settling operations (closes and refunds) of each escrow in this process: the
 * control API (`bazaar escrow close`), a role settling its session, recovery after a restart and
 * the renter's refund look all go through one EscrowService, and two of them on one escrow at once
 * would both read it open, both ask the arbiter and both approve; the second then fails on the
 * first's outcome (ALREADY_APPROVED, or the arbiter's ESCROW_NOT_OPEN) although the escrow settled
 * as it asked, and a subtensor account submitting two approvals at once races its own nonce.
 *
 * Operations of one escrow run one at a time, in call order. A caller asking for the operation
 * already queued or running (same escrow, same `kind`) joins it and gets its outcome: that is what
 * a user running `bazaar escrow close` while the daemon closes the same escrow means to learn, and
 * an error about timing would hide that the escrow settled. Another kind (a cooperative close
 * while a close with the arbiter runs, a refund) runs after it, against the state it left.
 *
 * A caller's signal: a caller that gives up while others still wait is answered ABORTED at once,
 * and the operation goes on for the others; the last one to give up aborts the operation and gets
 * how it ended, as a lone caller always did. Entries live only while their operation is queued or
 * running, so the table holds no more than the operations in flight.
 */
export class SettleQueue<T> {
  private readonly queue = new KeyedSerialQueue<string>()
  private readonly flights = new Map<string, Flight<T>>()

  /** the operations queued or running */
  get size (): number { return this.flights.size }

  async run (escrowId: string, kind: string, fn: (signal: AbortSignal) => Promise<T>, opts: { signal?: AbortSignal } = {}): Promise<T> {
    throwIfAborted(opts.signal)
    const key = `${escrowId}/${kind}`
    let flight = this.flights.get(key)
    // an operation every caller gave up on is ending: a new caller gets a fresh one, queued after it
    if (flight == null || flight.controller.signal.aborted) {
      const controller = new AbortController()
      const promise = this.queue.run(escrowId, async () => {
        throwIfAborted(controller.signal)
        return await fn(controller.signal)
      })
      const f: Flight<T> = { promise, controller, waiting: 0, held: false }
      const drop = (): void => { if (this.flights.get(key) === f) this.flights.delete(key) }
      promise.then(drop, drop)
      this.flights.set(key, f)
      flight = f
    }
    return await wait(flight, opts.signal)
  }
}

async function wait<T> (f: Flight<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal == null) {
    f.held = true
    return await f.promise
  }
  f.waiting++
  return await new Promise<T>((resolve, reject) => {
    let left = false
    const onAbort = (): void => {
      f.waiting--
      if (f.held || f.waiting > 0) {
        left = true
        reject(new EscrowError('ABORTED', 'operation aborted'))
        return
      }
      // the last caller gave up: the operation stops, and this caller learns how it ended
      f.controller.abort(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    const done = (): void => { signal.removeEventListener('abort', onAbort) }
    f.promise.then((v) => { done(); if (!left) resolve(v) }, (err: unknown) => { done(); if (!left) reject(err) })
  })
}
