/** Small validated conversions for the 0x-hex strings of the escrow surfaces. */
import { hexToU8a, u8aToHex } from '@polkadot/util'

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

export function hexToBytes (s: string): Uint8Array {
  return hexToU8a(s)
}

export function bytesToHex (b: Uint8Array): string {
  return u8aToHex(b)
}
