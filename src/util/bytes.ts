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

/** `parts` one after the other, in a new array */
export function concatBytes (parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** true when every byte is zero (an empty array included) */
export function isZero (b: Uint8Array): boolean {
  for (const x of b) if (x !== 0) return false
  return true
}

/**
 * Reads a minimal unsigned LEB128 varint of at most 3 bytes (values below 2^21) at `at`; returns
 * [value, next offset], or undefined when truncated, longer or not minimal (a zero high byte).
 * Enough for the lengths and codes of small messages: multiaddr components, an envelope's fields.
 */
export function readShortVarint (b: Uint8Array, at: number): [number, number] | undefined {
  let value = 0
  for (let i = 0; i < 3; i++) {
    if (at + i >= b.byteLength) return undefined
    const byte = b[at + i]
    value |= (byte & 0x7f) << (7 * i)
    if ((byte & 0x80) === 0) {
      if (i > 0 && byte === 0) return undefined
      return [value, at + i + 1]
    }
  }
  return undefined
}
