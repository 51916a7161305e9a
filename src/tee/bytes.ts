/** The bounded reader of the attestation parsers. Hex and byte equality live in `src/util`. */
import { AttestationErrorCode, fail } from './errors.js'

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
