import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { EMPTY_BYTES } from './empty-bytes.js'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface EnvVar {
  name: string
  value: string
}

export namespace EnvVar {
  let _codec: Codec<EnvVar>

  export const codec = (): Codec<EnvVar> => {
    if (_codec == null) {
      _codec = message<EnvVar>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(10)
          w.string(obj.name)
        }

        if ((obj.value != null && obj.value !== '')) {
          w.uint32(18)
          w.string(obj.value)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          name: '',
          value: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.name = reader.string()
              break
            }
            case 2: {
              obj.value = reader.string()
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
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.value`,
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

  export interface EnvVarNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface EnvVarValueFieldEvent {
    field: '$.value'
    value: string
  }

  export function encode (obj: Partial<EnvVar>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, EnvVar.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<EnvVar>): EnvVar {
    return decodeMessage(buf, EnvVar.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<EnvVar>): Generator<EnvVarNameFieldEvent | EnvVarValueFieldEvent> {
    return streamMessage(buf, EnvVar.codec(), opts)
  }
}

export interface InputDecl {
  name: string
  size: bigint
  sha256: Uint8Array<ArrayBuffer>
  executable: boolean
}

export namespace InputDecl {
  let _codec: Codec<InputDecl>

  export const codec = (): Codec<InputDecl> => {
    if (_codec == null) {
      _codec = message<InputDecl>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(10)
          w.string(obj.name)
        }

        if ((obj.size != null && obj.size !== 0n)) {
          w.uint32(17)
          w.fixed64(obj.size)
        }

        if ((obj.sha256 != null && obj.sha256.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.sha256)
        }

        if ((obj.executable != null && obj.executable !== false)) {
          w.uint32(32)
          w.bool(obj.executable)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          name: '',
          size: 0n,
          sha256: EMPTY_BYTES,
          executable: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.name = reader.string()
              break
            }
            case 2: {
              obj.size = reader.fixed64()
              break
            }
            case 3: {
              obj.sha256 = reader.bytes()
              break
            }
            case 4: {
              obj.executable = reader.bool()
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
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.size`,
                value: reader.fixed64()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.sha256`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.executable`,
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

  export interface InputDeclNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface InputDeclSizeFieldEvent {
    field: '$.size'
    value: bigint
  }

  export interface InputDeclSha256FieldEvent {
    field: '$.sha256'
    value: Uint8Array<ArrayBuffer>
  }

  export interface InputDeclExecutableFieldEvent {
    field: '$.executable'
    value: boolean
  }

  export function encode (obj: Partial<InputDecl>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, InputDecl.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<InputDecl>): InputDecl {
    return decodeMessage(buf, InputDecl.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<InputDecl>): Generator<InputDeclNameFieldEvent | InputDeclSizeFieldEvent | InputDeclSha256FieldEvent | InputDeclExecutableFieldEvent> {
    return streamMessage(buf, InputDecl.codec(), opts)
  }
}

export interface JobSpecMsg {
  command: string
  args: string[]
  env: EnvVar[]
  inputs: InputDecl[]
  outputs: string[]
  gpuCount: number
  maxDurationMs: bigint
  maxBudget: bigint
  image: string
}

export namespace JobSpecMsg {
  let _codec: Codec<JobSpecMsg>

  export const codec = (): Codec<JobSpecMsg> => {
    if (_codec == null) {
      _codec = message<JobSpecMsg>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.command != null && obj.command !== '')) {
          w.uint32(10)
          w.string(obj.command)
        }

        if (obj.args != null && obj.args.length > 0) {
          for (const value of obj.args) {
            w.uint32(18)
            w.string(value)
          }
        }

        if (obj.env != null && obj.env.length > 0) {
          for (const value of obj.env) {
            w.uint32(26)
            EnvVar.codec().encode(value, w)
          }
        }

        if (obj.inputs != null && obj.inputs.length > 0) {
          for (const value of obj.inputs) {
            w.uint32(34)
            InputDecl.codec().encode(value, w)
          }
        }

        if (obj.outputs != null && obj.outputs.length > 0) {
          for (const value of obj.outputs) {
            w.uint32(42)
            w.string(value)
          }
        }

        if ((obj.gpuCount != null && obj.gpuCount !== 0)) {
          w.uint32(48)
          w.uint32(obj.gpuCount)
        }

        if ((obj.maxDurationMs != null && obj.maxDurationMs !== 0n)) {
          w.uint32(57)
          w.fixed64(obj.maxDurationMs)
        }

        if ((obj.maxBudget != null && obj.maxBudget !== 0n)) {
          w.uint32(65)
          w.fixed64(obj.maxBudget)
        }

        if ((obj.image != null && obj.image !== '')) {
          w.uint32(74)
          w.string(obj.image)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          command: '',
          args: [],
          env: [],
          inputs: [],
          outputs: [],
          gpuCount: 0,
          maxDurationMs: 0n,
          maxBudget: 0n,
          image: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.command = reader.string()
              break
            }
            case 2: {
              if (opts.limits?.args != null && obj.args.length === opts.limits.args) {
                throw new MaxLengthError('Decode error - repeated field "args" had too many elements')
              }

              obj.args.push(reader.string())
              break
            }
            case 3: {
              if (opts.limits?.env != null && obj.env.length === opts.limits.env) {
                throw new MaxLengthError('Decode error - repeated field "env" had too many elements')
              }

              obj.env.push(EnvVar.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.env$
              }))
              break
            }
            case 4: {
              if (opts.limits?.inputs != null && obj.inputs.length === opts.limits.inputs) {
                throw new MaxLengthError('Decode error - repeated field "inputs" had too many elements')
              }

              obj.inputs.push(InputDecl.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.inputs$
              }))
              break
            }
            case 5: {
              if (opts.limits?.outputs != null && obj.outputs.length === opts.limits.outputs) {
                throw new MaxLengthError('Decode error - repeated field "outputs" had too many elements')
              }

              obj.outputs.push(reader.string())
              break
            }
            case 6: {
              obj.gpuCount = reader.uint32()
              break
            }
            case 7: {
              obj.maxDurationMs = reader.fixed64()
              break
            }
            case 8: {
              obj.maxBudget = reader.fixed64()
              break
            }
            case 9: {
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
          args: 0,
          env: 0,
          inputs: 0,
          outputs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.command`,
                value: reader.string()
              }
              break
            }
            case 2: {
              if (opts.limits?.args != null && obj.args === opts.limits.args) {
                throw new MaxLengthError('Streaming decode error - repeated field "args" had too many elements')
              }

              yield {
                field: `${prefix}.args[]`,
                index: obj.args,
                value: reader.string()
              }

              obj.args++

              break
            }
            case 3: {
              if (opts.limits?.env != null && obj.env === opts.limits.env) {
                throw new MaxLengthError('Streaming decode error - repeated field "env" had too many elements')
              }

              for (const evt of EnvVar.codec().stream(reader, reader.uint32(), `${prefix}.env[]`, {
                limits: opts.limits?.env$
              })) {
                yield {
                  ...evt,
                  index: obj.env
                }
              }

              obj.env++

              break
            }
            case 4: {
              if (opts.limits?.inputs != null && obj.inputs === opts.limits.inputs) {
                throw new MaxLengthError('Streaming decode error - repeated field "inputs" had too many elements')
              }

              for (const evt of InputDecl.codec().stream(reader, reader.uint32(), `${prefix}.inputs[]`, {
                limits: opts.limits?.inputs$
              })) {
                yield {
                  ...evt,
                  index: obj.inputs
                }
              }

              obj.inputs++

              break
            }
            case 5: {
              if (opts.limits?.outputs != null && obj.outputs === opts.limits.outputs) {
                throw new MaxLengthError('Streaming decode error - repeated field "outputs" had too many elements')
              }

              yield {
                field: `${prefix}.outputs[]`,
                index: obj.outputs,
                value: reader.string()
              }

              obj.outputs++

              break
            }
            case 6: {
              yield {
                field: `${prefix}.gpuCount`,
                value: reader.uint32()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.maxDurationMs`,
                value: reader.fixed64()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.maxBudget`,
                value: reader.fixed64()
              }
              break
            }
            case 9: {
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

  export interface JobSpecMsgCommandFieldEvent {
    field: '$.command'
    value: string
  }

  export interface JobSpecMsgArgsFieldEvent {
    field: '$.args[]'
    index: number
    value: string
  }

  export interface JobSpecMsgEnvNameFieldEvent {
    field: '$.env[].name'
    value: string
    index: number
  }

  export interface JobSpecMsgEnvValueFieldEvent {
    field: '$.env[].value'
    value: string
    index: number
  }

  export interface JobSpecMsgInputsNameFieldEvent {
    field: '$.inputs[].name'
    value: string
    index: number
  }

  export interface JobSpecMsgInputsSizeFieldEvent {
    field: '$.inputs[].size'
    value: bigint
    index: number
  }

  export interface JobSpecMsgInputsSha256FieldEvent {
    field: '$.inputs[].sha256'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface JobSpecMsgInputsExecutableFieldEvent {
    field: '$.inputs[].executable'
    value: boolean
    index: number
  }

  export interface JobSpecMsgOutputsFieldEvent {
    field: '$.outputs[]'
    index: number
    value: string
  }

  export interface JobSpecMsgGpuCountFieldEvent {
    field: '$.gpuCount'
    value: number
  }

  export interface JobSpecMsgMaxDurationMsFieldEvent {
    field: '$.maxDurationMs'
    value: bigint
  }

  export interface JobSpecMsgMaxBudgetFieldEvent {
    field: '$.maxBudget'
    value: bigint
  }

  export interface JobSpecMsgImageFieldEvent {
    field: '$.image'
    value: string
  }

  export function encode (obj: Partial<JobSpecMsg>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, JobSpecMsg.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobSpecMsg>): JobSpecMsg {
    return decodeMessage(buf, JobSpecMsg.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobSpecMsg>): Generator<JobSpecMsgCommandFieldEvent | JobSpecMsgArgsFieldEvent | JobSpecMsgEnvNameFieldEvent | JobSpecMsgEnvValueFieldEvent | JobSpecMsgInputsNameFieldEvent | JobSpecMsgInputsSizeFieldEvent | JobSpecMsgInputsSha256FieldEvent | JobSpecMsgInputsExecutableFieldEvent | JobSpecMsgOutputsFieldEvent | JobSpecMsgGpuCountFieldEvent | JobSpecMsgMaxDurationMsFieldEvent | JobSpecMsgMaxBudgetFieldEvent | JobSpecMsgImageFieldEvent> {
    return streamMessage(buf, JobSpecMsg.codec(), opts)
  }
}

export interface JobStart {
  version: number
  jobId: string
  spec?: JobSpecMsg
}

export namespace JobStart {
  let _codec: Codec<JobStart>

  export const codec = (): Codec<JobStart> => {
    if (_codec == null) {
      _codec = message<JobStart>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.jobId != null && obj.jobId !== '')) {
          w.uint32(18)
          w.string(obj.jobId)
        }

        if (obj.spec != null) {
          w.uint32(26)
          JobSpecMsg.codec().encode(obj.spec, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          jobId: ''
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
              obj.jobId = reader.string()
              break
            }
            case 3: {
              obj.spec = JobSpecMsg.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.spec
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
                field: `${prefix}.version`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.jobId`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield * JobSpecMsg.codec().stream(reader, reader.uint32(), `${prefix}.spec`, {
                limits: opts.limits?.spec
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

  export interface JobStartVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface JobStartJobIdFieldEvent {
    field: '$.jobId'
    value: string
  }

  export interface JobStartSpecCommandFieldEvent {
    field: '$.spec.command'
    value: string
  }

  export interface JobStartSpecArgsFieldEvent {
    field: '$.spec.args[]'
    index: number
    value: string
  }

  export interface JobStartSpecEnvNameFieldEvent {
    field: '$.spec.env[].name'
    value: string
    index: number
  }

  export interface JobStartSpecEnvValueFieldEvent {
    field: '$.spec.env[].value'
    value: string
    index: number
  }

  export interface JobStartSpecInputsNameFieldEvent {
    field: '$.spec.inputs[].name'
    value: string
    index: number
  }

  export interface JobStartSpecInputsSizeFieldEvent {
    field: '$.spec.inputs[].size'
    value: bigint
    index: number
  }

  export interface JobStartSpecInputsSha256FieldEvent {
    field: '$.spec.inputs[].sha256'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface JobStartSpecInputsExecutableFieldEvent {
    field: '$.spec.inputs[].executable'
    value: boolean
    index: number
  }

  export interface JobStartSpecOutputsFieldEvent {
    field: '$.spec.outputs[]'
    index: number
    value: string
  }

  export interface JobStartSpecGpuCountFieldEvent {
    field: '$.spec.gpuCount'
    value: number
  }

  export interface JobStartSpecMaxDurationMsFieldEvent {
    field: '$.spec.maxDurationMs'
    value: bigint
  }

  export interface JobStartSpecMaxBudgetFieldEvent {
    field: '$.spec.maxBudget'
    value: bigint
  }

  export interface JobStartSpecImageFieldEvent {
    field: '$.spec.image'
    value: string
  }

  export function encode (obj: Partial<JobStart>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, JobStart.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobStart>): JobStart {
    return decodeMessage(buf, JobStart.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobStart>): Generator<JobStartVersionFieldEvent | JobStartJobIdFieldEvent | JobStartSpecCommandFieldEvent | JobStartSpecArgsFieldEvent | JobStartSpecEnvNameFieldEvent | JobStartSpecEnvValueFieldEvent | JobStartSpecInputsNameFieldEvent | JobStartSpecInputsSizeFieldEvent | JobStartSpecInputsSha256FieldEvent | JobStartSpecInputsExecutableFieldEvent | JobStartSpecOutputsFieldEvent | JobStartSpecGpuCountFieldEvent | JobStartSpecMaxDurationMsFieldEvent | JobStartSpecMaxBudgetFieldEvent | JobStartSpecImageFieldEvent> {
    return streamMessage(buf, JobStart.codec(), opts)
  }
}

export interface FileChunk {
  file: number
  offset: bigint
  data: Uint8Array<ArrayBuffer>
}

export namespace FileChunk {
  let _codec: Codec<FileChunk>

  export const codec = (): Codec<FileChunk> => {
    if (_codec == null) {
      _codec = message<FileChunk>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.file != null && obj.file !== 0)) {
          w.uint32(8)
          w.uint32(obj.file)
        }

        if ((obj.offset != null && obj.offset !== 0n)) {
          w.uint32(17)
          w.fixed64(obj.offset)
        }

        if ((obj.data != null && obj.data.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.data)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          file: 0,
          offset: 0n,
          data: EMPTY_BYTES
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.file = reader.uint32()
              break
            }
            case 2: {
              obj.offset = reader.fixed64()
              break
            }
            case 3: {
              obj.data = reader.bytes()
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
                field: `${prefix}.file`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.offset`,
                value: reader.fixed64()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.data`,
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

  export interface FileChunkFileFieldEvent {
    field: '$.file'
    value: number
  }

  export interface FileChunkOffsetFieldEvent {
    field: '$.offset'
    value: bigint
  }

  export interface FileChunkDataFieldEvent {
    field: '$.data'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<FileChunk>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, FileChunk.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FileChunk>): FileChunk {
    return decodeMessage(buf, FileChunk.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FileChunk>): Generator<FileChunkFileFieldEvent | FileChunkOffsetFieldEvent | FileChunkDataFieldEvent> {
    return streamMessage(buf, FileChunk.codec(), opts)
  }
}

export interface Cancel {
  reason: string
}

export namespace Cancel {
  let _codec: Codec<Cancel>

  export const codec = (): Codec<Cancel> => {
    if (_codec == null) {
      _codec = message<Cancel>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.reason != null && obj.reason !== '')) {
          w.uint32(10)
          w.string(obj.reason)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          reason: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.reason = reader.string()
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
                field: `${prefix}.reason`,
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

  export interface CancelReasonFieldEvent {
    field: '$.reason'
    value: string
  }

  export function encode (obj: Partial<Cancel>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Cancel.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Cancel>): Cancel {
    return decodeMessage(buf, Cancel.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Cancel>): Generator<CancelReasonFieldEvent> {
    return streamMessage(buf, Cancel.codec(), opts)
  }
}

export interface JobAttach {
  version: number
  agreementId: Uint8Array<ArrayBuffer>
}

export namespace JobAttach {
  let _codec: Codec<JobAttach>

  export const codec = (): Codec<JobAttach> => {
    if (_codec == null) {
      _codec = message<JobAttach>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.agreementId != null && obj.agreementId.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.agreementId)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          agreementId: EMPTY_BYTES
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
              obj.agreementId = reader.bytes()
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
                field: `${prefix}.agreementId`,
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

  export interface JobAttachVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface JobAttachAgreementIdFieldEvent {
    field: '$.agreementId'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<JobAttach>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, JobAttach.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobAttach>): JobAttach {
    return decodeMessage(buf, JobAttach.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobAttach>): Generator<JobAttachVersionFieldEvent | JobAttachAgreementIdFieldEvent> {
    return streamMessage(buf, JobAttach.codec(), opts)
  }
}

export interface Started {
  gpuIndices: number[]
  startedAt: bigint
}

export namespace Started {
  let _codec: Codec<Started>

  export const codec = (): Codec<Started> => {
    if (_codec == null) {
      _codec = message<Started>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.gpuIndices != null && obj.gpuIndices.length > 0) {
          for (const value of obj.gpuIndices) {
            w.uint32(8)
            w.uint32(value)
          }
        }

        if ((obj.startedAt != null && obj.startedAt !== 0n)) {
          w.uint32(17)
          w.fixed64(obj.startedAt)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          gpuIndices: [],
          startedAt: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.gpuIndices != null && obj.gpuIndices.length === opts.limits.gpuIndices) {
                throw new MaxLengthError('Decode error - repeated field "gpuIndices" had too many elements')
              }

              obj.gpuIndices.push(reader.uint32())
              break
            }
            case 2: {
              obj.startedAt = reader.fixed64()
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
          gpuIndices: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.gpuIndices != null && obj.gpuIndices === opts.limits.gpuIndices) {
                throw new MaxLengthError('Streaming decode error - repeated field "gpuIndices" had too many elements')
              }

              yield {
                field: `${prefix}.gpuIndices[]`,
                index: obj.gpuIndices,
                value: reader.uint32()
              }

              obj.gpuIndices++

              break
            }
            case 2: {
              yield {
                field: `${prefix}.startedAt`,
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

  export interface StartedGpuIndicesFieldEvent {
    field: '$.gpuIndices[]'
    index: number
    value: number
  }

  export interface StartedStartedAtFieldEvent {
    field: '$.startedAt'
    value: bigint
  }

  export function encode (obj: Partial<Started>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Started.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Started>): Started {
    return decodeMessage(buf, Started.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Started>): Generator<StartedGpuIndicesFieldEvent | StartedStartedAtFieldEvent> {
    return streamMessage(buf, Started.codec(), opts)
  }
}

export interface Tick {
  elapsedMs: bigint
  stdoutBytes: bigint
  stderrBytes: bigint
  gpuCount: number
  paused: boolean
}

export namespace Tick {
  let _codec: Codec<Tick>

  export const codec = (): Codec<Tick> => {
    if (_codec == null) {
      _codec = message<Tick>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.elapsedMs != null && obj.elapsedMs !== 0n)) {
          w.uint32(9)
          w.fixed64(obj.elapsedMs)
        }

        if ((obj.stdoutBytes != null && obj.stdoutBytes !== 0n)) {
          w.uint32(17)
          w.fixed64(obj.stdoutBytes)
        }

        if ((obj.stderrBytes != null && obj.stderrBytes !== 0n)) {
          w.uint32(25)
          w.fixed64(obj.stderrBytes)
        }

        if ((obj.gpuCount != null && obj.gpuCount !== 0)) {
          w.uint32(32)
          w.uint32(obj.gpuCount)
        }

        if ((obj.paused != null && obj.paused !== false)) {
          w.uint32(40)
          w.bool(obj.paused)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          elapsedMs: 0n,
          stdoutBytes: 0n,
          stderrBytes: 0n,
          gpuCount: 0,
          paused: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.elapsedMs = reader.fixed64()
              break
            }
            case 2: {
              obj.stdoutBytes = reader.fixed64()
              break
            }
            case 3: {
              obj.stderrBytes = reader.fixed64()
              break
            }
            case 4: {
              obj.gpuCount = reader.uint32()
              break
            }
            case 5: {
              obj.paused = reader.bool()
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
                field: `${prefix}.elapsedMs`,
                value: reader.fixed64()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.stdoutBytes`,
                value: reader.fixed64()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.stderrBytes`,
                value: reader.fixed64()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.gpuCount`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.paused`,
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

  export interface TickElapsedMsFieldEvent {
    field: '$.elapsedMs'
    value: bigint
  }

  export interface TickStdoutBytesFieldEvent {
    field: '$.stdoutBytes'
    value: bigint
  }

  export interface TickStderrBytesFieldEvent {
    field: '$.stderrBytes'
    value: bigint
  }

  export interface TickGpuCountFieldEvent {
    field: '$.gpuCount'
    value: number
  }

  export interface TickPausedFieldEvent {
    field: '$.paused'
    value: boolean
  }

  export function encode (obj: Partial<Tick>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Tick.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Tick>): Tick {
    return decodeMessage(buf, Tick.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Tick>): Generator<TickElapsedMsFieldEvent | TickStdoutBytesFieldEvent | TickStderrBytesFieldEvent | TickGpuCountFieldEvent | TickPausedFieldEvent> {
    return streamMessage(buf, Tick.codec(), opts)
  }
}

export interface Exit {
  exitCode: number
  signal: string
  reason: string
  durationMs: bigint
  detail: string
}

export namespace Exit {
  let _codec: Codec<Exit>

  export const codec = (): Codec<Exit> => {
    if (_codec == null) {
      _codec = message<Exit>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.exitCode != null && obj.exitCode !== 0)) {
          w.uint32(8)
          w.sint32(obj.exitCode)
        }

        if ((obj.signal != null && obj.signal !== '')) {
          w.uint32(18)
          w.string(obj.signal)
        }

        if ((obj.reason != null && obj.reason !== '')) {
          w.uint32(26)
          w.string(obj.reason)
        }

        if ((obj.durationMs != null && obj.durationMs !== 0n)) {
          w.uint32(33)
          w.fixed64(obj.durationMs)
        }

        if ((obj.detail != null && obj.detail !== '')) {
          w.uint32(42)
          w.string(obj.detail)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          exitCode: 0,
          signal: '',
          reason: '',
          durationMs: 0n,
          detail: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.exitCode = reader.sint32()
              break
            }
            case 2: {
              obj.signal = reader.string()
              break
            }
            case 3: {
              obj.reason = reader.string()
              break
            }
            case 4: {
              obj.durationMs = reader.fixed64()
              break
            }
            case 5: {
              obj.detail = reader.string()
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
                field: `${prefix}.exitCode`,
                value: reader.sint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.signal`,
                value: reader.string()
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
              yield {
                field: `${prefix}.durationMs`,
                value: reader.fixed64()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.detail`,
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

  export interface ExitExitCodeFieldEvent {
    field: '$.exitCode'
    value: number
  }

  export interface ExitSignalFieldEvent {
    field: '$.signal'
    value: string
  }

  export interface ExitReasonFieldEvent {
    field: '$.reason'
    value: string
  }

  export interface ExitDurationMsFieldEvent {
    field: '$.durationMs'
    value: bigint
  }

  export interface ExitDetailFieldEvent {
    field: '$.detail'
    value: string
  }

  export function encode (obj: Partial<Exit>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Exit.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Exit>): Exit {
    return decodeMessage(buf, Exit.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Exit>): Generator<ExitExitCodeFieldEvent | ExitSignalFieldEvent | ExitReasonFieldEvent | ExitDurationMsFieldEvent | ExitDetailFieldEvent> {
    return streamMessage(buf, Exit.codec(), opts)
  }
}

export interface OutputHeader {
  file: number
  name: string
  size: bigint
  sha256: Uint8Array<ArrayBuffer>
  missing: boolean
}

export namespace OutputHeader {
  let _codec: Codec<OutputHeader>

  export const codec = (): Codec<OutputHeader> => {
    if (_codec == null) {
      _codec = message<OutputHeader>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.file != null && obj.file !== 0)) {
          w.uint32(8)
          w.uint32(obj.file)
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(18)
          w.string(obj.name)
        }

        if ((obj.size != null && obj.size !== 0n)) {
          w.uint32(25)
          w.fixed64(obj.size)
        }

        if ((obj.sha256 != null && obj.sha256.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.sha256)
        }

        if ((obj.missing != null && obj.missing !== false)) {
          w.uint32(40)
          w.bool(obj.missing)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          file: 0,
          name: '',
          size: 0n,
          sha256: EMPTY_BYTES,
          missing: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.file = reader.uint32()
              break
            }
            case 2: {
              obj.name = reader.string()
              break
            }
            case 3: {
              obj.size = reader.fixed64()
              break
            }
            case 4: {
              obj.sha256 = reader.bytes()
              break
            }
            case 5: {
              obj.missing = reader.bool()
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
                field: `${prefix}.file`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.size`,
                value: reader.fixed64()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.sha256`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.missing`,
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

  export interface OutputHeaderFileFieldEvent {
    field: '$.file'
    value: number
  }

  export interface OutputHeaderNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface OutputHeaderSizeFieldEvent {
    field: '$.size'
    value: bigint
  }

  export interface OutputHeaderSha256FieldEvent {
    field: '$.sha256'
    value: Uint8Array<ArrayBuffer>
  }

  export interface OutputHeaderMissingFieldEvent {
    field: '$.missing'
    value: boolean
  }

  export function encode (obj: Partial<OutputHeader>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, OutputHeader.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<OutputHeader>): OutputHeader {
    return decodeMessage(buf, OutputHeader.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<OutputHeader>): Generator<OutputHeaderFileFieldEvent | OutputHeaderNameFieldEvent | OutputHeaderSizeFieldEvent | OutputHeaderSha256FieldEvent | OutputHeaderMissingFieldEvent> {
    return streamMessage(buf, OutputHeader.codec(), opts)
  }
}

export interface Done {
  outputs: number
}

export namespace Done {
  let _codec: Codec<Done>

  export const codec = (): Codec<Done> => {
    if (_codec == null) {
      _codec = message<Done>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.outputs != null && obj.outputs !== 0)) {
          w.uint32(8)
          w.uint32(obj.outputs)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          outputs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.outputs = reader.uint32()
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
                field: `${prefix}.outputs`,
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

  export interface DoneOutputsFieldEvent {
    field: '$.outputs'
    value: number
  }

  export function encode (obj: Partial<Done>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Done.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Done>): Done {
    return decodeMessage(buf, Done.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Done>): Generator<DoneOutputsFieldEvent> {
    return streamMessage(buf, Done.codec(), opts)
  }
}

export interface JobErrorMsg {
  code: string
  message: string
}

export namespace JobErrorMsg {
  let _codec: Codec<JobErrorMsg>

  export const codec = (): Codec<JobErrorMsg> => {
    if (_codec == null) {
      _codec = message<JobErrorMsg>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.code != null && obj.code !== '')) {
          w.uint32(10)
          w.string(obj.code)
        }

        if ((obj.message != null && obj.message !== '')) {
          w.uint32(18)
          w.string(obj.message)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          code: '',
          message: ''
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
              obj.message = reader.string()
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
                field: `${prefix}.message`,
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

  export interface JobErrorMsgCodeFieldEvent {
    field: '$.code'
    value: string
  }

  export interface JobErrorMsgMessageFieldEvent {
    field: '$.message'
    value: string
  }

  export function encode (obj: Partial<JobErrorMsg>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, JobErrorMsg.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobErrorMsg>): JobErrorMsg {
    return decodeMessage(buf, JobErrorMsg.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobErrorMsg>): Generator<JobErrorMsgCodeFieldEvent | JobErrorMsgMessageFieldEvent> {
    return streamMessage(buf, JobErrorMsg.codec(), opts)
  }
}

export interface JobFrame {
  start?: JobStart
  input?: FileChunk
  cancel?: Cancel
  started?: Started
  stdout?: Uint8Array<ArrayBuffer>
  stderr?: Uint8Array<ArrayBuffer>
  tick?: Tick
  exit?: Exit
  output?: OutputHeader
  outputChunk?: FileChunk
  done?: Done
  error?: JobErrorMsg
  metering?: Uint8Array<ArrayBuffer>
  credit?: number
  attach?: JobAttach
}

export namespace JobFrame {
  let _codec: Codec<JobFrame>

  export const codec = (): Codec<JobFrame> => {
    if (_codec == null) {
      _codec = message<JobFrame>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.start != null) {
          w.uint32(10)
          JobStart.codec().encode(obj.start, w)
        }

        if (obj.input != null) {
          w.uint32(18)
          FileChunk.codec().encode(obj.input, w)
        }

        if (obj.cancel != null) {
          w.uint32(26)
          Cancel.codec().encode(obj.cancel, w)
        }

        if (obj.started != null) {
          w.uint32(34)
          Started.codec().encode(obj.started, w)
        }

        if (obj.stdout != null) {
          w.uint32(42)
          w.bytes(obj.stdout)
        }

        if (obj.stderr != null) {
          w.uint32(50)
          w.bytes(obj.stderr)
        }

        if (obj.tick != null) {
          w.uint32(58)
          Tick.codec().encode(obj.tick, w)
        }

        if (obj.exit != null) {
          w.uint32(66)
          Exit.codec().encode(obj.exit, w)
        }

        if (obj.output != null) {
          w.uint32(74)
          OutputHeader.codec().encode(obj.output, w)
        }

        if (obj.outputChunk != null) {
          w.uint32(82)
          FileChunk.codec().encode(obj.outputChunk, w)
        }

        if (obj.done != null) {
          w.uint32(90)
          Done.codec().encode(obj.done, w)
        }

        if (obj.error != null) {
          w.uint32(98)
          JobErrorMsg.codec().encode(obj.error, w)
        }

        if (obj.metering != null) {
          w.uint32(106)
          w.bytes(obj.metering)
        }

        if (obj.credit != null) {
          w.uint32(112)
          w.uint32(obj.credit)
        }

        if (obj.attach != null) {
          w.uint32(122)
          JobAttach.codec().encode(obj.attach, w)
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
              obj.start = JobStart.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.start
              })
              break
            }
            case 2: {
              obj.input = FileChunk.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.input
              })
              break
            }
            case 3: {
              obj.cancel = Cancel.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.cancel
              })
              break
            }
            case 4: {
              obj.started = Started.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.started
              })
              break
            }
            case 5: {
              obj.stdout = reader.bytes()
              break
            }
            case 6: {
              obj.stderr = reader.bytes()
              break
            }
            case 7: {
              obj.tick = Tick.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.tick
              })
              break
            }
            case 8: {
              obj.exit = Exit.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.exit
              })
              break
            }
            case 9: {
              obj.output = OutputHeader.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.output
              })
              break
            }
            case 10: {
              obj.outputChunk = FileChunk.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.outputChunk
              })
              break
            }
            case 11: {
              obj.done = Done.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.done
              })
              break
            }
            case 12: {
              obj.error = JobErrorMsg.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.error
              })
              break
            }
            case 13: {
              obj.metering = reader.bytes()
              break
            }
            case 14: {
              obj.credit = reader.uint32()
              break
            }
            case 15: {
              obj.attach = JobAttach.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.attach
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
              yield * JobStart.codec().stream(reader, reader.uint32(), `${prefix}.start`, {
                limits: opts.limits?.start
              })

              break
            }
            case 2: {
              yield * FileChunk.codec().stream(reader, reader.uint32(), `${prefix}.input`, {
                limits: opts.limits?.input
              })

              break
            }
            case 3: {
              yield * Cancel.codec().stream(reader, reader.uint32(), `${prefix}.cancel`, {
                limits: opts.limits?.cancel
              })

              break
            }
            case 4: {
              yield * Started.codec().stream(reader, reader.uint32(), `${prefix}.started`, {
                limits: opts.limits?.started
              })

              break
            }
            case 5: {
              yield {
                field: `${prefix}.stdout`,
                value: reader.bytes()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.stderr`,
                value: reader.bytes()
              }
              break
            }
            case 7: {
              yield * Tick.codec().stream(reader, reader.uint32(), `${prefix}.tick`, {
                limits: opts.limits?.tick
              })

              break
            }
            case 8: {
              yield * Exit.codec().stream(reader, reader.uint32(), `${prefix}.exit`, {
                limits: opts.limits?.exit
              })

              break
            }
            case 9: {
              yield * OutputHeader.codec().stream(reader, reader.uint32(), `${prefix}.output`, {
                limits: opts.limits?.output
              })

              break
            }
            case 10: {
              yield * FileChunk.codec().stream(reader, reader.uint32(), `${prefix}.outputChunk`, {
                limits: opts.limits?.outputChunk
              })

              break
            }
            case 11: {
              yield * Done.codec().stream(reader, reader.uint32(), `${prefix}.done`, {
                limits: opts.limits?.done
              })

              break
            }
            case 12: {
              yield * JobErrorMsg.codec().stream(reader, reader.uint32(), `${prefix}.error`, {
                limits: opts.limits?.error
              })

              break
            }
            case 13: {
              yield {
                field: `${prefix}.metering`,
                value: reader.bytes()
              }
              break
            }
            case 14: {
              yield {
                field: `${prefix}.credit`,
                value: reader.uint32()
              }
              break
            }
            case 15: {
              yield * JobAttach.codec().stream(reader, reader.uint32(), `${prefix}.attach`, {
                limits: opts.limits?.attach
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

  export interface JobFrameStartVersionFieldEvent {
    field: '$.start.version'
    value: number
  }

  export interface JobFrameStartJobIdFieldEvent {
    field: '$.start.jobId'
    value: string
  }

  export interface JobFrameStartSpecCommandFieldEvent {
    field: '$.start.spec.command'
    value: string
  }

  export interface JobFrameStartSpecArgsFieldEvent {
    field: '$.start.spec.args[]'
    index: number
    value: string
  }

  export interface JobFrameStartSpecEnvNameFieldEvent {
    field: '$.start.spec.env[].name'
    value: string
    index: number
  }

  export interface JobFrameStartSpecEnvValueFieldEvent {
    field: '$.start.spec.env[].value'
    value: string
    index: number
  }

  export interface JobFrameStartSpecInputsNameFieldEvent {
    field: '$.start.spec.inputs[].name'
    value: string
    index: number
  }

  export interface JobFrameStartSpecInputsSizeFieldEvent {
    field: '$.start.spec.inputs[].size'
    value: bigint
    index: number
  }

  export interface JobFrameStartSpecInputsSha256FieldEvent {
    field: '$.start.spec.inputs[].sha256'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface JobFrameStartSpecInputsExecutableFieldEvent {
    field: '$.start.spec.inputs[].executable'
    value: boolean
    index: number
  }

  export interface JobFrameStartSpecOutputsFieldEvent {
    field: '$.start.spec.outputs[]'
    index: number
    value: string
  }

  export interface JobFrameStartSpecGpuCountFieldEvent {
    field: '$.start.spec.gpuCount'
    value: number
  }

  export interface JobFrameStartSpecMaxDurationMsFieldEvent {
    field: '$.start.spec.maxDurationMs'
    value: bigint
  }

  export interface JobFrameStartSpecMaxBudgetFieldEvent {
    field: '$.start.spec.maxBudget'
    value: bigint
  }

  export interface JobFrameStartSpecImageFieldEvent {
    field: '$.start.spec.image'
    value: string
  }

  export interface JobFrameInputFileFieldEvent {
    field: '$.input.file'
    value: number
  }

  export interface JobFrameInputOffsetFieldEvent {
    field: '$.input.offset'
    value: bigint
  }

  export interface JobFrameInputDataFieldEvent {
    field: '$.input.data'
    value: Uint8Array<ArrayBuffer>
  }

  export interface JobFrameCancelReasonFieldEvent {
    field: '$.cancel.reason'
    value: string
  }

  export interface JobFrameStartedGpuIndicesFieldEvent {
    field: '$.started.gpuIndices[]'
    index: number
    value: number
  }

  export interface JobFrameStartedStartedAtFieldEvent {
    field: '$.started.startedAt'
    value: bigint
  }

  export interface JobFrameStdoutFieldEvent {
    field: '$.stdout'
    value: Uint8Array<ArrayBuffer>
  }

  export interface JobFrameStderrFieldEvent {
    field: '$.stderr'
    value: Uint8Array<ArrayBuffer>
  }

  export interface JobFrameTickElapsedMsFieldEvent {
    field: '$.tick.elapsedMs'
    value: bigint
  }

  export interface JobFrameTickStdoutBytesFieldEvent {
    field: '$.tick.stdoutBytes'
    value: bigint
  }

  export interface JobFrameTickStderrBytesFieldEvent {
    field: '$.tick.stderrBytes'
    value: bigint
  }

  export interface JobFrameTickGpuCountFieldEvent {
    field: '$.tick.gpuCount'
    value: number
  }

  export interface JobFrameTickPausedFieldEvent {
    field: '$.tick.paused'
    value: boolean
  }

  export interface JobFrameExitExitCodeFieldEvent {
    field: '$.exit.exitCode'
    value: number
  }

  export interface JobFrameExitSignalFieldEvent {
    field: '$.exit.signal'
    value: string
  }

  export interface JobFrameExitReasonFieldEvent {
    field: '$.exit.reason'
    value: string
  }

  export interface JobFrameExitDurationMsFieldEvent {
    field: '$.exit.durationMs'
    value: bigint
  }

  export interface JobFrameExitDetailFieldEvent {
    field: '$.exit.detail'
    value: string
  }

  export interface JobFrameOutputFileFieldEvent {
    field: '$.output.file'
    value: number
  }

  export interface JobFrameOutputNameFieldEvent {
    field: '$.output.name'
    value: string
  }

  export interface JobFrameOutputSizeFieldEvent {
    field: '$.output.size'
    value: bigint
  }

  export interface JobFrameOutputSha256FieldEvent {
    field: '$.output.sha256'
    value: Uint8Array<ArrayBuffer>
  }

  export interface JobFrameOutputMissingFieldEvent {
    field: '$.output.missing'
    value: boolean
  }

  export interface JobFrameOutputChunkFileFieldEvent {
    field: '$.outputChunk.file'
    value: number
  }

  export interface JobFrameOutputChunkOffsetFieldEvent {
    field: '$.outputChunk.offset'
    value: bigint
  }

  export interface JobFrameOutputChunkDataFieldEvent {
    field: '$.outputChunk.data'
    value: Uint8Array<ArrayBuffer>
  }

  export interface JobFrameDoneOutputsFieldEvent {
    field: '$.done.outputs'
    value: number
  }

  export interface JobFrameErrorCodeFieldEvent {
    field: '$.error.code'
    value: string
  }

  export interface JobFrameErrorMessageFieldEvent {
    field: '$.error.message'
    value: string
  }

  export interface JobFrameMeteringFieldEvent {
    field: '$.metering'
    value: Uint8Array<ArrayBuffer>
  }

  export interface JobFrameCreditFieldEvent {
    field: '$.credit'
    value: number
  }

  export interface JobFrameAttachVersionFieldEvent {
    field: '$.attach.version'
    value: number
  }

  export interface JobFrameAttachAgreementIdFieldEvent {
    field: '$.attach.agreementId'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<JobFrame>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, JobFrame.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobFrame>): JobFrame {
    return decodeMessage(buf, JobFrame.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobFrame>): Generator<JobFrameStartVersionFieldEvent | JobFrameStartJobIdFieldEvent | JobFrameStartSpecCommandFieldEvent | JobFrameStartSpecArgsFieldEvent | JobFrameStartSpecEnvNameFieldEvent | JobFrameStartSpecEnvValueFieldEvent | JobFrameStartSpecInputsNameFieldEvent | JobFrameStartSpecInputsSizeFieldEvent | JobFrameStartSpecInputsSha256FieldEvent | JobFrameStartSpecInputsExecutableFieldEvent | JobFrameStartSpecOutputsFieldEvent | JobFrameStartSpecGpuCountFieldEvent | JobFrameStartSpecMaxDurationMsFieldEvent | JobFrameStartSpecMaxBudgetFieldEvent | JobFrameStartSpecImageFieldEvent | JobFrameInputFileFieldEvent | JobFrameInputOffsetFieldEvent | JobFrameInputDataFieldEvent | JobFrameCancelReasonFieldEvent | JobFrameStartedGpuIndicesFieldEvent | JobFrameStartedStartedAtFieldEvent | JobFrameStdoutFieldEvent | JobFrameStderrFieldEvent | JobFrameTickElapsedMsFieldEvent | JobFrameTickStdoutBytesFieldEvent | JobFrameTickStderrBytesFieldEvent | JobFrameTickGpuCountFieldEvent | JobFrameTickPausedFieldEvent | JobFrameExitExitCodeFieldEvent | JobFrameExitSignalFieldEvent | JobFrameExitReasonFieldEvent | JobFrameExitDurationMsFieldEvent | JobFrameExitDetailFieldEvent | JobFrameOutputFileFieldEvent | JobFrameOutputNameFieldEvent | JobFrameOutputSizeFieldEvent | JobFrameOutputSha256FieldEvent | JobFrameOutputMissingFieldEvent | JobFrameOutputChunkFileFieldEvent | JobFrameOutputChunkOffsetFieldEvent | JobFrameOutputChunkDataFieldEvent | JobFrameDoneOutputsFieldEvent | JobFrameErrorCodeFieldEvent | JobFrameErrorMessageFieldEvent | JobFrameMeteringFieldEvent | JobFrameCreditFieldEvent | JobFrameAttachVersionFieldEvent | JobFrameAttachAgreementIdFieldEvent> {
    return streamMessage(buf, JobFrame.codec(), opts)
  }
}
