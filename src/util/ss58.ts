import { createHash } from 'node:crypto'

/**
 * SS58 addresses of 32-byte account ids (sr25519 and ed25519 keys), as Substrate writes them:
 * base58 of prefix ‖ account id ‖ the first two bytes of BLAKE2b-512("SS58PRE" ‖ prefix ‖ account
 * id). The prefix is one byte for network types 0–63 and two bytes for 64–16383.
 *
 * It lives here, on node:crypto, so that code which only checks an address (config validation,
 * the CLI) does not load the wasm crypto of `@polkadot/util-crypto`: that import alone costs about
 * a second and 150 MiB of resident memory on a small machine.
 */

const CONTEXT = Buffer.from('SS58PRE')
const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
const DIGIT = new Map([...ALPHABET].map((c, i) => [c, BigInt(i)]))

/** base58 (the Bitcoin alphabet, as ss58 uses) of a few dozen bytes: leading zero bytes are leading '1's */
function base58Encode (bytes: Uint8Array): string {
  let n = 0n
  for (const b of bytes) n = (n << 8n) | BigInt(b)
  let out = ''
  while (n > 0n) {
    out = ALPHABET[Number(n % 58n)] + out
    n /= 58n
  }
  for (let i = 0; i < bytes.length && bytes[i] === 0; i++) out = '1' + out
  return out
}

function base58Decode (text: string): Uint8Array {
  let n = 0n
  for (const c of text) {
    const d = DIGIT.get(c)
    if (d === undefined) throw new Error('not an ss58 address: bad base58 characters')
    n = n * 58n + d
  }
  const body: number[] = []
  while (n > 0n) {
    body.unshift(Number(n & 0xffn))
    n >>= 8n
  }
  let zeros = 0
  while (zeros < text.length && text[zeros] === '1') zeros++
  return Uint8Array.from([...new Array<number>(zeros).fill(0), ...body])
}
const ACCOUNT_BYTES = 32
const CHECKSUM_BYTES = 2

function checksum (payload: Uint8Array): Buffer {
  return createHash('blake2b512').update(CONTEXT).update(payload).digest().subarray(0, CHECKSUM_BYTES)
}

/** the account id and network prefix of an ss58 address; throws on bad characters, length or checksum */
export function decodeSs58 (address: string): { accountId: Uint8Array, prefix: number } {
  if (address.length === 0 || address.length > 64) throw new Error('not an ss58 address: bad length')
  const raw = base58Decode(address)
  if (raw.length === 0) throw new Error('not an ss58 address: empty')
  const first = raw[0]
  let prefix: number
  let prefixLen: number
  if (first < 64) {
    prefix = first
    prefixLen = 1
  } else if (first < 128) {
    if (raw.length < 2) throw new Error('not an ss58 address: truncated prefix')
    // two-byte form: the 14-bit type is spread over both bytes as Substrate encodes it
    prefix = ((first & 0x3f) << 2) | (raw[1] >> 6) | ((raw[1] & 0x3f) << 8)
    prefixLen = 2
  } else {
    throw new Error('not an ss58 address: reserved prefix')
  }
  if (raw.length !== prefixLen + ACCOUNT_BYTES + CHECKSUM_BYTES) throw new Error(`not an ss58 address of a ${ACCOUNT_BYTES}-byte account`)
  const body = raw.subarray(0, prefixLen + ACCOUNT_BYTES)
  const sum = raw.subarray(prefixLen + ACCOUNT_BYTES)
  if (!checksum(body).equals(sum)) throw new Error('not an ss58 address: bad checksum')
  return { accountId: raw.slice(prefixLen, prefixLen + ACCOUNT_BYTES), prefix }
}

/** the ss58 address of a 32-byte account id under a network prefix (42, the generic Substrate one, by default) */
export function encodeSs58 (accountId: Uint8Array, prefix = 42): string {
  if (accountId.length !== ACCOUNT_BYTES) throw new Error(`an ss58 account id has ${ACCOUNT_BYTES} bytes, got ${accountId.length}`)
  // 46 and 47 are reserved by the ss58 registry; polkadot.js refuses them too
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 16383 || prefix === 46 || prefix === 47) throw new Error('ss58 prefix must be 0..16383, not the reserved 46 or 47')
  const head = prefix < 64
    ? Uint8Array.of(prefix)
    : Uint8Array.of(((prefix & 0xfc) >> 2) | 0x40, (prefix >> 8) | ((prefix & 0x03) << 6))
  const body = new Uint8Array(head.length + ACCOUNT_BYTES)
  body.set(head)
  body.set(accountId, head.length)
  const out = new Uint8Array(body.length + CHECKSUM_BYTES)
  out.set(body)
  out.set(checksum(body), body.length)
  return base58Encode(out)
}

/** whether `address` is a well-formed ss58 address of a 32-byte account */
export function isSs58 (address: string): boolean {
  try {
    decodeSs58(address)
    return true
  } catch {
    return false
  }
}
