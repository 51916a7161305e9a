import { AttestationErrorCode, fail } from '../errors.js'
import { Reader } from '../bytes.js'
import { toHex } from '../../util/hex.js'
import { FEATURE_FLAGS, MAX_OPAQUE_FIELDS, OpaqueField, STATUS_DISABLED, STATUS_ENABLED } from './constants.js'

/** What NVIDIA's opaque data says about the GPU, decoded; absent fields stay undefined. */
export interface GpuOpaqueData {
  /** e.g. "550.90.07" */
  driverVersion?: string
  /** e.g. "96.00.9F.00.01", the form RIMs name it in */
  vbiosVersion?: string
  /** e.g. "1010" */
  project?: string
  projectSku?: string
  projectSkuMod?: string
  /** e.g. "882" */
  chipSku?: string
  chipSkuMod?: string
  /** Blackwell: the chip name, e.g. "GB100" */
  chipInfo?: string
  /** the firmware id the GSP measured, compared with the leaf certificate's */
  fwid?: Uint8Array
  /** protected PCIe (Hopper multi-GPU): true on, false off */
  protectedPcie?: boolean
  /** NVDEC0 engine enabled (it sits outside the CC boundary on Hopper) */
  nvdec0?: boolean
  /** Blackwell feature flag: single-GPU, multi-GPU or protected-PCIe CC mode */
  featureFlag?: 'spt' | 'mpt' | 'ppcie' | 'unknown'
  opaqueDataVersion?: string
  /** every field by id, raw (for display) */
  raw: Map<number, Uint8Array>
}

/** A NUL-terminated (or NUL-padded) ASCII string field; anything unprintable is refused. */
function text (v: Uint8Array, what: string): string {
  let end = v.byteLength
  while (end > 0 && v[end - 1] === 0) end--
  const s = Buffer.from(v.subarray(0, end)).toString('latin1')
  if (!/^[\x20-\x7e]*$/.test(s)) fail(AttestationErrorCode.MALFORMED, `gpu report: opaque ${what} is not printable`)
  return s
}

const hexByte = (b: number): string => b.toString(16).toUpperCase().padStart(2, '0')

/**
 * The VBIOS version field (8 bytes, as the GSP stores it) in RIM notation: bytes 3.2.1.0.4
 * ("00 9f 00 96 01 00 00 00" is 96.00.9F.00.01).
 */
function vbiosVersion (v: Uint8Array): string {
  if (v.byteLength < 5) fail(AttestationErrorCode.MALFORMED, 'gpu report: opaque VBIOS version too short')
  return [v[3], v[2], v[1], v[0], v[4]].map(hexByte).join('.')
}

function status (v: Uint8Array, what: string): boolean {
  if (v.byteLength !== 1 || (v[0] !== STATUS_ENABLED && v[0] !== STATUS_DISABLED)) fail(AttestationErrorCode.MALFORMED, `gpu report: opaque ${what} status`)
  return v[0] === STATUS_ENABLED
}

/**
 * Parses the MEASUREMENTS response's OpaqueData: NVIDIA's fields as [type u16 LE | size u16 LE |
 * value], back to back. A field past the end, a repeated field or over MAX_OPAQUE_FIELDS fields is
 * MALFORMED; unknown ids are kept raw (newer drivers add fields).
 */
export function parseGpuOpaqueData (bytes: Uint8Array): GpuOpaqueData {
  const r = new Reader(bytes, 'gpu opaque data')
  const raw = new Map<number, Uint8Array>()
  let o = 0
  while (o < bytes.byteLength) {
    if (raw.size >= MAX_OPAQUE_FIELDS) fail(AttestationErrorCode.MALFORMED, `gpu report: over ${MAX_OPAQUE_FIELDS} opaque fields`)
    const type = r.u16(o)
    const size = r.u16(o + 2)
    const value = r.slice(o + 4, size)
    if (raw.has(type)) fail(AttestationErrorCode.MALFORMED, `gpu report: opaque field ${type} repeated`)
    raw.set(type, value)
    o += 4 + size
  }
  const out: GpuOpaqueData = { raw }
  const get = (id: number): Uint8Array | undefined => raw.get(id)
  let v: Uint8Array | undefined
  if ((v = get(OpaqueField.DRIVER_VERSION)) != null) out.driverVersion = text(v, 'driver version')
  if ((v = get(OpaqueField.VBIOS_VERSION)) != null) out.vbiosVersion = vbiosVersion(v)
  if ((v = get(OpaqueField.PROJECT)) != null) out.project = text(v, 'project')
  if ((v = get(OpaqueField.PROJECT_SKU)) != null) out.projectSku = text(v, 'project SKU')
  if ((v = get(OpaqueField.PROJECT_SKU_MOD)) != null) out.projectSkuMod = text(v, 'project SKU mod')
  if ((v = get(OpaqueField.CHIP_SKU)) != null) out.chipSku = text(v, 'chip SKU')
  if ((v = get(OpaqueField.CHIP_SKU_MOD)) != null) out.chipSkuMod = text(v, 'chip SKU mod')
  if ((v = get(OpaqueField.CHIP_INFO)) != null) out.chipInfo = text(v, 'chip info')
  if ((v = get(OpaqueField.OPAQUE_DATA_VERSION)) != null) out.opaqueDataVersion = toHex(v)
  if ((v = get(OpaqueField.FWID)) != null) {
    if (v.byteLength !== 48) fail(AttestationErrorCode.MALFORMED, `gpu report: FWID of ${v.byteLength} bytes`)
    out.fwid = v
  }
  if ((v = get(OpaqueField.PROTECTED_PCIE_STATUS)) != null) out.protectedPcie = status(v, 'protected PCIe')
  if ((v = get(OpaqueField.NVDEC0_STATUS)) != null) out.nvdec0 = status(v, 'NVDEC0')
  if ((v = get(OpaqueField.FEATURE_FLAG)) != null) {
    if (v.byteLength !== 1) fail(AttestationErrorCode.MALFORMED, 'gpu report: feature flag size')
    out.featureFlag = FEATURE_FLAGS[v[0]] ?? 'unknown'
  }
  return out
}
