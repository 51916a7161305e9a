import { MessageErrorCode, reject } from './errors.js'
import { isEd25519PeerIdBytes, isMultiaddrBytes } from './addr-bytes.js'
import { isImagePattern, isImageReference } from '../../util/image-ref.js'
import {
  CONTAINER_RUNTIME, ID_PATTERN, MAX_ADDR_BYTES, MAX_ADDRS, MAX_IMAGE_LENGTH, MAX_IMAGE_PATTERN_LENGTH, MAX_IMAGE_PATTERNS,
  MAX_REGION_LENGTH, MAX_TEE_KINDS, MAX_U64, REGION_PATTERN, TEE_KINDS
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

export function checkAddrs (addrs: Uint8Array[], field: string): void {
  // [REJECT] at most MAX_ADDRS binary multiaddrs, each whole and of known protocols
  if (addrs.length > MAX_ADDRS) throw reject(MessageErrorCode.BAD_FIELD, field)
  for (const a of addrs) {
    if (a.byteLength > MAX_ADDR_BYTES || !isMultiaddrBytes(a)) throw reject(MessageErrorCode.BAD_FIELD, field)
  }
}

export function checkPeerId (bytes: Uint8Array, field: string): void {
  // [REJECT] the enclave peer id is the identity multihash of an ed25519 public key
  if (!isEd25519PeerIdBytes(bytes)) throw reject(MessageErrorCode.BAD_FIELD, field)
}

export function checkRuntime (runtime: string | undefined, images: string[]): void {
  if (runtime !== undefined) {
    // [REJECT] the runtime is written only as "container": "process" or "" would be a second encoding of "processes"
    if (runtime === '' || runtime === 'process') throw reject(MessageErrorCode.NON_CANONICAL, 'runtime')
    // [REJECT] an unknown runtime
    if (runtime !== CONTAINER_RUNTIME) throw reject(MessageErrorCode.BAD_FIELD, 'runtime')
  }
  if (images.length === 0) return
  // [REJECT] image patterns only with the container runtime, at most MAX_IMAGE_PATTERNS, each an image
  // reference or a prefix of one ending in "*", at most MAX_IMAGE_PATTERN_LENGTH long, none twice
  if (runtime !== CONTAINER_RUNTIME || images.length > MAX_IMAGE_PATTERNS) throw reject(MessageErrorCode.BAD_FIELD, 'images')
  for (let i = 0; i < images.length; i++) {
    const p = images[i]
    if (p.length === 0 || p.length > MAX_IMAGE_PATTERN_LENGTH || !isImagePattern(p) || images.indexOf(p) !== i) throw reject(MessageErrorCode.BAD_FIELD, `images[${i}]`)
  }
}

export function checkImage (image: string | undefined, field: string): void {
  if (image === undefined) return
  // [REJECT] an image is written only when there is one: "" would be a second encoding of "none"
  if (image === '') throw reject(MessageErrorCode.NON_CANONICAL, field)
  // [REJECT] an image reference of at most MAX_IMAGE_LENGTH characters
  if (image.length > MAX_IMAGE_LENGTH || !isImageReference(image)) throw reject(MessageErrorCode.BAD_FIELD, field)
}
