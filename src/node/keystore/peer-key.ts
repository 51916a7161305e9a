import { createHash, createPrivateKey, createPublicKey } from 'node:crypto'
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
  // [REJECT] libp2p keeps the seed and the public key side by side and trusts the second: a public
  // half that is not the seed's would give a peer id whose signatures never verify
  const raw = key.raw
  if (raw.length !== 64 || !Buffer.from(raw.subarray(32)).equals(publicOfSeed(raw.subarray(0, 32)))) {
    throw new KeystoreError(KeystoreErrorCode.CORRUPT, `${where}: the peer key's public half is not its seed's`)
  }
  return key
}

/** PKCS#8's fixed prefix of an Ed25519 private key (RFC 8410), before its 32-byte seed */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

/** the Ed25519 public key of a 32-byte seed */
function publicOfSeed (seed: Uint8Array): Buffer {
  const priv = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' })
  return createPublicKey(priv).export({ format: 'der', type: 'spki' }).subarray(-32)
}
