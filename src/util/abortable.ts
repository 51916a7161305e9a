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
