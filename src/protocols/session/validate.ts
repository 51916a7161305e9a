import { SessionEvidence, SessionHello, SessionVerdict } from '../../wire/session.js'
import { GPU_EVIDENCE_KINDS, TEE_KINDS } from '../../tee/types.js'
import { MAX_AGREEMENT_HASH_LENGTH, MAX_SESSION_GPUS, NONCE_LENGTH, ENCLAVE_KEY_LENGTH } from '../../tee/binding.js'
import { MAX_EVIDENCE_CERTS, MAX_GPU_CERTS, MAX_GPU_OCSP, MAX_GPU_RIMS, SESSION_VERSION } from './constants.js'
import { SessionError, SessionErrorCode } from './errors.js'

const malformed = (why: string): never => { throw new SessionError(SessionErrorCode.MALFORMED_MESSAGE, why) }

function decode<T> (what: string, fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    throw new SessionError(SessionErrorCode.MALFORMED_MESSAGE, `${what} does not decode`, { cause: err })
  }
}

function agreementHashOk (h: Uint8Array): boolean {
  return h.byteLength > 0 && h.byteLength <= MAX_AGREEMENT_HASH_LENGTH
}

/** Validates a SessionHello from a renter (size already capped by the reader). */
export function validateHello (bytes: Uint8Array): SessionHello {
  const m = decode('hello', () => SessionHello.decode(bytes))
  // [REJECT] only version 1 exists
  if (m.version !== SESSION_VERSION) malformed(`hello version ${m.version}`)
  // [REJECT] the nonce is exactly 32 bytes
  if (m.nonce.byteLength !== NONCE_LENGTH) malformed(`nonce of ${m.nonce.byteLength} bytes`)
  // [REJECT] the agreement hash is 1..64 bytes
  if (!agreementHashOk(m.agreementHash)) malformed(`agreement hash of ${m.agreementHash.byteLength} bytes`)
  // [REJECT] at most MAX_SESSION_GPUS GPUs attested in one session
  if (m.gpuCount > MAX_SESSION_GPUS) malformed(`evidence of ${m.gpuCount} GPUs asked for`)
  return m
}


/** Validates a SessionEvidence from an enclave: either an error or complete, well-sized evidence. */
export function validateEvidence (bytes: Uint8Array): SessionEvidence {
  const m = decode('evidence', () => SessionEvidence.decode(bytes, { limits: { certs: MAX_EVIDENCE_CERTS, gpuCerts: MAX_GPU_CERTS, gpuRims: MAX_GPU_RIMS, gpuOcsp: MAX_GPU_OCSP, moreGpus: MAX_SESSION_GPUS - 1, moreGpus$: { certs: MAX_GPU_CERTS, rims: MAX_GPU_RIMS, ocsp: MAX_GPU_OCSP } } }))
  if (m.version !== SESSION_VERSION) malformed(`evidence version ${m.version}`)
  if (m.error !== '') {
    if (m.error.length > 64) malformed('error code too long')
    return m
  }
  // [REJECT] a known TEE kind
  if (!(TEE_KINDS as readonly string[]).includes(m.kind)) malformed(`unknown TEE kind '${m.kind.slice(0, 32)}'`)
  if (m.evidence.byteLength === 0) malformed('empty evidence')
  if (m.enclaveKey.byteLength !== ENCLAVE_KEY_LENGTH) malformed(`enclave key of ${m.enclaveKey.byteLength} bytes`)
  if (m.nonce.byteLength !== NONCE_LENGTH) malformed(`nonce of ${m.nonce.byteLength} bytes`)
  if (!agreementHashOk(m.agreementHash)) malformed(`agreement hash of ${m.agreementHash.byteLength} bytes`)
  // [REJECT] GPU evidence, when present, is of a known kind and not empty
  if (m.gpuKind !== '') {
    if (!(GPU_EVIDENCE_KINDS as readonly string[]).includes(m.gpuKind)) malformed(`unknown GPU evidence kind '${m.gpuKind.slice(0, 32)}'`)
    if (m.gpuReport.byteLength === 0) malformed('empty GPU report')
  }
  // [REJECT] further GPUs only beside GPU 0, each of a known kind, not empty, at its own index 1..15
  if (m.moreGpus.length > 0 && m.gpuKind === '') malformed('further GPUs without GPU 0')
  const seen = new Set<number>()
  for (const g of m.moreGpus) {
    if (g.index === 0 || g.index >= MAX_SESSION_GPUS || seen.has(g.index)) malformed(`GPU index ${g.index} out of range or repeated`)
    seen.add(g.index)
    if (!(GPU_EVIDENCE_KINDS as readonly string[]).includes(g.kind)) malformed(`unknown GPU evidence kind '${g.kind.slice(0, 32)}'`)
    if (g.report.byteLength === 0) malformed(`empty report of GPU ${g.index}`)
  }
  return m
}

/** Validates a SessionVerdict from a renter. */
export function validateVerdict (bytes: Uint8Array): SessionVerdict {
  const m = decode('verdict', () => SessionVerdict.decode(bytes))
  if (m.code.length > 64) malformed('verdict code too long')
  return m
}
