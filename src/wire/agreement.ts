import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { EMPTY_BYTES } from './empty-bytes.js'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface MeasurementPolicy {
  measurements: Uint8Array<ArrayBuffer>[]
  allowDebug: boolean
}

export namespace MeasurementPolicy {
  let _codec: Codec<MeasurementPolicy>

  export const codec = (): Codec<MeasurementPolicy> => {
    if (_codec == null) {
      _codec = message<MeasurementPolicy>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.measurements != null && obj.measurements.length > 0) {
          for (const value of obj.measurements) {
            w.uint32(10)
            w.bytes(value)
          }
        }

        if ((obj.allowDebug != null && obj.allowDebug !== false)) {
          w.uint32(16)
          w.bool(obj.allowDebug)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          measurements: [],
          allowDebug: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.measurements != null && obj.measurements.length === opts.limits.measurements) {
                throw new MaxLengthError('Decode error - repeated field "measurements" had too many elements')
              }

              obj.measurements.push(reader.bytes())
              break
            }
            case 2: {
              obj.allowDebug = reader.bool()
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
          measurements: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.measurements != null && obj.measurements === opts.limits.measurements) {
                throw new MaxLengthError('Streaming decode error - repeated field "measurements" had too many elements')
              }

              yield {
                field: `${prefix}.measurements[]`,
                index: obj.measurements,
                value: reader.bytes()
              }

              obj.measurements++

              break
            }
            case 2: {
              yield {
                field: `${prefix}.allowDebug`,
                value: reader.bool()
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

  export interface MeasurementPolicyMeasurementsFieldEvent {
    field: '$.measurements[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface MeasurementPolicyAllowDebugFieldEvent {
    field: '$.allowDebug'
    value: boolean
  }

  export function encode (obj: Partial<MeasurementPolicy>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, MeasurementPolicy.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MeasurementPolicy>): MeasurementPolicy {
    return decodeMessage(buf, MeasurementPolicy.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MeasurementPolicy>): Generator<MeasurementPolicyMeasurementsFieldEvent | MeasurementPolicyAllowDebugFieldEvent> {
    return streamMessage(buf, MeasurementPolicy.codec(), opts)
  }
}

export interface EscrowTerms {
  arbiter: Uint8Array<ArrayBuffer>
  expiresAt: bigint
}

export namespace EscrowTerms {
  let _codec: Codec<EscrowTerms>

  export const codec = (): Codec<EscrowTerms> => {
    if (_codec == null) {
      _codec = message<EscrowTerms>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.arbiter != null && obj.arbiter.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.arbiter)
        }

        if ((obj.expiresAt != null && obj.expiresAt !== 0n)) {
          w.uint32(17)
          w.fixed64(obj.expiresAt)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          arbiter: EMPTY_BYTES,
          expiresAt: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.arbiter = reader.bytes()
              break
            }
            case 2: {
              obj.expiresAt = reader.fixed64()
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
                field: `${prefix}.arbiter`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.expiresAt`,
                value: reader.fixed64()
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

  export interface EscrowTermsArbiterFieldEvent {
    field: '$.arbiter'
    value: Uint8Array<ArrayBuffer>
  }

  export interface EscrowTermsExpiresAtFieldEvent {
    field: '$.expiresAt'
    value: bigint
  }

  export function encode (obj: Partial<EscrowTerms>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, EscrowTerms.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<EscrowTerms>): EscrowTerms {
    return decodeMessage(buf, EscrowTerms.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<EscrowTerms>): Generator<EscrowTermsArbiterFieldEvent | EscrowTermsExpiresAtFieldEvent> {
    return streamMessage(buf, EscrowTerms.codec(), opts)
  }
}

export interface AgreementTerms {
  version: number
  renter: Uint8Array<ArrayBuffer>
  supplier: Uint8Array<ArrayBuffer>
  enclavePeer: Uint8Array<ArrayBuffer>
  offerId: string
  offerSequence: bigint
  bidId: string
  bidSequence: bigint
  gpuModel: string
  memoryMib: number
  gpuCount: number
  pricePerGpuHour: bigint
  netuid: number
  durationS: number
  budget: bigint
  teeKind: string
  measurement?: MeasurementPolicy
  escrow?: EscrowTerms
  region: string
  createdAt: bigint
  startBy: bigint
  nonce: Uint8Array<ArrayBuffer>
  image?: string
}

export namespace AgreementTerms {
  let _codec: Codec<AgreementTerms>

  export const codec = (): Codec<AgreementTerms> => {
    if (_codec == null) {
      _codec = message<AgreementTerms>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.renter != null && obj.renter.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.renter)
        }

        if ((obj.supplier != null && obj.supplier.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.supplier)
        }

        if ((obj.enclavePeer != null && obj.enclavePeer.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.enclavePeer)
        }

        if ((obj.offerId != null && obj.offerId !== '')) {
          w.uint32(42)
          w.string(obj.offerId)
        }

        if ((obj.offerSequence != null && obj.offerSequence !== 0n)) {
          w.uint32(49)
          w.fixed64(obj.offerSequence)
        }

        if ((obj.bidId != null && obj.bidId !== '')) {
          w.uint32(58)
          w.string(obj.bidId)
        }

        if ((obj.bidSequence != null && obj.bidSequence !== 0n)) {
          w.uint32(65)
          w.fixed64(obj.bidSequence)
        }

        if ((obj.gpuModel != null && obj.gpuModel !== '')) {
          w.uint32(74)
          w.string(obj.gpuModel)
        }

        if ((obj.memoryMib != null && obj.memoryMib !== 0)) {
          w.uint32(80)
          w.uint32(obj.memoryMib)
        }

        if ((obj.gpuCount != null && obj.gpuCount !== 0)) {
          w.uint32(88)
          w.uint32(obj.gpuCount)
        }

        if ((obj.pricePerGpuHour != null && obj.pricePerGpuHour !== 0n)) {
          w.uint32(97)
          w.fixed64(obj.pricePerGpuHour)
        }

        if ((obj.netuid != null && obj.netuid !== 0)) {
          w.uint32(104)
          w.uint32(obj.netuid)
        }

        if ((obj.durationS != null && obj.durationS !== 0)) {
          w.uint32(112)
          w.uint32(obj.durationS)
        }

        if ((obj.budget != null && obj.budget !== 0n)) {
          w.uint32(121)
          w.fixed64(obj.budget)
        }

        if ((obj.teeKind != null && obj.teeKind !== '')) {
          w.uint32(130)
          w.string(obj.teeKind)
        }

        if (obj.measurement != null) {
          w.uint32(138)
          MeasurementPolicy.codec().encode(obj.measurement, w)
        }

        if (obj.escrow != null) {
          w.uint32(146)
          EscrowTerms.codec().encode(obj.escrow, w)
        }

        if ((obj.region != null && obj.region !== '')) {
          w.uint32(154)
          w.string(obj.region)
        }

        if ((obj.createdAt != null && obj.createdAt !== 0n)) {
          w.uint32(161)
          w.fixed64(obj.createdAt)
        }

        if ((obj.startBy != null && obj.startBy !== 0n)) {
          w.uint32(169)
          w.fixed64(obj.startBy)
        }

        if ((obj.nonce != null && obj.nonce.byteLength > 0)) {
          w.uint32(178)
          w.bytes(obj.nonce)
        }

        if (obj.image != null) {
          w.uint32(186)
          w.string(obj.image)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          renter: EMPTY_BYTES,
          supplier: EMPTY_BYTES,
          enclavePeer: EMPTY_BYTES,
          offerId: '',
          offerSequence: 0n,
          bidId: '',
          bidSequence: 0n,
          gpuModel: '',
          memoryMib: 0,
          gpuCount: 0,
          pricePerGpuHour: 0n,
          netuid: 0,
          durationS: 0,
          budget: 0n,
          teeKind: '',
          region: '',
          createdAt: 0n,
          startBy: 0n,
          nonce: EMPTY_BYTES
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
              obj.renter = reader.bytes()
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
              obj.offerId = reader.string()
              break
            }
            case 6: {
              obj.offerSequence = reader.fixed64()
              break
            }
            case 7: {
              obj.bidId = reader.string()
              break
            }
            case 8: {
              obj.bidSequence = reader.fixed64()
              break
            }
            case 9: {
              obj.gpuModel = reader.string()
              break
            }
            case 10: {
              obj.memoryMib = reader.uint32()
              break
            }
            case 11: {
              obj.gpuCount = reader.uint32()
              break
            }
            case 12: {
              obj.pricePerGpuHour = reader.fixed64()
              break
            }
            case 13: {
              obj.netuid = reader.uint32()
              break
            }
            case 14: {
              obj.durationS = reader.uint32()
              break
            }
            case 15: {
              obj.budget = reader.fixed64()
              break
            }
            case 16: {
              obj.teeKind = reader.string()
              break
            }
            case 17: {
              obj.measurement = MeasurementPolicy.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.measurement
              })
              break
            }
            case 18: {
              obj.escrow = EscrowTerms.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.escrow
              })
              break
            }
            case 19: {
              obj.region = reader.string()
              break
            }
            case 20: {
              obj.createdAt = reader.fixed64()
              break
            }
            case 21: {
              obj.startBy = reader.fixed64()
              break
            }
            case 22: {
              obj.nonce = reader.bytes()
              break
            }
            case 23: {
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
                field: `${prefix}.renter`,
                value: reader.bytes()
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
              yield {
                field: `${prefix}.offerId`,
                value: reader.string()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.offerSequence`,
                value: reader.fixed64()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.bidId`,
                value: reader.string()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.bidSequence`,
                value: reader.fixed64()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.gpuModel`,
                value: reader.string()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.memoryMib`,
                value: reader.uint32()
              }
              break
            }
            case 11: {
              yield {
                field: `${prefix}.gpuCount`,
                value: reader.uint32()
              }
              break
            }
            case 12: {
              yield {
                field: `${prefix}.pricePerGpuHour`,
                value: reader.fixed64()
              }
              break
            }
            case 13: {
              yield {
                field: `${prefix}.netuid`,
                value: reader.uint32()
              }
              break
            }
            case 14: {
              yield {
                field: `${prefix}.durationS`,
                value: reader.uint32()
              }
              break
            }
            case 15: {
              yield {
                field: `${prefix}.budget`,
                value: reader.fixed64()
              }
              break
            }
            case 16: {
              yield {
                field: `${prefix}.teeKind`,
                value: reader.string()
              }
              break
            }
            case 17: {
              yield * MeasurementPolicy.codec().stream(reader, reader.uint32(), `${prefix}.measurement`, {
                limits: opts.limits?.measurement
              })

              break
            }
            case 18: {
              yield * EscrowTerms.codec().stream(reader, reader.uint32(), `${prefix}.escrow`, {
                limits: opts.limits?.escrow
              })

              break
            }
            case 19: {
              yield {
                field: `${prefix}.region`,
                value: reader.string()
              }
              break
            }
            case 20: {
              yield {
                field: `${prefix}.createdAt`,
                value: reader.fixed64()
              }
              break
            }
            case 21: {
              yield {
                field: `${prefix}.startBy`,
                value: reader.fixed64()
              }
              break
            }
            case 22: {
              yield {
                field: `${prefix}.nonce`,
                value: reader.bytes()
              }
              break
            }
            case 23: {
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

  export interface AgreementTermsVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface AgreementTermsRenterFieldEvent {
    field: '$.renter'
    value: Uint8Array<ArrayBuffer>
  }

  export interface AgreementTermsSupplierFieldEvent {
    field: '$.supplier'
    value: Uint8Array<ArrayBuffer>
  }

  export interface AgreementTermsEnclavePeerFieldEvent {
    field: '$.enclavePeer'
    value: Uint8Array<ArrayBuffer>
  }

  export interface AgreementTermsOfferIdFieldEvent {
    field: '$.offerId'
    value: string
  }

  export interface AgreementTermsOfferSequenceFieldEvent {
    field: '$.offerSequence'
    value: bigint
  }

  export interface AgreementTermsBidIdFieldEvent {
    field: '$.bidId'
    value: string
  }

  export interface AgreementTermsBidSequenceFieldEvent {
    field: '$.bidSequence'
    value: bigint
  }

  export interface AgreementTermsGpuModelFieldEvent {
    field: '$.gpuModel'
    value: string
  }

  export interface AgreementTermsMemoryMibFieldEvent {
    field: '$.memoryMib'
    value: number
  }

  export interface AgreementTermsGpuCountFieldEvent {
    field: '$.gpuCount'
    value: number
  }

  export interface AgreementTermsPricePerGpuHourFieldEvent {
    field: '$.pricePerGpuHour'
    value: bigint
  }

  export interface AgreementTermsNetuidFieldEvent {
    field: '$.netuid'
    value: number
  }

  export interface AgreementTermsDurationSFieldEvent {
    field: '$.durationS'
    value: number
  }

  export interface AgreementTermsBudgetFieldEvent {
    field: '$.budget'
    value: bigint
  }

  export interface AgreementTermsTeeKindFieldEvent {
    field: '$.teeKind'
    value: string
  }

  export interface AgreementTermsMeasurementMeasurementsFieldEvent {
    field: '$.measurement.measurements[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface AgreementTermsMeasurementAllowDebugFieldEvent {
    field: '$.measurement.allowDebug'
    value: boolean
  }

  export interface AgreementTermsEscrowArbiterFieldEvent {
    field: '$.escrow.arbiter'
    value: Uint8Array<ArrayBuffer>
  }

  export interface AgreementTermsEscrowExpiresAtFieldEvent {
    field: '$.escrow.expiresAt'
    value: bigint
  }

  export interface AgreementTermsRegionFieldEvent {
    field: '$.region'
    value: string
  }

  export interface AgreementTermsCreatedAtFieldEvent {
    field: '$.createdAt'
    value: bigint
  }

  export interface AgreementTermsStartByFieldEvent {
    field: '$.startBy'
    value: bigint
  }

  export interface AgreementTermsNonceFieldEvent {
    field: '$.nonce'
    value: Uint8Array<ArrayBuffer>
  }

  export interface AgreementTermsImageFieldEvent {
    field: '$.image'
    value: string
  }

  export function encode (obj: Partial<AgreementTerms>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, AgreementTerms.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AgreementTerms>): AgreementTerms {
    return decodeMessage(buf, AgreementTerms.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AgreementTerms>): Generator<AgreementTermsVersionFieldEvent | AgreementTermsRenterFieldEvent | AgreementTermsSupplierFieldEvent | AgreementTermsEnclavePeerFieldEvent | AgreementTermsOfferIdFieldEvent | AgreementTermsOfferSequenceFieldEvent | AgreementTermsBidIdFieldEvent | AgreementTermsBidSequenceFieldEvent | AgreementTermsGpuModelFieldEvent | AgreementTermsMemoryMibFieldEvent | AgreementTermsGpuCountFieldEvent | AgreementTermsPricePerGpuHourFieldEvent | AgreementTermsNetuidFieldEvent | AgreementTermsDurationSFieldEvent | AgreementTermsBudgetFieldEvent | AgreementTermsTeeKindFieldEvent | AgreementTermsMeasurementMeasurementsFieldEvent | AgreementTermsMeasurementAllowDebugFieldEvent | AgreementTermsEscrowArbiterFieldEvent | AgreementTermsEscrowExpiresAtFieldEvent | AgreementTermsRegionFieldEvent | AgreementTermsCreatedAtFieldEvent | AgreementTermsStartByFieldEvent | AgreementTermsNonceFieldEvent | AgreementTermsImageFieldEvent> {
    return streamMessage(buf, AgreementTerms.codec(), opts)
  }
}

export interface SignedAgreement {
  terms: Uint8Array<ArrayBuffer>
  renterCert?: SignerCert
  renterSignature: Uint8Array<ArrayBuffer>
  supplierCert?: SignerCert
  supplierSignature: Uint8Array<ArrayBuffer>
}

export namespace SignedAgreement {
  let _codec: Codec<SignedAgreement>

  export const codec = (): Codec<SignedAgreement> => {
    if (_codec == null) {
      _codec = message<SignedAgreement>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.terms != null && obj.terms.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.terms)
        }

        if (obj.renterCert != null) {
          w.uint32(18)
          SignerCert.codec().encode(obj.renterCert, w)
        }

        if ((obj.renterSignature != null && obj.renterSignature.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.renterSignature)
        }

        if (obj.supplierCert != null) {
          w.uint32(34)
          SignerCert.codec().encode(obj.supplierCert, w)
        }

        if ((obj.supplierSignature != null && obj.supplierSignature.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.supplierSignature)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          terms: EMPTY_BYTES,
          renterSignature: EMPTY_BYTES,
          supplierSignature: EMPTY_BYTES
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.terms = reader.bytes()
              break
            }
            case 2: {
              obj.renterCert = SignerCert.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.renterCert
              })
              break
            }
            case 3: {
              obj.renterSignature = reader.bytes()
              break
            }
            case 4: {
              obj.supplierCert = SignerCert.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.supplierCert
              })
              break
            }
            case 5: {
              obj.supplierSignature = reader.bytes()
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
                field: `${prefix}.terms`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield * SignerCert.codec().stream(reader, reader.uint32(), `${prefix}.renterCert`, {
                limits: opts.limits?.renterCert
              })

              break
            }
            case 3: {
              yield {
                field: `${prefix}.renterSignature`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield * SignerCert.codec().stream(reader, reader.uint32(), `${prefix}.supplierCert`, {
                limits: opts.limits?.supplierCert
              })

              break
            }
            case 5: {
              yield {
                field: `${prefix}.supplierSignature`,
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

  export interface SignedAgreementTermsFieldEvent {
    field: '$.terms'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedAgreementRenterCertHotkeyFieldEvent {
    field: '$.renterCert.hotkey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedAgreementRenterCertSigningKeyFieldEvent {
    field: '$.renterCert.signingKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedAgreementRenterCertNotAfterFieldEvent {
    field: '$.renterCert.notAfter'
    value: bigint
  }

  export interface SignedAgreementRenterCertSignatureFieldEvent {
    field: '$.renterCert.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedAgreementRenterSignatureFieldEvent {
    field: '$.renterSignature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedAgreementSupplierCertHotkeyFieldEvent {
    field: '$.supplierCert.hotkey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedAgreementSupplierCertSigningKeyFieldEvent {
    field: '$.supplierCert.signingKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedAgreementSupplierCertNotAfterFieldEvent {
    field: '$.supplierCert.notAfter'
    value: bigint
  }

  export interface SignedAgreementSupplierCertSignatureFieldEvent {
    field: '$.supplierCert.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedAgreementSupplierSignatureFieldEvent {
    field: '$.supplierSignature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SignedAgreement>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SignedAgreement.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedAgreement>): SignedAgreement {
    return decodeMessage(buf, SignedAgreement.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedAgreement>): Generator<SignedAgreementTermsFieldEvent | SignedAgreementRenterCertHotkeyFieldEvent | SignedAgreementRenterCertSigningKeyFieldEvent | SignedAgreementRenterCertNotAfterFieldEvent | SignedAgreementRenterCertSignatureFieldEvent | SignedAgreementRenterSignatureFieldEvent | SignedAgreementSupplierCertHotkeyFieldEvent | SignedAgreementSupplierCertSigningKeyFieldEvent | SignedAgreementSupplierCertNotAfterFieldEvent | SignedAgreementSupplierCertSignatureFieldEvent | SignedAgreementSupplierSignatureFieldEvent> {
    return streamMessage(buf, SignedAgreement.codec(), opts)
  }
}

export interface Propose {
  terms: Uint8Array<ArrayBuffer>
  renterCert?: SignerCert
  renterSignature: Uint8Array<ArrayBuffer>
  bid?: Envelope
}

export namespace Propose {
  let _codec: Codec<Propose>

  export const codec = (): Codec<Propose> => {
    if (_codec == null) {
      _codec = message<Propose>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.terms != null && obj.terms.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.terms)
        }

        if (obj.renterCert != null) {
          w.uint32(18)
          SignerCert.codec().encode(obj.renterCert, w)
        }

        if ((obj.renterSignature != null && obj.renterSignature.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.renterSignature)
        }

        if (obj.bid != null) {
          w.uint32(34)
          Envelope.codec().encode(obj.bid, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          terms: EMPTY_BYTES,
          renterSignature: EMPTY_BYTES
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.terms = reader.bytes()
              break
            }
            case 2: {
              obj.renterCert = SignerCert.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.renterCert
              })
              break
            }
            case 3: {
              obj.renterSignature = reader.bytes()
              break
            }
            case 4: {
              obj.bid = Envelope.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.bid
              })
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
                field: `${prefix}.terms`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield * SignerCert.codec().stream(reader, reader.uint32(), `${prefix}.renterCert`, {
                limits: opts.limits?.renterCert
              })

              break
            }
            case 3: {
              yield {
                field: `${prefix}.renterSignature`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield * Envelope.codec().stream(reader, reader.uint32(), `${prefix}.bid`, {
                limits: opts.limits?.bid
              })

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

  export interface ProposeTermsFieldEvent {
    field: '$.terms'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ProposeRenterCertHotkeyFieldEvent {
    field: '$.renterCert.hotkey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ProposeRenterCertSigningKeyFieldEvent {
    field: '$.renterCert.signingKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ProposeRenterCertNotAfterFieldEvent {
    field: '$.renterCert.notAfter'
    value: bigint
  }

  export interface ProposeRenterCertSignatureFieldEvent {
    field: '$.renterCert.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ProposeRenterSignatureFieldEvent {
    field: '$.renterSignature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ProposeBidBodyFieldEvent {
    field: '$.bid.body'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ProposeBidSignerHotkeyFieldEvent {
    field: '$.bid.signer.hotkey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ProposeBidSignerSigningKeyFieldEvent {
    field: '$.bid.signer.signingKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ProposeBidSignerNotAfterFieldEvent {
    field: '$.bid.signer.notAfter'
    value: bigint
  }

  export interface ProposeBidSignerSignatureFieldEvent {
    field: '$.bid.signer.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ProposeBidSignatureFieldEvent {
    field: '$.bid.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Propose>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Propose.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Propose>): Propose {
    return decodeMessage(buf, Propose.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Propose>): Generator<ProposeTermsFieldEvent | ProposeRenterCertHotkeyFieldEvent | ProposeRenterCertSigningKeyFieldEvent | ProposeRenterCertNotAfterFieldEvent | ProposeRenterCertSignatureFieldEvent | ProposeRenterSignatureFieldEvent | ProposeBidBodyFieldEvent | ProposeBidSignerHotkeyFieldEvent | ProposeBidSignerSigningKeyFieldEvent | ProposeBidSignerNotAfterFieldEvent | ProposeBidSignerSignatureFieldEvent | ProposeBidSignatureFieldEvent> {
    return streamMessage(buf, Propose.codec(), opts)
  }
}

export interface Accept {
  supplierCert?: SignerCert
  supplierSignature: Uint8Array<ArrayBuffer>
  holdUntil: bigint
}

export namespace Accept {
  let _codec: Codec<Accept>

  export const codec = (): Codec<Accept> => {
    if (_codec == null) {
      _codec = message<Accept>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.supplierCert != null) {
          w.uint32(10)
          SignerCert.codec().encode(obj.supplierCert, w)
        }

        if ((obj.supplierSignature != null && obj.supplierSignature.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.supplierSignature)
        }

        if ((obj.holdUntil != null && obj.holdUntil !== 0n)) {
          w.uint32(25)
          w.fixed64(obj.holdUntil)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          supplierSignature: EMPTY_BYTES,
          holdUntil: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.supplierCert = SignerCert.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.supplierCert
              })
              break
            }
            case 2: {
              obj.supplierSignature = reader.bytes()
              break
            }
            case 3: {
              obj.holdUntil = reader.fixed64()
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
              yield * SignerCert.codec().stream(reader, reader.uint32(), `${prefix}.supplierCert`, {
                limits: opts.limits?.supplierCert
              })

              break
            }
            case 2: {
              yield {
                field: `${prefix}.supplierSignature`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.holdUntil`,
                value: reader.fixed64()
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

  export interface AcceptSupplierCertHotkeyFieldEvent {
    field: '$.supplierCert.hotkey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface AcceptSupplierCertSigningKeyFieldEvent {
    field: '$.supplierCert.signingKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface AcceptSupplierCertNotAfterFieldEvent {
    field: '$.supplierCert.notAfter'
    value: bigint
  }

  export interface AcceptSupplierCertSignatureFieldEvent {
    field: '$.supplierCert.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface AcceptSupplierSignatureFieldEvent {
    field: '$.supplierSignature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface AcceptHoldUntilFieldEvent {
    field: '$.holdUntil'
    value: bigint
  }

  export function encode (obj: Partial<Accept>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Accept.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Accept>): Accept {
    return decodeMessage(buf, Accept.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Accept>): Generator<AcceptSupplierCertHotkeyFieldEvent | AcceptSupplierCertSigningKeyFieldEvent | AcceptSupplierCertNotAfterFieldEvent | AcceptSupplierCertSignatureFieldEvent | AcceptSupplierSignatureFieldEvent | AcceptHoldUntilFieldEvent> {
    return streamMessage(buf, Accept.codec(), opts)
  }
}

export interface Confirm {
  hash: Uint8Array<ArrayBuffer>
}

export namespace Confirm {
  let _codec: Codec<Confirm>

  export const codec = (): Codec<Confirm> => {
    if (_codec == null) {
      _codec = message<Confirm>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.hash != null && obj.hash.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.hash)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          hash: EMPTY_BYTES
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.hash = reader.bytes()
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
                field: `${prefix}.hash`,
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

  export interface ConfirmHashFieldEvent {
    field: '$.hash'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Confirm>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Confirm.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Confirm>): Confirm {
    return decodeMessage(buf, Confirm.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Confirm>): Generator<ConfirmHashFieldEvent> {
    return streamMessage(buf, Confirm.codec(), opts)
  }
}

export interface Committed {
  hash: Uint8Array<ArrayBuffer>
}

export namespace Committed {
  let _codec: Codec<Committed>

  export const codec = (): Codec<Committed> => {
    if (_codec == null) {
      _codec = message<Committed>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.hash != null && obj.hash.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.hash)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          hash: EMPTY_BYTES
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.hash = reader.bytes()
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
                field: `${prefix}.hash`,
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

  export interface CommittedHashFieldEvent {
    field: '$.hash'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Committed>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Committed.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Committed>): Committed {
    return decodeMessage(buf, Committed.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Committed>): Generator<CommittedHashFieldEvent> {
    return streamMessage(buf, Committed.codec(), opts)
  }
}

export interface Refusal {
  code: string
  reason: string
  offerSequence: bigint
}

export namespace Refusal {
  let _codec: Codec<Refusal>

  export const codec = (): Codec<Refusal> => {
    if (_codec == null) {
      _codec = message<Refusal>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.code != null && obj.code !== '')) {
          w.uint32(10)
          w.string(obj.code)
        }

        if ((obj.reason != null && obj.reason !== '')) {
          w.uint32(18)
          w.string(obj.reason)
        }

        if ((obj.offerSequence != null && obj.offerSequence !== 0n)) {
          w.uint32(25)
          w.fixed64(obj.offerSequence)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          code: '',
          reason: '',
          offerSequence: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.code = reader.string()
              break
            }
            case 2: {
              obj.reason = reader.string()
              break
            }
            case 3: {
              obj.offerSequence = reader.fixed64()
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
                field: `${prefix}.code`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.reason`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.offerSequence`,
                value: reader.fixed64()
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

  export interface RefusalCodeFieldEvent {
    field: '$.code'
    value: string
  }

  export interface RefusalReasonFieldEvent {
    field: '$.reason'
    value: string
  }

  export interface RefusalOfferSequenceFieldEvent {
    field: '$.offerSequence'
    value: bigint
  }

  export function encode (obj: Partial<Refusal>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Refusal.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Refusal>): Refusal {
    return decodeMessage(buf, Refusal.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Refusal>): Generator<RefusalCodeFieldEvent | RefusalReasonFieldEvent | RefusalOfferSequenceFieldEvent> {
    return streamMessage(buf, Refusal.codec(), opts)
  }
}

export interface SupplierReply {
  accept?: Accept
  committed?: Committed
  refusal?: Refusal
}

export namespace SupplierReply {
  let _codec: Codec<SupplierReply>

  export const codec = (): Codec<SupplierReply> => {
    if (_codec == null) {
      _codec = message<SupplierReply>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.accept != null) {
          w.uint32(10)
          Accept.codec().encode(obj.accept, w)
        }

        if (obj.committed != null) {
          w.uint32(18)
          Committed.codec().encode(obj.committed, w)
        }

        if (obj.refusal != null) {
          w.uint32(26)
          Refusal.codec().encode(obj.refusal, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {}

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.accept = Accept.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.accept
              })
              break
            }
            case 2: {
              obj.committed = Committed.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.committed
              })
              break
            }
            case 3: {
              obj.refusal = Refusal.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.refusal
              })
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
              yield * Accept.codec().stream(reader, reader.uint32(), `${prefix}.accept`, {
                limits: opts.limits?.accept
              })

              break
            }
            case 2: {
              yield * Committed.codec().stream(reader, reader.uint32(), `${prefix}.committed`, {
                limits: opts.limits?.committed
              })

              break
            }
            case 3: {
              yield * Refusal.codec().stream(reader, reader.uint32(), `${prefix}.refusal`, {
                limits: opts.limits?.refusal
              })

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

  export interface SupplierReplyAcceptSupplierCertHotkeyFieldEvent {
    field: '$.accept.supplierCert.hotkey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SupplierReplyAcceptSupplierCertSigningKeyFieldEvent {
    field: '$.accept.supplierCert.signingKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SupplierReplyAcceptSupplierCertNotAfterFieldEvent {
    field: '$.accept.supplierCert.notAfter'
    value: bigint
  }

  export interface SupplierReplyAcceptSupplierCertSignatureFieldEvent {
    field: '$.accept.supplierCert.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SupplierReplyAcceptSupplierSignatureFieldEvent {
    field: '$.accept.supplierSignature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SupplierReplyAcceptHoldUntilFieldEvent {
    field: '$.accept.holdUntil'
    value: bigint
  }

  export interface SupplierReplyCommittedHashFieldEvent {
    field: '$.committed.hash'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SupplierReplyRefusalCodeFieldEvent {
    field: '$.refusal.code'
    value: string
  }

  export interface SupplierReplyRefusalReasonFieldEvent {
    field: '$.refusal.reason'
    value: string
  }

  export interface SupplierReplyRefusalOfferSequenceFieldEvent {
    field: '$.refusal.offerSequence'
    value: bigint
  }

  export function encode (obj: Partial<SupplierReply>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SupplierReply.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SupplierReply>): SupplierReply {
    return decodeMessage(buf, SupplierReply.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SupplierReply>): Generator<SupplierReplyAcceptSupplierCertHotkeyFieldEvent | SupplierReplyAcceptSupplierCertSigningKeyFieldEvent | SupplierReplyAcceptSupplierCertNotAfterFieldEvent | SupplierReplyAcceptSupplierCertSignatureFieldEvent | SupplierReplyAcceptSupplierSignatureFieldEvent | SupplierReplyAcceptHoldUntilFieldEvent | SupplierReplyCommittedHashFieldEvent | SupplierReplyRefusalCodeFieldEvent | SupplierReplyRefusalReasonFieldEvent | SupplierReplyRefusalOfferSequenceFieldEvent> {
    return streamMessage(buf, SupplierReply.codec(), opts)
  }
}

export interface RenterReply {
  confirm?: Confirm
  refusal?: Refusal
}

export namespace RenterReply {
  let _codec: Codec<RenterReply>

  export const codec = (): Codec<RenterReply> => {
    if (_codec == null) {
      _codec = message<RenterReply>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.confirm != null) {
          w.uint32(10)
          Confirm.codec().encode(obj.confirm, w)
        }

        if (obj.refusal != null) {
          w.uint32(18)
          Refusal.codec().encode(obj.refusal, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {}

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.confirm = Confirm.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.confirm
              })
              break
            }
            case 2: {
              obj.refusal = Refusal.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.refusal
              })
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
              yield * Confirm.codec().stream(reader, reader.uint32(), `${prefix}.confirm`, {
                limits: opts.limits?.confirm
              })

              break
            }
            case 2: {
              yield * Refusal.codec().stream(reader, reader.uint32(), `${prefix}.refusal`, {
                limits: opts.limits?.refusal
              })

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

  export interface RenterReplyConfirmHashFieldEvent {
    field: '$.confirm.hash'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RenterReplyRefusalCodeFieldEvent {
    field: '$.refusal.code'
    value: string
  }

  export interface RenterReplyRefusalReasonFieldEvent {
    field: '$.refusal.reason'
    value: string
  }

  export interface RenterReplyRefusalOfferSequenceFieldEvent {
    field: '$.refusal.offerSequence'
    value: bigint
  }

  export function encode (obj: Partial<RenterReply>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, RenterReply.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RenterReply>): RenterReply {
    return decodeMessage(buf, RenterReply.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RenterReply>): Generator<RenterReplyConfirmHashFieldEvent | RenterReplyRefusalCodeFieldEvent | RenterReplyRefusalReasonFieldEvent | RenterReplyRefusalOfferSequenceFieldEvent> {
    return streamMessage(buf, RenterReply.codec(), opts)
  }
}

export interface OffersRequest {
  gpu: string
}

export namespace OffersRequest {
  let _codec: Codec<OffersRequest>

  export const codec = (): Codec<OffersRequest> => {
    if (_codec == null) {
      _codec = message<OffersRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.gpu != null && obj.gpu !== '')) {
          w.uint32(10)
          w.string(obj.gpu)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          gpu: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.gpu = reader.string()
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
                field: `${prefix}.gpu`,
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

  export interface OffersRequestGpuFieldEvent {
    field: '$.gpu'
    value: string
  }

  export function encode (obj: Partial<OffersRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, OffersRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<OffersRequest>): OffersRequest {
    return decodeMessage(buf, OffersRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<OffersRequest>): Generator<OffersRequestGpuFieldEvent> {
    return streamMessage(buf, OffersRequest.codec(), opts)
  }
}

export interface OffersResponse {
  offers: Envelope[]
}

export namespace OffersResponse {
  let _codec: Codec<OffersResponse>

  export const codec = (): Codec<OffersResponse> => {
    if (_codec == null) {
      _codec = message<OffersResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.offers != null && obj.offers.length > 0) {
          for (const value of obj.offers) {
            w.uint32(10)
            Envelope.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          offers: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.offers != null && obj.offers.length === opts.limits.offers) {
                throw new MaxLengthError('Decode error - repeated field "offers" had too many elements')
              }

              obj.offers.push(Envelope.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.offers$
              }))
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
          offers: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.offers != null && obj.offers === opts.limits.offers) {
                throw new MaxLengthError('Streaming decode error - repeated field "offers" had too many elements')
              }

              for (const evt of Envelope.codec().stream(reader, reader.uint32(), `${prefix}.offers[]`, {
                limits: opts.limits?.offers$
              })) {
                yield {
                  ...evt,
                  index: obj.offers
                }
              }

              obj.offers++

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

  export interface OffersResponseOffersBodyFieldEvent {
    field: '$.offers[].body'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface OffersResponseOffersSignerHotkeyFieldEvent {
    field: '$.offers[].signer.hotkey'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface OffersResponseOffersSignerSigningKeyFieldEvent {
    field: '$.offers[].signer.signingKey'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface OffersResponseOffersSignerNotAfterFieldEvent {
    field: '$.offers[].signer.notAfter'
    value: bigint
    index: number
  }

  export interface OffersResponseOffersSignerSignatureFieldEvent {
    field: '$.offers[].signer.signature'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface OffersResponseOffersSignatureFieldEvent {
    field: '$.offers[].signature'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export function encode (obj: Partial<OffersResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, OffersResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<OffersResponse>): OffersResponse {
    return decodeMessage(buf, OffersResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<OffersResponse>): Generator<OffersResponseOffersBodyFieldEvent | OffersResponseOffersSignerHotkeyFieldEvent | OffersResponseOffersSignerSigningKeyFieldEvent | OffersResponseOffersSignerNotAfterFieldEvent | OffersResponseOffersSignerSignatureFieldEvent | OffersResponseOffersSignatureFieldEvent> {
    return streamMessage(buf, OffersResponse.codec(), opts)
  }
}

export interface Withdraw {
  agreement: Uint8Array<ArrayBuffer>
  renterCert?: SignerCert
  renterSignature: Uint8Array<ArrayBuffer>
}

export namespace Withdraw {
  let _codec: Codec<Withdraw>

  export const codec = (): Codec<Withdraw> => {
    if (_codec == null) {
      _codec = message<Withdraw>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.agreement != null && obj.agreement.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.agreement)
        }

        if (obj.renterCert != null) {
          w.uint32(18)
          SignerCert.codec().encode(obj.renterCert, w)
        }

        if ((obj.renterSignature != null && obj.renterSignature.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.renterSignature)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          agreement: EMPTY_BYTES,
          renterSignature: EMPTY_BYTES
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.agreement = reader.bytes()
              break
            }
            case 2: {
              obj.renterCert = SignerCert.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.renterCert
              })
              break
            }
            case 3: {
              obj.renterSignature = reader.bytes()
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
                field: `${prefix}.agreement`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield * SignerCert.codec().stream(reader, reader.uint32(), `${prefix}.renterCert`, {
                limits: opts.limits?.renterCert
              })

              break
            }
            case 3: {
              yield {
                field: `${prefix}.renterSignature`,
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

  export interface WithdrawAgreementFieldEvent {
    field: '$.agreement'
    value: Uint8Array<ArrayBuffer>
  }

  export interface WithdrawRenterCertHotkeyFieldEvent {
    field: '$.renterCert.hotkey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface WithdrawRenterCertSigningKeyFieldEvent {
    field: '$.renterCert.signingKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface WithdrawRenterCertNotAfterFieldEvent {
    field: '$.renterCert.notAfter'
    value: bigint
  }

  export interface WithdrawRenterCertSignatureFieldEvent {
    field: '$.renterCert.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface WithdrawRenterSignatureFieldEvent {
    field: '$.renterSignature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Withdraw>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Withdraw.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Withdraw>): Withdraw {
    return decodeMessage(buf, Withdraw.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Withdraw>): Generator<WithdrawAgreementFieldEvent | WithdrawRenterCertHotkeyFieldEvent | WithdrawRenterCertSigningKeyFieldEvent | WithdrawRenterCertNotAfterFieldEvent | WithdrawRenterCertSignatureFieldEvent | WithdrawRenterSignatureFieldEvent> {
    return streamMessage(buf, Withdraw.codec(), opts)
  }
}

export interface WithdrawReply {
  code: string
}

export namespace WithdrawReply {
  let _codec: Codec<WithdrawReply>

  export const codec = (): Codec<WithdrawReply> => {
    if (_codec == null) {
      _codec = message<WithdrawReply>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.code != null && obj.code !== '')) {
          w.uint32(10)
          w.string(obj.code)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          code: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.code = reader.string()
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
                field: `${prefix}.code`,
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

  export interface WithdrawReplyCodeFieldEvent {
    field: '$.code'
    value: string
  }

  export function encode (obj: Partial<WithdrawReply>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, WithdrawReply.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WithdrawReply>): WithdrawReply {
    return decodeMessage(buf, WithdrawReply.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WithdrawReply>): Generator<WithdrawReplyCodeFieldEvent> {
    return streamMessage(buf, WithdrawReply.codec(), opts)
  }
}

export interface StoredAgreement {
  agreement?: SignedAgreement
  role: string
  status: string
  updatedAt: bigint
  peer: string
}

export namespace StoredAgreement {
  let _codec: Codec<StoredAgreement>

  export const codec = (): Codec<StoredAgreement> => {
    if (_codec == null) {
      _codec = message<StoredAgreement>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.agreement != null) {
          w.uint32(10)
          SignedAgreement.codec().encode(obj.agreement, w)
        }

        if ((obj.role != null && obj.role !== '')) {
          w.uint32(18)
          w.string(obj.role)
        }

        if ((obj.status != null && obj.status !== '')) {
          w.uint32(26)
          w.string(obj.status)
        }

        if ((obj.updatedAt != null && obj.updatedAt !== 0n)) {
          w.uint32(33)
          w.fixed64(obj.updatedAt)
        }

        if ((obj.peer != null && obj.peer !== '')) {
          w.uint32(42)
          w.string(obj.peer)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          role: '',
          status: '',
          updatedAt: 0n,
          peer: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.agreement = SignedAgreement.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.agreement
              })
              break
            }
            case 2: {
              obj.role = reader.string()
              break
            }
            case 3: {
              obj.status = reader.string()
              break
            }
            case 4: {
              obj.updatedAt = reader.fixed64()
              break
            }
            case 5: {
              obj.peer = reader.string()
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
              yield * SignedAgreement.codec().stream(reader, reader.uint32(), `${prefix}.agreement`, {
                limits: opts.limits?.agreement
              })

              break
            }
            case 2: {
              yield {
                field: `${prefix}.role`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.status`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.updatedAt`,
                value: reader.fixed64()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.peer`,
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

  export interface StoredAgreementAgreementTermsFieldEvent {
    field: '$.agreement.terms'
    value: Uint8Array<ArrayBuffer>
  }

  export interface StoredAgreementAgreementRenterCertHotkeyFieldEvent {
    field: '$.agreement.renterCert.hotkey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface StoredAgreementAgreementRenterCertSigningKeyFieldEvent {
    field: '$.agreement.renterCert.signingKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface StoredAgreementAgreementRenterCertNotAfterFieldEvent {
    field: '$.agreement.renterCert.notAfter'
    value: bigint
  }

  export interface StoredAgreementAgreementRenterCertSignatureFieldEvent {
    field: '$.agreement.renterCert.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface StoredAgreementAgreementRenterSignatureFieldEvent {
    field: '$.agreement.renterSignature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface StoredAgreementAgreementSupplierCertHotkeyFieldEvent {
    field: '$.agreement.supplierCert.hotkey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface StoredAgreementAgreementSupplierCertSigningKeyFieldEvent {
    field: '$.agreement.supplierCert.signingKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface StoredAgreementAgreementSupplierCertNotAfterFieldEvent {
    field: '$.agreement.supplierCert.notAfter'
    value: bigint
  }

  export interface StoredAgreementAgreementSupplierCertSignatureFieldEvent {
    field: '$.agreement.supplierCert.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface StoredAgreementAgreementSupplierSignatureFieldEvent {
    field: '$.agreement.supplierSignature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface StoredAgreementRoleFieldEvent {
    field: '$.role'
    value: string
  }

  export interface StoredAgreementStatusFieldEvent {
    field: '$.status'
    value: string
  }

  export interface StoredAgreementUpdatedAtFieldEvent {
    field: '$.updatedAt'
    value: bigint
  }

  export interface StoredAgreementPeerFieldEvent {
    field: '$.peer'
    value: string
  }

  export function encode (obj: Partial<StoredAgreement>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, StoredAgreement.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<StoredAgreement>): StoredAgreement {
    return decodeMessage(buf, StoredAgreement.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<StoredAgreement>): Generator<StoredAgreementAgreementTermsFieldEvent | StoredAgreementAgreementRenterCertHotkeyFieldEvent | StoredAgreementAgreementRenterCertSigningKeyFieldEvent | StoredAgreementAgreementRenterCertNotAfterFieldEvent | StoredAgreementAgreementRenterCertSignatureFieldEvent | StoredAgreementAgreementRenterSignatureFieldEvent | StoredAgreementAgreementSupplierCertHotkeyFieldEvent | StoredAgreementAgreementSupplierCertSigningKeyFieldEvent | StoredAgreementAgreementSupplierCertNotAfterFieldEvent | StoredAgreementAgreementSupplierCertSignatureFieldEvent | StoredAgreementAgreementSupplierSignatureFieldEvent | StoredAgreementRoleFieldEvent | StoredAgreementStatusFieldEvent | StoredAgreementUpdatedAtFieldEvent | StoredAgreementPeerFieldEvent> {
    return streamMessage(buf, StoredAgreement.codec(), opts)
  }
}

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
