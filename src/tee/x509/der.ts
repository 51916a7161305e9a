import { AttestationErrorCode, fail } from '../errors.js'

/** One DER element: tag byte, and where its contents lie. */
export interface Tlv {
  tag: number
  /** where the element begins (its tag byte) */
  at: number
  /** start of the contents */
  start: number
  /** end of the contents (exclusive) */
  end: number
}

/** Deepest nesting walked; certificate extensions need three or four. */
const MAX_DEPTH = 8

/**
 * Reads the DER element at `offset` (X.690 definite lengths up to 2^24). Bounds-checked: a length
 * past the end throws MALFORMED. Only tags below 0x1f (one byte) occur in what we read.
 */
export function readTlv (bytes: Uint8Array, offset: number): Tlv {
  if (offset + 2 > bytes.byteLength) fail(AttestationErrorCode.MALFORMED, 'DER element truncated')
  const tag = bytes[offset]
  const first = bytes[offset + 1]
  let len = first
  let head = 2
  if (first >= 0x80) {
    const n = first & 0x7f
    if (n < 1 || n > 3 || offset + 2 + n > bytes.byteLength) fail(AttestationErrorCode.MALFORMED, 'DER length')
    len = 0
    for (let i = 0; i < n; i++) len = len * 256 + bytes[offset + 2 + i]
    head = 2 + n
  }
  const start = offset + head
  if (start + len > bytes.byteLength) fail(AttestationErrorCode.MALFORMED, 'DER element past the end')
  return { tag, at: offset, start, end: start + len }
}

/** The elements inside a constructed element's contents. */
export function children (bytes: Uint8Array, parent: Tlv, depth = 0): Tlv[] {
  if (depth > MAX_DEPTH) fail(AttestationErrorCode.MALFORMED, 'DER nesting too deep')
  const out: Tlv[] = []
  let o = parent.start
  while (o < parent.end) {
    const t = readTlv(bytes, o)
    if (t.end > parent.end) fail(AttestationErrorCode.MALFORMED, 'DER child past its parent')
    out.push(t)
    o = t.end
  }
  return out
}

/** Decodes an OBJECT IDENTIFIER's contents to dotted form. */
export function oidString (bytes: Uint8Array, t: Tlv): string {
  const parts: number[] = []
  let v = 0
  for (let i = t.start; i < t.end; i++) {
    v = v * 128 + (bytes[i] & 0x7f)
    if (v > Number.MAX_SAFE_INTEGER / 128) fail(AttestationErrorCode.MALFORMED, 'OID arc too large')
    if ((bytes[i] & 0x80) === 0) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80)
      else parts.push(v)
      v = 0
    }
  }
  return parts.join('.')
}

/** Decodes a small non-negative INTEGER's contents (SVNs: 0..65535). */
export function smallInt (bytes: Uint8Array, t: Tlv): number {
  if (t.end - t.start > 4) fail(AttestationErrorCode.MALFORMED, 'INTEGER too large')
  let n = 0
  for (let i = t.start; i < t.end; i++) n = n * 256 + bytes[i]
  return n
}
