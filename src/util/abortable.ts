/**
 * `p`, or a rejection with the signal's reason once `signal` aborts first. The work behind `p` is
 * not stopped (its result is dropped): for a read whose caller has a deadline of its own, from a
 * source that takes a signal only between its tries (a chain adapter's retry loop).
 */
export async function abortable<T> (p: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted()
  let onAbort!: () => void
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([p, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/**
 * `fn` over `items`, at most `limit` at a time, the results in the order of `items`. `fn` is handed
 * a signal that aborts with `signal` or at the first failure; after a failure no call starts, and
 * this rejects with that failure once the calls running have ended. `fn` says what an abort is (it
 * checks the signal it is handed).
 */
export async function mapBounded<T, R> (items: readonly T[], limit: number, fn: (item: T, signal: AbortSignal) => Promise<R>, signal?: AbortSignal): Promise<R[]> {
  const controller = new AbortController()
  const onAbort = (): void => { controller.abort(signal?.reason) }
  if (signal?.aborted === true) onAbort()
  else signal?.addEventListener('abort', onAbort, { once: true })
  const out = new Array<R>(items.length)
  let next = 0
  let failure: { err: unknown } | undefined
  const worker = async (): Promise<void> => {
    while (next < items.length && failure == null) {
      const i = next++
      try {
        out[i] = await fn(items[i]!, controller.signal)
      } catch (err) {
        failure ??= { err }
        controller.abort(err)
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker))
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
  if (failure != null) throw failure.err
  return out
}
