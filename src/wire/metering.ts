import { decodeMessage, encodeMessage, message, streamMessage } from 'protons-runtime'
import { EMPTY_BYTES } from './empty-bytes.js'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface UsageReport {
  escrowId: Uint8Array<ArrayBuffer>
  seq: bigint
  usedMs: bigint
  gpus: number
  amount: bigint
}

export namespace UsageReport {
  let _codec: Codec<UsageReport>

  export const codec = (): Codec<UsageReport> => {
    if (_codec == null) {
      _codec = message<UsageReport>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.escrowId != null && obj.escrowId.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.escrowId)
        }

        if ((obj.seq != null && obj.seq !== 0n)) {
          w.uint32(17)
          w.fixed64(obj.seq)
        }

        if ((obj.usedMs != null && obj.usedMs !== 0n)) {
          w.uint32(25)
          w.fixed64(obj.usedMs)
        }

        if ((obj.gpus != null && obj.gpus !== 0)) {
          w.uint32(32)
          w.uint32(obj.gpus)
        }

        if ((obj.amount != null && obj.amount !== 0n)) {
          w.uint32(41)
          w.fixed64(obj.amount)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          escrowId: EMPTY_BYTES,
          seq: 0n,
          usedMs: 0n,
          gpus: 0,
          amount: 0n
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
              obj.seq = reader.fixed64()
              break
            }
            case 3: {
              obj.usedMs = reader.fixed64()
              break
            }
            case 4: {
              obj.gpus = reader.uint32()
              break
            }
            case 5: {
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
                field: `${prefix}.escrowId`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.seq`,
                value: reader.fixed64()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.usedMs`,
                value: reader.fixed64()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.gpus`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
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

  export interface UsageReportEscrowIdFieldEvent {
    field: '$.escrowId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface UsageReportSeqFieldEvent {
    field: '$.seq'
    value: bigint
  }

  export interface UsageReportUsedMsFieldEvent {
    field: '$.usedMs'
    value: bigint
  }

  export interface UsageReportGpusFieldEvent {
    field: '$.gpus'
    value: number
  }

  export interface UsageReportAmountFieldEvent {
    field: '$.amount'
    value: bigint
  }

  export function encode (obj: Partial<UsageReport>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, UsageReport.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<UsageReport>): UsageReport {
    return decodeMessage(buf, UsageReport.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<UsageReport>): Generator<UsageReportEscrowIdFieldEvent | UsageReportSeqFieldEvent | UsageReportUsedMsFieldEvent | UsageReportGpusFieldEvent | UsageReportAmountFieldEvent> {
    return streamMessage(buf, UsageReport.codec(), opts)
  }
}

export interface Voucher {
  escrowId: Uint8Array<ArrayBuffer>
  cumulative: bigint
  sequence: bigint
  signature: Uint8Array<ArrayBuffer>
}

export namespace Voucher {
  let _codec: Codec<Voucher>

  export const codec = (): Codec<Voucher> => {
    if (_codec == null) {
      _codec = message<Voucher>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.escrowId != null && obj.escrowId.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.escrowId)
        }

        if ((obj.cumulative != null && obj.cumulative !== 0n)) {
          w.uint32(17)
          w.fixed64(obj.cumulative)
        }

        if ((obj.sequence != null && obj.sequence !== 0n)) {
          w.uint32(25)
          w.fixed64(obj.sequence)
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
          escrowId: EMPTY_BYTES,
          cumulative: 0n,
          sequence: 0n,
          signature: EMPTY_BYTES
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
              obj.cumulative = reader.fixed64()
              break
            }
            case 3: {
              obj.sequence = reader.fixed64()
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
                field: `${prefix}.escrowId`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.cumulative`,
                value: reader.fixed64()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.sequence`,
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

  export interface VoucherEscrowIdFieldEvent {
    field: '$.escrowId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface VoucherCumulativeFieldEvent {
    field: '$.cumulative'
    value: bigint
  }

  export interface VoucherSequenceFieldEvent {
    field: '$.sequence'
    value: bigint
  }

  export interface VoucherSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Voucher>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Voucher.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Voucher>): Voucher {
    return decodeMessage(buf, Voucher.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Voucher>): Generator<VoucherEscrowIdFieldEvent | VoucherCumulativeFieldEvent | VoucherSequenceFieldEvent | VoucherSignatureFieldEvent> {
    return streamMessage(buf, Voucher.codec(), opts)
  }
}

export interface VoucherAck {
  escrowId: Uint8Array<ArrayBuffer>
  sequence: bigint
  cumulative: bigint
}

export namespace VoucherAck {
  let _codec: Codec<VoucherAck>

  export const codec = (): Codec<VoucherAck> => {
    if (_codec == null) {
      _codec = message<VoucherAck>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.escrowId != null && obj.escrowId.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.escrowId)
        }

        if ((obj.sequence != null && obj.sequence !== 0n)) {
          w.uint32(17)
          w.fixed64(obj.sequence)
        }

        if ((obj.cumulative != null && obj.cumulative !== 0n)) {
          w.uint32(25)
          w.fixed64(obj.cumulative)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          escrowId: EMPTY_BYTES,
          sequence: 0n,
          cumulative: 0n
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
              obj.sequence = reader.fixed64()
              break
            }
            case 3: {
              obj.cumulative = reader.fixed64()
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
                field: `${prefix}.sequence`,
                value: reader.fixed64()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.cumulative`,
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

  export interface VoucherAckEscrowIdFieldEvent {
    field: '$.escrowId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface VoucherAckSequenceFieldEvent {
    field: '$.sequence'
    value: bigint
  }

  export interface VoucherAckCumulativeFieldEvent {
    field: '$.cumulative'
    value: bigint
  }

  export function encode (obj: Partial<VoucherAck>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, VoucherAck.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<VoucherAck>): VoucherAck {
    return decodeMessage(buf, VoucherAck.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<VoucherAck>): Generator<VoucherAckEscrowIdFieldEvent | VoucherAckSequenceFieldEvent | VoucherAckCumulativeFieldEvent> {
    return streamMessage(buf, VoucherAck.codec(), opts)
  }
}

export interface MeteringFrame {
  report?: UsageReport
  voucher?: Voucher
  ack?: VoucherAck
}

export namespace MeteringFrame {
  let _codec: Codec<MeteringFrame>

  export const codec = (): Codec<MeteringFrame> => {
    if (_codec == null) {
      _codec = message<MeteringFrame>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.report != null) {
          w.uint32(10)
          UsageReport.codec().encode(obj.report, w)
        }

        if (obj.voucher != null) {
          w.uint32(18)
          Voucher.codec().encode(obj.voucher, w)
        }

        if (obj.ack != null) {
          w.uint32(26)
          VoucherAck.codec().encode(obj.ack, w)
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
              obj.report = UsageReport.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.report
              })
              break
            }
            case 2: {
              obj.voucher = Voucher.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.voucher
              })
              break
            }
            case 3: {
              obj.ack = VoucherAck.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.ack
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
              yield * UsageReport.codec().stream(reader, reader.uint32(), `${prefix}.report`, {
                limits: opts.limits?.report
              })

              break
            }
            case 2: {
              yield * Voucher.codec().stream(reader, reader.uint32(), `${prefix}.voucher`, {
                limits: opts.limits?.voucher
              })

              break
            }
            case 3: {
              yield * VoucherAck.codec().stream(reader, reader.uint32(), `${prefix}.ack`, {
                limits: opts.limits?.ack
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

  export interface MeteringFrameReportEscrowIdFieldEvent {
    field: '$.report.escrowId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface MeteringFrameReportSeqFieldEvent {
    field: '$.report.seq'
    value: bigint
  }

  export interface MeteringFrameReportUsedMsFieldEvent {
    field: '$.report.usedMs'
    value: bigint
  }

  export interface MeteringFrameReportGpusFieldEvent {
    field: '$.report.gpus'
    value: number
  }

  export interface MeteringFrameReportAmountFieldEvent {
    field: '$.report.amount'
    value: bigint
  }

  export interface MeteringFrameVoucherEscrowIdFieldEvent {
    field: '$.voucher.escrowId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface MeteringFrameVoucherCumulativeFieldEvent {
    field: '$.voucher.cumulative'
    value: bigint
  }

  export interface MeteringFrameVoucherSequenceFieldEvent {
    field: '$.voucher.sequence'
    value: bigint
  }

  export interface MeteringFrameVoucherSignatureFieldEvent {
    field: '$.voucher.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface MeteringFrameAckEscrowIdFieldEvent {
    field: '$.ack.escrowId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface MeteringFrameAckSequenceFieldEvent {
    field: '$.ack.sequence'
    value: bigint
  }

  export interface MeteringFrameAckCumulativeFieldEvent {
    field: '$.ack.cumulative'
    value: bigint
  }

  export function encode (obj: Partial<MeteringFrame>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, MeteringFrame.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MeteringFrame>): MeteringFrame {
    return decodeMessage(buf, MeteringFrame.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MeteringFrame>): Generator<MeteringFrameReportEscrowIdFieldEvent | MeteringFrameReportSeqFieldEvent | MeteringFrameReportUsedMsFieldEvent | MeteringFrameReportGpusFieldEvent | MeteringFrameReportAmountFieldEvent | MeteringFrameVoucherEscrowIdFieldEvent | MeteringFrameVoucherCumulativeFieldEvent | MeteringFrameVoucherSequenceFieldEvent | MeteringFrameVoucherSignatureFieldEvent | MeteringFrameAckEscrowIdFieldEvent | MeteringFrameAckSequenceFieldEvent | MeteringFrameAckCumulativeFieldEvent> {
    return streamMessage(buf, MeteringFrame.codec(), opts)
  }
}
