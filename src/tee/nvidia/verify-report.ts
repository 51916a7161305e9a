import { X509Certificate } from 'node:crypto'
import { AttestationErrorCode, fail } from '../errors.js'
import { bytesEqual } from '../../util/bytes.js'
import { toHex } from '../../util/hex.js'
import { NVIDIA_DEVICE_ROOT } from '../roots/nvidia.js'
import { verifyChain } from '../x509/chain.js'
import type { Crl } from '../x509/crl.js'
import type { OcspResponse } from '../x509/ocsp.js'
import { checkPathRevocation } from '../x509/revocation.js'
import { commonName, publicKeyOf } from '../x509/load.js'
import { compareGpuMeasurements } from './compare-measurements.js'
import { leafFwids } from './leaf-fwid.js'
import { parseGpuOpaqueData, type GpuOpaqueData } from './parse-opaque.js'
import { parseGpuReport, type GpuReport } from './parse-report.js'
import { spdmMeasurementsSignatureValid } from './spdm-signing.js'
import { verifyRim, type Rim } from './verify-rim.js'
import type { RimCache } from './rim-cache.js'

/** Most RIMs accepted with one report: a driver and a VBIOS RIM, and a few spares to choose from. */
export const MAX_RIMS = 4
/**
 * Most certificates accepted as the device chain (NVIDIA's has five). Every extra one is a candidate
 * issuer the chain walk may try a signature with, so a peer must not hand over dozens.
 */
export const MAX_DEVICE_CERTS = 8

/**
 * How the report describes confidential computing: Blackwell drivers state a feature flag (single
 * GPU, multi GPU, protected PCIe); Hopper drivers before it state nothing ('unreported'), and then
 * the RIM-matched measurements are what vouch for the firmware's configuration.
 */
export type GpuCcMode = 'spt' | 'mpt' | 'ppcie' | 'unknown' | 'unreported'

export interface GpuVerifyOptions {
  /** the device certificate chain, leaf (the GSP's attestation key) first; untrusted */
  certs: readonly X509Certificate[]
  at?: Date
  /** the 32-byte nonce the report must answer; unchecked when absent (say so to the user) */
  nonce?: Uint8Array
  /** driver and VBIOS RIMs (signed SWID tags, bytes); none: measurements are not compared */
  rims?: readonly Uint8Array[]
  /** CRLs of the device and RIM chains (NVIDIA's cover their top links); with any, revocation is required */
  crls?: readonly Crl[]
  /** OCSP answers about the chains' certificates, as the supplier stapled them */
  ocsp?: readonly OcspResponse[]
  /**
   * every certificate of the device chain (but its alias leaf, unless a status for it is given) and
   * of each RIM chain needs a status: a current CRL of its issuer or an OCSP answer, none revoked
   */
  requireRevocation?: boolean
  /** verified RIMs to reuse across reports (see RimCache) */
  rimCache?: RimCache
  /**
   * SPDM 1.2+: the VCA messages (GET_VERSION … ALGORITHMS) the requester exchanged before
   * GET_MEASUREMENTS, which then begin the signed L1/L2 transcript; absent: the transcript is the
   * report's own request ‖ response
   */
  vca?: Uint8Array
  /**
   * trust anchors of the device chain; the pinned NVIDIA device identity root when absent. Only
   * tests of self-made chains replace it: nothing read from a peer, a file or a flag may set it
   */
  deviceRoots?: readonly X509Certificate[]
}

export interface GpuVerification {
  report: GpuReport
  opaque: GpuOpaqueData
  /** the chip, e.g. "GH100": the chip-info field (Blackwell) or the leaf certificate's name (Hopper) */
  model: string
  ccMode: GpuCcMode
  /** device chain common names, leaf first */
  chain: string[]
  /**
   * the GPU's stable identity: the certificate that issued the attestation key, i.e. the device
   * certificate NVIDIA provisioned for this chip ("GH100 A01 GSP BROM", its serial number the
   * chip's). The leaf is an alias key the GSP firmware makes and certifies at boot, so one GPU can
   * show two leaves across a reset; its issuer stays. The leaf itself where the chain has no other
   * certificate below the root.
   */
  deviceCert: X509Certificate
  /** the report's FWID was found in the leaf certificate (false: the report carries none to compare) */
  fwidChecked: boolean
  driverRim?: Rim
  vbiosRim?: Rim
  /** golden measurements compared (0 without RIMs) */
  measurementsCompared: number
  /** both a driver and a VBIOS RIM were given and every golden measurement matched */
  measurementsMatched: boolean
  nonceChecked: boolean
  revocationChecked: boolean
}

let deviceRoot: X509Certificate | undefined
const pinnedDeviceRoot = (): X509Certificate => (deviceRoot ??= new X509Certificate(NVIDIA_DEVICE_ROOT))

/** "GH100 A01 GSP FMC LF" → "GH100"; NVIDIA names its chips G + family letter + number. */
function modelOf (opaque: GpuOpaqueData, leaf: X509Certificate): string {
  if (opaque.chipInfo != null && opaque.chipInfo !== '') return opaque.chipInfo
  return /^(G[A-Z]\d{3})\b/.exec(commonName(leaf))?.[1] ?? 'unknown'
}

/**
 * Verifies an NVIDIA GPU attestation report (Hopper, Blackwell), cheapest checks first: parses the
 * SPDM GET_MEASUREMENTS request and response with bounds; checks the request nonce when given; the
 * ECDSA P-384 signature under the leaf, over request ‖ response (without the signature) for SPDM 1.1
 * and over the 1.2+ signing prefix and the transcript's SHA-384 for SPDM 1.2 and 1.3; the device
 * chain up to the pinned NVIDIA device identity root; the opaque data's FWID against the leaf's; and,
 * with RIMs, each RIM (signature, chain to the pinned NVIDIA RIM root, validity, revocation) and
 * every golden measurement. Throws AttestationError with a stable code.
 */
export function verifyGpuReport (bytes: Uint8Array, opts: GpuVerifyOptions): GpuVerification {
  const at = opts.at ?? new Date()
  const report = parseGpuReport(bytes)
  // [REJECT] the report answers another request (replayed, or for another session)
  if (opts.nonce != null && opts.nonce.byteLength !== report.requestNonce.byteLength) fail(AttestationErrorCode.MALFORMED, `nonce of ${opts.nonce.byteLength} bytes, the report's has 32`)
  if (opts.nonce != null && !bytesEqual(opts.nonce, report.requestNonce)) {
    fail(AttestationErrorCode.REPORT_DATA_MISMATCH, `gpu report answers nonce ${toHex(report.requestNonce).slice(0, 16)}…, not the one requested`)
  }
  const opaque = parseGpuOpaqueData(report.opaque)
  if ((opts.rims?.length ?? 0) > MAX_RIMS) fail(AttestationErrorCode.MALFORMED, `over ${MAX_RIMS} RIMs`)
  if (opts.certs.length > MAX_DEVICE_CERTS) fail(AttestationErrorCode.MALFORMED, `over ${MAX_DEVICE_CERTS} device certificates`)
  const leaf = opts.certs[0]
  if (leaf == null) fail(AttestationErrorCode.CERT_MISSING, 'gpu report: supply the device certificate chain (--certs)')
  // [REJECT] the GPU's attestation key signed this exchange, by the signing rules of the report's SPDM version
  // (a leaf can parse while its key does not: MALFORMED, before any signature is tried)
  if (!spdmMeasurementsSignatureValid(report, publicKeyOf(leaf, 'gpu leaf certificate'), opts.vca)) fail(AttestationErrorCode.SIGNATURE_INVALID, 'gpu report signature does not verify under the leaf certificate')
  // [REJECT] that key is certified by NVIDIA's device identity root
  const path = verifyChain(leaf, opts.certs.slice(1), opts.deviceRoots ?? [pinnedDeviceRoot()], at)
  const crls = opts.crls ?? []
  const ocsp = opts.ocsp ?? []
  const requireRevocation = opts.requireRevocation === true || crls.length > 0
  // the device chain's leaf is the GSP's alias key, issued by the BROM certificate at boot: NVIDIA
  // publishes no status for it (its own verifier starts at the BROM certificate)
  const anyStatus = requireRevocation || ocsp.length > 0
  let revocationChecked = anyStatus && checkPathRevocation(path, { crls, ocsp, required: requireRevocation }, at, { exemptLeaf: true })
  // [REJECT] the firmware the GSP reports is the firmware its certificate was issued to
  let fwidChecked = false
  if (opaque.fwid != null) {
    const fwid = opaque.fwid
    if (!leafFwids(leaf).some((f) => bytesEqual(f, fwid))) fail(AttestationErrorCode.CERT_MISMATCH, 'gpu report FWID is not the leaf certificate\'s')
    fwidChecked = true
  }
  const model = modelOf(opaque, leaf)

  let driverRim: Rim | undefined
  let vbiosRim: Rim | undefined
  let measurementsCompared = 0
  if (opts.rims != null && opts.rims.length > 0) {
    for (const bytes of opts.rims) {
      const rimOpts = { at, crls, ocsp, requireRevocation }
      const rim = opts.rimCache != null ? opts.rimCache.verify(bytes, rimOpts) : verifyRim(bytes, rimOpts)
      revocationChecked &&= rim.revocationChecked
      // [REJECT] a RIM for another chip, or for another driver or VBIOS than the report states
      if (rim.product !== '' && model !== 'unknown' && rim.product !== model) fail(AttestationErrorCode.RIM_MISMATCH, `RIM for ${rim.product}, the GPU is a ${model}`)
      if (rim.version === opaque.driverVersion && driverRim == null) driverRim = rim
      else if (rim.version.toUpperCase() === opaque.vbiosVersion?.toUpperCase() && vbiosRim == null) vbiosRim = rim
      else fail(AttestationErrorCode.RIM_MISMATCH, `RIM ${rim.version} is for neither driver ${opaque.driverVersion ?? '?'} nor VBIOS ${opaque.vbiosVersion ?? '?'} (or repeats one)`)
    }
    measurementsCompared = compareGpuMeasurements(report.blocks, [driverRim, vbiosRim].filter((r): r is Rim => r != null))
  }
  return {
    report,
    opaque,
    model,
    ccMode: opaque.featureFlag ?? 'unreported',
    chain: path.map(commonName),
    deviceCert: path.length >= 3 ? path[1]! : leaf,
    fwidChecked,
    driverRim,
    vbiosRim,
    measurementsCompared,
    measurementsMatched: driverRim != null && vbiosRim != null,
    nonceChecked: opts.nonce != null,
    revocationChecked
  }
}
