import { parseSimulatedGpuEvidence, type SimulatedGpuEvidence } from './gpu-format.js'
import { checkSimulatedSignature } from './signature.js'

/**
 * Checks simulated GPU evidence's ed25519 signature (and, when given, that its signer is trusted).
 * A valid signature only shows that the evidence was not altered in transit.
 */
export function verifySimulatedGpuEvidence (bytes: Uint8Array, opts: { trustedKeys?: readonly Uint8Array[] } = {}): SimulatedGpuEvidence {
  const ev = parseSimulatedGpuEvidence(bytes)
  checkSimulatedSignature(ev, 'simulated gpu evidence', opts.trustedKeys)
  return ev
}
