import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { EMPTY_BYTES } from './empty-bytes.js'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface SignerCert {
  hotkey: Uint8Array<ArrayBuffer>
  signingKey: Uint8Array<ArrayBuffer>
  notAfter: bigint
  signature: Uint8Array<ArrayBuffer>
}

export namespace SignerCert {
  let _codec: Codec<SignerCert>

  export const codec = (): Codec<SignerCert> => {
    if (_codec == null) {
      _codec = message<SignerCert>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.hotkey != null && obj.hotkey.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.hotkey)
        }

        if ((obj.signingKey != null && obj.signingKey.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.signingKey)
        }

        if ((obj.notAfter != null && obj.notAfter !== 0n)) {
          w.uint32(25)
          w.fixed64(obj.notAfter)
        }

        if ((obj.signature != null && obj.signature.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.signature)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          hotkey: EMPTY_BYTES,
          signingKey: EMPTY_BYTES,
          notAfter: 0n,
          signature: EMPTY_BYTES
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.hotkey = reader.bytes()
              break
            }
            case 2: {
              obj.signingKey = reader.bytes()
              break
            }
            case 3: {
              obj.notAfter = reader.fixed64()
              break
            }
            case 4: {
              obj.signature = reader.bytes()
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
                field: `${prefix}.hotkey`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.signingKey`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.notAfter`,
                value: reader.fixed64()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.signature`,
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

  export interface SignerCertHotkeyFieldEvent {
    field: '$.hotkey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignerCertSigningKeyFieldEvent {
    field: '$.signingKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignerCertNotAfterFieldEvent {
    field: '$.notAfter'
    value: bigint
  }

  export interface SignerCertSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SignerCert>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SignerCert.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignerCert>): SignerCert {
    return decodeMessage(buf, SignerCert.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignerCert>): Generator<SignerCertHotkeyFieldEvent | SignerCertSigningKeyFieldEvent | SignerCertNotAfterFieldEvent | SignerCertSignatureFieldEvent> {
    return streamMessage(buf, SignerCert.codec(), opts)
  }
}

export interface Gpu {
  model: string
  memoryMib: number
  count: number
}

export namespace Gpu {
  let _codec: Codec<Gpu>

  export const codec = (): Codec<Gpu> => {
    if (_codec == null) {
      _codec = message<Gpu>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.model != null && obj.model !== '')) {
          w.uint32(10)
          w.string(obj.model)
        }

        if ((obj.memoryMib != null && obj.memoryMib !== 0)) {
          w.uint32(16)
          w.uint32(obj.memoryMib)
        }

        if ((obj.count != null && obj.count !== 0)) {
          w.uint32(24)
          w.uint32(obj.count)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          model: '',
          memoryMib: 0,
          count: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.model = reader.string()
              break
            }
            case 2: {
              obj.memoryMib = reader.uint32()
              break
            }
            case 3: {
              obj.count = reader.uint32()
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
                field: `${prefix}.model`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.memoryMib`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.count`,
                value: reader.uint32()
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

  export interface GpuModelFieldEvent {
    field: '$.model'
    value: string
  }

  export interface GpuMemoryMibFieldEvent {
    field: '$.memoryMib'
    value: number
  }

  export interface GpuCountFieldEvent {
    field: '$.count'
    value: number
  }

  export function encode (obj: Partial<Gpu>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Gpu.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Gpu>): Gpu {
    return decodeMessage(buf, Gpu.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Gpu>): Generator<GpuModelFieldEvent | GpuMemoryMibFieldEvent | GpuCountFieldEvent> {
    return streamMessage(buf, Gpu.codec(), opts)
  }
}

export interface Offer {
  version: number
  id: string
  supplier: Uint8Array<ArrayBuffer>
  enclavePeer: Uint8Array<ArrayBuffer>
  gpus: Gpu[]
  teeKinds: string[]
  region: string
  pricePerGpuHour: bigint
  netuid: number
  minDurationS: number
  maxDurationS: number
  createdAt: bigint
  expiresAt: bigint
  sequence: bigint
  cancelled: boolean
  addrs: Uint8Array<ArrayBuffer>[]
  gpuCc?: boolean
  runtime?: string
  images: string[]
}

export namespace Offer {
  let _codec: Codec<Offer>

  export const codec = (): Codec<Offer> => {
    if (_codec == null) {
      _codec = message<Offer>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.id != null && obj.id !== '')) {
          w.uint32(18)
          w.string(obj.id)
        }

        if ((obj.supplier != null && obj.supplier.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.supplier)
        }

        if ((obj.enclavePeer != null && obj.enclavePeer.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.enclavePeer)
        }

        if (obj.gpus != null && obj.gpus.length > 0) {
          for (const value of obj.gpus) {
            w.uint32(42)
            Gpu.codec().encode(value, w)
          }
        }

        if (obj.teeKinds != null && obj.teeKinds.length > 0) {
          for (const value of obj.teeKinds) {
            w.uint32(50)
            w.string(value)
          }
        }

        if ((obj.region != null && obj.region !== '')) {
          w.uint32(58)
          w.string(obj.region)
        }

        if ((obj.pricePerGpuHour != null && obj.pricePerGpuHour !== 0n)) {
          w.uint32(65)
          w.fixed64(obj.pricePerGpuHour)
        }

        if ((obj.netuid != null && obj.netuid !== 0)) {
          w.uint32(72)
          w.uint32(obj.netuid)
        }

        if ((obj.minDurationS != null && obj.minDurationS !== 0)) {
          w.uint32(80)
          w.uint32(obj.minDurationS)
        }

        if ((obj.maxDurationS != null && obj.maxDurationS !== 0)) {
          w.uint32(88)
          w.uint32(obj.maxDurationS)
        }

        if ((obj.createdAt != null && obj.createdAt !== 0n)) {
          w.uint32(97)
          w.fixed64(obj.createdAt)
        }

        if ((obj.expiresAt != null && obj.expiresAt !== 0n)) {
          w.uint32(105)
          w.fixed64(obj.expiresAt)
        }

        if ((obj.sequence != null && obj.sequence !== 0n)) {
          w.uint32(113)
          w.fixed64(obj.sequence)
        }

        if ((obj.cancelled != null && obj.cancelled !== false)) {
          w.uint32(120)
          w.bool(obj.cancelled)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(130)
            w.bytes(value)
          }
        }

        if (obj.gpuCc != null) {
          w.uint32(136)
          w.bool(obj.gpuCc)
        }

        if (obj.runtime != null) {
          w.uint32(146)
          w.string(obj.runtime)
        }

        if (obj.images != null && obj.images.length > 0) {
          for (const value of obj.images) {
            w.uint32(154)
            w.string(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          id: '',
          supplier: EMPTY_BYTES,
          enclavePeer: EMPTY_BYTES,
          gpus: [],
          teeKinds: [],
          region: '',
          pricePerGpuHour: 0n,
          netuid: 0,
          minDurationS: 0,
          maxDurationS: 0,
          createdAt: 0n,
          expiresAt: 0n,
          sequence: 0n,
          cancelled: false,
          addrs: [],
          images: []
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
              obj.id = reader.string()
              break
            }
            case 3: {
              obj.supplier = reader.bytes()
              break
            }
            case 4: {
              obj.enclavePeer = reader.bytes()
              break
            }
            case 5: {
              if (opts.limits?.gpus != null && obj.gpus.length === opts.limits.gpus) {
                throw new MaxLengthError('Decode error - repeated field "gpus" had too many elements')
              }

              obj.gpus.push(Gpu.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.gpus$
              }))
              break
            }
            case 6: {
              if (opts.limits?.teeKinds != null && obj.teeKinds.length === opts.limits.teeKinds) {
                throw new MaxLengthError('Decode error - repeated field "teeKinds" had too many elements')
              }

              obj.teeKinds.push(reader.string())
              break
            }
            case 7: {
              obj.region = reader.string()
              break
            }
            case 8: {
              obj.pricePerGpuHour = reader.fixed64()
              break
            }
            case 9: {
              obj.netuid = reader.uint32()
              break
            }
            case 10: {
              obj.minDurationS = reader.uint32()
              break
            }
            case 11: {
              obj.maxDurationS = reader.uint32()
              break
            }
            case 12: {
              obj.createdAt = reader.fixed64()
              break
            }
            case 13: {
              obj.expiresAt = reader.fixed64()
              break
            }
            case 14: {
              obj.sequence = reader.fixed64()
              break
            }
            case 15: {
              obj.cancelled = reader.bool()
              break
            }
            case 16: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.bytes())
              break
            }
            case 17: {
              obj.gpuCc = reader.bool()
              break
            }
            case 18: {
              obj.runtime = reader.string()
              break
            }
            case 19: {
              if (opts.limits?.images != null && obj.images.length === opts.limits.images) {
                throw new MaxLengthError('Decode error - repeated field "images" had too many elements')
              }

              obj.images.push(reader.string())
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
          gpus: 0,
          teeKinds: 0,
          addrs: 0,
          images: 0
        }

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
                field: `${prefix}.id`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.supplier`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.enclavePeer`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              if (opts.limits?.gpus != null && obj.gpus === opts.limits.gpus) {
                throw new MaxLengthError('Streaming decode error - repeated field "gpus" had too many elements')
              }

              for (const evt of Gpu.codec().stream(reader, reader.uint32(), `${prefix}.gpus[]`, {
                limits: opts.limits?.gpus$
              })) {
                yield {
                  ...evt,
                  index: obj.gpus
                }
              }

              obj.gpus++

              break
            }
            case 6: {
              if (opts.limits?.teeKinds != null && obj.teeKinds === opts.limits.teeKinds) {
                throw new MaxLengthError('Streaming decode error - repeated field "teeKinds" had too many elements')
              }

              yield {
                field: `${prefix}.teeKinds[]`,
                index: obj.teeKinds,
                value: reader.string()
              }

              obj.teeKinds++

              break
            }
            case 7: {
              yield {
                field: `${prefix}.region`,
                value: reader.string()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.pricePerGpuHour`,
                value: reader.fixed64()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.netuid`,
                value: reader.uint32()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.minDurationS`,
                value: reader.uint32()
              }
              break
            }
            case 11: {
              yield {
                field: `${prefix}.maxDurationS`,
                value: reader.uint32()
              }
              break
            }
            case 12: {
              yield {
                field: `${prefix}.createdAt`,
                value: reader.fixed64()
              }
              break
            }
            case 13: {
              yield {
                field: `${prefix}.expiresAt`,
                value: reader.fixed64()
              }
              break
            }
            case 14: {
              yield {
                field: `${prefix}.sequence`,
                value: reader.fixed64()
              }
              break
            }
            case 15: {
              yield {
                field: `${prefix}.cancelled`,
                value: reader.bool()
              }
              break
            }
            case 16: {
              if (opts.limits?.addrs != null && obj.addrs === opts.limits.addrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "addrs" had too many elements')
              }

              yield {
                field: `${prefix}.addrs[]`,
                index: obj.addrs,
                value: reader.bytes()
              }

              obj.addrs++

              break
            }
            case 17: {
              yield {
                field: `${prefix}.gpuCc`,
                value: reader.bool()
              }
              break
            }
            case 18: {
              yield {
                field: `${prefix}.runtime`,
                value: reader.string()
              }
              break
            }
            case 19: {
              if (opts.limits?.images != null && obj.images === opts.limits.images) {
                throw new MaxLengthError('Streaming decode error - repeated field "images" had too many elements')
              }

              yield {
                field: `${prefix}.images[]`,
                index: obj.images,
                value: reader.string()
              }

              obj.images++

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

  export interface OfferVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface OfferIdFieldEvent {
    field: '$.id'
    value: string
  }

  export interface OfferSupplierFieldEvent {
    field: '$.supplier'
    value: Uint8Array<ArrayBuffer>
  }

  export interface OfferEnclavePeerFieldEvent {
    field: '$.enclavePeer'
    value: Uint8Array<ArrayBuffer>
  }

  export interface OfferGpusModelFieldEvent {
    field: '$.gpus[].model'
    value: string
    index: number
  }

  export interface OfferGpusMemoryMibFieldEvent {
    field: '$.gpus[].memoryMib'
    value: number
    index: number
  }

  export interface OfferGpusCountFieldEvent {
    field: '$.gpus[].count'
    value: number
    index: number
  }

  export interface OfferTeeKindsFieldEvent {
    field: '$.teeKinds[]'
    index: number
    value: string
  }

  export interface OfferRegionFieldEvent {
    field: '$.region'
    value: string
  }

  export interface OfferPricePerGpuHourFieldEvent {
    field: '$.pricePerGpuHour'
    value: bigint
  }

  export interface OfferNetuidFieldEvent {
    field: '$.netuid'
    value: number
  }

  export interface OfferMinDurationSFieldEvent {
    field: '$.minDurationS'
    value: number
  }

  export interface OfferMaxDurationSFieldEvent {
    field: '$.maxDurationS'
    value: number
  }

  export interface OfferCreatedAtFieldEvent {
    field: '$.createdAt'
    value: bigint
  }

  export interface OfferExpiresAtFieldEvent {
    field: '$.expiresAt'
    value: bigint
  }

  export interface OfferSequenceFieldEvent {
    field: '$.sequence'
    value: bigint
  }

  export interface OfferCancelledFieldEvent {
    field: '$.cancelled'
    value: boolean
  }

  export interface OfferAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface OfferGpuCcFieldEvent {
    field: '$.gpuCc'
    value: boolean
  }

  export interface OfferRuntimeFieldEvent {
    field: '$.runtime'
    value: string
  }

  export interface OfferImagesFieldEvent {
    field: '$.images[]'
    index: number
    value: string
  }

  export function encode (obj: Partial<Offer>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Offer.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Offer>): Offer {
    return decodeMessage(buf, Offer.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Offer>): Generator<OfferVersionFieldEvent | OfferIdFieldEvent | OfferSupplierFieldEvent | OfferEnclavePeerFieldEvent | OfferGpusModelFieldEvent | OfferGpusMemoryMibFieldEvent | OfferGpusCountFieldEvent | OfferTeeKindsFieldEvent | OfferRegionFieldEvent | OfferPricePerGpuHourFieldEvent | OfferNetuidFieldEvent | OfferMinDurationSFieldEvent | OfferMaxDurationSFieldEvent | OfferCreatedAtFieldEvent | OfferExpiresAtFieldEvent | OfferSequenceFieldEvent | OfferCancelledFieldEvent | OfferAddrsFieldEvent | OfferGpuCcFieldEvent | OfferRuntimeFieldEvent | OfferImagesFieldEvent> {
    return streamMessage(buf, Offer.codec(), opts)
  }
}

export interface Requirements {
  gpu: string
  minMemoryMib: number
  count: number
  teeKinds: string[]
  regions: string[]
  image?: string
}

export namespace Requirements {
  let _codec: Codec<Requirements>

  export const codec = (): Codec<Requirements> => {
    if (_codec == null) {
      _codec = message<Requirements>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.gpu != null && obj.gpu !== '')) {
          w.uint32(10)
          w.string(obj.gpu)
        }

        if ((obj.minMemoryMib != null && obj.minMemoryMib !== 0)) {
          w.uint32(16)
          w.uint32(obj.minMemoryMib)
        }

        if ((obj.count != null && obj.count !== 0)) {
          w.uint32(24)
          w.uint32(obj.count)
        }

        if (obj.teeKinds != null && obj.teeKinds.length > 0) {
          for (const value of obj.teeKinds) {
            w.uint32(34)
            w.string(value)
          }
        }

        if (obj.regions != null && obj.regions.length > 0) {
          for (const value of obj.regions) {
            w.uint32(42)
            w.string(value)
          }
        }

        if (obj.image != null) {
          w.uint32(50)
          w.string(obj.image)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          gpu: '',
          minMemoryMib: 0,
          count: 0,
          teeKinds: [],
          regions: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.gpu = reader.string()
              break
            }
            case 2: {
              obj.minMemoryMib = reader.uint32()
              break
            }
            case 3: {
              obj.count = reader.uint32()
              break
            }
            case 4: {
              if (opts.limits?.teeKinds != null && obj.teeKinds.length === opts.limits.teeKinds) {
                throw new MaxLengthError('Decode error - repeated field "teeKinds" had too many elements')
              }

              obj.teeKinds.push(reader.string())
              break
            }
            case 5: {
              if (opts.limits?.regions != null && obj.regions.length === opts.limits.regions) {
                throw new MaxLengthError('Decode error - repeated field "regions" had too many elements')
              }

              obj.regions.push(reader.string())
              break
            }
            case 6: {
              obj.image = reader.string()
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
          teeKinds: 0,
          regions: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.gpu`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.minMemoryMib`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.count`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              if (opts.limits?.teeKinds != null && obj.teeKinds === opts.limits.teeKinds) {
                throw new MaxLengthError('Streaming decode error - repeated field "teeKinds" had too many elements')
              }

              yield {
                field: `${prefix}.teeKinds[]`,
                index: obj.teeKinds,
                value: reader.string()
              }

              obj.teeKinds++

              break
            }
            case 5: {
              if (opts.limits?.regions != null && obj.regions === opts.limits.regions) {
                throw new MaxLengthError('Streaming decode error - repeated field "regions" had too many elements')
              }

              yield {
                field: `${prefix}.regions[]`,
                index: obj.regions,
                value: reader.string()
              }

              obj.regions++

              break
            }
            case 6: {
              yield {
                field: `${prefix}.image`,
                value: reader.string()
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

  export interface RequirementsGpuFieldEvent {
    field: '$.gpu'
    value: string
  }

  export interface RequirementsMinMemoryMibFieldEvent {
    field: '$.minMemoryMib'
    value: number
  }

  export interface RequirementsCountFieldEvent {
    field: '$.count'
    value: number
  }

  export interface RequirementsTeeKindsFieldEvent {
    field: '$.teeKinds[]'
    index: number
    value: string
  }

  export interface RequirementsRegionsFieldEvent {
    field: '$.regions[]'
    index: number
    value: string
  }

  export interface RequirementsImageFieldEvent {
    field: '$.image'
    value: string
  }

  export function encode (obj: Partial<Requirements>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Requirements.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Requirements>): Requirements {
    return decodeMessage(buf, Requirements.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Requirements>): Generator<RequirementsGpuFieldEvent | RequirementsMinMemoryMibFieldEvent | RequirementsCountFieldEvent | RequirementsTeeKindsFieldEvent | RequirementsRegionsFieldEvent | RequirementsImageFieldEvent> {
    return streamMessage(buf, Requirements.codec(), opts)
  }
}

export interface Bid {
  version: number
  id: string
  renter: Uint8Array<ArrayBuffer>
  requirements?: Requirements
  maxPricePerGpuHour: bigint
  netuid: number
  durationS: number
  createdAt: bigint
  expiresAt: bigint
  sequence: bigint
  cancelled: boolean
  addrs: Uint8Array<ArrayBuffer>[]
}

export namespace Bid {
  let _codec: Codec<Bid>

  export const codec = (): Codec<Bid> => {
    if (_codec == null) {
      _codec = message<Bid>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.id != null && obj.id !== '')) {
          w.uint32(18)
          w.string(obj.id)
        }

        if ((obj.renter != null && obj.renter.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.renter)
        }

        if (obj.requirements != null) {
          w.uint32(34)
          Requirements.codec().encode(obj.requirements, w)
        }

        if ((obj.maxPricePerGpuHour != null && obj.maxPricePerGpuHour !== 0n)) {
          w.uint32(41)
          w.fixed64(obj.maxPricePerGpuHour)
        }

        if ((obj.netuid != null && obj.netuid !== 0)) {
          w.uint32(48)
          w.uint32(obj.netuid)
        }

        if ((obj.durationS != null && obj.durationS !== 0)) {
          w.uint32(56)
          w.uint32(obj.durationS)
        }

        if ((obj.createdAt != null && obj.createdAt !== 0n)) {
          w.uint32(65)
          w.fixed64(obj.createdAt)
        }

        if ((obj.expiresAt != null && obj.expiresAt !== 0n)) {
          w.uint32(73)
          w.fixed64(obj.expiresAt)
        }

        if ((obj.sequence != null && obj.sequence !== 0n)) {
          w.uint32(81)
          w.fixed64(obj.sequence)
        }

        if ((obj.cancelled != null && obj.cancelled !== false)) {
          w.uint32(88)
          w.bool(obj.cancelled)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(98)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          id: '',
          renter: EMPTY_BYTES,
          maxPricePerGpuHour: 0n,
          netuid: 0,
          durationS: 0,
          createdAt: 0n,
          expiresAt: 0n,
          sequence: 0n,
          cancelled: false,
          addrs: []
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
              obj.id = reader.string()
              break
            }
            case 3: {
              obj.renter = reader.bytes()
              break
            }
            case 4: {
              obj.requirements = Requirements.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.requirements
              })
              break
            }
            case 5: {
              obj.maxPricePerGpuHour = reader.fixed64()
              break
            }
            case 6: {
              obj.netuid = reader.uint32()
              break
            }
            case 7: {
              obj.durationS = reader.uint32()
              break
            }
            case 8: {
              obj.createdAt = reader.fixed64()
              break
            }
            case 9: {
              obj.expiresAt = reader.fixed64()
              break
            }
            case 10: {
              obj.sequence = reader.fixed64()
              break
            }
            case 11: {
              obj.cancelled = reader.bool()
              break
            }
            case 12: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.bytes())
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
          addrs: 0
        }

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
                field: `${prefix}.id`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.renter`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield * Requirements.codec().stream(reader, reader.uint32(), `${prefix}.requirements`, {
                limits: opts.limits?.requirements
              })

              break
            }
            case 5: {
              yield {
                field: `${prefix}.maxPricePerGpuHour`,
                value: reader.fixed64()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.netuid`,
                value: reader.uint32()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.durationS`,
                value: reader.uint32()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.createdAt`,
                value: reader.fixed64()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.expiresAt`,
                value: reader.fixed64()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.sequence`,
                value: reader.fixed64()
              }
              break
            }
            case 11: {
              yield {
                field: `${prefix}.cancelled`,
                value: reader.bool()
              }
              break
            }
            case 12: {
              if (opts.limits?.addrs != null && obj.addrs === opts.limits.addrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "addrs" had too many elements')
              }

              yield {
                field: `${prefix}.addrs[]`,
                index: obj.addrs,
                value: reader.bytes()
              }

              obj.addrs++

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

  export interface BidVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface BidIdFieldEvent {
    field: '$.id'
    value: string
  }

  export interface BidRenterFieldEvent {
    field: '$.renter'
    value: Uint8Array<ArrayBuffer>
  }

  export interface BidRequirementsGpuFieldEvent {
    field: '$.requirements.gpu'
    value: string
  }

  export interface BidRequirementsMinMemoryMibFieldEvent {
    field: '$.requirements.minMemoryMib'
    value: number
  }

  export interface BidRequirementsCountFieldEvent {
    field: '$.requirements.count'
    value: number
  }

  export interface BidRequirementsTeeKindsFieldEvent {
    field: '$.requirements.teeKinds[]'
    index: number
    value: string
  }

  export interface BidRequirementsRegionsFieldEvent {
    field: '$.requirements.regions[]'
    index: number
    value: string
  }

  export interface BidRequirementsImageFieldEvent {
    field: '$.requirements.image'
    value: string
  }

  export interface BidMaxPricePerGpuHourFieldEvent {
    field: '$.maxPricePerGpuHour'
    value: bigint
  }

  export interface BidNetuidFieldEvent {
    field: '$.netuid'
    value: number
  }

  export interface BidDurationSFieldEvent {
    field: '$.durationS'
    value: number
  }

  export interface BidCreatedAtFieldEvent {
    field: '$.createdAt'
    value: bigint
  }

  export interface BidExpiresAtFieldEvent {
    field: '$.expiresAt'
    value: bigint
  }

  export interface BidSequenceFieldEvent {
    field: '$.sequence'
    value: bigint
  }

  export interface BidCancelledFieldEvent {
    field: '$.cancelled'
    value: boolean
  }

  export interface BidAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Bid>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Bid.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Bid>): Bid {
    return decodeMessage(buf, Bid.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Bid>): Generator<BidVersionFieldEvent | BidIdFieldEvent | BidRenterFieldEvent | BidRequirementsGpuFieldEvent | BidRequirementsMinMemoryMibFieldEvent | BidRequirementsCountFieldEvent | BidRequirementsTeeKindsFieldEvent | BidRequirementsRegionsFieldEvent | BidRequirementsImageFieldEvent | BidMaxPricePerGpuHourFieldEvent | BidNetuidFieldEvent | BidDurationSFieldEvent | BidCreatedAtFieldEvent | BidExpiresAtFieldEvent | BidSequenceFieldEvent | BidCancelledFieldEvent | BidAddrsFieldEvent> {
    return streamMessage(buf, Bid.codec(), opts)
  }
}

export interface Envelope {
  body: Uint8Array<ArrayBuffer>
  signer?: SignerCert
  signature: Uint8Array<ArrayBuffer>
}

export namespace Envelope {
  let _codec: Codec<Envelope>

  export const codec = (): Codec<Envelope> => {
    if (_codec == null) {
      _codec = message<Envelope>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.body != null && obj.body.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.body)
        }

        if (obj.signer != null) {
          w.uint32(18)
          SignerCert.codec().encode(obj.signer, w)
        }

        if ((obj.signature != null && obj.signature.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.signature)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          body: EMPTY_BYTES,
          signature: EMPTY_BYTES
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.body = reader.bytes()
              break
            }
            case 2: {
              obj.signer = SignerCert.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.signer
              })
              break
            }
            case 3: {
              obj.signature = reader.bytes()
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
                field: `${prefix}.body`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield * SignerCert.codec().stream(reader, reader.uint32(), `${prefix}.signer`, {
                limits: opts.limits?.signer
              })

              break
            }
            case 3: {
              yield {
                field: `${prefix}.signature`,
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

  export interface EnvelopeBodyFieldEvent {
    field: '$.body'
    value: Uint8Array<ArrayBuffer>
  }

  export interface EnvelopeSignerHotkeyFieldEvent {
    field: '$.signer.hotkey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface EnvelopeSignerSigningKeyFieldEvent {
    field: '$.signer.signingKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface EnvelopeSignerNotAfterFieldEvent {
    field: '$.signer.notAfter'
    value: bigint
  }

  export interface EnvelopeSignerSignatureFieldEvent {
    field: '$.signer.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface EnvelopeSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Envelope>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Envelope.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Envelope>): Envelope {
    return decodeMessage(buf, Envelope.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Envelope>): Generator<EnvelopeBodyFieldEvent | EnvelopeSignerHotkeyFieldEvent | EnvelopeSignerSigningKeyFieldEvent | EnvelopeSignerNotAfterFieldEvent | EnvelopeSignerSignatureFieldEvent | EnvelopeSignatureFieldEvent> {
    return streamMessage(buf, Envelope.codec(), opts)
  }
}
