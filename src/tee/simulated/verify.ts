import { parseSimulatedEvidence, type SimulatedEvidence } from './format.js'
import { checkSimulatedSignature } from './signature.js'

export interface SimulatedVerifyOptions {
  /** when given, the evidence must be signed by one of these raw ed25519 keys */
  trustedKeys?: readonly Uint8Array[]
}

/**
 * Checks simulated evidence's ed25519 signature (and, when configured, that its signer is trusted).
 * A valid simulated signature only shows that the evidence was not altered in transit.
 */
export function verifySimulatedEvidence (bytes: Uint8Array, opts: SimulatedVerifyOptions = {}): SimulatedEvidence {
  const ev = parseSimulatedEvidence(bytes)
  checkSimulatedSignature(ev, 'simulated evidence', opts.trustedKeys)
  return ev
}
