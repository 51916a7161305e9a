import { MS_PER_HOUR } from '../constants.js'

/**
 * The cumulative amount owed for `usedMs` of `gpus` GPUs at `pricePerGpuHour` base units:
 *
 *   floor(pricePerGpuHour × gpus × usedMs / 3,600,000), capped at `locked`
 *
 * Rounded down, so the payer never pays for a fraction of a base unit it did not use. It is always
 * computed from the total reported time, never summed per tick, so rounding does not accumulate:
 * the loss to the payee is below one base unit over the whole session.
 */
export function amountFor (pricePerGpuHour: bigint, gpus: number, usedMs: number, locked: bigint): bigint {
  const raw = (pricePerGpuHour * BigInt(gpus) * BigInt(Math.floor(usedMs))) / MS_PER_HOUR
  return raw < locked ? raw : locked
}
