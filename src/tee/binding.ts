import { createHash } from 'node:crypto'
import { AttestationErrorCode, fail } from './errors.js'
import { bytesEqual } from '../util/bytes.js'

/** Domain separation tag of the session binding (DESIGN.md, Flow step 5). */
export const BINDING_TAG = new TextEncoder().encode('bazaar-attest-v1')
export const ENCLAVE_KEY_LENGTH = 32
export const NONCE_LENGTH = 32
export const MAX_AGREEMENT_HASH_LENGTH = 64
export const REPORT_DATA_LENGTH = 64

/**
 * The report data an enclave must attest for a session:
 * SHA-512("bazaar-attest-v1" || enclave peer public key (32, raw ed25519) || nonce (32) || agreement hash).
 * The key and nonce have fixed lengths and the agreement hash comes last, so the concatenation is
 * unambiguous.
 */
export function sessionReportData (enclavePublicKey: Uint8Array, nonce: Uint8Array, agreementHash: Uint8Array): Uint8Array {
  if (enclavePublicKey.byteLength !== ENCLAVE_KEY_LENGTH) fail(AttestationErrorCode.MALFORMED, `enclave key of ${enclavePublicKey.byteLength} bytes`)
  if (nonce.byteLength !== NONCE_LENGTH) fail(AttestationErrorCode.MALFORMED, `nonce of ${nonce.byteLength} bytes`)
  if (agreementHash.byteLength === 0 || agreementHash.byteLength > MAX_AGREEMENT_HASH_LENGTH) fail(AttestationErrorCode.MALFORMED, `agreement hash of ${agreementHash.byteLength} bytes`)
  return new Uint8Array(createHash('sha512').update(BINDING_TAG).update(enclavePublicKey).update(nonce).update(agreementHash).digest())
}

/** Throws REPORT_DATA_MISMATCH unless the evidence's report data is the session binding. */
export function checkReportData (reportData: Uint8Array, enclavePublicKey: Uint8Array, nonce: Uint8Array, agreementHash: Uint8Array): void {
  if (!bytesEqual(reportData, sessionReportData(enclavePublicKey, nonce, agreementHash))) {
    fail(AttestationErrorCode.REPORT_DATA_MISMATCH, 'report data is not SHA-512(tag || enclave key || nonce || agreement hash)')
  }
}

/** Domain separation tag of the GPU nonce (a different tag: a GPU nonce is never a CPU report data). */
export const GPU_BINDING_TAG = new TextEncoder().encode('bazaar-gpu-attest-v1')
/**
 * Tag of the nonce of GPU i > 0 of an agreement. Not a prefix of GPU_BINDING_TAG nor the reverse, and
 * the index sits at a fixed place, so no (index, key, nonce, agreement) input is another's.
 */
export const GPU_INDEX_BINDING_TAG = new TextEncoder().encode('bazaar-gpu-attest-idx-v1')
/** SPDM GET_MEASUREMENTS nonces are 32 bytes. */
export const GPU_NONCE_LENGTH = 32
/** Most GPUs one session attests (an 8-GPU node twice over). */
export const MAX_SESSION_GPUS = 16

/**
 * The nonce the GPU must sign in a session: SHA-256("bazaar-gpu-attest-v1" || enclave peer public key
 * (32) || session nonce (32) || agreement hash). Both sides derive it, so GPU evidence from another
 * session, another agreement or for another enclave answers another nonce and is refused.
 *
 * GPU `index` > 0 of a multi-GPU agreement signs SHA-256("bazaar-gpu-attest-idx-v1" || u32be(index) ||
 * enclave key || session nonce || agreement hash) instead, so one GPU's report cannot stand for
 * another position; GPU 0 keeps the single-GPU nonce.
 */
export function sessionGpuNonce (enclavePublicKey: Uint8Array, nonce: Uint8Array, agreementHash: Uint8Array, index = 0): Uint8Array {
  if (enclavePublicKey.byteLength !== ENCLAVE_KEY_LENGTH) fail(AttestationErrorCode.MALFORMED, `enclave key of ${enclavePublicKey.byteLength} bytes`)
  if (nonce.byteLength !== NONCE_LENGTH) fail(AttestationErrorCode.MALFORMED, `nonce of ${nonce.byteLength} bytes`)
  if (agreementHash.byteLength === 0 || agreementHash.byteLength > MAX_AGREEMENT_HASH_LENGTH) fail(AttestationErrorCode.MALFORMED, `agreement hash of ${agreementHash.byteLength} bytes`)
  if (!Number.isSafeInteger(index) || index < 0 || index >= MAX_SESSION_GPUS) fail(AttestationErrorCode.MALFORMED, `GPU index ${index}`)
  const h = createHash('sha256')
  if (index === 0) h.update(GPU_BINDING_TAG)
  else {
    const i = new Uint8Array(4)
    new DataView(i.buffer).setUint32(0, index, false)
    h.update(GPU_INDEX_BINDING_TAG).update(i)
  }
  return new Uint8Array(h.update(enclavePublicKey).update(nonce).update(agreementHash).digest())
}
