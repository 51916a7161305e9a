import { blake2b } from '@noble/hashes/blake2.js'
import { concatBytes } from './bytes.js'

/** BLAKE2b with a 256-bit output (Substrate's `blake2_256`: hashes, account ids) */
export function blake2b256 (data: Uint8Array): Uint8Array {
  return blake2b(data, { dkLen: 32 })
}

/** SCALE's compact encoding of a length below 2^30 (lengths of vectors and strings) */
export function compactLength (n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** 30) throw new RangeError(`a compact length is 0..2^30-1, got ${n}`)
  if (n < 64) return Uint8Array.of(n << 2)
  if (n < 2 ** 14) return Uint8Array.of(((n << 2) | 1) & 0xff, n >> 6)
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, ((n << 2) | 2) >>> 0, true)
  return out
}

const MULTI_PREFIX = new TextEncoder().encode('modlpy/utilisuba')

function compareBytes (a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i]
  return a.length - b.length
}

/**
 * The account id of Substrate's `pallet_multisig` account for `signatories` (32-byte account ids,
 * any order) and `threshold`: blake2_256("modlpy/utilisuba" ‖ compact(n) ‖ the ids sorted ‖
 * threshold as u16 LE), as `multi_account_id` computes it.
 */
export function multisigAccountId (signatories: Uint8Array[], threshold: number): Uint8Array {
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > 0xffff) throw new RangeError(`a multisig threshold is 1..65535, got ${threshold}`)
  for (const s of signatories) if (s.length !== 32) throw new RangeError(`a multisig signatory is a 32-byte account id, got ${s.length} bytes`)
  const sorted = [...signatories].sort(compareBytes)
  return blake2b256(concatBytes([MULTI_PREFIX, compactLength(sorted.length), ...sorted, Uint8Array.of(threshold & 0xff, threshold >> 8)]))
}
