import { AttestationErrorCode, fail } from '../errors.js'
import { bytesEqual } from '../../util/bytes.js'
import { ed25519PublicKeyObject, ed25519Verify } from '../../util/ed25519.js'

/** The signed part of simulated evidence (CPU or GPU) */
export interface SimulatedSigned {
  signed: Uint8Array
  signature: Uint8Array
  signerKey: Uint8Array
}

/**
 * Checks simulated evidence's ed25519 signature and, when `trustedKeys` is given, that its signer is
 * one of them. Throws SIGNATURE_INVALID or CHAIN_INVALID naming `what`.
 */
export function checkSimulatedSignature (ev: SimulatedSigned, what: string, trustedKeys?: readonly Uint8Array[]): void {
  let ok = false
  try {
    ok = ed25519Verify(ed25519PublicKeyObject(ev.signerKey), ev.signed, ev.signature)
  } catch {
    ok = false
  }
  if (!ok) fail(AttestationErrorCode.SIGNATURE_INVALID, `${what} signature does not verify`)
  if (trustedKeys != null && !trustedKeys.some((k) => bytesEqual(k, ev.signerKey))) {
    fail(AttestationErrorCode.CHAIN_INVALID, `${what} signed by an untrusted key`)
  }
}
