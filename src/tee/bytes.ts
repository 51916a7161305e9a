/** Small byte helpers shared by the parsers (hex rendering, bounded reads, constant-time compare). */
import { timingSafeEqual } from 'node:crypto'
import { AttestationErrorCode, fail } from './errors.js'

export function toHex (b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}

export function fromHex (s: string): Uint8Array {
  const h = s.startsWith('0x') ? s.slice(2) : s
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) throw new TypeError('not a hex string')
  return new Uint8Array(Buffer.from(h, 'hex'))
}

export function bytesEqual (a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b)
}

export function isZero (b: Uint8Array): boolean {
  for (const x of b) if (x !== 0) return false
  return true
}

/**
 * A bounds-checked little-endian reader over untrusted bytes. Every read past the end throws
 * TRUNCATED instead of returning garbage.
 */
export class Reader {
  readonly view: DataView
  constructor (readonly bytes: Uint8Array, readonly what: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  need (offset: number, length: number): void {
    if (offset < 0 || length < 0 || offset + length > this.bytes.byteLength) {
      fail(AttestationErrorCode.TRUNCATED, `${this.what}: needs ${offset + length} bytes, has ${this.bytes.byteLength}`)
    }
  }

  u8 (o: number): number { this.need(o, 1); return this.view.getUint8(o) }
  u16 (o: number): number { this.need(o, 2); return this.view.getUint16(o, true) }
  u32 (o: number): number { this.need(o, 4); return this.view.getUint32(o, true) }
  u64 (o: number): bigint { this.need(o, 8); return this.view.getBigUint64(o, true) }
  slice (o: number, n: number): Uint8Array { this.need(o, n); return this.bytes.slice(o, o + n) }
}
