import { JobSpecError } from './errors.js'
import { isImageReference } from '../util/image-ref.js'
import {
  ENV_NAME_RE, JOB_ID_RE, MAX_ARG_BYTES, MAX_ARGS, MAX_ARGS_TOTAL_BYTES, MAX_COMMAND_BYTES,
  MAX_DURATION_MS, MAX_ENV, MAX_ENV_TOTAL_BYTES, MAX_GPU_COUNT, MAX_IMAGE_BYTES, MAX_INPUTS,
  MAX_INPUTS_TOTAL_BYTES, MAX_OUTPUTS, MAX_PATH_BYTES, MAX_PATH_SEGMENTS, RESERVED_ENV
} from './constants.js'
import type { JobSpec } from './types.js'

/**
 * The parts of a job spec every rule looks at, shared by the renter's `JobSpec` (inputs with bytes)
 * and the wire form (inputs declared by size and hash).
 */
export interface SpecShape {
  command: string
  args: string[]
  env: Array<[string, string]>
  inputs: Array<{ name: string, size: number }>
  outputs: string[]
  gpuCount: number
  maxDurationMs: number
  maxBudget: bigint
  image: string
}

const utf8 = new TextEncoder()
const byteLength = (s: string): number => utf8.encode(s).byteLength

/**
 * A relative POSIX path that stays inside the job directory: no absolute path, no "." or ".."
 * segment, no empty segment, no backslash, no control characters, bounded length and depth.
 * Symlinks created by the job are dealt with when outputs are read (they are not followed).
 */
export function isSafeRelativePath (p: string): boolean {
  if (typeof p !== 'string' || p.length === 0 || byteLength(p) > MAX_PATH_BYTES) return false
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f\\]/.test(p)) return false
  if (p.startsWith('/')) return false
  const segs = p.split('/')
  if (segs.length > MAX_PATH_SEGMENTS) return false
  return segs.every((s) => s.length > 0 && s !== '.' && s !== '..' && byteLength(s) <= 255)
}

/** @throws JobSpecError JOB_ID_INVALID */
export function validateJobId (id: string): void {
  if (typeof id !== 'string' || !JOB_ID_RE.test(id)) throw new JobSpecError('JOB_ID_INVALID', 'job id must match [A-Za-z0-9][A-Za-z0-9._-]{0,63}')
}

/**
 * Checks every rule of a job spec; the first broken rule throws a JobSpecError with its code.
 * Cheap, size-bounding checks come first.
 */
export function validateSpecShape (s: SpecShape): void {
  // [command] non-empty, bounded, no NUL (execve cannot pass one)
  if (typeof s.command !== 'string' || s.command.length === 0 || byteLength(s.command) > MAX_COMMAND_BYTES || s.command.includes('\0')) {
    throw new JobSpecError('COMMAND_INVALID', 'command must be 1..4096 bytes without NUL')
  }
  // [args] bounded count, each bounded and NUL-free, bounded total
  if (!Array.isArray(s.args) || s.args.length > MAX_ARGS) throw new JobSpecError('TOO_MANY_ARGS', `at most ${MAX_ARGS} arguments`)
  let argBytes = 0
  for (const a of s.args) {
    if (typeof a !== 'string' || a.includes('\0') || byteLength(a) > MAX_ARG_BYTES) throw new JobSpecError('ARG_INVALID', 'an argument is over 64 KiB or holds NUL')
    argBytes += byteLength(a)
  }
  if (argBytes > MAX_ARGS_TOTAL_BYTES) throw new JobSpecError('ARGS_TOO_LARGE', 'arguments over 128 KiB in all')
  // [env] bounded, POSIX names, none the supplier sets, no duplicates
  if (s.env.length > MAX_ENV) throw new JobSpecError('TOO_MANY_ENV', `at most ${MAX_ENV} environment variables`)
  const names = new Set<string>()
  let envBytes = 0
  for (const [name, value] of s.env) {
    if (typeof name !== 'string' || !ENV_NAME_RE.test(name)) throw new JobSpecError('ENV_NAME_INVALID', 'environment names are [A-Za-z_][A-Za-z0-9_]*')
    if (RESERVED_ENV.has(name)) throw new JobSpecError('ENV_RESERVED', `${name} is set by the supplier`)
    if (names.has(name)) throw new JobSpecError('ENV_DUPLICATE', `${name} given twice`)
    names.add(name)
    if (typeof value !== 'string' || value.includes('\0')) throw new JobSpecError('ENV_VALUE_INVALID', `${name} holds NUL`)
    envBytes += byteLength(name) + byteLength(value)
  }
  if (envBytes > MAX_ENV_TOTAL_BYTES) throw new JobSpecError('ENV_TOO_LARGE', 'environment over 64 KiB in all')
  // [inputs] bounded count and total size, safe distinct paths
  if (s.inputs.length > MAX_INPUTS) throw new JobSpecError('TOO_MANY_INPUTS', `at most ${MAX_INPUTS} input files`)
  const inputNames = new Set<string>()
  let inputBytes = 0
  for (const f of s.inputs) {
    if (!isSafeRelativePath(f.name)) throw new JobSpecError('INPUT_PATH_INVALID', 'input paths must be relative and stay inside the job directory')
    if (inputNames.has(f.name)) throw new JobSpecError('INPUT_DUPLICATE', 'input path given twice')
    inputNames.add(f.name)
    if (!Number.isSafeInteger(f.size) || f.size < 0) throw new JobSpecError('INPUTS_TOO_LARGE', 'bad input size')
    inputBytes += f.size
  }
  if (inputBytes > MAX_INPUTS_TOTAL_BYTES) throw new JobSpecError('INPUTS_TOO_LARGE', 'inputs over 256 MiB in all')
  // a file and a directory of the same name cannot both exist
  for (const n of inputNames) {
    const segs = n.split('/')
    for (let i = 1; i < segs.length; i++) {
      if (inputNames.has(segs.slice(0, i).join('/'))) throw new JobSpecError('INPUT_PATH_INVALID', 'an input path is the parent directory of another')
    }
  }
  // [outputs] bounded count, safe distinct paths
  if (s.outputs.length > MAX_OUTPUTS) throw new JobSpecError('TOO_MANY_OUTPUTS', `at most ${MAX_OUTPUTS} outputs`)
  const outputNames = new Set<string>()
  for (const o of s.outputs) {
    if (!isSafeRelativePath(o)) throw new JobSpecError('OUTPUT_PATH_INVALID', 'output paths must be relative and stay inside the job directory')
    if (outputNames.has(o)) throw new JobSpecError('OUTPUT_DUPLICATE', 'output path given twice')
    outputNames.add(o)
  }
  // [gpus] 0..64
  if (!Number.isSafeInteger(s.gpuCount) || s.gpuCount < 0 || s.gpuCount > MAX_GPU_COUNT) throw new JobSpecError('GPU_COUNT_INVALID', `gpu count must be 0..${MAX_GPU_COUNT}`)
  // [limits] a positive bounded duration, a non-negative budget
  if (!Number.isSafeInteger(s.maxDurationMs) || s.maxDurationMs <= 0 || s.maxDurationMs > MAX_DURATION_MS) throw new JobSpecError('DURATION_INVALID', 'max duration must be 1 ms..30 days')
  if (typeof s.maxBudget !== 'bigint' || s.maxBudget < 0n || s.maxBudget >= 1n << 64n) throw new JobSpecError('BUDGET_INVALID', 'budget must be a u64')
  // [image] a registry reference, bounded: nothing an engine reads as a flag or as another transport
  if (typeof s.image !== 'string' || byteLength(s.image) > MAX_IMAGE_BYTES || (s.image.length > 0 && !isImageReference(s.image))) {
    throw new JobSpecError('IMAGE_INVALID', 'image must be a registry image reference such as ghcr.io/org/name:tag')
  }
}

export { isImageReference }

/** The renter's spec as a SpecShape; throws JobSpecError on a malformed field. */
export function specShape (spec: JobSpec): SpecShape {
  if (spec == null || typeof spec !== 'object') throw new JobSpecError('COMMAND_INVALID', 'spec must be an object')
  const env = spec.env ?? {}
  if (typeof env !== 'object') throw new JobSpecError('ENV_NAME_INVALID', 'env must be an object')
  const inputs = spec.inputs ?? []
  if (!Array.isArray(inputs)) throw new JobSpecError('TOO_MANY_INPUTS', 'inputs must be a list')
  for (const f of inputs) {
    if (!(f?.data instanceof Uint8Array)) throw new JobSpecError('INPUT_PATH_INVALID', 'an input has no bytes')
  }
  const outputs = spec.outputs ?? []
  if (!Array.isArray(outputs)) throw new JobSpecError('TOO_MANY_OUTPUTS', 'outputs must be a list')
  return {
    command: spec.command,
    args: spec.args ?? [],
    env: Object.entries(env),
    inputs: inputs.map((f) => ({ name: f.name, size: f.data.byteLength })),
    outputs,
    gpuCount: spec.gpuCount,
    maxDurationMs: spec.limits?.maxDurationMs,
    maxBudget: spec.limits?.maxBudget ?? 0n,
    image: spec.image ?? ''
  }
}

/**
 * Validates a renter's job spec.
 * @throws JobSpecError with the code of the first broken rule
 */
export function validateJobSpec (spec: JobSpec): void {
  validateSpecShape(specShape(spec))
}
