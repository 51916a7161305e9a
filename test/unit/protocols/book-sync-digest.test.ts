import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { BUCKET_DIGEST_BYTES, bucketDigests, differingBuckets, digestBitsFor, inBitmap, type IdCache } from '../../../src/protocols/book-sync/digest.js'
import { messageDigest } from '../../../src/protocols/gossip/topic-validation.js'

/** the digests, computed apart: per bucket the count and the sum of the ids as BigInts, mod 2^160 */
function reference (envelopes: Uint8Array[], bits: number): Uint8Array {
  const n = 1 << bits
  const counts = new Array<number>(n).fill(0)
  const sums = new Array<bigint>(n).fill(0n)
  for (const env of envelopes) {
    const id = messageDigest(env)
    const b = Number(BigInt('0x' + id.subarray(0, 2).toString('hex')) >> BigInt(16 - bits))
    counts[b]++
    sums[b] = (sums[b] + BigInt('0x' + Buffer.from(id).reverse().toString('hex'))) % (1n << 160n)
  }
  const out = Buffer.alloc(n * BUCKET_DIGEST_BYTES)
  for (let b = 0; b < n; b++) {
    out.writeUInt32LE(counts[b], b * BUCKET_DIGEST_BYTES)
    const hex = sums[b].toString(16).padStart(40, '0')
    Buffer.from(hex, 'hex').reverse().copy(out, b * BUCKET_DIGEST_BYTES + 4)
  }
  return out
}

describe('book sync digests', () => {
  const envelopes = Array.from({ length: 3000 }, (_, i) => randomBytes(100 + (i % 300)))

  it('each bucket holds its count and the sum of its ids mod 2^160, whatever the order or the split into lists', () => {
    for (const bits of [4, 8, 12]) {
      const d = bucketDigests([envelopes.slice(0, 1000), envelopes.slice(1000)], bits)
      expect(Buffer.compare(d.digests, reference(envelopes, bits))).toBe(0)
      const shuffled = [...envelopes].reverse()
      expect(Buffer.compare(bucketDigests([shuffled], bits).digests, d.digests)).toBe(0)
      // each envelope's bucket, in the order given
      expect(d.buckets[5]).toBe(((messageDigest(envelopes[5])[0] << 8) | messageDigest(envelopes[5])[1]) >>> (16 - bits))
    }
  })

  it('finds exactly the buckets that differ, and refuses digests of another size', () => {
    const bits = 8
    const mine = bucketDigests([envelopes], bits)
    expect(differingBuckets(mine.digests, mine.digests, bits)?.count).toBe(0)
    // one envelope more, and one other envelope replaced: two buckets at most, the right ones
    const extra = randomBytes(200)
    const theirs = bucketDigests([[...envelopes.slice(1), randomBytes(150), extra]], bits)
    const diff = differingBuckets(mine.digests, theirs.digests, bits)
    const touched = new Set([mine.buckets[0], theirs.buckets[envelopes.length - 1], theirs.buckets[envelopes.length]])
    expect(diff?.count).toBe(touched.size)
    for (let b = 0; b < 256; b++) expect(inBitmap(diff?.bitmap ?? new Uint8Array(32), b)).toBe(touched.has(b))
    expect(differingBuckets(mine.digests, theirs.digests.subarray(24), bits)).toBeUndefined()
  })

  it('buckets by about 16 envelopes each, from 16 to 4,096 buckets', () => {
    expect([0, 1, 16, 300, 4_500, 100_000, 10_000_000].map(digestBitsFor)).toEqual([4, 4, 4, 5, 9, 12, 12])
  })

  it('with an id cache, hashes each source once: a later digest reads no envelope and comes out the same', () => {
    let reads = 0
    const sources = envelopes.slice(0, 500).map((env) => ({ get envelope () { reads++; return env } }))
    const ids: IdCache = new WeakMap()
    const first = bucketDigests([sources, envelopes.slice(500, 600)], 8, ids)
    expect(reads).toBe(500)
    const again = bucketDigests([sources, envelopes.slice(500, 600)], 8, ids)
    expect(reads).toBe(500)
    expect(Buffer.compare(again.digests, first.digests)).toBe(0)
    expect(Buffer.compare(first.digests, bucketDigests([envelopes.slice(0, 600)], 8).digests)).toBe(0)
    expect([...again.buckets]).toEqual([...first.buckets])
  })
})
