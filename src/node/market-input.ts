import { peerIdFromString } from '@libp2p/peer-id'
import { BazaarError } from '../util/errors.js'
import type { MarketConfig } from './config/types.js'
import type { BookRuntime } from '../market/types.js'
import { MAX_IMAGE_LENGTH, REGION_PATTERN, TEE_KINDS } from '../market/validation/constants.js'
import { isImageReference } from '../util/image-ref.js'

/** What a user asks to publish, before the node fills in keys, times and sequence. */
export interface OfferInput {
  id: string
  gpus: Array<{ model: string, memoryMib: number, count: number }>
  teeKinds: string[]
  region: string
  pricePerGpuHour: bigint
  netuid: number
  minDurationS: number
  maxDurationS: number
  ttlS: number
  /** peer id of the enclave; defaults to the node's own enclave */
  enclavePeer?: string
  /** more multiaddrs to sign into the offer (the enclave's), after the node's own */
  extraAddrs?: string[]
  /** the GPUs provide confidential-computing evidence (the supplier has a GPU provider) */
  gpuCc?: boolean
  /**
   * jobs run in containers of these images (`jobs.images`: exact references or prefixes ending in
   * `*`; empty: any image); absent: jobs run as processes
   */
  images?: string[]
}

export interface BidInput {
  id: string
  gpu: string
  minMemoryMib: number
  count: number
  teeKinds: string[]
  regions: string[]
  maxPricePerGpuHour: bigint
  netuid: number
  durationS: number
  ttlS: number
  /** the image the job runs in (`rent --image`); absent: a process job */
  image?: string
}

export class InputError extends BazaarError<'BAD_INPUT'> {
  constructor (readonly field: string, readonly reason: string) { super('BAD_INPUT', `${field}: ${reason}`) }
}

type Obj = Record<string, unknown>

function obj (v: unknown, field: string): Obj {
  if (v == null || typeof v !== 'object' || Array.isArray(v)) throw new InputError(field, 'expected an object')
  return v as Obj
}

function int (o: Obj, k: string, def: number | undefined, min: number, max: number): number {
  const v = o[k] ?? def
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new InputError(k, `expected an integer in [${min}, ${max}]`)
  return v
}

/** `1d`, `24h`, `90s`: a whole number of seconds in the largest unit that divides it */
export function secondsText (s: number): string {
  for (const [unit, n] of [['d', 86400], ['h', 3600], ['m', 60]] as const) if (s % n === 0) return `${s / n}${unit}`
  return `${s}s`
}

/** a whole number of seconds (`ttlS`, `durationS`): its range said in seconds and as a duration */
function seconds (o: Obj, k: string, def: number | undefined, min: number, max: number): number {
  const v = o[k] ?? def
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new InputError(k, `expected ${min} to ${max} seconds (${secondsText(min)} to ${secondsText(max)})`)
  return v
}

function text (o: Obj, k: string, def?: string): string {
  const v = o[k] ?? def
  if (typeof v !== 'string') throw new InputError(k, 'expected a string')
  return v
}

function texts (o: Obj, k: string, def: string[]): string[] {
  const v = o[k] ?? def
  if (!Array.isArray(v) || v.length > 16 || v.some((x) => typeof x !== 'string')) throw new InputError(k, 'expected a list of strings')
  return v as string[]
}

const MAX_AMOUNT_DIGITS = 19

/** base units as a decimal integer string (or a safe integer number) */
export function amount (v: unknown, field: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v)
  if (typeof v === 'string' && /^[0-9]{1,19}$/.test(v)) return BigInt(v)
  if (typeof v === 'string' && /^[0-9]+$/.test(v)) throw new InputError(field, `expected at most ${MAX_AMOUNT_DIGITS} digits of base units, got ${v.length}`)
  throw new InputError(field, 'expected base units as a decimal integer string')
}

/**
 * `d.teeProvider`: how this node attests as a supplier (`tee.provider`): its offers state that kind
 * by default and no other (`market.teeKinds` is what it accepts as a renter), as a renter who
 * matched an offer of another kind would refuse the session's evidence.
 */
export function parseOfferInput (body: unknown, d: MarketConfig & { netuid: number, teeProvider?: string }): OfferInput {
  const o = obj(body, 'body')
  const teeKinds = texts(o, 'teeKinds', d.teeProvider != null ? [d.teeProvider] : d.teeKinds)
  const other = d.teeProvider != null ? teeKinds.find((k) => k !== d.teeProvider) : undefined
  if (other != null) throw new InputError('teeKinds', `this node attests as ${d.teeProvider!} (tee.provider): its offers cannot state ${other}`)
  const gpusRaw = o.gpus
  if (!Array.isArray(gpusRaw) || gpusRaw.length === 0 || gpusRaw.length > 16) throw new InputError('gpus', 'expected 1..16 GPU entries')
  const gpus = gpusRaw.map((g, i) => {
    const x = obj(g, `gpus[${i}]`)
    try {
      return { model: text(x, 'model'), memoryMib: int(x, 'memoryMib', undefined, 1, 4 * 1024 * 1024), count: int(x, 'count', undefined, 1, 1024) }
    } catch (err) {
      // which entry: `gpus[1].count`, not a `count` of no entry in particular
      if (err instanceof InputError) throw new InputError(`gpus[${i}].${err.field}`, err.reason)
      throw err
    }
  })
  return {
    id: text(o, 'id', 'default'),
    gpus,
    teeKinds,
    region: text(o, 'region', d.region),
    pricePerGpuHour: amount(o.pricePerGpuHour ?? d.pricePerGpuHour, 'pricePerGpuHour'),
    netuid: int(o, 'netuid', d.netuid, 0, 65535),
    minDurationS: seconds(o, 'minDurationS', d.minDurationS, 1, 30 * 86400),
    maxDurationS: seconds(o, 'maxDurationS', d.maxDurationS, 1, 30 * 86400),
    ttlS: seconds(o, 'ttlS', d.offerTtlS, 10, 86400),
    enclavePeer: o.enclavePeer == null ? undefined : enclavePeerOf(text(o, 'enclavePeer')),
    ...(o.gpuCc != null ? { gpuCc: flagOf(o.gpuCc, 'gpuCc') } : {}),
    ...(o.images != null ? { images: texts(o, 'images', []) } : {})
  }
}

/** an enclave's peer id as an offer carries it: an ed25519 one (a market message refuses others) */
function enclavePeerOf (v: string): string {
  let type: string
  try {
    type = peerIdFromString(v).type
  } catch {
    throw new InputError('enclavePeer', 'expected a libp2p peer id (12D3KooW...)')
  }
  if (type !== 'Ed25519') throw new InputError('enclavePeer', `expected the peer id of an ed25519 key, not ${type}`)
  return v
}

function flagOf (v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') throw new InputError(field, 'expected true or false')
  return v
}

export function parseBidInput (body: unknown, d: { netuid: number, ttlS: number }): BidInput {
  const o = obj(body, 'body')
  return {
    id: text(o, 'id', 'default'),
    gpu: text(o, 'gpu', ''),
    minMemoryMib: int(o, 'minMemoryMib', 0, 0, 4 * 1024 * 1024),
    count: int(o, 'count', 1, 1, 1024),
    teeKinds: texts(o, 'teeKinds', []),
    regions: texts(o, 'regions', []),
    maxPricePerGpuHour: amount(o.maxPricePerGpuHour, 'maxPricePerGpuHour'),
    netuid: int(o, 'netuid', d.netuid, 0, 65535),
    durationS: seconds(o, 'durationS', 3600, 1, 30 * 86400),
    ttlS: seconds(o, 'ttlS', d.ttlS, 10, 86400),
    ...(o.image != null && o.image !== '' ? { image: text(o, 'image') } : {})
  }
}

/** JSON form of an input, for persistence (amounts as strings). */
export function inputToJson (i: OfferInput | BidInput): string {
  return JSON.stringify(i, (_k, v) => typeof v === 'bigint' ? v.toString() : v)
}

/**
 * The filters `GET /v1/offers` and `GET /v1/book` share; a value no offer can carry (`--tee sgx`, an
 * upper-case GPU, a region past 32 characters) is BAD_INPUT naming it, not an empty answer that
 * reads as an empty market.
 */
export function parseOfferFilters (q: URLSearchParams): { gpu?: string, teeKind?: string, region?: string } {
  const gpu = q.get('gpu')
  const tee = q.get('tee')
  const region = q.get('region')
  if (gpu != null && !/^[a-z0-9][a-z0-9.-]{0,47}$/.test(gpu)) throw new InputError('gpu', 'expected a GPU model or class: a-z, 0-9, "." and "-"')
  if (tee != null && !(TEE_KINDS as readonly string[]).includes(tee)) throw new InputError('tee', `expected one of ${TEE_KINDS.join(', ')}`)
  if (region != null && !REGION_PATTERN.test(region)) throw new InputError('region', 'expected a region: a-z, 0-9 and "-", at most 32 characters')
  return { gpu: gpu ?? undefined, teeKind: tee ?? undefined, region: region ?? undefined }
}

/**
 * The filters of `GET /v1/book` from its query; a value that is not one is BAD_INPUT naming it.
 * `runtime` is `process` or `container`; `image` is an image reference as a bid carries it
 * (`requirements.image`), and keeps the offers rule 7 would match it with, so it cannot go with
 * `runtime=process`.
 */
export function parseBookQuery (q: URLSearchParams): { gpu?: string, teeKind?: string, gpuCc?: true, region?: string, maxPrice?: bigint, runtime?: BookRuntime, image?: string, limit: number } {
  const filters = parseOfferFilters(q)
  const maxPrice = q.get('maxPrice')
  const limit = q.get('limit')
  const gpuCc = q.get('gpuCc')
  const runtime = q.get('runtime')
  const image = q.get('image')
  if (maxPrice != null && !/^[0-9]{1,19}$/.test(maxPrice)) throw new InputError('maxPrice', 'expected base units as a decimal integer')
  if (limit != null && (!/^[0-9]{1,6}$/.test(limit) || Number(limit) < 1 || Number(limit) > BOOK_LIMIT_MAX)) throw new InputError('limit', `expected a whole number from 1 to ${BOOK_LIMIT_MAX}`)
  if (gpuCc != null && !['1', 'true', '0', 'false'].includes(gpuCc)) throw new InputError('gpuCc', 'expected true or false')
  if (runtime != null && runtime !== 'process' && runtime !== 'container') throw new InputError('runtime', 'expected process or container')
  if (image != null && (image.length > MAX_IMAGE_LENGTH || !isImageReference(image))) throw new InputError('image', `expected an image reference (ghcr.io/org/name:tag) of at most ${MAX_IMAGE_LENGTH} characters`)
  if (image != null && runtime === 'process') throw new InputError('image', 'only offers of runtime container run an image: it does not go with runtime process')
  return {
    ...filters,
    gpuCc: gpuCc === '1' || gpuCc === 'true' ? true : undefined,
    maxPrice: maxPrice != null ? BigInt(maxPrice) : undefined,
    ...(runtime != null ? { runtime } : {}),
    ...(image != null ? { image } : {}),
    limit: limit != null ? Number(limit) : 1000
  }
}

/** the most rows `GET /v1/book` answers */
export const BOOK_LIMIT_MAX = 10_000

