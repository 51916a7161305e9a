import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { EMPTY_BYTES } from './empty-bytes.js'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface BookSyncRequest {
  version: number
  maxEntries: number
  maxCancels: number
  digestBits: number
  buckets: Uint8Array<ArrayBuffer>
}

export namespace BookSyncRequest {
  let _codec: Codec<BookSyncRequest>

  export const codec = (): Codec<BookSyncRequest> => {
    if (_codec == null) {
      _codec = message<BookSyncRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.maxEntries != null && obj.maxEntries !== 0)) {
          w.uint32(16)
          w.uint32(obj.maxEntries)
        }

        if ((obj.maxCancels != null && obj.maxCancels !== 0)) {
          w.uint32(24)
          w.uint32(obj.maxCancels)
        }

        if ((obj.digestBits != null && obj.digestBits !== 0)) {
          w.uint32(32)
          w.uint32(obj.digestBits)
        }

        if ((obj.buckets != null && obj.buckets.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.buckets)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          maxEntries: 0,
          maxCancels: 0,
          digestBits: 0,
          buckets: EMPTY_BYTES
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.version = reader.uint32()
              break
            }
            case 2: {
              obj.maxEntries = reader.uint32()
              break
            }
            case 3: {
              obj.maxCancels = reader.uint32()
              break
            }
            case 4: {
              obj.digestBits = reader.uint32()
              break
            }
            case 5: {
              obj.buckets = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.version`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.maxEntries`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.maxCancels`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.digestBits`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.buckets`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface BookSyncRequestVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface BookSyncRequestMaxEntriesFieldEvent {
    field: '$.maxEntries'
    value: number
  }

  export interface BookSyncRequestMaxCancelsFieldEvent {
    field: '$.maxCancels'
    value: number
  }

  export interface BookSyncRequestDigestBitsFieldEvent {
    field: '$.digestBits'
    value: number
  }

  export interface BookSyncRequestBucketsFieldEvent {
    field: '$.buckets'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<BookSyncRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, BookSyncRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<BookSyncRequest>): BookSyncRequest {
    return decodeMessage(buf, BookSyncRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<BookSyncRequest>): Generator<BookSyncRequestVersionFieldEvent | BookSyncRequestMaxEntriesFieldEvent | BookSyncRequestMaxCancelsFieldEvent | BookSyncRequestDigestBitsFieldEvent | BookSyncRequestBucketsFieldEvent> {
    return streamMessage(buf, BookSyncRequest.codec(), opts)
  }
}

export interface BookSyncChunk {
  offers: Uint8Array<ArrayBuffer>[]
  bids: Uint8Array<ArrayBuffer>[]
  last: boolean
  offerCancels: Uint8Array<ArrayBuffer>[]
  bidCancels: Uint8Array<ArrayBuffer>[]
  more: boolean
  digests: Uint8Array<ArrayBuffer>
}

export namespace BookSyncChunk {
  let _codec: Codec<BookSyncChunk>

  export const codec = (): Codec<BookSyncChunk> => {
    if (_codec == null) {
      _codec = message<BookSyncChunk>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.offers != null && obj.offers.length > 0) {
          for (const value of obj.offers) {
            w.uint32(10)
            w.bytes(value)
          }
        }

        if (obj.bids != null && obj.bids.length > 0) {
          for (const value of obj.bids) {
            w.uint32(18)
            w.bytes(value)
          }
        }

        if ((obj.last != null && obj.last !== false)) {
          w.uint32(24)
          w.bool(obj.last)
        }

        if (obj.offerCancels != null && obj.offerCancels.length > 0) {
          for (const value of obj.offerCancels) {
            w.uint32(34)
            w.bytes(value)
          }
        }

        if (obj.bidCancels != null && obj.bidCancels.length > 0) {
          for (const value of obj.bidCancels) {
            w.uint32(42)
            w.bytes(value)
          }
        }

        if ((obj.more != null && obj.more !== false)) {
          w.uint32(48)
          w.bool(obj.more)
        }

        if ((obj.digests != null && obj.digests.byteLength > 0)) {
          w.uint32(58)
          w.bytes(obj.digests)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          offers: [],
          bids: [],
          last: false,
          offerCancels: [],
          bidCancels: [],
          more: false,
          digests: EMPTY_BYTES
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.offers != null && obj.offers.length === opts.limits.offers) {
                throw new MaxLengthError('Decode error - repeated field "offers" had too many elements')
              }

              obj.offers.push(reader.bytes())
              break
            }
            case 2: {
              if (opts.limits?.bids != null && obj.bids.length === opts.limits.bids) {
                throw new MaxLengthError('Decode error - repeated field "bids" had too many elements')
              }

              obj.bids.push(reader.bytes())
              break
            }
            case 3: {
              obj.last = reader.bool()
              break
            }
            case 4: {
              if (opts.limits?.offerCancels != null && obj.offerCancels.length === opts.limits.offerCancels) {
                throw new MaxLengthError('Decode error - repeated field "offerCancels" had too many elements')
              }

              obj.offerCancels.push(reader.bytes())
              break
            }
            case 5: {
              if (opts.limits?.bidCancels != null && obj.bidCancels.length === opts.limits.bidCancels) {
                throw new MaxLengthError('Decode error - repeated field "bidCancels" had too many elements')
              }

              obj.bidCancels.push(reader.bytes())
              break
            }
            case 6: {
              obj.more = reader.bool()
              break
            }
            case 7: {
              obj.digests = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          offers: 0,
          bids: 0,
          offerCancels: 0,
          bidCancels: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.offers != null && obj.offers === opts.limits.offers) {
                throw new MaxLengthError('Streaming decode error - repeated field "offers" had too many elements')
              }

              yield {
                field: `${prefix}.offers[]`,
                index: obj.offers,
                value: reader.bytes()
              }

              obj.offers++

              break
            }
            case 2: {
              if (opts.limits?.bids != null && obj.bids === opts.limits.bids) {
                throw new MaxLengthError('Streaming decode error - repeated field "bids" had too many elements')
              }

              yield {
                field: `${prefix}.bids[]`,
                index: obj.bids,
                value: reader.bytes()
              }

              obj.bids++

              break
            }
            case 3: {
              yield {
                field: `${prefix}.last`,
                value: reader.bool()
              }
              break
            }
            case 4: {
              if (opts.limits?.offerCancels != null && obj.offerCancels === opts.limits.offerCancels) {
                throw new MaxLengthError('Streaming decode error - repeated field "offerCancels" had too many elements')
              }

              yield {
                field: `${prefix}.offerCancels[]`,
                index: obj.offerCancels,
                value: reader.bytes()
              }

              obj.offerCancels++

              break
            }
            case 5: {
              if (opts.limits?.bidCancels != null && obj.bidCancels === opts.limits.bidCancels) {
                throw new MaxLengthError('Streaming decode error - repeated field "bidCancels" had too many elements')
              }

              yield {
                field: `${prefix}.bidCancels[]`,
                index: obj.bidCancels,
                value: reader.bytes()
              }

              obj.bidCancels++

              break
            }
            case 6: {
              yield {
                field: `${prefix}.more`,
                value: reader.bool()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.digests`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface BookSyncChunkOffersFieldEvent {
    field: '$.offers[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface BookSyncChunkBidsFieldEvent {
    field: '$.bids[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface BookSyncChunkLastFieldEvent {
    field: '$.last'
    value: boolean
  }

  export interface BookSyncChunkOfferCancelsFieldEvent {
    field: '$.offerCancels[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface BookSyncChunkBidCancelsFieldEvent {
    field: '$.bidCancels[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface BookSyncChunkMoreFieldEvent {
    field: '$.more'
    value: boolean
  }

  export interface BookSyncChunkDigestsFieldEvent {
    field: '$.digests'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<BookSyncChunk>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, BookSyncChunk.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<BookSyncChunk>): BookSyncChunk {
    return decodeMessage(buf, BookSyncChunk.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<BookSyncChunk>): Generator<BookSyncChunkOffersFieldEvent | BookSyncChunkBidsFieldEvent | BookSyncChunkLastFieldEvent | BookSyncChunkOfferCancelsFieldEvent | BookSyncChunkBidCancelsFieldEvent | BookSyncChunkMoreFieldEvent | BookSyncChunkDigestsFieldEvent> {
    return streamMessage(buf, BookSyncChunk.codec(), opts)
  }
}
