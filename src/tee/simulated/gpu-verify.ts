import { createPublicKey, verify as cryptoVerify } from 'node:crypto'
import { AttestationErrorCode, fail } from '../errors.js'
import { bytesEqual } from '../../util/bytes.js'
import { parseSimulatedGpuEvidence, type SimulatedGpuEvidence } from './gpu-format.js'

/** DER SubjectPublicKeyInfo prefix of a raw ed25519 key (RFC 8410). */
const ED25519_SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])

/**
 * Checks simulated GPU evidence's ed25519 signature (and, when given, that its signer is trusted).
 * A valid signature only shows that the evidence was not altered in transit.
 */
export function verifySimulatedGpuEvidence (bytes: Uint8Array, opts: { trustedKeys?: readonly Uint8Array[] } = {}): SimulatedGpuEvidence {
  const ev = parseSimulatedGpuEvidence(bytes)
  let ok = false
  try {
    const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, ev.signerKey]), format: 'der', type: 'spki' })
    ok = cryptoVerify(null, ev.signed, key, ev.signature)
  } catch {
    ok = false
  }
  if (!ok) fail(AttestationErrorCode.SIGNATURE_INVALID, 'simulated gpu evidence signature does not verify')
  if (opts.trustedKeys != null && !opts.trustedKeys.some((k) => bytesEqual(k, ev.signerKey))) {
    fail(AttestationErrorCode.CHAIN_INVALID, 'simulated gpu evidence signed by an untrusted key')
  }
  return ev
}
