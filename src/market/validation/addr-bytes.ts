/**
 * Bounded checks of the libp2p byte forms an offer or bid carries (binary multiaddrs, the enclave's
 * peer id), written on bytes so the market does not import libp2p. They are at least as strict as
 * libp2p's own parsers (`@multiformats/multiaddr`, `@libp2p/peer-id`): whatever passes here,
 * the protocols layer can turn into a Multiaddr or PeerId without an error
 * (test/unit/market/addr-bytes.test.ts checks that against libp2p on valid and mutated input).
 */

import { readShortVarint } from '../../util/bytes.js'

/** a component's value size: bytes, or VAR for a varint length prefix */
const VAR = -1

/**
 * The multiaddr protocol table (multiformats/multiaddr `protocols.csv`, as @multiformats/multiaddr
 * 13 registers it): code → value size in bytes, 0 for none, VAR for length-prefixed.
 */
const PROTOCOL_SIZES: ReadonlyMap<number, number> = new Map([
  [4, 4], // ip4
  [6, 2], // tcp
  [273, 2], // udp
  [33, 2], // dccp
  [41, 16], // ip6
  [42, VAR], // ip6zone
  [43, 1], // ipcidr
  [53, VAR], // dns
  [54, VAR], // dns4
  [55, VAR], // dns6
  [56, VAR], // dnsaddr
  [132, 2], // sctp
  [301, 0], // udt
  [302, 0], // utp
  [400, VAR], // unix
  [421, VAR], // p2p
  [444, 12], // onion
  [445, 37], // onion3
  [446, VAR], // garlic64
  [447, VAR], // garlic32
  [448, 0], // tls
  [449, VAR], // sni
  [454, 0], // noise
  [460, 0], // quic
  [461, 0], // quic-v1
  [465, 0], // webtransport
  [466, VAR], // certhash
  [480, 0], // http
  [481, VAR], // http-path
  [443, 0], // https
  [477, 0], // ws
  [478, 0], // wss
  [479, 0], // p2p-websocket-star
  [277, 0], // p2p-stardust
  [275, 0], // p2p-webrtc-star
  [276, 0], // p2p-webrtc-direct
  [280, 0], // webrtc-direct
  [281, 0], // webrtc
  [290, 0], // p2p-circuit
  [777, VAR] // memory
])

/**
 * true when `bytes` is a whole binary multiaddr: one or more components, each a known protocol code
 * with a value of exactly its size (or a non-empty length-prefixed value), nothing left over.
 * Linear in the length, no allocation.
 */
export function isMultiaddrBytes (bytes: Uint8Array): boolean {
  if (bytes.byteLength === 0) return false
  let at = 0
  while (at < bytes.byteLength) {
    const code = readShortVarint(bytes, at)
    if (code === undefined) return false
    const size = PROTOCOL_SIZES.get(code[0])
    if (size === undefined) return false
    at = code[1]
    if (size === VAR) {
      const len = readShortVarint(bytes, at)
      if (len === undefined || len[0] === 0) return false
      at = len[1] + len[0]
    } else {
      at += size
    }
    if (at > bytes.byteLength) return false
  }
  return true
}

/**
 * The one form of an Ed25519 peer id: an identity multihash (code 0x00, length 36) of the
 * protobuf PublicKey { Type = Ed25519 (1), Data = 32-byte key }, as libp2p writes it
 * (`peerId.toMultihash().bytes`).
 */
const ED25519_PEER_PREFIX = Uint8Array.from([0x00, 0x24, 0x08, 0x01, 0x12, 0x20])
export const ED25519_PEER_ID_BYTES = ED25519_PEER_PREFIX.byteLength + 32

/**
 * true when `bytes` is an Ed25519 peer id in its canonical binary form. Stricter than libp2p,
 * which also takes the protobuf fields in another order: an honest node writes only this form.
 * The key bytes themselves are checked when the renter verifies the enclave's attestation, which
 * binds that key.
 */
export function isEd25519PeerIdBytes (bytes: Uint8Array): boolean {
  if (bytes.byteLength !== ED25519_PEER_ID_BYTES) return false
  for (let i = 0; i < ED25519_PEER_PREFIX.byteLength; i++) if (bytes[i] !== ED25519_PEER_PREFIX[i]) return false
  return true
}
