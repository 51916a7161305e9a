import { execFile } from 'node:child_process'
import { InventoryError } from '../errors.js'
import { MAX_GPUS, NVIDIA_SMI_MAX_BYTES, NVIDIA_SMI_TIMEOUT_MS } from '../constants.js'

/** the query the inventory runs; the parser expects exactly these columns in this order */
export const NVIDIA_SMI_ARGS = [
  '--query-gpu=index,uuid,name,memory.total,memory.used,utilization.gpu',
  '--format=csv,noheader,nounits'
]

/** What running nvidia-smi gave. `absent` when the binary is not installed. */
export type NvidiaSmiResult =
  | { absent: true }
  | { absent: false, exitCode: number, stdout: string }

/** Runs nvidia-smi with `args`; injectable so tests and hosts without GPUs can supply output. */
export type NvidiaSmiRunner = (args: string[], opts: { signal?: AbortSignal }) => Promise<NvidiaSmiResult>

/** One GPU as nvidia-smi reports it. */
export interface SmiGpu {
  index: number
  uuid: string
  name: string
  memoryTotalMib: number
  memoryUsedMib?: number
  utilizationPct?: number
}

/**
 * Runs the real nvidia-smi with a time limit and an output bound (execFile kills the child and
 * fails when `maxBuffer` is exceeded).
 */
export const systemNvidiaSmi: NvidiaSmiRunner = async (args, opts) => {
  return await new Promise((resolve, reject) => {
    execFile('nvidia-smi', args, {
      timeout: NVIDIA_SMI_TIMEOUT_MS,
      maxBuffer: NVIDIA_SMI_MAX_BYTES,
      encoding: 'utf8',
      signal: opts.signal,
      windowsHide: true
    }, (err, stdout) => {
      if (err == null) { resolve({ absent: false, exitCode: 0, stdout }); return }
      const e = err as NodeJS.ErrnoException & { code?: unknown }
      if (e.code === 'ENOENT') { resolve({ absent: true }); return }
      if (typeof e.code === 'number') { resolve({ absent: false, exitCode: e.code, stdout }); return }
      reject(new InventoryError('NVIDIA_SMI_FAILED', `nvidia-smi failed: ${e.code ?? e.message}`, { cause: err }))
    })
  })
}

const UUID_RE = /^(GPU|MIG)-[0-9a-fA-F-]{8,64}$/
const NOT_AVAILABLE = /^\[?(N\/A|Not Supported|Unknown Error|Insufficient Permissions)\]?$/i

/**
 * Parses the CSV of `NVIDIA_SMI_ARGS`: one GPU per line, `index, uuid, name, total, used, util`.
 * The name is taken as everything between the uuid and the last three columns so a comma in a name
 * cannot shift the numbers. Used memory and utilisation may be "[N/A]" / "[Not Supported]" (common on
 * some boards and under MIG); index, uuid, name and total memory may not.
 */
export function parseNvidiaSmi (stdout: string): SmiGpu[] {
  if (stdout.length > NVIDIA_SMI_MAX_BYTES) throw invalid(`output of ${stdout.length} chars over the bound`)
  const lines = stdout.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0)
  if (lines.length > MAX_GPUS) throw invalid(`${lines.length} lines, more than ${MAX_GPUS} GPUs`)
  const gpus: SmiGpu[] = []
  const seen = new Set<number>()
  for (const [i, line] of lines.entries()) {
    const raw = line.split(',')
    const cols = raw.map((c) => c.trim())
    if (cols.length < 6) throw invalid(`line ${i + 1}: ${cols.length} columns, expected 6`)
    const index = parseUint(cols[0], `line ${i + 1} index`)
    const uuid = cols[1]
    if (!UUID_RE.test(uuid)) throw invalid(`line ${i + 1}: bad uuid`)
    const name = raw.slice(2, raw.length - 3).join(',').trim()
    if (name.length === 0 || name.length > 128 || /[^\x20-\x7e]/.test(name)) throw invalid(`line ${i + 1}: bad name`)
    const [total, used, util] = cols.slice(-3)
    const memoryTotalMib = parseUint(total, `line ${i + 1} memory.total`)
    if (memoryTotalMib === 0) throw invalid(`line ${i + 1}: zero memory`)
    if (seen.has(index)) throw invalid(`line ${i + 1}: duplicate index ${index}`)
    seen.add(index)
    const gpu: SmiGpu = { index, uuid, name, memoryTotalMib }
    const memoryUsedMib = optionalUint(used, `line ${i + 1} memory.used`)
    if (memoryUsedMib !== undefined) gpu.memoryUsedMib = memoryUsedMib
    const utilizationPct = optionalUint(util, `line ${i + 1} utilization.gpu`)
    if (utilizationPct !== undefined) gpu.utilizationPct = utilizationPct
    gpus.push(gpu)
  }
  return gpus
}

function parseUint (s: string, what: string): number {
  if (!/^\d{1,9}$/.test(s)) throw invalid(`${what} is not a number`)
  return Number(s)
}

function optionalUint (s: string, what: string): number | undefined {
  if (NOT_AVAILABLE.test(s)) return undefined
  return parseUint(s, what)
}

function invalid (why: string): InventoryError {
  return new InventoryError('NVIDIA_SMI_INVALID_OUTPUT', `nvidia-smi output rejected: ${why}`)
}
