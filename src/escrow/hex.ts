/**
 * Checks of the 0x-hex strings of the escrow surfaces (escrow ids, voucher keys, signatures). The
 * conversions themselves are `toHex0x` and `fromHex` of `src/util/hex.ts`.
 */

const HEX32 = /^0x[0-9a-f]{64}$/
const HEX64 = /^0x[0-9a-f]{128}$/

/** true for a lowercase 0x-hex string of exactly 32 bytes */
export function isHex32 (s: unknown): s is string {
  return typeof s === 'string' && HEX32.test(s)
}

/** true for a lowercase 0x-hex string of exactly 64 bytes (an ed25519 or sr25519 signature) */
export function isHex64 (s: unknown): s is string {
  return typeof s === 'string' && HEX64.test(s)
}
