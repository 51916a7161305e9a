import { createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import { AttestationErrorCode, fail } from '../errors.js'
import { REPORT_DATA_LENGTH } from '../binding.js'
import { encodeSimulatedBody } from '../simulated/format.js'
import { ed25519RawPublicKey } from '../../util/ed25519.js'
import type { Clock } from '../../util/clock.js'
import { systemClock } from '../../util/clock.js'
import type { AttestationProvider, Evidence } from '../types.js'

export interface SimulatedProviderInit {
  /** the 48-byte measurement to claim (default: 48 zero bytes) */
  measurement?: Uint8Array
  /** PKCS#8 DER of an ed25519 signing key; a fresh one when absent */
  privateKey?: Uint8Array
  clock?: Clock
}

export interface SimulatedProvider extends AttestationProvider {
  /** the raw ed25519 public key that signs this provider's evidence */
  readonly publicKey: Uint8Array
}

/**
 * Development provider: evidence signed by a local ed25519 key. Refused by every policy that does not
 * set `allowSimulated`. Never use it to protect real data.
 */
export function simulatedProvider (init: SimulatedProviderInit = {}): SimulatedProvider {
  const measurement = init.measurement ?? new Uint8Array(48)
  if (measurement.byteLength !== 48) throw new TypeError('simulated measurement must be 48 bytes')
  const clock = init.clock ?? systemClock
  const priv: KeyObject = init.privateKey != null
    ? createPrivateKey({ key: Buffer.from(init.privateKey), format: 'der', type: 'pkcs8' })
    : generateKeyPairSync('ed25519').privateKey
  const publicKey = ed25519RawPublicKey(priv)
  return {
    kind: 'simulated',
    publicKey,
    async attest (reportData: Uint8Array, opts?: { signal?: AbortSignal }): Promise<Evidence> {
      opts?.signal?.throwIfAborted()
      if (reportData.byteLength !== REPORT_DATA_LENGTH) fail(AttestationErrorCode.MALFORMED, `report data of ${reportData.byteLength} bytes`)
      const body = encodeSimulatedBody(clock.now(), measurement, reportData, publicKey)
      const sig = sign(null, body, priv)
      const evidence = new Uint8Array(body.byteLength + sig.byteLength)
      evidence.set(body)
      evidence.set(sig, body.byteLength)
      return { kind: 'simulated', evidence, certs: [] }
    }
  }
}
