import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto'
import { AttestationErrorCode, fail } from '../errors.js'
import { GPU_NONCE_LENGTH } from '../binding.js'
import { encodeSimulatedGpuBody } from '../simulated/gpu-format.js'
import { ed25519RawPublicKey } from '../../util/ed25519.js'
import { systemClock, type Clock } from '../../util/clock.js'
import type { GpuAttestationProvider, GpuEvidence } from '../types.js'

export interface SimulatedGpuProviderInit {
  /** default "GH100" */
  model?: string
  /** default "550.90.07" */
  driverVersion?: string
  /** default "96.00.9F.00.01" */
  vbiosVersion?: string
  /** claim confidential computing on (default) or off */
  ccMode?: boolean
  /** 16 bytes identifying the simulated GPU at index 0; random when absent */
  deviceId?: Uint8Array
  /** how many GPUs the simulated node has (indices 0..count-1); default 64, the most NVML indices allowed */
  count?: number
  /** PKCS#8 DER of an ed25519 signing key; a fresh one when absent */
  privateKey?: Uint8Array
  clock?: Clock
}

export interface SimulatedGpuProvider extends GpuAttestationProvider {
  readonly publicKey: Uint8Array
  /** the device id of GPU 0 */
  readonly deviceId: Uint8Array
  /** the device id of GPU `index` */
  deviceIdOf: (index: number) => Uint8Array
}

/**
 * Development GPU provider: evidence signed by a local ed25519 key, claiming whatever it is told.
 * Refused by every policy that does not allow simulation. Never use it to protect real data.
 */
export function simulatedGpuProvider (init: SimulatedGpuProviderInit = {}): SimulatedGpuProvider {
  const clock = init.clock ?? systemClock
  const deviceId = init.deviceId ?? new Uint8Array(randomBytes(16))
  if (deviceId.byteLength !== 16) throw new TypeError('simulated GPU device id must be 16 bytes')
  const priv: KeyObject = init.privateKey != null
    ? createPrivateKey({ key: Buffer.from(init.privateKey), format: 'der', type: 'pkcs8' })
    : generateKeyPairSync('ed25519').privateKey
  const publicKey = ed25519RawPublicKey(priv)
  const count = init.count ?? 64
  if (!Number.isSafeInteger(count) || count < 1 || count > 64) throw new TypeError('simulated GPU count must be 1..64')
  // GPU i > 0: an id derived from GPU 0's, so each simulated GPU of the node is a distinct device
  const deviceIdOf = (index: number): Uint8Array => index === 0
    ? deviceId
    : new Uint8Array(createHash('sha256').update(deviceId).update(String(index)).digest().subarray(0, 16))
  return {
    kind: 'simulated-gpu',
    publicKey,
    deviceId,
    deviceIdOf,
    async attest (nonce: Uint8Array, opts?: { signal?: AbortSignal, index?: number }): Promise<GpuEvidence> {
      opts?.signal?.throwIfAborted()
      if (nonce.byteLength !== GPU_NONCE_LENGTH) fail(AttestationErrorCode.MALFORMED, `gpu nonce of ${nonce.byteLength} bytes`)
      const index = opts?.index ?? 0
      // [REJECT] like NVML, no evidence for a GPU the node does not have
      if (!Number.isSafeInteger(index) || index < 0 || index >= count) fail(AttestationErrorCode.UNAVAILABLE, `simulated-gpu: no GPU at index ${index}`)
      const body = encodeSimulatedGpuBody({
        producedAt: clock.now(),
        nonce,
        deviceId: deviceIdOf(index),
        ccMode: init.ccMode ?? true,
        model: init.model ?? 'GH100',
        driverVersion: init.driverVersion ?? '550.90.07',
        vbiosVersion: init.vbiosVersion ?? '96.00.9F.00.01'
      }, publicKey)
      const sig = sign(null, body, priv)
      const report = new Uint8Array(body.byteLength + sig.byteLength)
      report.set(body)
      report.set(sig, body.byteLength)
      return { kind: 'simulated-gpu', report, certs: [], rims: [] }
    }
  }
}
