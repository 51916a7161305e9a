import { formatUnits } from '../escrow/amount.js'

/** Formats rows as a plain aligned table (the CLI's readable output). */
export function table (headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd()
  return [line(headers), ...rows.map(line)].join('\n')
}

/** base units (rao, 10^-9) as a decimal alpha amount, exact */
export function alpha (rao: string | bigint): string {
  return formatUnits(BigInt(rao))
}

/** "90s", "15m", "2h", "1d" or plain seconds, as seconds */
export function parseDuration (s: string): number {
  const m = /^([0-9]{1,7})([smhd]?)$/.exec(s.trim())
  if (m == null) throw new RangeError(`not a duration: ${s}`)
  const mult = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd']
  return Number(m[1]) * mult
}
