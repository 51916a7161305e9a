/**
 * The canonical-form check of market messages in one pass over the bytes (docs/protocol.md §2.3),
 * instead of re-encoding the decoded message and comparing: fields in increasing field-number order
 * (a repeated field's records consecutive), each of the wire type its schema gives, minimal varints,
 * no default value written (0, false, "", empty bytes), bool only as 1, uint32 within 32 bits, no
 * unknown fields. Those are exactly the bytes the generated encoder (protons) writes for what the
 * generated decoder reads, so the verdict equals "decode, re-encode, compare"
 * (test/unit/protocols/canonical.test.ts checks that on random and mutated messages).
 *
 * One case is left to the slow path: a string with a byte >= 0x80. The encoder's UTF-8 round trip
 * (replacement characters, lone surrogates) is not worth re-implementing for strings that no valid
 * market message carries (every string field is ASCII by its schema), so `scan` answers UNSURE and
 * the caller re-encodes.
 */

type Kind = 'u32' | 'bool' | 'f64' | 'str' | 'bytes' | 'msg'
interface FieldSpec { kind: Kind, repeated: boolean, msg?: Schema }
/** field specs indexed by field number */
export type Schema = ReadonlyArray<FieldSpec | undefined>

function schema (fields: Record<number, [Kind, boolean?, Schema?]>): Schema {
  const out: Array<FieldSpec | undefined> = []
  for (const [n, [kind, repeated, msg]] of Object.entries(fields)) out[Number(n)] = { kind, repeated: repeated === true, msg }
  return out
}

// src/wire/market.proto
export const SIGNER_CERT_SCHEMA = schema({ 1: ['bytes'], 2: ['bytes'], 3: ['f64'], 4: ['bytes'] })
export const ENVELOPE_SCHEMA = schema({ 1: ['bytes'], 2: ['msg', false, SIGNER_CERT_SCHEMA], 3: ['bytes'] })
const GPU_SCHEMA = schema({ 1: ['str'], 2: ['u32'], 3: ['u32'] })
export const OFFER_SCHEMA = schema({
  1: ['u32'],
  2: ['str'],
  3: ['bytes'],
  4: ['bytes'],
  5: ['msg', true, GPU_SCHEMA],
  6: ['str', true],
  7: ['str'],
  8: ['f64'],
  9: ['u32'],
  10: ['u32'],
  11: ['u32'],
  12: ['f64'],
  13: ['f64'],
  14: ['f64'],
  15: ['bool'],
  16: ['bytes', true],
  // optional, written only when true: an explicit false is not canonical
  17: ['bool'],
  // optional runtime, written only as "container" (an empty one is refused here, "process" by the validator)
  18: ['str'],
  19: ['str', true]
})
// 6: the optional image, written only when not empty
const REQUIREMENTS_SCHEMA = schema({ 1: ['str'], 2: ['u32'], 3: ['u32'], 4: ['str', true], 5: ['str', true], 6: ['str'] })
export const BID_SCHEMA = schema({
  1: ['u32'],
  2: ['str'],
  3: ['bytes'],
  4: ['msg', false, REQUIREMENTS_SCHEMA],
  5: ['f64'],
  6: ['u32'],
  7: ['u32'],
  8: ['f64'],
  9: ['f64'],
  10: ['f64'],
  11: ['bool'],
  12: ['bytes', true]
})

export enum Canonical {
  /** the bytes are the canonical encoding */
  YES = 0,
  /** they are not */
  NO = 1,
  /** a string holds a non-ASCII byte: decide by re-encoding */
  UNSURE = 2
}

// a varint is read into `vv` and its end into `vi`; -1 in `vi` means malformed or not minimal
let vv = 0
let vi = 0
function readVarint (b: Uint8Array, i: number, end: number): void {
  let v = 0
  let mul = 1
  for (let k = 0; k < 10 && i < end; k++) {
    const x = b[i++]
    v += (x & 0x7f) * mul
    if ((x & 0x80) === 0) {
      // [NON_CANONICAL] a varint of more than one byte must not end in a zero byte
      if (k > 0 && x === 0) break
      vv = v
      vi = i
      return
    }
    mul *= 128
  }
  vi = -1
}

/** Checks that `b[start, end)` is the canonical encoding of a message of `s`. Never throws. */
export function scan (b: Uint8Array, s: Schema, start = 0, end = b.byteLength): Canonical {
  let i = start
  let last = 0
  let unsure = false
  while (i < end) {
    readVarint(b, i, end)
    if (vi < 0 || vv > 0xffff) return Canonical.NO
    i = vi
    const n = Math.floor(vv / 8)
    const wire = vv & 7
    const f = s[n]
    // [NON_CANONICAL] known fields only, in increasing order; a repeated field's records together
    if (f === undefined || n < last || (n === last && !f.repeated)) return Canonical.NO
    last = n
    switch (f.kind) {
      case 'u32':
        if (wire !== 0) return Canonical.NO
        readVarint(b, i, end)
        // [NON_CANONICAL] a default is omitted, a uint32 holds 32 bits
        if (vi < 0 || vv === 0 || vv > 0xffffffff) return Canonical.NO
        i = vi
        break
      case 'bool':
        // [NON_CANONICAL] true is the single byte 1; false is omitted
        if (wire !== 0 || i >= end || b[i] !== 1) return Canonical.NO
        i++
        break
      case 'f64': {
        if (wire !== 1 || i + 8 > end) return Canonical.NO
        let any = 0
        for (let k = 0; k < 8; k++) any |= b[i + k]
        if (any === 0) return Canonical.NO
        i += 8
        break
      }
      default: {
        if (wire !== 2) return Canonical.NO
        readVarint(b, i, end)
        if (vi < 0 || vi + vv > end) return Canonical.NO
        i = vi
        const to = i + vv
        if (f.kind === 'msg') {
          const r = scan(b, f.msg ?? [], i, to)
          if (r === Canonical.NO) return r
          if (r === Canonical.UNSURE) unsure = true
        } else {
          // [NON_CANONICAL] an empty string or bytes field is omitted (a repeated one keeps its empty elements)
          if (vv === 0 && !f.repeated) return Canonical.NO
          if (f.kind === 'str') {
            for (let k = i; k < to; k++) {
              if (b[k] >= 0x80) { unsure = true; break }
            }
          }
        }
        i = to
      }
    }
  }
  return unsure ? Canonical.UNSURE : Canonical.YES
}
