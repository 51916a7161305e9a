import { AttestationErrorCode, fail } from '../errors.js'
import { Reader } from '../bytes.js'
import { bytesEqual } from '../../util/bytes.js'

/**
 * Simulated GPU evidence, for development only. Layout (little-endian):
 *   magic "BZSIMGPU" (8) | version u16 = 1 | cc mode u8 (1 on, 0 off) | reserved u8 | produced at u64 ms |
 *   nonce (32) | device id (16) | model (16, NUL-padded ASCII) | driver version (16) | VBIOS version (16) |
 *   signer ed25519 public key (32) | ed25519 signature over everything before (64)
 * It proves nothing about a GPU: any process with a key can make one. Policies refuse it unless they
 * allow simulation.
 */
export const SIM_GPU_MAGIC = new TextEncoder().encode('BZSIMGPU')
export const SIM_GPU_VERSION = 1
export const SIM_GPU_SIGNED_LENGTH = 8 + 4 + 8 + 32 + 16 + 16 * 3 + 32
export const SIM_GPU_LENGTH = SIM_GPU_SIGNED_LENGTH + 64

export interface SimulatedGpuClaims {
  producedAt: number
  nonce: Uint8Array
  deviceId: Uint8Array
  ccMode: boolean
  model: string
  driverVersion: string
  vbiosVersion: string
}

export interface SimulatedGpuEvidence extends SimulatedGpuClaims {
  signerKey: Uint8Array
  signature: Uint8Array
  signed: Uint8Array
}

function putText (out: Uint8Array, at: number, s: string): void {
  const b = new TextEncoder().encode(s)
  if (b.byteLength > 16 || !/^[\x20-\x7e]*$/.test(s)) throw new TypeError(`simulated gpu: '${s}' is not up to 16 printable characters`)
  out.set(b, at)
}

function getText (b: Uint8Array): string {
  let end = b.byteLength
  while (end > 0 && b[end - 1] === 0) end--
  const s = Buffer.from(b.subarray(0, end)).toString('latin1')
  if (!/^[\x20-\x7e]*$/.test(s)) fail(AttestationErrorCode.MALFORMED, 'simulated gpu evidence: unprintable text')
  return s
}

/** Lays out the signed part; the caller appends the signature. */
export function encodeSimulatedGpuBody (c: SimulatedGpuClaims, signerKey: Uint8Array): Uint8Array {
  if (c.nonce.byteLength !== 32 || c.deviceId.byteLength !== 16 || signerKey.byteLength !== 32) throw new TypeError('simulated gpu evidence: bad field length')
  const out = new Uint8Array(SIM_GPU_SIGNED_LENGTH)
  const v = new DataView(out.buffer)
  out.set(SIM_GPU_MAGIC, 0)
  v.setUint16(8, SIM_GPU_VERSION, true)
  out[10] = c.ccMode ? 1 : 0
  v.setBigUint64(12, BigInt(c.producedAt), true)
  out.set(c.nonce, 20)
  out.set(c.deviceId, 52)
  putText(out, 68, c.model)
  putText(out, 84, c.driverVersion)
  putText(out, 100, c.vbiosVersion)
  out.set(signerKey, 116)
  return out
}

export function parseSimulatedGpuEvidence (bytes: Uint8Array): SimulatedGpuEvidence {
  const r = new Reader(bytes, 'simulated gpu evidence')
  r.need(0, 8)
  if (!bytesEqual(r.slice(0, 8), SIM_GPU_MAGIC)) fail(AttestationErrorCode.MALFORMED, 'simulated gpu evidence: bad magic')
  const version = r.u16(8)
  if (version !== SIM_GPU_VERSION) fail(AttestationErrorCode.UNSUPPORTED_VERSION, `simulated gpu evidence version ${version}`)
  r.need(0, SIM_GPU_LENGTH)
  const cc = r.u8(10)
  if (cc > 1) fail(AttestationErrorCode.MALFORMED, 'simulated gpu evidence: cc mode')
  return {
    ccMode: cc === 1,
    producedAt: Number(r.u64(12)),
    nonce: r.slice(20, 32),
    deviceId: r.slice(52, 16),
    model: getText(r.slice(68, 16)),
    driverVersion: getText(r.slice(84, 16)),
    vbiosVersion: getText(r.slice(100, 16)),
    signerKey: r.slice(116, 32),
    signature: r.slice(SIM_GPU_SIGNED_LENGTH, 64),
    signed: r.slice(0, SIM_GPU_SIGNED_LENGTH)
  }
}
