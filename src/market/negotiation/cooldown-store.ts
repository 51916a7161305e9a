import type { AbstractLevel, AbstractSublevel } from 'abstract-level'

/** the sublevel of the scores; a new value layout gets a new name, a retired one is never reused */
export const COOLDOWN_SUBLEVEL = 'renter-cooldown-v1'

type Db = AbstractLevel<any, any, any>

/**
 * The renter cooldown's scores across restarts, in the `renter-cooldown-v1` sublevel of the
 * supplier's database: key the renter hotkey (lowercase hex), value `{"score":…,"at":…}` (the
 * weighted count of hold ends as of `at`, the last hold end in clock ms). RenterCooldown writes
 * an entry when it changes and reads them all back once at start; it checks what it reads.
 *
 * Writes are not synced to disk: a score is not money. A crash of the process loses nothing
 * LevelDB has been handed (it is in the OS's write-ahead log); only a crash of the machine can
 * lose the last writes, and then a renter that let agreements lapse just before it may propose
 * once more, holding GPUs for one escrow window, before its next lapse cools it down again.
 */
export class RenterCooldownStore {
  private readonly db: AbstractSublevel<any, any, string, string>

  constructor (parent: Db) {
    this.db = parent.sublevel<string, string>(COOLDOWN_SUBLEVEL, { keyEncoding: 'utf8', valueEncoding: 'utf8' })
  }

  async put (renter: string, score: number, at: number): Promise<void> {
    await this.db.put(renter, JSON.stringify({ score, at }))
  }

  async del (renters: readonly string[]): Promise<void> {
    if (renters.length === 0) return
    await this.db.batch(renters.map((key) => ({ type: 'del' as const, key })))
  }

  /** every stored entry as written, in key order */
  async * entries (): AsyncGenerator<[string, string]> {
    for await (const [k, v] of this.db.iterator()) yield [k, v]
  }
}
