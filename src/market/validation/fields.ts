import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import * as Digest from 'multiformats/hashes/digest'
import { MessageErrorCode, reject } from './errors.js'
import {
  ID_PATTERN, MAX_ADDR_BYTES, MAX_ADDRS, MAX_REGION_LENGTH, MAX_TEE_KINDS, MAX_U64, REGION_PATTERN, TEE_KINDS
} from './constants.js'

/** Field checks shared by the offer and bid validators. Each throws a REJECT naming the field. */

export function checkId (id: string, field = 'id'): void {
  // [REJECT] the id is 1..64 chars of [a-z0-9._-]
  if (!ID_PATTERN.test(id)) throw reject(MessageErrorCode.BAD_FIELD, field)
}

export function checkKey32 (key: Uint8Array, field: string): void {
  // [REJECT] a public key is 32 bytes
  if (key.byteLength !== 32) throw reject(MessageErrorCode.BAD_FIELD, field)
}

export function checkU64 (v: bigint, field: string, min = 0n): void {
  if (v < min || v > MAX_U64) throw reject(MessageErrorCode.BAD_FIELD, field)
}

export function checkTeeKinds (kinds: string[], field: string, allowEmpty: boolean): void {
  // [REJECT] TEE kinds are known, unique and few
  if ((!allowEmpty && kinds.length === 0) || kinds.length > MAX_TEE_KINDS) throw reject(MessageErrorCode.BAD_FIELD, field)
  const seen = new Set<string>()
  for (const k of kinds) {
    if (!(TEE_KINDS as readonly string[]).includes(k) || seen.has(k)) throw reject(MessageErrorCode.BAD_FIELD, field)
    seen.add(k)
  }
}

export function checkRegion (region: string, field: string): void {
  if (region.length > MAX_REGION_LENGTH || !REGION_PATTERN.test(region)) throw reject(MessageErrorCode.BAD_FIELD, field)
}

/**
 * Byte strings that passed a parse before. A supplier re-publishes the same addresses and enclave
 * peer in every offer, and parsing them (multiaddr, peer id) costs more than the rest of the schema
 * checks together; a hit answers exactly what the parse answered. Bounded: cleared when full.
 */
class ParsedBefore {
  private readonly seen = new Set<string>()
  constructor (private readonly max: number) {}
  has (key: string): boolean { return this.seen.has(key) }
  add (key: string): void {
    if (this.seen.size >= this.max) this.seen.clear()
    this.seen.add(key)
  }
}
const goodAddrs = new ParsedBefore(16_384)
const goodPeers = new ParsedBefore(16_384)
const keyOf = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1')

export function checkAddrs (addrs: Uint8Array[], field: string): void {
  // [REJECT] at most MAX_ADDRS parseable binary multiaddrs
  if (addrs.length > MAX_ADDRS) throw reject(MessageErrorCode.BAD_FIELD, field)
  for (const a of addrs) {
    if (a.byteLength === 0 || a.byteLength > MAX_ADDR_BYTES) throw reject(MessageErrorCode.BAD_FIELD, field)
    const key = keyOf(a)
    if (goodAddrs.has(key)) continue
    try {
      multiaddr(a)
    } catch {
      throw reject(MessageErrorCode.BAD_FIELD, field)
    }
    goodAddrs.add(key)
  }
}

export function checkPeerId (bytes: Uint8Array, field: string): void {
  const key = keyOf(bytes)
  if (goodPeers.has(key)) return
  // [REJECT] the enclave peer id is a binary multihash of an ed25519 public key (identity hash)
  try {
    const id = peerIdFromMultihash(Digest.decode(bytes))
    if (id.type !== 'Ed25519') throw new Error('not ed25519')
  } catch {
    throw reject(MessageErrorCode.BAD_FIELD, field)
  }
  goodPeers.add(key)
}
