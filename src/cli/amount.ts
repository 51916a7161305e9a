import { UsageError } from '../util/errors.js'
import { formatUnits } from '../escrow/amount.js'

/** The two assets a user enters and reads: TAO (τ) and a subnet's alpha (α), both with 9 decimals. */
export type Asset = 'tao' | 'alpha'

export const SYMBOL: Record<Asset, string> = { tao: 'τ', alpha: 'α' }

/** Base units (rao) of one whole TAO or alpha. */
export const UNIT = 1_000_000_000n

/** Largest amount accepted: 21 million whole units, the TAO supply. */
const MAX_WHOLE = 21_000_000n

const NAMES: Record<string, Asset> = { 'τ': 'tao', tao: 'tao', 'α': 'alpha', alpha: 'alpha' }

/**
 * Parses an amount as a user types it: `1.5`, `1.5τ`, `1.5 TAO`, `τ1.5`, `0.25α`, `0.25 alpha`.
 * A bare number is in `dflt`. With `raw`, the number is base units (rao) and takes no fraction.
 * Returns the asset named (or the default) and the amount in base units; a UsageError (exit 2)
 * names the flag for anything else: signs, exponents, more than 9 decimals, over 21 million.
 */
export function parseAmountArg (input: string, opts: { flag: string, dflt: Asset, raw?: boolean, allow?: Asset[] }): { asset: Asset, rao: bigint } {
  const s = input.trim()
  const m = /^([τα]|tao|alpha)?\s*([0-9][0-9_]*(?:\.[0-9]+)?)\s*([τα]|tao|alpha)?$/i.exec(s)
  const examples = (opts.allow ?? ['tao', 'alpha']).map((a) => a === 'tao' ? '1.5τ' : '0.25α').join(', ')
  const bad = (why: string): UsageError => new UsageError(`--${opts.flag} ${why}, e.g. ${examples}${opts.raw === true ? ' (with --raw: whole rao)' : ''}; got ${JSON.stringify(input.slice(0, 40))}`)
  if (m == null || (m[1] != null && m[3] != null)) throw bad('expects an amount')
  const sym = (m[1] ?? m[3])?.toLowerCase()
  const asset = sym != null ? NAMES[sym] : opts.dflt
  if (asset == null) throw bad('expects an amount')
  if (opts.allow != null && !opts.allow.includes(asset)) throw bad(`must be in ${opts.allow.map((a) => SYMBOL[a]).join(' or ')}`)
  const num = m[2].replaceAll('_', '')
  let rao: bigint
  if (opts.raw === true) {
    if (num.includes('.')) throw bad('takes whole base units with --raw')
    rao = BigInt(num)
  } else {
    const [whole, frac = ''] = num.split('.')
    if (frac.length > 9) throw bad('has more than 9 decimals')
    rao = BigInt(whole) * UNIT + BigInt(frac.padEnd(9, '0'))
  }
  if (rao > MAX_WHOLE * UNIT) throw bad('is over 21 million')
  return { asset, rao }
}

/** `1.5 τ`, `0.25 α`; with `raw`, the base units: `1500000000 rao τ`. */
export function formatAmount (rao: bigint, asset: Asset, opts: { raw?: boolean } = {}): string {
  if (opts.raw === true) return `${rao.toString()} rao ${SYMBOL[asset]}`
  const neg = rao < 0n
  return `${neg ? '-' : ''}${formatUnits(neg ? -rao : rao)} ${SYMBOL[asset]}`
}

/** A price of one alpha in TAO, from rao of TAO per whole alpha: `0.5 τ/α`. */
export function formatPrice (raoPerAlpha: bigint, opts: { raw?: boolean } = {}): string {
  if (opts.raw === true) return `${raoPerAlpha.toString()} rao τ per α`
  return `${formatUnits(raoPerAlpha)} τ/α`
}
