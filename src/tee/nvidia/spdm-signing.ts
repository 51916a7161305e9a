import { createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto'
import { AttestationErrorCode, fail } from '../errors.js'
import { SPDM_SIGNING_CONTEXT_AREA, SPDM_SIGNING_PREFIX_LENGTH, SPDM_MEASUREMENTS_SIGNING_CONTEXT } from './constants.js'
import type { GpuReport } from './parse-report.js'

/** Most bytes of VCA (GET_VERSION … ALGORITHMS) accepted in front of an SPDM 1.2+ transcript. */
export const MAX_SPDM_VCA_LENGTH = 4096

/**
 * The 100-byte combined_spdm_prefix of a MEASUREMENTS signature in SPDM 1.2 and later (DSP0274 1.2,
 * "Signature generation"): the version string "dmtf-spdm-v1.x.*" four times (64 bytes), then zeros,
 * then the context "responder-measurements signing", the zeros padding the context to 36 bytes.
 * The version digits are those of the response's SPDMVersion, so a 1.2 signature does not verify as
 * a 1.3 one.
 */
export function spdmMeasurementsSigningPrefix (spdmVersion: number): Uint8Array {
  if (spdmVersion < 0x12 || spdmVersion > 0x19) fail(AttestationErrorCode.UNSUPPORTED_VERSION, `SPDM signing prefix for version 0x${spdmVersion.toString(16)}`)
  const unit = new TextEncoder().encode(`dmtf-spdm-v${spdmVersion >> 4}.${spdmVersion & 0xf}.*`)
  const out = new Uint8Array(SPDM_SIGNING_PREFIX_LENGTH + SPDM_SIGNING_CONTEXT_AREA)
  for (let i = 0; i < 4; i++) out.set(unit, i * unit.byteLength)
  const context = new TextEncoder().encode(SPDM_MEASUREMENTS_SIGNING_CONTEXT)
  out.set(context, out.byteLength - context.byteLength)
  return out
}

/**
 * The message the responder's ECDSA key signs, chosen by the SPDMVersion of the report:
 * - SPDM 1.1 (Hopper): the L1/L2 transcript itself, request ‖ response without the signature
 *   (DSP0274 1.1 §10.11); ECDSA hashes it with SHA-384.
 * - SPDM 1.2 and 1.3: combined_spdm_prefix ‖ SHA-384(L1/L2) (DSP0274 1.2 and 1.3, "Signature
 *   generation"), which ECDSA then hashes with SHA-384 in turn. There, L1/L2 starts with the VCA
 *   messages (GET_VERSION … ALGORITHMS) when the requester negotiated in the same connection;
 *   `vca` carries them when the producer kept them. A report holds only the measurement exchange.
 */
export function spdmMeasurementsSignedMessage (report: GpuReport, vca?: Uint8Array): Uint8Array {
  if (report.spdmVersion <= 0x11) {
    if (vca != null && vca.byteLength > 0) fail(AttestationErrorCode.MALFORMED, 'SPDM 1.1 measurement signatures cover no VCA')
    return report.signed
  }
  if (vca != null && vca.byteLength > MAX_SPDM_VCA_LENGTH) fail(AttestationErrorCode.MALFORMED, `VCA of ${vca.byteLength} bytes`)
  const h = createHash('sha384')
  if (vca != null) h.update(vca)
  const transcriptHash = h.update(report.signed).digest()
  const prefix = spdmMeasurementsSigningPrefix(report.spdmVersion)
  const out = new Uint8Array(prefix.byteLength + transcriptHash.byteLength)
  out.set(prefix)
  out.set(transcriptHash, prefix.byteLength)
  return out
}

/**
 * Whether the report's ECDSA P-384 signature (r ‖ s) verifies under `publicKey` by the signing
 * rules of its own SPDMVersion. False for any bad key or signature; never throws on them.
 */
export function spdmMeasurementsSignatureValid (report: GpuReport, publicKey: KeyObject, vca?: Uint8Array): boolean {
  const message = spdmMeasurementsSignedMessage(report, vca)
  try {
    return cryptoVerify('sha384', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, report.signature)
  } catch {
    return false
  }
}
