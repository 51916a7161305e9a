import path from 'node:path'
import { ApiError } from './api/server.js'
import type { RentRequest } from './roles/renter.js'
import { TEE_KINDS, type BazaarConfig, type TeeKind } from './config/types.js'
import { validateJobSpec, JobSpecError } from '../jobs/index.js'
import { MAX_DURATION_MS } from '../jobs/constants.js'
import { limits as bidLimits } from '../market/validation/index.js'

/** Bounds on a rent request of the control API (it comes from the node owner, still bounded). */
export const RENT_LIMITS = Object.freeze({
  maxCount: 64,
  maxRegions: bidLimits.MAX_REGIONS,
  maxPriceDigits: 19,
  maxMatchTimeoutS: 600,
  maxDurationS: MAX_DURATION_MS / 1000
})

/** A validated rent request with what the daemon adds: the match timeout and the accepted TEE kinds. */
export interface ParsedRent {
  request: RentRequest
  matchTimeoutMs: number
  teeKinds: TeeKind[]
}

/**
 * A rental's terms go out as a bid: each is checked here as every node checks a bid's
 * (market/validation/bid.ts), so one the network would refuse is a 400 before the rental starts,
 * not an error inside its stream.
 */
const GPU_RE = bidLimits.MODEL_PATTERN
const REGION_RE = bidLimits.REGION_PATTERN

/** the request field a job spec refusal is about, where its code names one */
const SPEC_FIELDS: Partial<Record<string, string>> = { ENV_NAME_INVALID: 'env', OUTPUT_PATH_INVALID: 'outputs', IMAGE_INVALID: 'image' }

function bad (field: string, message: string): never {
  throw new ApiError(400, 'BAD_INPUT', `${field}: ${message}`, field)
}

function int (v: unknown, field: string, min: number, max: number, dflt?: number): number {
  if (v == null && dflt != null) return dflt
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) bad(field, `expected a whole number from ${min} to ${max}`)
  return v
}

function strList (v: unknown, field: string, max: number, check: (s: string) => boolean): string[] {
  if (v == null) return []
  if (!Array.isArray(v) || v.length > max) bad(field, `expected a list of at most ${max} strings`)
  return v.map((x, i) => {
    if (typeof x !== 'string' || !check(x)) bad(`${field}[${i}]`, 'not accepted')
    return x
  })
}

/**
 * Validates the body of `POST /v1/rent`:
 * `{ gpu, count, minMemoryMib?, maxPricePerGpuHour (rao, decimal string), durationS, teeKinds?,
 *    regions?, command, args?, env?, image?, outputs?, outputDir?, matchTimeoutS? }`.
 * `image` runs the job in that container image, at a supplier whose jobs run in containers.
 * `teeKinds` empty means the kinds of `market.teeKinds`; `simulated` is refused unless
 * `tee.allowSimulated`. Outputs go to `outputDir` (absolute) or `<home>/outputs/<time>`.
 * @throws ApiError 400 BAD_INPUT (with `field`), 409 SIMULATED_NOT_ALLOWED
 */
export function parseRentBody (body: unknown, ctx: { config: BazaarConfig, home: string, now: number }): ParsedRent {
  if (body == null || typeof body !== 'object' || Array.isArray(body)) bad('body', 'expected a JSON object')
  const b = body as Record<string, unknown>
  const gpu = b.gpu ?? ''
  if (typeof gpu !== 'string' || (gpu !== '' && !GPU_RE.test(gpu))) bad('gpu', 'expected a GPU model (h100-80gb) or class (h100)')
  const count = int(b.count, 'count', 1, RENT_LIMITS.maxCount, 1)
  const minMemoryMib = int(b.minMemoryMib, 'minMemoryMib', 0, bidLimits.MAX_MEMORY_MIB, 0)
  const price = b.maxPricePerGpuHour
  if (typeof price !== 'string' || !/^[1-9][0-9]{0,18}$/.test(price) || BigInt(price) > 2n ** 63n - 1n) bad('maxPricePerGpuHour', 'expected a positive decimal string of rao below 2^63')
  const durationS = int(b.durationS, 'durationS', 1, RENT_LIMITS.maxDurationS)
  const matchTimeoutS = int(b.matchTimeoutS, 'matchTimeoutS', 1, RENT_LIMITS.maxMatchTimeoutS, 30)
  const regions = strList(b.regions, 'regions', RENT_LIMITS.maxRegions, (s) => REGION_RE.test(s))
  let teeKinds = strList(b.teeKinds, 'teeKinds', TEE_KINDS.length, (s) => (TEE_KINDS as readonly string[]).includes(s)) as TeeKind[]
  // [refuse] a bid names each TEE kind once
  if (new Set(teeKinds).size !== teeKinds.length) bad('teeKinds', 'expected each TEE kind once')
  if (teeKinds.length === 0) teeKinds = [...ctx.config.market.teeKinds]
  // [refuse] simulated evidence proves nothing: only a node configured for a devnet accepts it
  if (teeKinds.includes('simulated') && !ctx.config.tee.allowSimulated) {
    throw new ApiError(409, 'SIMULATED_NOT_ALLOWED', 'simulated enclaves are refused by this node (set tee.allowSimulated on devnets only)', 'teeKinds')
  }
  if (typeof b.command !== 'string' || b.command === '') bad('command', 'expected the command to run')
  const args = strList(b.args, 'args', 1024, () => true)
  const outputs = strList(b.outputs, 'outputs', 256, () => true)
  let env: Record<string, string> | undefined
  if (b.env != null) {
    if (typeof b.env !== 'object' || Array.isArray(b.env)) bad('env', 'expected an object of strings')
    env = {}
    for (const [k, v] of Object.entries(b.env as Record<string, unknown>)) {
      if (typeof v !== 'string') bad(`env.${k}`, 'expected a string')
      env[k] = v
    }
  }
  if (b.image != null && (typeof b.image !== 'string' || b.image === '')) bad('image', 'expected a container image reference')
  const image = b.image as string | undefined
  const spec = { command: b.command, args, outputs, ...(env != null ? { env } : {}), ...(image != null ? { image } : {}), limits: { maxDurationMs: durationS * 1000 } }
  try {
    validateJobSpec({ ...spec, gpuCount: count })
  } catch (err) {
    if (err instanceof JobSpecError) throw new ApiError(400, err.code, err.message, (err as { field?: string }).field ?? SPEC_FIELDS[err.code])
    throw err
  }
  let outputDir: string
  if (b.outputDir == null) outputDir = path.join(ctx.home, 'outputs', new Date(ctx.now).toISOString().replace(/[:.]/g, '-'))
  else if (typeof b.outputDir !== 'string' || !path.isAbsolute(b.outputDir) || b.outputDir.length > 4096) bad('outputDir', 'expected an absolute directory path')
  else outputDir = b.outputDir
  return {
    request: {
      gpu,
      count,
      minMemoryMib,
      maxPricePerGpuHour: BigInt(price),
      durationS,
      teeKinds,
      regions,
      spec,
      outputDir
    },
    matchTimeoutMs: matchTimeoutS * 1000,
    teeKinds
  }
}
