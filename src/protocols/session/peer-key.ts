import type { PeerId } from '@libp2p/interface'
import { SessionError, SessionErrorCode } from './errors.js'

/**
 * The raw 32-byte ed25519 public key of a peer id: what the session binding commits to. Other key
 * types cannot be bound (the binding fixes the key length), so they are refused.
 */
export function ed25519KeyOf (peer: PeerId): Uint8Array {
  if (peer.type !== 'Ed25519' || peer.publicKey == null) {
    throw new SessionError(SessionErrorCode.UNSUPPORTED_PEER_KEY, `peer ${peer.toString()} has a ${peer.type} key, not ed25519`)
  }
  return peer.publicKey.raw
}
