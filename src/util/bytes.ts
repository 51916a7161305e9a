/** Byte helpers shared by every layer. */
import { timingSafeEqual } from 'node:crypto'

/**
 * true when `a` and `b` hold the same bytes. The comparison of equal-length inputs takes the same
 * time whatever they hold (node's `timingSafeEqual`), so one helper serves both public data and
 * secrets such as MACs and report data; only the length may show.
 */
export function bytesEqual (a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b)
}

/** true when every byte is zero (an empty array included) */
export function isZero (b: Uint8Array): boolean {
  for (const x of b) if (x !== 0) return false
  return true
}
