import { AttestationErrorCode, fail } from '../errors.js'
import { bytesEqual } from '../../util/bytes.js'
import type { GpuMeasurementBlock } from './parse-report.js'
import type { Rim } from './verify-rim.js'

/**
 * Compares the report's measurement blocks with the golden values of the driver and VBIOS RIMs:
 * RIM index i describes block i + 1 (NVIDIA numbers RIM measurements from 0, SPDM blocks from 1).
 * The two RIMs must not both claim an index; every active golden measurement needs its block, of the
 * same size, equal to one of its alternatives. Returns how many blocks were compared.
 * Throws RIM_MISMATCH or GPU_MEASUREMENT_MISMATCH.
 */
export function compareGpuMeasurements (blocks: readonly GpuMeasurementBlock[], rims: readonly Rim[]): number {
  const byIndex = new Map(blocks.map((b) => [b.index, b]))
  const claimed = new Map<number, string>()
  let compared = 0
  for (const rim of rims) {
    for (const g of rim.golden) {
      const other = claimed.get(g.index)
      // [REJECT] two RIMs for one measurement: which golden value counts would be ambiguous
      if (other != null) fail(AttestationErrorCode.RIM_MISMATCH, `measurement ${g.index} is in both the ${other} and the ${rim.version} RIM`)
      claimed.set(g.index, rim.version)
      const block = byIndex.get(g.index + 1)
      // [REJECT] a golden measurement the GPU did not report, or reported at another size
      if (block == null) fail(AttestationErrorCode.GPU_MEASUREMENT_MISMATCH, `measurement ${g.index} of RIM ${rim.version} is missing from the report`)
      if (block.value.byteLength !== g.size) fail(AttestationErrorCode.GPU_MEASUREMENT_MISMATCH, `measurement ${g.index}: ${block.value.byteLength} bytes, RIM ${rim.version} says ${g.size}`)
      // [REJECT] the measured firmware is none of the versions NVIDIA signed
      if (!g.alternatives.some((a) => bytesEqual(a, block.value))) fail(AttestationErrorCode.GPU_MEASUREMENT_MISMATCH, `measurement ${g.index} matches no golden value of RIM ${rim.version}`)
      compared++
    }
  }
  return compared
}
