/**
 * Runs async tasks one at a time, in call order. A task's failure reaches its own caller only; the
 * queue goes on with the next task. This is the one home of the `chain = chain.then(...)` pattern
 * (read-compare-write of stored state, ordered frame sends, ledger blocks).
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve()

  /** runs `fn` after every task queued before it has settled; resolves or rejects as `fn` does */
  async run<T> (fn: () => Promise<T> | T): Promise<T> {
    const run = this.tail.then(async () => await fn())
    this.tail = run.catch(() => {})
    return await run
  }

  /** settles once every task queued so far has settled */
  async idle (): Promise<void> {
    await this.tail
  }
}

/**
 * One SerialQueue per key: tasks of one key run one at a time, tasks of different keys run side by
 * side. A key's entry is dropped as soon as its last task settles, so the table holds only keys
 * with work in flight.
 */
export class KeyedSerialQueue<K> {
  private readonly tails = new Map<K, Promise<unknown>>()

  /** the number of keys with a task queued or running */
  get size (): number { return this.tails.size }

  async run<T> (key: K, fn: () => Promise<T> | T): Promise<T> {
    const prior = this.tails.get(key) ?? Promise.resolve()
    const run = prior.then(async () => await fn())
    const tail = run.catch(() => {})
    this.tails.set(key, tail)
    try {
      return await run
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key)
    }
  }
}
