import * as schnorrkel from '@scure/sr25519'
import { blake2b256, compactLength } from './blake2.js'
import { concatBytes } from './bytes.js'
import { sr25519VerifyWasm } from './schnorrkel-wasm.js'
import { encodeSs58 } from './ss58.js'

/**
 * sr25519 accounts (coldkeys and hotkeys): key pairs from a seed or a secret, Substrate's hard
 * derivation, signing and verification.
 *
 * Keys, signatures and derivation come from `@scure/sr25519`, the implementation
 * `@polkadot/util-crypto` 14 itself calls, so the keys and the stored 64-byte secrets are the ones
 * polkadot-js and btcli produce (the tests derive both ways and compare). Verification runs on
 * schnorrkel's wasm (`schnorrkel-wasm.ts`, about 0.3 ms against 2.5 ms here) where it loads, for
 * messages up to `WASM_VERIFY_MAX_MESSAGE` bytes. The
 * daemon loads this instead of `@polkadot/keyring`: see `schnorrkel-wasm.ts` for what that saves.
 */

/** the key types a Substrate key pair can have (polkadot-js's `KeypairType`) */
export type KeyType = 'sr25519' | 'ed25519' | 'ecdsa' | 'ethereum'

/**
 * An account's key pair, as the node signs with it. It has the shape of polkadot-js's
 * `IKeyringPair`, so `@polkadot/api` signs extrinsics with it, and a polkadot-js `AccountPair` is
 * one (tests pass those).
 */
export interface AccountPair {
  readonly type: KeyType
  readonly publicKey: Uint8Array
  /** the account id (the public key), as `@polkadot/api` reads it for an extrinsic's signer */
  readonly addressRaw: Uint8Array
  /** ss58 */
  readonly address: string
  /** signs `message`; with `withType` the signature is preceded by the key type's byte (1 for sr25519), as an extrinsic carries it */
  sign: (message: Uint8Array, options?: { withType?: boolean }) => Uint8Array
  /** the child along a derivation path (`//hard`, `/soft`, in any sequence) */
  derive: (path: string) => AccountPair
}

/** a key pair with its secret, in polkadot-js's 64-byte form (the scalar times the cofactor 8, then the nonce) */
export interface Sr25519Keys {
  publicKey: Uint8Array
  secretKey: Uint8Array
}

const SR25519_TYPE_BYTE = 1

/** the keys of a 32-byte mini secret (what a BIP-39 phrase or btcli's `secretSeed` gives) */
export function sr25519FromSeed (seed: Uint8Array): Sr25519Keys {
  if (seed.length !== 32) throw new RangeError(`an sr25519 seed is 32 bytes, got ${seed.length}`)
  const secretKey = schnorrkel.secretFromSeed(seed)
  return { publicKey: schnorrkel.getPublicKey(secretKey), secretKey }
}

/** the keys of a 64-byte secret; throws when it is not a valid sr25519 secret */
export function sr25519FromSecret (secretKey: Uint8Array): Sr25519Keys {
  if (secretKey.length !== 64) throw new RangeError(`an sr25519 secret is 64 bytes, got ${secretKey.length}`)
  return { publicKey: schnorrkel.getPublicKey(secretKey), secretKey: new Uint8Array(secretKey) }
}

/**
 * The chain code of one derivation junction, as Substrate's `DeriveJunction` makes it: a number
 * (all digits) as u64 little-endian, 0x-hex as its bytes, any other text SCALE-encoded (compact
 * length, then UTF-8); 32 bytes, zero-padded, or BLAKE2b-256 of the encoding when it is longer.
 */
export function junctionChainCode (junction: string): Uint8Array {
  let encoded: Uint8Array
  if (/^0x(?:[0-9a-fA-F]{2})*$/.test(junction)) {
    encoded = Uint8Array.from(Buffer.from(junction.slice(2), 'hex'))
  } else if (/^\d+$/.test(junction)) {
    const n = BigInt(junction)
    if (n >= 2n ** 64n) throw new RangeError('a numeric derivation junction is below 2^64')
    encoded = new Uint8Array(8)
    new DataView(encoded.buffer).setBigUint64(0, n, true)
  } else {
    const text = new TextEncoder().encode(junction)
    encoded = concatBytes([compactLength(text.length), text])
  }
  if (encoded.length > 32) return blake2b256(encoded)
  const code = new Uint8Array(32)
  code.set(encoded)
  return code
}

/** the hard-derived child (`//junction`) of an sr25519 key */
export function sr25519DeriveHard (parent: Sr25519Keys, junction: string): Sr25519Keys {
  return sr25519FromSecret(schnorrkel.HDKD.secretHard(parent.secretKey, junctionChainCode(junction)))
}

/** the soft-derived child (`/junction`) of an sr25519 key; its public key also follows from the parent's public key alone */
export function sr25519DeriveSoft (parent: Sr25519Keys, junction: string): Sr25519Keys {
  return sr25519FromSecret(schnorrkel.HDKD.secretSoft(parent.secretKey, junctionChainCode(junction)))
}

/**
 * The junctions of a derivation path such as `//hot` or `/bazaar-escrow/0x…`: each `//name` hard,
 * each `/name` soft. Throws on anything else (an empty junction, text before the first slash, a
 * `///password`, which belongs to a SURI, not to a path).
 */
export function derivationJunctions (path: string): Array<{ hard: boolean, junction: string }> {
  const out: Array<{ hard: boolean, junction: string }> = []
  const re = /\/(\/?)([^/]+)/y
  let at = 0
  while (at < path.length) {
    re.lastIndex = at
    const m = re.exec(path)
    if (m == null) throw new RangeError('a derivation path is a sequence of //hard and /soft junctions')
    out.push({ hard: m[1] === '/', junction: m[2] })
    at = re.lastIndex
  }
  return out
}

/** the key at the end of `path` from `keys` */
export function sr25519DerivePath (keys: Sr25519Keys, path: string): Sr25519Keys {
  let k = keys
  for (const j of derivationJunctions(path)) k = j.hard ? sr25519DeriveHard(k, j.junction) : sr25519DeriveSoft(k, j.junction)
  return k
}

/** an sr25519 signature (64 bytes, randomised) of `message` */
export function sr25519Sign (keys: Sr25519Keys, message: Uint8Array): Uint8Array {
  return schnorrkel.sign(keys.secretKey, message)
}

/**
 * The longest message verified on schnorrkel's wasm; longer ones go to the JS verifier. The wasm's
 * allocator keeps the blocks it freed by size, and its memory never shrinks: messages of random
 * lengths up to 256 bytes held it at 30 pages (1.9 MiB) over 200,000 checks, up to 1,024 bytes at
 * 449 pages (28 MiB), and messages of one length at 20 to 25 pages. A certificate's payload, the
 * check a peer can make a node repeat, is 86 bytes.
 */
export const WASM_VERIFY_MAX_MESSAGE = 256

/** whether `signature` is `publicKey`'s sr25519 signature of `message`; false for malformed input, never throws */
export function sr25519Verify (message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false
  try {
    const onWasm = message.length <= WASM_VERIFY_MAX_MESSAGE ? sr25519VerifyWasm(signature, message, publicKey) : undefined
    return onWasm ?? schnorrkel.verify(message, signature, publicKey)
  } catch {
    return false
  }
}

/** the account pair of sr25519 keys, addressed with an ss58 prefix (42, the generic Substrate one, by default) */
export function sr25519Pair (keys: Sr25519Keys, ss58Prefix = 42): AccountPair {
  const { publicKey } = keys
  return {
    type: 'sr25519',
    publicKey,
    addressRaw: publicKey,
    address: encodeSs58(publicKey, ss58Prefix),
    sign: (message, options) => {
      const signature = sr25519Sign(keys, message)
      return options?.withType === true ? concatBytes([Uint8Array.of(SR25519_TYPE_BYTE), signature]) : signature
    },
    derive: (path) => sr25519Pair(sr25519DerivePath(keys, path), ss58Prefix)
  }
}
