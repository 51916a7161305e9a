import { AttestationErrorCode, fail } from '../errors.js'
import { Reader } from '../bytes.js'
import { bytesEqual } from '../../util/bytes.js'

/**
 * Simulated evidence, for development only. Layout (little-endian):
 *   magic "BZSIMTEE" (8) | version u16 = 1 | reserved u16 | produced at u64 ms | measurement (48) |
 *   report data (64) | signer ed25519 public key (32) | ed25519 signature over everything before (64)
 * It proves nothing about hardware: any process with a key can make one. Policies refuse it unless
 * they say `allowSimulated`.
 */
export const SIM_MAGIC = new TextEncoder().encode('BZSIMTEE')
export const SIM_VERSION = 1
export const SIM_SIGNED_LENGTH = 8 + 4 + 8 + 48 + 64 + 32
export const SIM_EVIDENCE_LENGTH = SIM_SIGNED_LENGTH + 64

export interface SimulatedEvidence {
  version: number
  producedAt: number
  measurement: Uint8Array
  reportData: Uint8Array
  signerKey: Uint8Array
  signature: Uint8Array
  signed: Uint8Array
}

/** Lays out the signed part; the caller appends the signature. */
export function encodeSimulatedBody (producedAt: number, measurement: Uint8Array, reportData: Uint8Array, signerKey: Uint8Array): Uint8Array {
  if (measurement.byteLength !== 48 || reportData.byteLength !== 64 || signerKey.byteLength !== 32) throw new TypeError('simulated evidence: bad field length')
  const out = new Uint8Array(SIM_SIGNED_LENGTH)
  const v = new DataView(out.buffer)
  out.set(SIM_MAGIC, 0)
  v.setUint16(8, SIM_VERSION, true)
  v.setBigUint64(12, BigInt(producedAt), true)
  out.set(measurement, 20)
  out.set(reportData, 68)
  out.set(signerKey, 132)
  return out
}

export function parseSimulatedEvidence (bytes: Uint8Array): SimulatedEvidence {
  const r = new Reader(bytes, 'simulated evidence')
  r.need(0, 8)
  if (!bytesEqual(r.slice(0, 8), SIM_MAGIC)) fail(AttestationErrorCode.MALFORMED, 'simulated evidence: bad magic')
  const version = r.u16(8)
  if (version !== SIM_VERSION) fail(AttestationErrorCode.UNSUPPORTED_VERSION, `simulated evidence version ${version}`)
  r.need(0, SIM_EVIDENCE_LENGTH)
  return {
    version,
    producedAt: Number(r.u64(12)),
    measurement: r.slice(20, 48),
    reportData: r.slice(68, 64),
    signerKey: r.slice(132, 32),
    signature: r.slice(SIM_SIGNED_LENGTH, 64),
    signed: r.slice(0, SIM_SIGNED_LENGTH)
  }
}
