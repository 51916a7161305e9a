import { messageDigest } from '../gossip/topic-validation.js'
import { envelopeOf, type EnvelopeSource } from './source.js'

/**
 * Bucket digests of a set of signed envelopes, so that two nodes whose books already agree find
 * that out from a few kilobytes instead of sending each other the whole book (docs/protocol.md
 * §4.2, "Digests").
 *
 * An envelope's bucket is the first `bits` bits of its message id (the first 20 bytes of SHA-256
 * of its wire bytes, the gossip message id). A bucket's digest is 24 bytes: how many envelopes it
 * holds (uint32, little-endian), then the sum of their ids read as 160-bit little-endian integers,
 * mod 2^160. A sum, unlike an XOR, does not cancel when the same id is counted twice, and with the
 * count beside it two sets that differ by accident match with odds of about 2^-160. A peer that
 * crafts signed envelopes could make two differing sets match; what it hides is then missing only
 * until gossip or the supplier's next re-publication brings it, as with a peer that withholds.
 */

/** bytes of one bucket's digest: the count, then the sum of the ids */
export const BUCKET_DIGEST_BYTES = 24
const ID_BYTES = 20
/** the fewest and the most bits a requester may ask to bucket by (16 to 4,096 buckets) */
export const MIN_DIGEST_BITS = 4
export const MAX_DIGEST_BITS = 12
/** about this many envelopes per bucket, for the bits a requester picks from its own book's size */
const PER_BUCKET = 16

/** The bits to bucket a book of `size` envelopes by: about 16 a bucket, within the bounds. */
export function digestBitsFor (size: number): number {
  const bits = Math.ceil(Math.log2(Math.max(1, size / PER_BUCKET)))
  return Math.min(MAX_DIGEST_BITS, Math.max(MIN_DIGEST_BITS, bits))
}

/** The digests of one set of envelopes, and each envelope's bucket in the order given. */
export interface BucketDigests {
  bits: number
  /** `2^bits` digests of `BUCKET_DIGEST_BYTES` each, bucket 0 first */
  digests: Uint8Array<ArrayBuffer>
  /**
   * the bucket of each envelope, in the order the lists were given (all lists one after another);
   * `NO_BUCKET` for a source that gave no bytes
   */
  buckets: Uint16Array
}

/** the bucket of a source without bytes: in no bitmap */
export const NO_BUCKET = 0xffff

/**
 * Message ids by the source they were read from (a resting offer, a bid's or a cancel's envelope),
 * each as a 20-character one-byte string: a source is one version of one entry, so its id never
 * changes, and a node's book is digested again on every pull, by both sides. Weak: an id goes with
 * its entry. For 100,000 offers it holds 7.9 MiB (about 80 bytes an offer), and a digest of the
 * whole book takes 44 to 82 ms with it against 230 to 336 ms hashing every envelope (`npm run
 * bench:book`): the periodic pull and the pull on every new connection then cost a node little
 * more than the lookups.
 */
export type IdCache = WeakMap<object, string>

/**
 * Digests `lists` (read as one list, in order) into `2^bits` buckets; with `ids`, each source's id
 * is hashed once and kept there, and a source already in it is not read at all.
 */
export function bucketDigests (lists: ReadonlyArray<readonly EnvelopeSource[]>, bits: number, ids?: IdCache): BucketDigests {
  const n = lists.reduce((a, l) => a + l.length, 0)
  const digests = new Uint8Array((1 << bits) * BUCKET_DIGEST_BYTES)
  const counts = new DataView(digests.buffer)
  const buckets = new Uint16Array(n)
  let k = 0
  for (const list of lists) {
    for (const source of list) {
      let id = ids?.get(source)
      if (id === undefined) {
        const env = envelopeOf(source)
        if (env === undefined) {
          buckets[k++] = NO_BUCKET
          continue
        }
        id = messageDigest(env).toString('latin1')
        ids?.set(source, id)
      }
      const b = ((id.charCodeAt(0) << 8) | id.charCodeAt(1)) >>> (16 - bits)
      buckets[k++] = b
      const at = b * BUCKET_DIGEST_BYTES
      counts.setUint32(at, counts.getUint32(at, true) + 1, true)
      // the sum, byte by byte with its carry; the carry out of the last byte is dropped (mod 2^160)
      let carry = 0
      for (let i = 0; i < ID_BYTES; i++) {
        const s = digests[at + 4 + i] + id.charCodeAt(i) + carry
        digests[at + 4 + i] = s & 0xff
        carry = s >>> 8
      }
    }
  }
  return { bits, digests, buckets }
}

/**
 * The buckets whose digests differ between `mine` and `theirs`, as a bitmap (bucket i is bit
 * i % 8 of byte i / 8), and how many there are. undefined when `theirs` is not `2^bits` digests.
 */
export function differingBuckets (mine: Uint8Array, theirs: Uint8Array, bits: number): { bitmap: Uint8Array<ArrayBuffer>, count: number } | undefined {
  const n = 1 << bits
  if (theirs.byteLength !== n * BUCKET_DIGEST_BYTES || mine.byteLength !== theirs.byteLength) return undefined
  const bitmap = new Uint8Array(Math.ceil(n / 8))
  let count = 0
  for (let b = 0; b < n; b++) {
    const at = b * BUCKET_DIGEST_BYTES
    for (let i = 0; i < BUCKET_DIGEST_BYTES; i++) {
      if (mine[at + i] !== theirs[at + i]) {
        bitmap[b >>> 3] |= 1 << (b & 7)
        count++
        break
      }
    }
  }
  return { bitmap, count }
}

/** whether bucket `b` is set in `bitmap` (never `NO_BUCKET`) */
export function inBitmap (bitmap: Uint8Array, b: number): boolean {
  return b !== NO_BUCKET && (bitmap[b >>> 3] & (1 << (b & 7))) !== 0
}
