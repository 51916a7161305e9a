import { AttestationErrorCode, fail } from '../errors.js'
import type { GpuOpaqueData } from './parse-opaque.js'
import type { Rim } from './verify-rim.js'

/**
 * The names NVIDIA's RIM service (https://rim.attestation.nvidia.com/v1/rim/<id>) files a GPU's
 * reference integrity manifests under, derived from the signed opaque data of the GPU's own
 * report, so the GPU names the RIMs it must match:
 * - driver, Hopper: `NV_GPU_DRIVER_GH100_<driver version>`;
 * - driver, Blackwell (the report carries CHIP_INFO): `NV_GPU_CC_DRIVER_<chip>_<driver version>`;
 * - VBIOS: `NV_GPU_VBIOS_<project>_<project SKU>_<chip SKU>_<VBIOS version without dots>`, all
 *   upper case ("96.00.9F.00.01" → "96009F0001").
 */
export interface GpuRimIds {
  driver: string
  vbios: string
}

/** What an id may hold: it becomes a URL path segment and a file name. */
export const RIM_ID_RE = /^NV_[A-Z0-9][A-Za-z0-9._-]{0,120}$/

const DRIVER_HOPPER = 'NV_GPU_DRIVER_GH100_'
const DRIVER_CC = 'NV_GPU_CC_DRIVER_'
const VBIOS = 'NV_GPU_VBIOS_'

/** An id segment from the report: printable already (parse-opaque), here also free of separators. */
function segment (v: string | undefined, what: string): string {
  const s = v?.trim().toUpperCase()
  if (s == null || s === '') fail(AttestationErrorCode.MALFORMED, `gpu report: no ${what} to name its RIM by`)
  if (!/^[A-Z0-9.-]{1,32}$/.test(s) || s.startsWith('.')) fail(AttestationErrorCode.MALFORMED, `gpu report: ${what} "${s.slice(0, 32)}" cannot name a RIM`)
  return s
}

export function gpuRimIds (opaque: GpuOpaqueData): GpuRimIds {
  const driverVersion = segment(opaque.driverVersion, 'driver version')
  const driver = opaque.chipInfo != null
    ? `${DRIVER_CC}${segment(opaque.chipInfo, 'chip info')}_${driverVersion}`
    : `${DRIVER_HOPPER}${driverVersion}`
  const vbiosVersion = segment(opaque.vbiosVersion, 'VBIOS version').replaceAll('.', '')
  const vbios = `${VBIOS}${segment(opaque.project, 'project')}_${segment(opaque.projectSku, 'project SKU')}_${segment(opaque.chipSku, 'chip SKU')}_${vbiosVersion}`
  return { driver, vbios }
}

/**
 * [REJECT] a RIM filed under another id: the service (or a proxy) answered a validly signed RIM of
 * another driver or VBIOS. A RIM states its version (Meta@colloquialVersion) and, for a driver, its
 * product; the VBIOS id's board fields are not in the RIM, so only its version is compared.
 */
export function checkRimMatchesId (rim: Rim, id: string): void {
  const mismatch = (what: string): never => fail(AttestationErrorCode.RIM_MISMATCH, `RIM ${id}: the manifest is for ${what}`)
  if (id.startsWith(DRIVER_HOPPER) || id.startsWith(DRIVER_CC)) {
    const version = id.slice(id.lastIndexOf('_') + 1)
    if (rim.version !== version) mismatch(`driver ${rim.version}`)
    const product = id.startsWith(DRIVER_HOPPER) ? 'GH100' : id.slice(DRIVER_CC.length, id.lastIndexOf('_'))
    if (rim.product.toUpperCase() !== product) mismatch(`product ${rim.product}`)
    return
  }
  if (id.startsWith(VBIOS)) {
    const version = id.slice(id.lastIndexOf('_') + 1)
    if (rim.version.replaceAll('.', '').toUpperCase() !== version) mismatch(`VBIOS ${rim.version}`)
    return
  }
  fail(AttestationErrorCode.MALFORMED, `RIM id ${id} is neither a GPU driver nor a VBIOS id`)
}
