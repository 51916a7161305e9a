import type { X509Certificate } from 'node:crypto'
import { AttestationErrorCode, fail } from './errors.js'
import { toHex } from '../util/hex.js'
import { verifyGpuReport } from './nvidia/verify-report.js'
import { verifySimulatedGpuEvidence } from './simulated/gpu-verify.js'
import { RimCache } from './nvidia/rim-cache.js'
import type { Crl } from './x509/crl.js'
import { loadCertificates } from './x509/load.js'
import { parseOcspResponse } from './x509/ocsp.js'
import type { GpuEvidence, GpuEvidenceVerifier, VerifiedGpuEvidence } from './types.js'

/** Largest GPU report accepted (an H100 report is about 4 KiB). */
export const MAX_GPU_EVIDENCE_SIZE = 32 * 1024
/** Most certificate blobs beside a GPU report. */
export const MAX_GPU_CERT_BLOBS = 8
/** Most OCSP answers beside a GPU report: its own and GPU 0's, which further GPUs share. */
export const MAX_GPU_OCSP_ANSWERS = 24

export interface VerifyGpuEvidenceOptions {
  at?: Date
  /** the 32-byte nonce the evidence must answer; unchecked when absent */
  nonce?: Uint8Array
  crls?: readonly Crl[]
  /** nvidia-gpu: every certificate of the device and RIM chains needs a status (see verifyGpuReport) */
  requireRevocation?: boolean
  /** raw ed25519 keys trusted to sign simulated GPU evidence; any key when absent */
  simulatedKeys?: readonly Uint8Array[]
  /** verified RIMs to reuse across reports */
  rimCache?: RimCache
  /**
   * trust anchors of NVIDIA device chains; the pinned NVIDIA device identity root when absent. Only
   * tests of self-made chains set it: nothing read from a peer, a file or a flag may
   */
  deviceRoots?: readonly X509Certificate[]
}

/**
 * Verifies GPU evidence of either kind and returns its normalised claims. Throws AttestationError
 * with a stable code; policy (versions, CC mode, simulation, age) is judged by `checkGpuPolicy`.
 */
export function verifyGpuEvidence (ev: GpuEvidence, opts: VerifyGpuEvidenceOptions = {}): VerifiedGpuEvidence {
  if (ev.report.byteLength > MAX_GPU_EVIDENCE_SIZE) fail(AttestationErrorCode.MALFORMED, `gpu evidence over ${MAX_GPU_EVIDENCE_SIZE} bytes`)
  if (ev.certs.length > MAX_GPU_CERT_BLOBS) fail(AttestationErrorCode.MALFORMED, `over ${MAX_GPU_CERT_BLOBS} certificate blobs`)
  switch (ev.kind) {
    case 'nvidia-gpu': {
      const certs = ev.certs.flatMap(loadCertificates)
      // [REJECT] more stapled answers than two GPUs' chains need; each must parse
      if ((ev.ocsp?.length ?? 0) > MAX_GPU_OCSP_ANSWERS) fail(AttestationErrorCode.MALFORMED, `over ${MAX_GPU_OCSP_ANSWERS} OCSP answers`)
      const ocsp = (ev.ocsp ?? []).map(parseOcspResponse)
      const v = verifyGpuReport(ev.report, { certs, at: opts.at, nonce: opts.nonce, rims: ev.rims, crls: opts.crls, ocsp, requireRevocation: opts.requireRevocation, rimCache: opts.rimCache, deviceRoots: opts.deviceRoots })
      const o = v.opaque
      return {
        kind: 'nvidia-gpu',
        nonce: v.report.requestNonce,
        model: v.model,
        driverVersion: o.driverVersion ?? null,
        vbiosVersion: o.vbiosVersion ?? null,
        ccMode: v.ccMode,
        measurementsMatched: v.measurementsMatched,
        // the device certificate, not the per-boot alias leaf: one GPU reset between two reports
        // must not count as two GPUs
        deviceId: v.deviceCert.fingerprint256.replace(/:/g, '').toLowerCase(),
        chain: v.chain,
        fields: {
          spdmVersion: `${v.report.spdmVersion >> 4}.${v.report.spdmVersion & 0xf}`,
          model: v.model,
          driverVersion: o.driverVersion ?? null,
          vbiosVersion: o.vbiosVersion ?? null,
          project: o.project ?? null,
          projectSku: o.projectSku ?? null,
          projectSkuMod: o.projectSkuMod ?? null,
          chipSku: o.chipSku ?? null,
          chipSkuMod: o.chipSkuMod ?? null,
          chipInfo: o.chipInfo ?? null,
          ccMode: v.ccMode,
          protectedPcie: o.protectedPcie ?? null,
          nvdec0: o.nvdec0 ?? null,
          fwid: o.fwid == null ? null : toHex(o.fwid),
          fwidChecked: v.fwidChecked,
          requestNonce: toHex(v.report.requestNonce),
          responderNonce: toHex(v.report.responderNonce),
          nonceChecked: v.nonceChecked,
          measurementBlocks: v.report.blocks.length,
          driverRim: v.driverRim?.version ?? null,
          vbiosRim: v.vbiosRim?.version ?? null,
          measurementsCompared: v.measurementsCompared,
          measurementsMatched: v.measurementsMatched,
          trailingBytes: v.report.trailing,
          revocationChecked: v.revocationChecked
        }
      }
    }
    case 'simulated-gpu': {
      const s = verifySimulatedGpuEvidence(ev.report, { trustedKeys: opts.simulatedKeys })
      // [REJECT] the simulated report answers another request
      if (opts.nonce != null && toHex(opts.nonce) !== toHex(s.nonce)) fail(AttestationErrorCode.REPORT_DATA_MISMATCH, 'simulated gpu evidence answers another nonce')
      return {
        kind: 'simulated-gpu',
        nonce: s.nonce,
        model: s.model,
        driverVersion: s.driverVersion,
        vbiosVersion: s.vbiosVersion,
        ccMode: s.ccMode ? 'on' : 'off',
        // nothing to compare: a simulated GPU has no RIMs
        measurementsMatched: false,
        deviceId: toHex(s.deviceId),
        producedAt: s.producedAt,
        chain: [],
        fields: {
          simulated: true,
          producedAt: new Date(s.producedAt).toISOString(),
          model: s.model,
          driverVersion: s.driverVersion,
          vbiosVersion: s.vbiosVersion,
          ccMode: s.ccMode ? 'on' : 'off',
          deviceId: toHex(s.deviceId),
          nonce: toHex(s.nonce),
          signerKey: toHex(s.signerKey)
        }
      }
    }
    default:
      fail(AttestationErrorCode.UNSUPPORTED_VERSION, `unknown gpu evidence kind ${String((ev as { kind: unknown }).kind)}`)
  }
}

/**
 * A GPU verifier for both kinds with the given options (e.g. trusted simulated keys), remembering
 * verified RIMs across the reports it checks.
 */
export function gpuEvidenceVerifier (opts: Pick<VerifyGpuEvidenceOptions, 'simulatedKeys' | 'deviceRoots'> = {}): GpuEvidenceVerifier {
  const rimCache = new RimCache()
  return { verify: (ev, o) => verifyGpuEvidence(ev, { ...opts, ...o, rimCache }) }
}
