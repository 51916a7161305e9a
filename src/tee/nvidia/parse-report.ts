import { AttestationErrorCode, fail } from '../errors.js'
import { Reader } from '../bytes.js'
import {
  MAX_GPU_REPORT_SIZE, MAX_MEASUREMENT_RECORD_LENGTH, SPDM_GET_MEASUREMENTS, SPDM_MAX_OPAQUE_LENGTH, SPDM_MEASUREMENTS,
  SPDM_MEASUREMENT_SPEC_DMTF, SPDM_NONCE_LENGTH, SPDM_PARAM1_SIGNATURE_REQUESTED, SPDM_REQUESTER_CONTEXT_LENGTH,
  SPDM_SIGNATURE_LENGTH, SPDM_VERSIONS
} from './constants.js'

/** One DMTF measurement block of the MEASUREMENTS response. */
export interface GpuMeasurementBlock {
  /** block index, 1..254 */
  index: number
  /** DMTFSpecMeasurementValueType (bit 7: raw bit stream rather than a digest) */
  valueType: number
  value: Uint8Array
}

/** A parsed SPDM GET_MEASUREMENTS request and its signed MEASUREMENTS response. */
export interface GpuReport {
  /** SPDMVersion byte (0x11 = 1.1) */
  spdmVersion: number
  /** the requester's nonce: what binds the report to a request */
  requestNonce: Uint8Array
  /** the GPU's own nonce in the response */
  responderNonce: Uint8Array
  /** request Param2: the measurement requested (0xff = all) */
  requestedMeasurement: number
  slotId: number
  blocks: GpuMeasurementBlock[]
  /** raw OpaqueData (NVIDIA's TLV fields; see parse-opaque.ts) */
  opaque: Uint8Array
  /** request ‖ response up to the signature: what the signature covers */
  signed: Uint8Array
  /** ECDSA P-384 r ‖ s */
  signature: Uint8Array
  /** bytes after the signature (some producers pad); not covered by anything, ignored */
  trailing: number
}

/**
 * Parses an NVIDIA GPU attestation report: the SPDM GET_MEASUREMENTS request followed by the
 * MEASUREMENTS response (DSP0274 1.1 §10.11; 1.3 adds an 8-byte RequesterContext to both). Every
 * length is checked against the bytes present; the measurement record must be exactly the DMTF
 * blocks it announces. Throws AttestationError (TRUNCATED, MALFORMED, UNSUPPORTED_VERSION).
 */
export function parseGpuReport (bytes: Uint8Array): GpuReport {
  if (bytes.byteLength > MAX_GPU_REPORT_SIZE) fail(AttestationErrorCode.MALFORMED, `gpu report over ${MAX_GPU_REPORT_SIZE} bytes`)
  const r = new Reader(bytes, 'gpu report')
  // request: SPDMVersion, code, Param1, Param2, Nonce (32), SlotIDParam [, RequesterContext (8) in 1.3]
  const spdmVersion = r.u8(0)
  if (!SPDM_VERSIONS.includes(spdmVersion)) fail(AttestationErrorCode.UNSUPPORTED_VERSION, `gpu report: SPDM version 0x${spdmVersion.toString(16)}`)
  if (r.u8(1) !== SPDM_GET_MEASUREMENTS) fail(AttestationErrorCode.MALFORMED, 'gpu report: the request is not GET_MEASUREMENTS')
  // [REJECT] without the signature bit there is neither nonce nor signature: nothing to verify
  if ((r.u8(2) & SPDM_PARAM1_SIGNATURE_REQUESTED) === 0) fail(AttestationErrorCode.MALFORMED, 'gpu report: no signature was requested')
  const requestedMeasurement = r.u8(3)
  const requestNonce = r.slice(4, SPDM_NONCE_LENGTH)
  const slotId = r.u8(36) & 0x0f
  const context = spdmVersion >= 0x13 ? SPDM_REQUESTER_CONTEXT_LENGTH : 0
  const requestLength = 37 + context
  r.need(0, requestLength)

  // response: SPDMVersion, code, Param1, Param2, NumberOfBlocks, MeasurementRecordLength (3)
  const o = requestLength
  if (r.u8(o) !== spdmVersion) fail(AttestationErrorCode.MALFORMED, 'gpu report: response SPDM version differs from the request')
  if (r.u8(o + 1) !== SPDM_MEASUREMENTS) fail(AttestationErrorCode.MALFORMED, 'gpu report: the response is not MEASUREMENTS')
  const numberOfBlocks = r.u8(o + 4)
  const recordLength = r.u8(o + 5) | (r.u8(o + 6) << 8) | (r.u8(o + 7) << 16)
  if (recordLength > MAX_MEASUREMENT_RECORD_LENGTH) fail(AttestationErrorCode.MALFORMED, `gpu report: measurement record of ${recordLength} bytes`)
  const recordStart = o + 8
  r.need(recordStart, recordLength)
  const recordEnd = recordStart + recordLength

  const blocks: GpuMeasurementBlock[] = []
  const seen = new Set<number>()
  let p = recordStart
  for (let i = 0; i < numberOfBlocks; i++) {
    // block: Index, MeasurementSpecification, MeasurementSize (u16), Measurement
    if (p + 4 > recordEnd) fail(AttestationErrorCode.TRUNCATED, `gpu report: block ${i} past the measurement record`)
    const index = r.u8(p)
    const spec = r.u8(p + 1)
    const size = r.u16(p + 2)
    if (index === 0 || index === 0xff || seen.has(index)) fail(AttestationErrorCode.MALFORMED, `gpu report: block index ${index} invalid or repeated`)
    if (spec !== SPDM_MEASUREMENT_SPEC_DMTF) fail(AttestationErrorCode.MALFORMED, `gpu report: block ${index} is not a DMTF measurement`)
    if (p + 4 + size > recordEnd) fail(AttestationErrorCode.TRUNCATED, `gpu report: block ${index} past the measurement record`)
    // DMTF measurement: ValueType, ValueSize (u16), Value; it must fill the block exactly
    if (size < 3) fail(AttestationErrorCode.MALFORMED, `gpu report: block ${index} too short`)
    const valueType = r.u8(p + 4)
    const valueSize = r.u16(p + 5)
    if (valueSize + 3 !== size) fail(AttestationErrorCode.MALFORMED, `gpu report: block ${index} value size ${valueSize} does not fill ${size}`)
    blocks.push({ index, valueType, value: r.slice(p + 7, valueSize) })
    seen.add(index)
    p += 4 + size
  }
  // [REJECT] the record is exactly its blocks (nothing hidden between them and the nonce)
  if (p !== recordEnd) fail(AttestationErrorCode.MALFORMED, 'gpu report: measurement record length does not match its blocks')

  const responderNonce = r.slice(recordEnd, SPDM_NONCE_LENGTH)
  const opaqueLength = r.u16(recordEnd + SPDM_NONCE_LENGTH)
  if (opaqueLength > SPDM_MAX_OPAQUE_LENGTH) fail(AttestationErrorCode.MALFORMED, `gpu report: opaque data of ${opaqueLength} bytes`)
  const opaqueStart = recordEnd + SPDM_NONCE_LENGTH + 2
  const opaque = r.slice(opaqueStart, opaqueLength)
  const signedEnd = opaqueStart + opaqueLength + context
  const signature = r.slice(signedEnd, SPDM_SIGNATURE_LENGTH)
  return {
    spdmVersion,
    requestNonce,
    responderNonce,
    requestedMeasurement,
    slotId,
    blocks,
    opaque,
    signed: r.slice(0, signedEnd),
    signature,
    trailing: bytes.byteLength - signedEnd - SPDM_SIGNATURE_LENGTH
  }
}
