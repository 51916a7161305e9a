/**
 * NVIDIA GPU confidential-computing evidence: the SPDM measurement report the GPU signs, its device
 * chain to the pinned NVIDIA device identity root, and the driver and VBIOS RIMs its measurements are
 * compared with (chains to the pinned NVIDIA RIM root).
 */
export { parseGpuReport, type GpuReport, type GpuMeasurementBlock } from './parse-report.js'
export { parseGpuOpaqueData, type GpuOpaqueData } from './parse-opaque.js'
export { leafFwids } from './leaf-fwid.js'
export { verifyRim, type Rim, type GoldenMeasurement, type VerifyRimOptions, MAX_RIM_SIZE } from './verify-rim.js'
export { compareGpuMeasurements } from './compare-measurements.js'
export { gpuRimIds, checkRimMatchesId, RIM_ID_RE, type GpuRimIds } from './rim-ids.js'
export { RimCache, DEFAULT_RIM_CACHE_SIZE } from './rim-cache.js'
export { verifyGpuReport, type GpuVerification, type GpuVerifyOptions, type GpuCcMode, MAX_RIMS } from './verify-report.js'
export { spdmMeasurementsSigningPrefix, spdmMeasurementsSignedMessage, spdmMeasurementsSignatureValid, MAX_SPDM_VCA_LENGTH } from './spdm-signing.js'
