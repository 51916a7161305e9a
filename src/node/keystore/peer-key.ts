import { createHash } from 'node:crypto'
import { generateKeyPair, generateKeyPairFromSeed, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { Ed25519PrivateKey, PrivateKey } from '@libp2p/interface'
import { KeystoreError, KeystoreErrorCode } from './errors.js'

/** A fresh random ed25519 libp2p peer key. */
export async function generatePeerKey (): Promise<Ed25519PrivateKey> {
  return await generateKeyPair('Ed25519')
}

/**
 * The well-known peer key of dev identity `name` (`Alice` → seed SHA-256("bazaar-dev-peer-v1//Alice")),
 * so that devnet nodes have stable, predictable peer ids to bootstrap from. Insecure by design.
 */
export async function devPeerKey (name: string): Promise<Ed25519PrivateKey> {
  const seed = createHash('sha256').update(`bazaar-dev-peer-v1//${name}`).digest()
  return await generateKeyPairFromSeed('Ed25519', new Uint8Array(seed))
}

/** libp2p's protobuf encoding of a private key (the format js-libp2p itself persists). */
export function encodePeerKey (key: PrivateKey): Uint8Array {
  return privateKeyToProtobuf(key)
}

/** Decodes a stored peer key; anything but an ed25519 key is CORRUPT. */
export function decodePeerKey (bytes: Uint8Array, where: string): Ed25519PrivateKey {
  let key: PrivateKey
  try {
    key = privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw new KeystoreError(KeystoreErrorCode.CORRUPT, `${where}: the peer key does not decode`, { cause: err })
  }
  if (key.type !== 'Ed25519') throw new KeystoreError(KeystoreErrorCode.CORRUPT, `${where}: the peer key is ${key.type}, expected Ed25519`)
  return key
}
