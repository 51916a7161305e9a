import { decodeSs58, encodeSs58 } from '../../util/ss58.js'
import { SS58_PREFIX } from '../signing/signer.js'
import type { BookFilters, OfferEntry } from '../types.js'
import { hex } from './keys.js'
import { AMOUNT_UNIT, type AmountUnit } from '../../util/units.js'
import { CONTAINER_RUNTIME } from '../validation/constants.js'
import { runtimeListed } from '../match.js'

/** One offer as `bazaar book --json` prints it (bigints as decimal strings). */
export interface BookRow {
  /** `<supplier ss58>/<offer id>`, the same key as the control API's offer views */
  key: string
  supplier: string
  id: string
  gpus: Array<{ model: string, memoryMib: number, count: number }>
  teeKinds: string[]
  /** the GPUs provide confidential-computing evidence */
  gpuCc: boolean
  /** how the supplier runs jobs: as processes (a job names no image) or in containers */
  runtime: 'process' | 'container'
  /** with runtime container: the images a job may name (exact, or a prefix ending in *); empty: any */
  images: string[]
  region: string
  pricePerGpuHour: string
  /** the unit of the amounts above (see util/units) */
  unit: AmountUnit
  netuid: number
  minDurationS: number
  maxDurationS: number
  /** ISO 8601 */
  createdAt: string
  /** ISO 8601 */
  expiresAt: string
  sequence: string
  peer?: string
}

/** a supplier filter given as ss58 becomes the hex the book uses; hex passes through */
export function normaliseSupplier (text: string): string {
  if (/^(0x)?[0-9a-fA-F]{64}$/.test(text)) return text.replace(/^0x/, '').toLowerCase()
  try {
    return hex(decodeSs58(text).accountId)
  } catch {
    return text
  }
}

/** Rows for `--json`, in the given order. */
export function bookRows (entries: readonly OfferEntry[]): BookRow[] {
  return entries.map((e) => {
    const supplier = encodeSs58(e.offer.supplier, SS58_PREFIX)
    return {
      // the book's own key is hex (its tie-break order); outside the node every offer key is ss58/id
      key: `${supplier}/${e.offer.id}`,
      supplier,
      id: e.offer.id,
      gpus: e.offer.gpus.map((g) => ({ model: g.model, memoryMib: g.memoryMib, count: g.count })),
      teeKinds: [...e.offer.teeKinds],
      gpuCc: e.offer.gpuCc === true,
      ...runtimeFields(e.offer.runtime, e.offer.images),
      region: e.offer.region,
      pricePerGpuHour: e.offer.pricePerGpuHour.toString(),
      unit: AMOUNT_UNIT,
      netuid: e.offer.netuid,
      minDurationS: e.offer.minDurationS,
      maxDurationS: e.offer.maxDurationS,
      createdAt: new Date(Number(e.offer.createdAt)).toISOString(),
      expiresAt: new Date(Number(e.offer.expiresAt)).toISOString(),
      sequence: e.offer.sequence.toString(),
      ...(e.meta.peer !== undefined ? { peer: e.meta.peer } : {})
    }
  })
}

/** an offer's runtime and images as a book row shows them */
export function runtimeFields (runtime: string | undefined, images: readonly string[]): { runtime: 'process' | 'container', images: string[] } {
  return runtime === CONTAINER_RUNTIME ? { runtime: 'container', images: [...images] } : { runtime: 'process', images: [] }
}

/**
 * A row's runtime in a table cell: `process`, `container` (any image), or `container:` and its
 * first image pattern, with how many more there are
 */
export function runtimeText (r: Pick<BookRow, 'runtime' | 'images'>): string {
  if (r.runtime !== 'container') return 'process'
  if (r.images.length === 0) return 'container'
  return `container:${r.images[0]}${r.images.length > 1 ? ` +${r.images.length - 1}` : ''}`
}

/** 1234567890 rao → "1.234567890" (9 decimals: rao is 10^-9 of an alpha) */
export function formatAlpha (rao: bigint): string {
  const whole = rao / 1_000_000_000n
  const frac = (rao % 1_000_000_000n).toString().padStart(9, '0')
  return `${whole}.${frac}`
}

/**
 * The `bazaar book` output: the entries that pass `filters`, in price-time order, as a readable
 * table (or JSON text with `json: true`). The CLI passes `book.offers()`; filtering here as well
 * lets it pass entries fetched from the control API.
 */
export function formatBook (entries: readonly OfferEntry[], filters: BookFilters & { json?: boolean, now?: number } = {}): string {
  const supplier = filters.supplier !== undefined ? normaliseSupplier(filters.supplier) : undefined
  let rows = entries.filter((e) =>
    (filters.gpu === undefined || e.gpus.some((g) => g.model === filters.gpu || g.model.startsWith(`${filters.gpu}-`))) &&
    (filters.teeKind === undefined || e.teeKinds.includes(filters.teeKind)) &&
    (filters.gpuCc !== true || e.gpuCc) &&
    (filters.region === undefined || e.region === filters.region) &&
    (filters.netuid === undefined || e.netuid === filters.netuid) &&
    (filters.maxPrice === undefined || e.pricePerGpuHour <= filters.maxPrice) &&
    runtimeListed(e.images, filters) &&
    (supplier === undefined || e.supplier === supplier))
  if (filters.limit !== undefined) rows = rows.slice(0, filters.limit)
  if (filters.json === true) return JSON.stringify(bookRows(rows), null, 2)
  if (rows.length === 0) return 'no offers'
  const now = filters.now ?? Date.now()
  const table = [['PRICE/GPU·h', 'GPUS', 'TEE', 'RUNTIME', 'REGION', 'NETUID', 'DURATION (s)', 'EXPIRES IN', 'SUPPLIER', 'OFFER']]
  for (const e of rows) {
    const o = e.offer
    table.push([
      formatAlpha(o.pricePerGpuHour),
      o.gpus.map((g) => `${g.count}x ${g.model} (${Math.round(g.memoryMib / 1024)} GiB)`).join(', '),
      o.teeKinds.join(','),
      runtimeText(runtimeFields(o.runtime, o.images)),
      o.region,
      String(o.netuid),
      `${o.minDurationS}-${o.maxDurationS === 0 ? '∞' : o.maxDurationS}`,
      `${Math.max(0, Math.round((Number(o.expiresAt) - now) / 1000))}s`,
      shortAddress(encodeSs58(o.supplier, SS58_PREFIX)),
      o.id
    ])
  }
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)))
  return table.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n')
}

function shortAddress (a: string): string {
  return a.length > 14 ? `${a.slice(0, 6)}…${a.slice(-6)}` : a
}
