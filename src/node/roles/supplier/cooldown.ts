import { RenterCooldown, type RenterCooldownStore } from '../../../market/index.js'
import type { Clock } from '../../../util/clock.js'
import type { Logger } from '../../logger.js'

/**
 * The supplier's renter cooldown (RENTER_COOLDOWN), kept in `store` (the node's database) where
 * there is one: a write that fails is logged and the score stays in memory for this run.
 */
export function supplierCooldown (c: { clock: Clock, store?: RenterCooldownStore, logger: Logger }): RenterCooldown {
  return new RenterCooldown({
    clock: c.clock,
    ...(c.store != null ? { store: c.store } : {}),
    onStoreError: (err) => { c.logger.warn('keeping a renter\'s cooldown score failed; it holds in memory until a restart', { err }) }
  })
}

/**
 * Reads back the scores an earlier run kept, before the supplier answers any proposal. Entries that
 * do not read back are skipped with one warn line for them all; a store that cannot be read at all
 * leaves the cooldown empty, with one warn line, and the supplier starts anyway.
 */
export async function restoreCooldown (cooldown: RenterCooldown, logger: Logger): Promise<void> {
  try {
    const r = await cooldown.load()
    if (r.skipped > 0) logger.warn('renter cooldown entries that do not read back: skipped and removed', { skipped: r.skipped, keys: r.skippedKeys.join(',') })
    if (r.loaded > 0) logger.info('renter cooldowns kept by the run before', { renters: r.loaded })
  } catch (err) {
    logger.warn('the kept renter cooldowns could not be read; every renter starts without one', { err })
  }
}
