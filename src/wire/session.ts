import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { EMPTY_BYTES } from './empty-bytes.js'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface SessionHello {
  version: number
  nonce: Uint8Array<ArrayBuffer>
  agreementHash: Uint8Array<ArrayBuffer>
  wantGpu: boolean
  gpuCount: number
}

export namespace SessionHello {
  let _codec: Codec<SessionHello>

  export const codec = (): Codec<SessionHello> => {
    if (_codec == null) {
      _codec = message<SessionHello>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.nonce != null && obj.nonce.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.nonce)
        }

        if ((obj.agreementHash != null && obj.agreementHash.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.agreementHash)
        }

        if ((obj.wantGpu != null && obj.wantGpu !== false)) {
          w.uint32(32)
          w.bool(obj.wantGpu)
        }

        if ((obj.gpuCount != null && obj.gpuCount !== 0)) {
          w.uint32(40)
          w.uint32(obj.gpuCount)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          nonce: EMPTY_BYTES,
          agreementHash: EMPTY_BYTES,
          wantGpu: false,
          gpuCount: 0
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
              obj.nonce = reader.bytes()
              break
            }
            case 3: {
              obj.agreementHash = reader.bytes()
              break
            }
            case 4: {
              obj.wantGpu = reader.bool()
              break
            }
            case 5: {
              obj.gpuCount = reader.uint32()
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
                field: `${prefix}.nonce`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.agreementHash`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.wantGpu`,
                value: reader.bool()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.gpuCount`,
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

  export interface SessionHelloVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface SessionHelloNonceFieldEvent {
    field: '$.nonce'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SessionHelloAgreementHashFieldEvent {
    field: '$.agreementHash'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SessionHelloWantGpuFieldEvent {
    field: '$.wantGpu'
    value: boolean
  }

  export interface SessionHelloGpuCountFieldEvent {
    field: '$.gpuCount'
    value: number
  }

  export function encode (obj: Partial<SessionHello>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SessionHello.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SessionHello>): SessionHello {
    return decodeMessage(buf, SessionHello.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SessionHello>): Generator<SessionHelloVersionFieldEvent | SessionHelloNonceFieldEvent | SessionHelloAgreementHashFieldEvent | SessionHelloWantGpuFieldEvent | SessionHelloGpuCountFieldEvent> {
    return streamMessage(buf, SessionHello.codec(), opts)
  }
}

export interface SessionGpuEvidence {
  index: number
  kind: string
  report: Uint8Array<ArrayBuffer>
  certs: Uint8Array<ArrayBuffer>[]
  rims: Uint8Array<ArrayBuffer>[]
  ocsp: Uint8Array<ArrayBuffer>[]
}

export namespace SessionGpuEvidence {
  let _codec: Codec<SessionGpuEvidence>

  export const codec = (): Codec<SessionGpuEvidence> => {
    if (_codec == null) {
      _codec = message<SessionGpuEvidence>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.index != null && obj.index !== 0)) {
          w.uint32(8)
          w.uint32(obj.index)
        }

        if ((obj.kind != null && obj.kind !== '')) {
          w.uint32(18)
          w.string(obj.kind)
        }

        if ((obj.report != null && obj.report.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.report)
        }

        if (obj.certs != null && obj.certs.length > 0) {
          for (const value of obj.certs) {
            w.uint32(34)
            w.bytes(value)
          }
        }

        if (obj.rims != null && obj.rims.length > 0) {
          for (const value of obj.rims) {
            w.uint32(42)
            w.bytes(value)
          }
        }

        if (obj.ocsp != null && obj.ocsp.length > 0) {
          for (const value of obj.ocsp) {
            w.uint32(50)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          index: 0,
          kind: '',
          report: EMPTY_BYTES,
          certs: [],
          rims: [],
          ocsp: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.index = reader.uint32()
              break
            }
            case 2: {
              obj.kind = reader.string()
              break
            }
            case 3: {
              obj.report = reader.bytes()
              break
            }
            case 4: {
              if (opts.limits?.certs != null && obj.certs.length === opts.limits.certs) {
                throw new MaxLengthError('Decode error - repeated field "certs" had too many elements')
              }

              obj.certs.push(reader.bytes())
              break
            }
            case 5: {
              if (opts.limits?.rims != null && obj.rims.length === opts.limits.rims) {
                throw new MaxLengthError('Decode error - repeated field "rims" had too many elements')
              }

              obj.rims.push(reader.bytes())
              break
            }
            case 6: {
              if (opts.limits?.ocsp != null && obj.ocsp.length === opts.limits.ocsp) {
                throw new MaxLengthError('Decode error - repeated field "ocsp" had too many elements')
              }

              obj.ocsp.push(reader.bytes())
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
          certs: 0,
          rims: 0,
          ocsp: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.index`,
                value: reader.uint32()
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
              yield {
                field: `${prefix}.report`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              if (opts.limits?.certs != null && obj.certs === opts.limits.certs) {
                throw new MaxLengthError('Streaming decode error - repeated field "certs" had too many elements')
              }

              yield {
                field: `${prefix}.certs[]`,
                index: obj.certs,
                value: reader.bytes()
              }

              obj.certs++

              break
            }
            case 5: {
              if (opts.limits?.rims != null && obj.rims === opts.limits.rims) {
                throw new MaxLengthError('Streaming decode error - repeated field "rims" had too many elements')
              }

              yield {
                field: `${prefix}.rims[]`,
                index: obj.rims,
                value: reader.bytes()
              }

              obj.rims++

              break
            }
            case 6: {
              if (opts.limits?.ocsp != null && obj.ocsp === opts.limits.ocsp) {
                throw new MaxLengthError('Streaming decode error - repeated field "ocsp" had too many elements')
              }

              yield {
                field: `${prefix}.ocsp[]`,
                index: obj.ocsp,
                value: reader.bytes()
              }

              obj.ocsp++

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

  export interface SessionGpuEvidenceIndexFieldEvent {
    field: '$.index'
    value: number
  }

  export interface SessionGpuEvidenceKindFieldEvent {
    field: '$.kind'
    value: string
  }

  export interface SessionGpuEvidenceReportFieldEvent {
    field: '$.report'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SessionGpuEvidenceCertsFieldEvent {
    field: '$.certs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface SessionGpuEvidenceRimsFieldEvent {
    field: '$.rims[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface SessionGpuEvidenceOcspFieldEvent {
    field: '$.ocsp[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SessionGpuEvidence>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SessionGpuEvidence.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SessionGpuEvidence>): SessionGpuEvidence {
    return decodeMessage(buf, SessionGpuEvidence.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SessionGpuEvidence>): Generator<SessionGpuEvidenceIndexFieldEvent | SessionGpuEvidenceKindFieldEvent | SessionGpuEvidenceReportFieldEvent | SessionGpuEvidenceCertsFieldEvent | SessionGpuEvidenceRimsFieldEvent | SessionGpuEvidenceOcspFieldEvent> {
    return streamMessage(buf, SessionGpuEvidence.codec(), opts)
  }
}

export interface SessionEvidence {
  version: number
  kind: string
  evidence: Uint8Array<ArrayBuffer>
  certs: Uint8Array<ArrayBuffer>[]
  enclaveKey: Uint8Array<ArrayBuffer>
  nonce: Uint8Array<ArrayBuffer>
  agreementHash: Uint8Array<ArrayBuffer>
  error: string
  gpuKind: string
  gpuReport: Uint8Array<ArrayBuffer>
  gpuCerts: Uint8Array<ArrayBuffer>[]
  gpuRims: Uint8Array<ArrayBuffer>[]
  moreGpus: SessionGpuEvidence[]
  gpuOcsp: Uint8Array<ArrayBuffer>[]
}

export namespace SessionEvidence {
  let _codec: Codec<SessionEvidence>

  export const codec = (): Codec<SessionEvidence> => {
    if (_codec == null) {
      _codec = message<SessionEvidence>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.kind != null && obj.kind !== '')) {
          w.uint32(18)
          w.string(obj.kind)
        }

        if ((obj.evidence != null && obj.evidence.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.evidence)
        }

        if (obj.certs != null && obj.certs.length > 0) {
          for (const value of obj.certs) {
            w.uint32(34)
            w.bytes(value)
          }
        }

        if ((obj.enclaveKey != null && obj.enclaveKey.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.enclaveKey)
        }

        if ((obj.nonce != null && obj.nonce.byteLength > 0)) {
          w.uint32(50)
          w.bytes(obj.nonce)
        }

        if ((obj.agreementHash != null && obj.agreementHash.byteLength > 0)) {
          w.uint32(58)
          w.bytes(obj.agreementHash)
        }

        if ((obj.error != null && obj.error !== '')) {
          w.uint32(66)
          w.string(obj.error)
        }

        if ((obj.gpuKind != null && obj.gpuKind !== '')) {
          w.uint32(74)
          w.string(obj.gpuKind)
        }

        if ((obj.gpuReport != null && obj.gpuReport.byteLength > 0)) {
          w.uint32(82)
          w.bytes(obj.gpuReport)
        }

        if (obj.gpuCerts != null && obj.gpuCerts.length > 0) {
          for (const value of obj.gpuCerts) {
            w.uint32(90)
            w.bytes(value)
          }
        }

        if (obj.gpuRims != null && obj.gpuRims.length > 0) {
          for (const value of obj.gpuRims) {
            w.uint32(98)
            w.bytes(value)
          }
        }

        if (obj.moreGpus != null && obj.moreGpus.length > 0) {
          for (const value of obj.moreGpus) {
            w.uint32(106)
            SessionGpuEvidence.codec().encode(value, w)
          }
        }

        if (obj.gpuOcsp != null && obj.gpuOcsp.length > 0) {
          for (const value of obj.gpuOcsp) {
            w.uint32(114)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          kind: '',
          evidence: EMPTY_BYTES,
          certs: [],
          enclaveKey: EMPTY_BYTES,
          nonce: EMPTY_BYTES,
          agreementHash: EMPTY_BYTES,
          error: '',
          gpuKind: '',
          gpuReport: EMPTY_BYTES,
          gpuCerts: [],
          gpuRims: [],
          moreGpus: [],
          gpuOcsp: []
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
              obj.kind = reader.string()
              break
            }
            case 3: {
              obj.evidence = reader.bytes()
              break
            }
            case 4: {
              if (opts.limits?.certs != null && obj.certs.length === opts.limits.certs) {
                throw new MaxLengthError('Decode error - repeated field "certs" had too many elements')
              }

              obj.certs.push(reader.bytes())
              break
            }
            case 5: {
              obj.enclaveKey = reader.bytes()
              break
            }
            case 6: {
              obj.nonce = reader.bytes()
              break
            }
            case 7: {
              obj.agreementHash = reader.bytes()
              break
            }
            case 8: {
              obj.error = reader.string()
              break
            }
            case 9: {
              obj.gpuKind = reader.string()
              break
            }
            case 10: {
              obj.gpuReport = reader.bytes()
              break
            }
            case 11: {
              if (opts.limits?.gpuCerts != null && obj.gpuCerts.length === opts.limits.gpuCerts) {
                throw new MaxLengthError('Decode error - repeated field "gpuCerts" had too many elements')
              }

              obj.gpuCerts.push(reader.bytes())
              break
            }
            case 12: {
              if (opts.limits?.gpuRims != null && obj.gpuRims.length === opts.limits.gpuRims) {
                throw new MaxLengthError('Decode error - repeated field "gpuRims" had too many elements')
              }

              obj.gpuRims.push(reader.bytes())
              break
            }
            case 13: {
              if (opts.limits?.moreGpus != null && obj.moreGpus.length === opts.limits.moreGpus) {
                throw new MaxLengthError('Decode error - repeated field "moreGpus" had too many elements')
              }

              obj.moreGpus.push(SessionGpuEvidence.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.moreGpus$
              }))
              break
            }
            case 14: {
              if (opts.limits?.gpuOcsp != null && obj.gpuOcsp.length === opts.limits.gpuOcsp) {
                throw new MaxLengthError('Decode error - repeated field "gpuOcsp" had too many elements')
              }

              obj.gpuOcsp.push(reader.bytes())
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
          certs: 0,
          gpuCerts: 0,
          gpuRims: 0,
          moreGpus: 0,
          gpuOcsp: 0
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
                field: `${prefix}.kind`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.evidence`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              if (opts.limits?.certs != null && obj.certs === opts.limits.certs) {
                throw new MaxLengthError('Streaming decode error - repeated field "certs" had too many elements')
              }

              yield {
                field: `${prefix}.certs[]`,
                index: obj.certs,
                value: reader.bytes()
              }

              obj.certs++

              break
            }
            case 5: {
              yield {
                field: `${prefix}.enclaveKey`,
                value: reader.bytes()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.nonce`,
                value: reader.bytes()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.agreementHash`,
                value: reader.bytes()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.error`,
                value: reader.string()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.gpuKind`,
                value: reader.string()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.gpuReport`,
                value: reader.bytes()
              }
              break
            }
            case 11: {
              if (opts.limits?.gpuCerts != null && obj.gpuCerts === opts.limits.gpuCerts) {
                throw new MaxLengthError('Streaming decode error - repeated field "gpuCerts" had too many elements')
              }

              yield {
                field: `${prefix}.gpuCerts[]`,
                index: obj.gpuCerts,
                value: reader.bytes()
              }

              obj.gpuCerts++

              break
            }
            case 12: {
              if (opts.limits?.gpuRims != null && obj.gpuRims === opts.limits.gpuRims) {
                throw new MaxLengthError('Streaming decode error - repeated field "gpuRims" had too many elements')
              }

              yield {
                field: `${prefix}.gpuRims[]`,
                index: obj.gpuRims,
                value: reader.bytes()
              }

              obj.gpuRims++

              break
            }
            case 13: {
              if (opts.limits?.moreGpus != null && obj.moreGpus === opts.limits.moreGpus) {
                throw new MaxLengthError('Streaming decode error - repeated field "moreGpus" had too many elements')
              }

              for (const evt of SessionGpuEvidence.codec().stream(reader, reader.uint32(), `${prefix}.moreGpus[]`, {
                limits: opts.limits?.moreGpus$
              })) {
                yield {
                  ...evt,
                  index: obj.moreGpus
                }
              }

              obj.moreGpus++

              break
            }
            case 14: {
              if (opts.limits?.gpuOcsp != null && obj.gpuOcsp === opts.limits.gpuOcsp) {
                throw new MaxLengthError('Streaming decode error - repeated field "gpuOcsp" had too many elements')
              }

              yield {
                field: `${prefix}.gpuOcsp[]`,
                index: obj.gpuOcsp,
                value: reader.bytes()
              }

              obj.gpuOcsp++

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

  export interface SessionEvidenceVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface SessionEvidenceKindFieldEvent {
    field: '$.kind'
    value: string
  }

  export interface SessionEvidenceEvidenceFieldEvent {
    field: '$.evidence'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SessionEvidenceCertsFieldEvent {
    field: '$.certs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface SessionEvidenceEnclaveKeyFieldEvent {
    field: '$.enclaveKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SessionEvidenceNonceFieldEvent {
    field: '$.nonce'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SessionEvidenceAgreementHashFieldEvent {
    field: '$.agreementHash'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SessionEvidenceErrorFieldEvent {
    field: '$.error'
    value: string
  }

  export interface SessionEvidenceGpuKindFieldEvent {
    field: '$.gpuKind'
    value: string
  }

  export interface SessionEvidenceGpuReportFieldEvent {
    field: '$.gpuReport'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SessionEvidenceGpuCertsFieldEvent {
    field: '$.gpuCerts[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface SessionEvidenceGpuRimsFieldEvent {
    field: '$.gpuRims[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface SessionEvidenceMoreGpusIndexFieldEvent {
    field: '$.moreGpus[].index'
    value: number
    index: number
  }

  export interface SessionEvidenceMoreGpusKindFieldEvent {
    field: '$.moreGpus[].kind'
    value: string
    index: number
  }

  export interface SessionEvidenceMoreGpusReportFieldEvent {
    field: '$.moreGpus[].report'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface SessionEvidenceMoreGpusCertsFieldEvent {
    field: '$.moreGpus[].certs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface SessionEvidenceMoreGpusRimsFieldEvent {
    field: '$.moreGpus[].rims[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface SessionEvidenceMoreGpusOcspFieldEvent {
    field: '$.moreGpus[].ocsp[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface SessionEvidenceGpuOcspFieldEvent {
    field: '$.gpuOcsp[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SessionEvidence>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SessionEvidence.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SessionEvidence>): SessionEvidence {
    return decodeMessage(buf, SessionEvidence.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SessionEvidence>): Generator<SessionEvidenceVersionFieldEvent | SessionEvidenceKindFieldEvent | SessionEvidenceEvidenceFieldEvent | SessionEvidenceCertsFieldEvent | SessionEvidenceEnclaveKeyFieldEvent | SessionEvidenceNonceFieldEvent | SessionEvidenceAgreementHashFieldEvent | SessionEvidenceErrorFieldEvent | SessionEvidenceGpuKindFieldEvent | SessionEvidenceGpuReportFieldEvent | SessionEvidenceGpuCertsFieldEvent | SessionEvidenceGpuRimsFieldEvent | SessionEvidenceMoreGpusIndexFieldEvent | SessionEvidenceMoreGpusKindFieldEvent | SessionEvidenceMoreGpusReportFieldEvent | SessionEvidenceMoreGpusCertsFieldEvent | SessionEvidenceMoreGpusRimsFieldEvent | SessionEvidenceMoreGpusOcspFieldEvent | SessionEvidenceGpuOcspFieldEvent> {
    return streamMessage(buf, SessionEvidence.codec(), opts)
  }
}

export interface SessionVerdict {
  ok: boolean
  code: string
}

export namespace SessionVerdict {
  let _codec: Codec<SessionVerdict>

  export const codec = (): Codec<SessionVerdict> => {
    if (_codec == null) {
      _codec = message<SessionVerdict>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.ok != null && obj.ok !== false)) {
          w.uint32(8)
          w.bool(obj.ok)
        }

        if ((obj.code != null && obj.code !== '')) {
          w.uint32(18)
          w.string(obj.code)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          ok: false,
          code: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.ok = reader.bool()
              break
            }
            case 2: {
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
                field: `${prefix}.ok`,
                value: reader.bool()
              }
              break
            }
            case 2: {
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

  export interface SessionVerdictOkFieldEvent {
    field: '$.ok'
    value: boolean
  }

  export interface SessionVerdictCodeFieldEvent {
    field: '$.code'
    value: string
  }

  export function encode (obj: Partial<SessionVerdict>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SessionVerdict.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SessionVerdict>): SessionVerdict {
    return decodeMessage(buf, SessionVerdict.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SessionVerdict>): Generator<SessionVerdictOkFieldEvent | SessionVerdictCodeFieldEvent> {
    return streamMessage(buf, SessionVerdict.codec(), opts)
  }
}
