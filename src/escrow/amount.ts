/**
 * Amounts are bigint base units everywhere inside the program; JSON and the CLI show them as
 * decimal strings so that no value passes through a float.
 */
import { EscrowError } from './errors.js'
import { MAX_AMOUNT } from './constants.js'

/** Base units of one whole alpha (rao, 10^-9). */
export const DECIMALS = 9

/** Decimal string of base units, e.g. 1500000000n → "1500000000". */
export function amountToString (v: bigint): string {
  return v.toString(10)
}

/** Parses a decimal string of base units; rejects signs, exponents, fractions and overflow. */
export function parseAmount (s: string): bigint {
  if (typeof s !== 'string' || !/^(0|[1-9][0-9]{0,38})$/.test(s)) {
    throw new EscrowError('INVALID_TERMS', 'amount must be a decimal integer of base units')
  }
  const v = BigInt(s)
  if (v > MAX_AMOUNT) throw new EscrowError('INVALID_TERMS', 'amount over the maximum')
  return v
}

/** Human form in whole units with 9 decimals, e.g. 1500000000n → "1.5". For display only. */
export function formatUnits (v: bigint, decimals = DECIMALS): string {
  const base = 10n ** BigInt(decimals)
  const whole = v / base
  const frac = (v % base).toString().padStart(decimals, '0').replace(/0+$/, '')
  return frac === '' ? whole.toString() : `${whole}.${frac}`
}
