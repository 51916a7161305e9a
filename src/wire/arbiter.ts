import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { EMPTY_BYTES } from './empty-bytes.js'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface ArbiterTerms {
  escrowId: Uint8Array<ArrayBuffer>
  agreementHash: Uint8Array<ArrayBuffer>
  payer: string
  payee: string
  arbiter: string
  amount: bigint
  netuid: number
  voucherKey: Uint8Array<ArrayBuffer>
  expiresAt: bigint
}

export namespace ArbiterTerms {
  let _codec: Codec<ArbiterTerms>

  export const codec = (): Codec<ArbiterTerms> => {
    if (_codec == null) {
      _codec = message<ArbiterTerms>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.escrowId != null && obj.escrowId.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.escrowId)
        }

        if ((obj.agreementHash != null && obj.agreementHash.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.agreementHash)
        }

        if ((obj.payer != null && obj.payer !== '')) {
          w.uint32(26)
          w.string(obj.payer)
        }

        if ((obj.payee != null && obj.payee !== '')) {
          w.uint32(34)
          w.string(obj.payee)
        }

        if ((obj.arbiter != null && obj.arbiter !== '')) {
          w.uint32(42)
          w.string(obj.arbiter)
        }

        if ((obj.amount != null && obj.amount !== 0n)) {
          w.uint32(49)
          w.fixed64(obj.amount)
        }

        if ((obj.netuid != null && obj.netuid !== 0)) {
          w.uint32(56)
          w.uint32(obj.netuid)
        }

        if ((obj.voucherKey != null && obj.voucherKey.byteLength > 0)) {
          w.uint32(66)
          w.bytes(obj.voucherKey)
        }

        if ((obj.expiresAt != null && obj.expiresAt !== 0n)) {
          w.uint32(73)
          w.fixed64(obj.expiresAt)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          escrowId: EMPTY_BYTES,
          agreementHash: EMPTY_BYTES,
          payer: '',
          payee: '',
          arbiter: '',
          amount: 0n,
          netuid: 0,
          voucherKey: EMPTY_BYTES,
          expiresAt: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.escrowId = reader.bytes()
              break
            }
            case 2: {
              obj.agreementHash = reader.bytes()
              break
            }
            case 3: {
              obj.payer = reader.string()
              break
            }
            case 4: {
              obj.payee = reader.string()
              break
            }
            case 5: {
              obj.arbiter = reader.string()
              break
            }
            case 6: {
              obj.amount = reader.fixed64()
              break
            }
            case 7: {
              obj.netuid = reader.uint32()
              break
            }
            case 8: {
              obj.voucherKey = reader.bytes()
              break
            }
            case 9: {
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
                field: `${prefix}.escrowId`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.agreementHash`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.payer`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.payee`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.arbiter`,
                value: reader.string()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.amount`,
                value: reader.fixed64()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.netuid`,
                value: reader.uint32()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.voucherKey`,
                value: reader.bytes()
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

  export interface ArbiterTermsEscrowIdFieldEvent {
    field: '$.escrowId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ArbiterTermsAgreementHashFieldEvent {
    field: '$.agreementHash'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ArbiterTermsPayerFieldEvent {
    field: '$.payer'
    value: string
  }

  export interface ArbiterTermsPayeeFieldEvent {
    field: '$.payee'
    value: string
  }

  export interface ArbiterTermsArbiterFieldEvent {
    field: '$.arbiter'
    value: string
  }

  export interface ArbiterTermsAmountFieldEvent {
    field: '$.amount'
    value: bigint
  }

  export interface ArbiterTermsNetuidFieldEvent {
    field: '$.netuid'
    value: number
  }

  export interface ArbiterTermsVoucherKeyFieldEvent {
    field: '$.voucherKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ArbiterTermsExpiresAtFieldEvent {
    field: '$.expiresAt'
    value: bigint
  }

  export function encode (obj: Partial<ArbiterTerms>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ArbiterTerms.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ArbiterTerms>): ArbiterTerms {
    return decodeMessage(buf, ArbiterTerms.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ArbiterTerms>): Generator<ArbiterTermsEscrowIdFieldEvent | ArbiterTermsAgreementHashFieldEvent | ArbiterTermsPayerFieldEvent | ArbiterTermsPayeeFieldEvent | ArbiterTermsArbiterFieldEvent | ArbiterTermsAmountFieldEvent | ArbiterTermsNetuidFieldEvent | ArbiterTermsVoucherKeyFieldEvent | ArbiterTermsExpiresAtFieldEvent> {
    return streamMessage(buf, ArbiterTerms.codec(), opts)
  }
}

export interface ArbiterVoucher {
  cumulative: bigint
  sequence: bigint
  signature: Uint8Array<ArrayBuffer>
}

export namespace ArbiterVoucher {
  let _codec: Codec<ArbiterVoucher>

  export const codec = (): Codec<ArbiterVoucher> => {
    if (_codec == null) {
      _codec = message<ArbiterVoucher>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.cumulative != null && obj.cumulative !== 0n)) {
          w.uint32(9)
          w.fixed64(obj.cumulative)
        }

        if ((obj.sequence != null && obj.sequence !== 0n)) {
          w.uint32(17)
          w.fixed64(obj.sequence)
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
          cumulative: 0n,
          sequence: 0n,
          signature: EMPTY_BYTES
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.cumulative = reader.fixed64()
              break
            }
            case 2: {
              obj.sequence = reader.fixed64()
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
                field: `${prefix}.cumulative`,
                value: reader.fixed64()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.sequence`,
                value: reader.fixed64()
              }
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

  export interface ArbiterVoucherCumulativeFieldEvent {
    field: '$.cumulative'
    value: bigint
  }

  export interface ArbiterVoucherSequenceFieldEvent {
    field: '$.sequence'
    value: bigint
  }

  export interface ArbiterVoucherSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<ArbiterVoucher>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ArbiterVoucher.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ArbiterVoucher>): ArbiterVoucher {
    return decodeMessage(buf, ArbiterVoucher.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ArbiterVoucher>): Generator<ArbiterVoucherCumulativeFieldEvent | ArbiterVoucherSequenceFieldEvent | ArbiterVoucherSignatureFieldEvent> {
    return streamMessage(buf, ArbiterVoucher.codec(), opts)
  }
}

export interface ArbiterPayout {
  to: string
  amount: bigint
}

export namespace ArbiterPayout {
  let _codec: Codec<ArbiterPayout>

  export const codec = (): Codec<ArbiterPayout> => {
    if (_codec == null) {
      _codec = message<ArbiterPayout>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.to != null && obj.to !== '')) {
          w.uint32(10)
          w.string(obj.to)
        }

        if ((obj.amount != null && obj.amount !== 0n)) {
          w.uint32(17)
          w.fixed64(obj.amount)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          to: '',
          amount: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.to = reader.string()
              break
            }
            case 2: {
              obj.amount = reader.fixed64()
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
                field: `${prefix}.to`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.amount`,
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

  export interface ArbiterPayoutToFieldEvent {
    field: '$.to'
    value: string
  }

  export interface ArbiterPayoutAmountFieldEvent {
    field: '$.amount'
    value: bigint
  }

  export function encode (obj: Partial<ArbiterPayout>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ArbiterPayout.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ArbiterPayout>): ArbiterPayout {
    return decodeMessage(buf, ArbiterPayout.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ArbiterPayout>): Generator<ArbiterPayoutToFieldEvent | ArbiterPayoutAmountFieldEvent> {
    return streamMessage(buf, ArbiterPayout.codec(), opts)
  }
}

export interface ArbiterSettlement {
  escrowId: Uint8Array<ArrayBuffer>
  kind: string
  payouts: ArbiterPayout[]
  voucher?: ArbiterVoucher
}

export namespace ArbiterSettlement {
  let _codec: Codec<ArbiterSettlement>

  export const codec = (): Codec<ArbiterSettlement> => {
    if (_codec == null) {
      _codec = message<ArbiterSettlement>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.escrowId != null && obj.escrowId.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.escrowId)
        }

        if ((obj.kind != null && obj.kind !== '')) {
          w.uint32(18)
          w.string(obj.kind)
        }

        if (obj.payouts != null && obj.payouts.length > 0) {
          for (const value of obj.payouts) {
            w.uint32(26)
            ArbiterPayout.codec().encode(value, w)
          }
        }

        if (obj.voucher != null) {
          w.uint32(34)
          ArbiterVoucher.codec().encode(obj.voucher, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          escrowId: EMPTY_BYTES,
          kind: '',
          payouts: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.escrowId = reader.bytes()
              break
            }
            case 2: {
              obj.kind = reader.string()
              break
            }
            case 3: {
              if (opts.limits?.payouts != null && obj.payouts.length === opts.limits.payouts) {
                throw new MaxLengthError('Decode error - repeated field "payouts" had too many elements')
              }

              obj.payouts.push(ArbiterPayout.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.payouts$
              }))
              break
            }
            case 4: {
              obj.voucher = ArbiterVoucher.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.voucher
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
        const obj = {
          payouts: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.escrowId`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.kind`,
                value: reader.string()
              }
              break
            }
            case 3: {
              if (opts.limits?.payouts != null && obj.payouts === opts.limits.payouts) {
                throw new MaxLengthError('Streaming decode error - repeated field "payouts" had too many elements')
              }

              for (const evt of ArbiterPayout.codec().stream(reader, reader.uint32(), `${prefix}.payouts[]`, {
                limits: opts.limits?.payouts$
              })) {
                yield {
                  ...evt,
                  index: obj.payouts
                }
              }

              obj.payouts++

              break
            }
            case 4: {
              yield * ArbiterVoucher.codec().stream(reader, reader.uint32(), `${prefix}.voucher`, {
                limits: opts.limits?.voucher
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

  export interface ArbiterSettlementEscrowIdFieldEvent {
    field: '$.escrowId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ArbiterSettlementKindFieldEvent {
    field: '$.kind'
    value: string
  }

  export interface ArbiterSettlementPayoutsToFieldEvent {
    field: '$.payouts[].to'
    value: string
    index: number
  }

  export interface ArbiterSettlementPayoutsAmountFieldEvent {
    field: '$.payouts[].amount'
    value: bigint
    index: number
  }

  export interface ArbiterSettlementVoucherCumulativeFieldEvent {
    field: '$.voucher.cumulative'
    value: bigint
  }

  export interface ArbiterSettlementVoucherSequenceFieldEvent {
    field: '$.voucher.sequence'
    value: bigint
  }

  export interface ArbiterSettlementVoucherSignatureFieldEvent {
    field: '$.voucher.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<ArbiterSettlement>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ArbiterSettlement.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ArbiterSettlement>): ArbiterSettlement {
    return decodeMessage(buf, ArbiterSettlement.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ArbiterSettlement>): Generator<ArbiterSettlementEscrowIdFieldEvent | ArbiterSettlementKindFieldEvent | ArbiterSettlementPayoutsToFieldEvent | ArbiterSettlementPayoutsAmountFieldEvent | ArbiterSettlementVoucherCumulativeFieldEvent | ArbiterSettlementVoucherSequenceFieldEvent | ArbiterSettlementVoucherSignatureFieldEvent> {
    return streamMessage(buf, ArbiterSettlement.codec(), opts)
  }
}

export interface ArbiterRequest {
  terms?: ArbiterTerms
  settlement?: ArbiterSettlement
  voucher?: ArbiterVoucher
  signature: Uint8Array<ArrayBuffer>
}

export namespace ArbiterRequest {
  let _codec: Codec<ArbiterRequest>

  export const codec = (): Codec<ArbiterRequest> => {
    if (_codec == null) {
      _codec = message<ArbiterRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.terms != null) {
          w.uint32(10)
          ArbiterTerms.codec().encode(obj.terms, w)
        }

        if (obj.settlement != null) {
          w.uint32(18)
          ArbiterSettlement.codec().encode(obj.settlement, w)
        }

        if (obj.voucher != null) {
          w.uint32(26)
          ArbiterVoucher.codec().encode(obj.voucher, w)
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
          signature: EMPTY_BYTES
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.terms = ArbiterTerms.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.terms
              })
              break
            }
            case 2: {
              obj.settlement = ArbiterSettlement.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.settlement
              })
              break
            }
            case 3: {
              obj.voucher = ArbiterVoucher.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.voucher
              })
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
              yield * ArbiterTerms.codec().stream(reader, reader.uint32(), `${prefix}.terms`, {
                limits: opts.limits?.terms
              })

              break
            }
            case 2: {
              yield * ArbiterSettlement.codec().stream(reader, reader.uint32(), `${prefix}.settlement`, {
                limits: opts.limits?.settlement
              })

              break
            }
            case 3: {
              yield * ArbiterVoucher.codec().stream(reader, reader.uint32(), `${prefix}.voucher`, {
                limits: opts.limits?.voucher
              })

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

  export interface ArbiterRequestTermsEscrowIdFieldEvent {
    field: '$.terms.escrowId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ArbiterRequestTermsAgreementHashFieldEvent {
    field: '$.terms.agreementHash'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ArbiterRequestTermsPayerFieldEvent {
    field: '$.terms.payer'
    value: string
  }

  export interface ArbiterRequestTermsPayeeFieldEvent {
    field: '$.terms.payee'
    value: string
  }

  export interface ArbiterRequestTermsArbiterFieldEvent {
    field: '$.terms.arbiter'
    value: string
  }

  export interface ArbiterRequestTermsAmountFieldEvent {
    field: '$.terms.amount'
    value: bigint
  }

  export interface ArbiterRequestTermsNetuidFieldEvent {
    field: '$.terms.netuid'
    value: number
  }

  export interface ArbiterRequestTermsVoucherKeyFieldEvent {
    field: '$.terms.voucherKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ArbiterRequestTermsExpiresAtFieldEvent {
    field: '$.terms.expiresAt'
    value: bigint
  }

  export interface ArbiterRequestSettlementEscrowIdFieldEvent {
    field: '$.settlement.escrowId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ArbiterRequestSettlementKindFieldEvent {
    field: '$.settlement.kind'
    value: string
  }

  export interface ArbiterRequestSettlementPayoutsToFieldEvent {
    field: '$.settlement.payouts[].to'
    value: string
    index: number
  }

  export interface ArbiterRequestSettlementPayoutsAmountFieldEvent {
    field: '$.settlement.payouts[].amount'
    value: bigint
    index: number
  }

  export interface ArbiterRequestSettlementVoucherCumulativeFieldEvent {
    field: '$.settlement.voucher.cumulative'
    value: bigint
  }

  export interface ArbiterRequestSettlementVoucherSequenceFieldEvent {
    field: '$.settlement.voucher.sequence'
    value: bigint
  }

  export interface ArbiterRequestSettlementVoucherSignatureFieldEvent {
    field: '$.settlement.voucher.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ArbiterRequestVoucherCumulativeFieldEvent {
    field: '$.voucher.cumulative'
    value: bigint
  }

  export interface ArbiterRequestVoucherSequenceFieldEvent {
    field: '$.voucher.sequence'
    value: bigint
  }

  export interface ArbiterRequestVoucherSignatureFieldEvent {
    field: '$.voucher.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ArbiterRequestSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<ArbiterRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ArbiterRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ArbiterRequest>): ArbiterRequest {
    return decodeMessage(buf, ArbiterRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ArbiterRequest>): Generator<ArbiterRequestTermsEscrowIdFieldEvent | ArbiterRequestTermsAgreementHashFieldEvent | ArbiterRequestTermsPayerFieldEvent | ArbiterRequestTermsPayeeFieldEvent | ArbiterRequestTermsArbiterFieldEvent | ArbiterRequestTermsAmountFieldEvent | ArbiterRequestTermsNetuidFieldEvent | ArbiterRequestTermsVoucherKeyFieldEvent | ArbiterRequestTermsExpiresAtFieldEvent | ArbiterRequestSettlementEscrowIdFieldEvent | ArbiterRequestSettlementKindFieldEvent | ArbiterRequestSettlementPayoutsToFieldEvent | ArbiterRequestSettlementPayoutsAmountFieldEvent | ArbiterRequestSettlementVoucherCumulativeFieldEvent | ArbiterRequestSettlementVoucherSequenceFieldEvent | ArbiterRequestSettlementVoucherSignatureFieldEvent | ArbiterRequestVoucherCumulativeFieldEvent | ArbiterRequestVoucherSequenceFieldEvent | ArbiterRequestVoucherSignatureFieldEvent | ArbiterRequestSignatureFieldEvent> {
    return streamMessage(buf, ArbiterRequest.codec(), opts)
  }
}

export interface ArbiterRecord {
  kind: string
  blockNumber: bigint
  blockHash: string
  txHash: string
  remark: string
}

export namespace ArbiterRecord {
  let _codec: Codec<ArbiterRecord>

  export const codec = (): Codec<ArbiterRecord> => {
    if (_codec == null) {
      _codec = message<ArbiterRecord>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.kind != null && obj.kind !== '')) {
          w.uint32(10)
          w.string(obj.kind)
        }

        if ((obj.blockNumber != null && obj.blockNumber !== 0n)) {
          w.uint32(17)
          w.fixed64(obj.blockNumber)
        }

        if ((obj.blockHash != null && obj.blockHash !== '')) {
          w.uint32(26)
          w.string(obj.blockHash)
        }

        if ((obj.txHash != null && obj.txHash !== '')) {
          w.uint32(34)
          w.string(obj.txHash)
        }

        if ((obj.remark != null && obj.remark !== '')) {
          w.uint32(42)
          w.string(obj.remark)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          kind: '',
          blockNumber: 0n,
          blockHash: '',
          txHash: '',
          remark: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.kind = reader.string()
              break
            }
            case 2: {
              obj.blockNumber = reader.fixed64()
              break
            }
            case 3: {
              obj.blockHash = reader.string()
              break
            }
            case 4: {
              obj.txHash = reader.string()
              break
            }
            case 5: {
              obj.remark = reader.string()
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
                field: `${prefix}.kind`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.blockNumber`,
                value: reader.fixed64()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.blockHash`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.txHash`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.remark`,
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

  export interface ArbiterRecordKindFieldEvent {
    field: '$.kind'
    value: string
  }

  export interface ArbiterRecordBlockNumberFieldEvent {
    field: '$.blockNumber'
    value: bigint
  }

  export interface ArbiterRecordBlockHashFieldEvent {
    field: '$.blockHash'
    value: string
  }

  export interface ArbiterRecordTxHashFieldEvent {
    field: '$.txHash'
    value: string
  }

  export interface ArbiterRecordRemarkFieldEvent {
    field: '$.remark'
    value: string
  }

  export function encode (obj: Partial<ArbiterRecord>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ArbiterRecord.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ArbiterRecord>): ArbiterRecord {
    return decodeMessage(buf, ArbiterRecord.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ArbiterRecord>): Generator<ArbiterRecordKindFieldEvent | ArbiterRecordBlockNumberFieldEvent | ArbiterRecordBlockHashFieldEvent | ArbiterRecordTxHashFieldEvent | ArbiterRecordRemarkFieldEvent> {
    return streamMessage(buf, ArbiterRecord.codec(), opts)
  }
}

export interface ArbiterResponse {
  approved: boolean
  executed: boolean
  reason: string
  record?: ArbiterRecord
  voucher?: ArbiterVoucher
}

export namespace ArbiterResponse {
  let _codec: Codec<ArbiterResponse>

  export const codec = (): Codec<ArbiterResponse> => {
    if (_codec == null) {
      _codec = message<ArbiterResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.approved != null && obj.approved !== false)) {
          w.uint32(8)
          w.bool(obj.approved)
        }

        if ((obj.executed != null && obj.executed !== false)) {
          w.uint32(16)
          w.bool(obj.executed)
        }

        if ((obj.reason != null && obj.reason !== '')) {
          w.uint32(26)
          w.string(obj.reason)
        }

        if (obj.record != null) {
          w.uint32(34)
          ArbiterRecord.codec().encode(obj.record, w)
        }

        if (obj.voucher != null) {
          w.uint32(42)
          ArbiterVoucher.codec().encode(obj.voucher, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          approved: false,
          executed: false,
          reason: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.approved = reader.bool()
              break
            }
            case 2: {
              obj.executed = reader.bool()
              break
            }
            case 3: {
              obj.reason = reader.string()
              break
            }
            case 4: {
              obj.record = ArbiterRecord.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.record
              })
              break
            }
            case 5: {
              obj.voucher = ArbiterVoucher.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.voucher
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
                field: `${prefix}.approved`,
                value: reader.bool()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.executed`,
                value: reader.bool()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.reason`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield * ArbiterRecord.codec().stream(reader, reader.uint32(), `${prefix}.record`, {
                limits: opts.limits?.record
              })

              break
            }
            case 5: {
              yield * ArbiterVoucher.codec().stream(reader, reader.uint32(), `${prefix}.voucher`, {
                limits: opts.limits?.voucher
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

  export interface ArbiterResponseApprovedFieldEvent {
    field: '$.approved'
    value: boolean
  }

  export interface ArbiterResponseExecutedFieldEvent {
    field: '$.executed'
    value: boolean
  }

  export interface ArbiterResponseReasonFieldEvent {
    field: '$.reason'
    value: string
  }

  export interface ArbiterResponseRecordKindFieldEvent {
    field: '$.record.kind'
    value: string
  }

  export interface ArbiterResponseRecordBlockNumberFieldEvent {
    field: '$.record.blockNumber'
    value: bigint
  }

  export interface ArbiterResponseRecordBlockHashFieldEvent {
    field: '$.record.blockHash'
    value: string
  }

  export interface ArbiterResponseRecordTxHashFieldEvent {
    field: '$.record.txHash'
    value: string
  }

  export interface ArbiterResponseRecordRemarkFieldEvent {
    field: '$.record.remark'
    value: string
  }

  export interface ArbiterResponseVoucherCumulativeFieldEvent {
    field: '$.voucher.cumulative'
    value: bigint
  }

  export interface ArbiterResponseVoucherSequenceFieldEvent {
    field: '$.voucher.sequence'
    value: bigint
  }

  export interface ArbiterResponseVoucherSignatureFieldEvent {
    field: '$.voucher.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<ArbiterResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ArbiterResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ArbiterResponse>): ArbiterResponse {
    return decodeMessage(buf, ArbiterResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ArbiterResponse>): Generator<ArbiterResponseApprovedFieldEvent | ArbiterResponseExecutedFieldEvent | ArbiterResponseReasonFieldEvent | ArbiterResponseRecordKindFieldEvent | ArbiterResponseRecordBlockNumberFieldEvent | ArbiterResponseRecordBlockHashFieldEvent | ArbiterResponseRecordTxHashFieldEvent | ArbiterResponseRecordRemarkFieldEvent | ArbiterResponseVoucherCumulativeFieldEvent | ArbiterResponseVoucherSequenceFieldEvent | ArbiterResponseVoucherSignatureFieldEvent> {
    return streamMessage(buf, ArbiterResponse.codec(), opts)
  }
}
