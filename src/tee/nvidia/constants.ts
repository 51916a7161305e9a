/**
 * Constants of NVIDIA GPU attestation: the SPDM GET_MEASUREMENTS exchange (DMTF DSP0274 1.1, §10.11)
 * as the GPU's GSP answers it, and the opaque-data field ids NVIDIA puts in the response.
 */

/** SPDMVersion bytes this verifier parses: 1.1 (Hopper) through 1.3 (a 1.3 request carries 8 more bytes). */
export const SPDM_VERSIONS: readonly number[] = [0x11, 0x12, 0x13]
/** RequestResponseCode of GET_MEASUREMENTS and of its MEASUREMENTS response. */
export const SPDM_GET_MEASUREMENTS = 0xe0
export const SPDM_MEASUREMENTS = 0x60
/** Request Param1 bit 0: a signature is requested (and the request carries a nonce). */
export const SPDM_PARAM1_SIGNATURE_REQUESTED = 0x01
/** MeasurementSpecification bit 0: the block is a DMTF measurement. */
export const SPDM_MEASUREMENT_SPEC_DMTF = 0x01
export const SPDM_NONCE_LENGTH = 32
/** SPDM 1.3 RequesterContext, in the request and echoed in the response before the signature. */
export const SPDM_REQUESTER_CONTEXT_LENGTH = 8
/** ECDSA P-384 signature, r ‖ s (TPM_ALG_ECDSA_ECC_NIST_P384 in SPDM). */
export const SPDM_SIGNATURE_LENGTH = 96
/**
 * SPDM 1.2+ signing (DSP0274 1.2, "Signature generation"): the version prefix is four 16-byte
 * "dmtf-spdm-v1.x.*" strings, and the context string is zero-padded in front to 36 bytes.
 */
export const SPDM_SIGNING_PREFIX_LENGTH = 64
export const SPDM_SIGNING_CONTEXT_AREA = 36
export const SPDM_MEASUREMENTS_SIGNING_CONTEXT = 'responder-measurements signing'
/** SPDM 1.1 §10.11.2: OpaqueLength shall not exceed 1024. */
export const SPDM_MAX_OPAQUE_LENGTH = 1024
/** A GH100 answers 64 blocks of 55 bytes; the MeasurementRecordLength field allows 2^24 - 1. */
export const MAX_MEASUREMENT_RECORD_LENGTH = 64 * 1024
/** Largest report accepted (request + response + trailing bytes); real ones are about 4 KiB. */
export const MAX_GPU_REPORT_SIZE = 32 * 1024

/**
 * NVIDIA's opaque-data field ids (type-length-value, both u16 little-endian), as NVIDIA's
 * nvtrust local GPU verifier reads them.
 */
export const OpaqueField = {
  CERT_ISSUER_NAME: 1,
  CERT_AUTHORITY_KEY_IDENTIFIER: 2,
  DRIVER_VERSION: 3,
  GPU_INFO: 4,
  SKU: 5,
  VBIOS_VERSION: 6,
  MANUFACTURER_ID: 7,
  TAMPER_DETECTION: 8,
  SMC: 9,
  VPR: 10,
  NVDEC0_STATUS: 11,
  MSRSCNT: 12,
  CPRINFO: 13,
  BOARD_ID: 14,
  CHIP_SKU: 15,
  CHIP_SKU_MOD: 16,
  PROJECT: 17,
  PROJECT_SKU: 18,
  PROJECT_SKU_MOD: 19,
  FWID: 20,
  PROTECTED_PCIE_STATUS: 21,
  SWITCH_PDI: 22,
  FLOORSWEPT_PORTS: 23,
  POSITION_ID: 24,
  LOCK_SWITCH_STATUS: 25,
  GPU_LINK_CONN: 32,
  SYS_ENABLE_STATUS: 33,
  OPAQUE_DATA_VERSION: 34,
  CHIP_INFO: 35,
  FEATURE_FLAG: 36
} as const

/** Fields decoded into the report's summary; any other id is kept as raw bytes. */
export const MAX_OPAQUE_FIELDS = 64

/** OPAQUE_FIELD_ID_FEATURE_FLAG values (Blackwell drivers): single-GPU, multi-GPU, protected PCIe. */
export const FEATURE_FLAGS: Readonly<Record<number, 'spt' | 'mpt' | 'ppcie'>> = { 0: 'spt', 1: 'mpt', 2: 'ppcie' }

/** Status bytes NVIDIA uses for on/off fields (NVDEC0, protected PCIe): 0xAA enabled, 0x55 disabled. */
export const STATUS_ENABLED = 0xaa
export const STATUS_DISABLED = 0x55

/**
 * FWID extensions of the GPU's attestation-key leaf: Hopper uses the TCG DICE FWID extension
 * 2.23.133.5.4.1, Blackwell the DICE TcbInfo extension 2.23.133.5.4.1.1; both carry
 * FWID ::= SEQUENCE { hashAlg OID, digest OCTET STRING }.
 */
export const OID_DICE_FWID = '2.23.133.5.4.1'
export const OID_DICE_TCB_INFO = '2.23.133.5.4.1.1'
export const OID_SHA384 = '2.16.840.1.101.3.4.2.2'
