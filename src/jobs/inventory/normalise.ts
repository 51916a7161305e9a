/**
 * GPU model names → GPU classes, e.g. "NVIDIA H100 80GB HBM3" with 81559 MiB → "h100-80gb".
 *
 * The class is `<family>-<size>gb`, the unit the market matches on (Gpu.model in market.proto):
 *
 * 1. family: the marketing name lower-cased and split on spaces, dashes and underscores; vendor and
 *    brand words (nvidia, geforce, tesla, quadro), form factors (sxm*, pcie), memory kinds (hbm*,
 *    gddr*), sizes ("80gb") and filler ("generation", "gpu", "graphics") are dropped; the remaining
 *    tokens are joined with "-": "NVIDIA GeForce RTX 4090" → "rtx-4090", "NVIDIA A100-SXM4-40GB" →
 *    "a100", "NVIDIA RTX 6000 Ada Generation" → "rtx-6000-ada".
 * 2. size: the marketed memory size, derived from the memory the driver reports rather than from the
 *    name (a name such as "GH200 480GB" counts CPU memory too). Drivers report a little less than
 *    the marketed size (ECC, reserved regions: an H100 80GB reports 81559 MiB = 79.6 GiB, a T4 16GB
 *    reports 15360 MiB), so the reported GiB is rounded up to the smallest marketed size that is at
 *    least 93% of it (a T4 reports 15 GiB of 16, an L4 22.5 of 24); sizes outside the table are rounded to the nearest whole GiB.
 *
 * A name that is already a class ("h100-80gb") is returned unchanged, so config files may use either.
 */
export function normaliseGpuModel (name: string, memoryMib: number): string {
  const trimmed = name.trim().toLowerCase()
  if (CLASS_RE.test(trimmed)) return fitted(trimmed)
  return fitted(`${gpuFamily(trimmed)}-${marketedSizeGb(memoryMib)}gb`)
}

/**
 * The most characters of a class: what an offer's `Gpu.model` carries (the market's
 * MAX_MODEL_LENGTH; a longer one is refused, and the supplier would not start)
 */
export const MAX_CLASS_LENGTH = 48

/** a class cut to MAX_CLASS_LENGTH: its family's last tokens dropped (or cut), the size kept */
function fitted (cls: string): string {
  if (cls.length <= MAX_CLASS_LENGTH) return cls
  const at = cls.lastIndexOf('-')
  const size = cls.slice(at)
  const room = MAX_CLASS_LENGTH - size.length
  const tokens = cls.slice(0, at).split('-')
  const kept: string[] = []
  for (const t of tokens) {
    if ([...kept, t].join('-').length > room) break
    kept.push(t)
  }
  const family = kept.length > 0 ? kept.join('-') : tokens[0]!.slice(0, room)
  return `${family}${size}`
}

/** a GPU class as used on the wire: family tokens then the size */
export const CLASS_RE = /^[a-z0-9]+(-[a-z0-9]+)*-\d{1,4}gb$/

const DROP = new Set(['nvidia', 'geforce', 'tesla', 'quadro', 'pcie', 'generation', 'gpu', 'graphics', 'nvlink'])
const DROP_RE = [/^sxm\d*$/, /^hbm\d*e?$/, /^gddr\d*x?$/, /^\d+(\.\d+)?[gt]b$/]

/** the family part of the class; "unknown" when nothing is left */
export function gpuFamily (name: string): string {
  const tokens = name.toLowerCase().split(/[\s\-_/(),]+/).filter((t) => t.length > 0)
  const kept = tokens
    .map((t) => t.replace(/[^a-z0-9]/g, ''))
    .filter((t) => t.length > 0 && !DROP.has(t) && !DROP_RE.some((re) => re.test(t)))
  return kept.length === 0 ? 'unknown' : kept.join('-')
}

/** marketed sizes in GB of data-centre and consumer NVIDIA GPUs */
const MARKETED_GB = [4, 6, 8, 10, 11, 12, 16, 20, 24, 32, 40, 48, 64, 80, 94, 96, 120, 128, 141, 144, 180, 192, 288]

/** the marketed memory size in GB for the memory a driver reports */
export function marketedSizeGb (memoryMib: number): number {
  const gib = memoryMib / 1024
  for (const size of MARKETED_GB) {
    if (size >= gib && gib >= size * 0.93) return size
  }
  return Math.max(1, Math.round(gib))
}
