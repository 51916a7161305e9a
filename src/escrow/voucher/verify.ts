import { verify as cryptoVerify, type KeyObject } from 'node:crypto'
import { isHex32, isHex64 } from '../hex.js'
import { fromHex } from '../../util/hex.js'
import type { SignedVoucher } from '../types.js'
import { voucherBytes } from './bytes.js'
import { ed25519PublicKey } from './keys.js'
import { BoundedMap } from '../../util/bounded-map.js'

/** Parsed public keys by hex; bounded, since the keys come from escrow terms peers present. */
const KEY_CACHE_MAX = 1024
const keyCache = new BoundedMap<string, KeyObject>(KEY_CACHE_MAX)

function publicKeyObject (hex: string): KeyObject {
  let key = keyCache.get(hex)
  if (key == null) {
    key = ed25519PublicKey(fromHex(hex))
    keyCache.set(hex, key)
  }
  return key
}

/**
 * true when `v.signature` is the ed25519 signature of `voucherBytes(v)` by `voucherKey` (0x-hex).
 * Malformed input gives false, never a throw: the caller turns false into its own typed error.
 */
export function verifyVoucher (v: SignedVoucher, voucherKey: string): boolean {
  if (!isHex32(voucherKey) || !isHex64(v.signature)) return false
  let bytes: Uint8Array
  try {
    bytes = voucherBytes(v)
  } catch {
    return false
  }
  return cryptoVerify(null, bytes, publicKeyObject(voucherKey), fromHex(v.signature))
}
