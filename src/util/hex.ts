/** Hex text of bytes, one implementation for every layer. */

/** A string that is not hex; a TypeError so decoders that map TypeError to MALFORMED keep doing so. */
export class HexError extends TypeError {
  readonly code = 'BAD_HEX'
  constructor (message = 'not a hex string') {
    super(message)
    this.name = 'HexError'
  }
}

const HEX = /^[0-9a-fA-F]*$/

/** lowercase hex without a prefix */
export function toHex (b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}

/** lowercase hex with a `0x` prefix (the form of the escrow and chain surfaces) */
export function toHex0x (b: Uint8Array): string {
  return '0x' + toHex(b)
}

/**
 * Bytes of a hex string, with or without a `0x` prefix, either case. Throws HexError on an odd
 * length or a character that is not hex, where `Buffer.from(s, 'hex')` would silently stop early.
 */
export function fromHex (s: string): Uint8Array<ArrayBuffer> {
  const h = s.startsWith('0x') || s.startsWith('0X') ? s.slice(2) : s
  if (h.length % 2 !== 0 || !HEX.test(h)) throw new HexError()
  const out = new Uint8Array(h.length / 2)
  out.set(Buffer.from(h, 'hex'))
  return out
}
