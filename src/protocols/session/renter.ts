import { randomBytes } from 'node:crypto'
import type { Connection, Logger, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { SessionEvidence, SessionHello, SessionVerdict } from '../../wire/session.js'
import { bytesEqual } from '../../util/bytes.js'
import { checkReportData, MAX_SESSION_GPUS, NONCE_LENGTH, sessionGpuNonce } from '../../tee/binding.js'
import { AttestationError, AttestationErrorCode } from '../../tee/errors.js'
import { remoteCode } from '../remote-code.js'
import { checkGpuPolicy, checkPolicy, type AttestationPolicy } from '../../tee/policy.js'
import { evidenceVerifier } from '../../tee/verify.js'
import { gpuEvidenceVerifier } from '../../tee/gpu-verify.js'
import { systemClock, type Clock } from '../../util/clock.js'
import type { EvidenceVerifier, GpuEvidence, GpuEvidenceKind, GpuEvidenceVerifier, TeeKind, VerifiedEvidence, VerifiedGpuEvidence } from '../../tee/types.js'
import type { FramedChannel } from '../framed.js'
import {
  DEFAULT_MAX_FRAME, DEFAULT_MESSAGE_TIMEOUT_MS, MAX_EVIDENCE_MESSAGE_SIZE, SESSION_PROTOCOL, SESSION_VERSION
} from './constants.js'
import { SessionError, SessionErrorCode, isFailureCode, toSessionError } from './errors.js'
import { ed25519KeyOf } from './peer-key.js'
import { validateEvidence } from './validate.js'
import { StreamChannel, Wire } from './wire.js'

/** What the renter's node offers the session: dialling and a logger. */
export interface SessionRenterNode {
  dial: (peer: PeerId | Multiaddr | Multiaddr[], options?: { signal?: AbortSignal }) => Promise<Connection>
  logger?: { forComponent: (name: string) => Logger }
}

export interface OpenSessionOptions {
  /** hash of the signed agreement this session serves */
  agreementHash: Uint8Array
  policy: AttestationPolicy
  /** checks evidence cryptographically; default: all kinds against the pinned roots */
  verifier?: EvidenceVerifier
  /** checks GPU evidence cryptographically; default: both GPU kinds against the pinned NVIDIA roots */
  gpuVerifier?: GpuEvidenceVerifier
  /**
   * how many GPUs the agreement covers (default 1). With GPU evidence asked for, each must send its
   * own, answering its indexed nonce, from distinct devices; fewer is GPU_COUNT_SHORT
   */
  gpuCount?: number
  clock?: Clock
  signal?: AbortSignal
  /** wait for the enclave's evidence (includes its firmware call) */
  timeoutMs?: number
  /** largest job frame on the returned channel */
  maxFrame?: number
  /**
   * the enclave peer the agreement names; refused with PEER_MISMATCH when the noise session
   * authenticates another (needed when dialling a multiaddr without /p2p/)
   */
  expectedPeer?: PeerId
}

/** An attested session: verified evidence and the channel for the job layer. */
export interface AttestedSession {
  /** the enclave's peer id, authenticated by noise and bound into the evidence */
  remotePeer: PeerId
  kind: TeeKind
  evidence: VerifiedEvidence
  /** the GPU's verified evidence, when the policy asked for it and the enclave sent it (GPU 0 of the agreement) */
  gpu?: VerifiedGpuEvidence
  /** every GPU's verified evidence, in the agreement's order (empty when none was asked for or sent) */
  gpus: VerifiedGpuEvidence[]
  /** the fresh nonce the evidence answers */
  nonce: Uint8Array
  channel: FramedChannel
}

/**
 * the longest a handshake waits for the TCB info of a TDX platform met for the first time: within
 * the enclave's wait for our verdict (DEFAULT_MESSAGE_TIMEOUT_MS)
 */
export const TDX_COLLATERAL_WAIT_MS = 8_000

/** the verifier used when the caller gives none: one per process, so that its RIM cache is shared */
let defaultGpuVerifier: GpuEvidenceVerifier | undefined

/** a handshake step's deadline: wall time, since it bounds stream I/O with the enclave, not protocol time */
function timeoutSignal (signal: AbortSignal | undefined, ms: number): AbortSignal {
  const t = AbortSignal.timeout(ms)
  return signal == null ? t : AbortSignal.any([signal, t])
}

/**
 * Runs the renter side of `/bazaar/session/1.0.0` on a given connection: sends a fresh nonce and the
 * agreement hash, checks that the evidence answers them, is bound to the connection's noise-
 * authenticated remote key, verifies cryptographically and passes the policy, then accepts. Any
 * failure tells the enclave the code, ends the stream and throws a SessionError.
 */
export async function runRenterHandshake (connection: Connection, stream: Stream, opts: OpenSessionOptions, log?: Logger): Promise<AttestedSession> {
  const clock = opts.clock ?? systemClock
  const verifier = opts.verifier ?? evidenceVerifier()
  const maxFrame = opts.maxFrame ?? DEFAULT_MAX_FRAME
  const wire = new Wire(stream, Math.max(MAX_EVIDENCE_MESSAGE_SIZE, maxFrame + 1))
  const remotePeer = connection.remotePeer
  let helloSent = false
  try {
    // [REJECT] the noise-authenticated peer is the one the agreement names
    if (opts.expectedPeer != null && !opts.expectedPeer.equals(remotePeer)) {
      throw new SessionError(SessionErrorCode.PEER_MISMATCH, `dialled ${remotePeer.toString()}, the agreement names ${opts.expectedPeer.toString()}`)
    }
    const remoteKey = ed25519KeyOf(remotePeer)
    const nonce = new Uint8Array(randomBytes(NONCE_LENGTH))
    const requestedAt = clock.now()
    const wantGpu = opts.policy.gpu != null && opts.policy.gpu.mode !== 'off'
    const gpuCount = opts.gpuCount ?? 1
    if (!Number.isSafeInteger(gpuCount) || gpuCount < 1) throw new TypeError(`gpuCount ${gpuCount}`)
    // [REJECT] more GPUs than one session attests: the renter cannot check them all
    if (wantGpu && gpuCount > MAX_SESSION_GPUS) throw new AttestationError(AttestationErrorCode.GPU_COUNT_SHORT, `the agreement covers ${gpuCount} GPUs, a session attests at most ${MAX_SESSION_GPUS}`)
    // one GPU: gpuCount stays 0 on the wire, and the hello keeps its single-GPU bytes
    await wire.write(SessionHello.encode({ version: SESSION_VERSION, nonce, agreementHash: new Uint8Array(opts.agreementHash), wantGpu, gpuCount: wantGpu && gpuCount > 1 ? gpuCount : 0 }), opts.signal)
    helloSent = true
    const m: SessionEvidence = validateEvidence(await wire.expect(MAX_EVIDENCE_MESSAGE_SIZE, timeoutSignal(opts.signal, opts.timeoutMs ?? DEFAULT_MESSAGE_TIMEOUT_MS), 'evidence'))
    if (m.error !== '') {
      const code = isFailureCode(m.error) ? m.error : SessionErrorCode.PROVIDER_FAILED
      // the enclave's words go no further than a code (they reach logs and terminals)
      const remote = remoteCode(m.error)
      throw new SessionError(code, `enclave refused: ${remote}`, { remoteCode: remote })
    }
    // cheap checks on the echoed fields first; the report data below is what is trusted
    // [REJECT] the evidence answers our nonce (a replay of older evidence does not)
    if (!bytesEqual(m.nonce, nonce)) throw new SessionError(SessionErrorCode.NONCE_MISMATCH, 'evidence answers another nonce')
    // [REJECT] the evidence is for this agreement
    if (!bytesEqual(m.agreementHash, opts.agreementHash)) throw new SessionError(SessionErrorCode.AGREEMENT_MISMATCH, 'evidence is for another agreement')
    // [REJECT] the evidence is bound to the peer noise authenticated (a relay forwards someone else's)
    if (!bytesEqual(m.enclaveKey, remoteKey)) throw new SessionError(SessionErrorCode.PEER_MISMATCH, 'evidence is bound to another peer than the noise session')
    // [REJECT] the evidence verifies (signatures, chain to the pinned roots at now)
    const ev = { kind: m.kind as TeeKind, evidence: m.evidence, certs: m.certs }
    let evidence = verifier.verify(ev, { at: new Date(clock.now()), crls: opts.policy.crls, tdxCollateral: opts.policy.tdxCollateral })
    // [REJECT] the signed report data is the binding of this key, nonce and agreement
    checkReportData(evidence.reportData, remoteKey, nonce, opts.agreementHash)
    const source = opts.policy.tdxCollateralSource
    if (evidence.kind === 'tdx' && evidence.tdxTcbStatus == null && source != null && typeof evidence.fields.fmspc === 'string') {
      // no TCB info for this platform yet: fetched now (COLLATERAL_NOT_FETCHED when it cannot be),
      // and only now, the quote's PCK chain having verified to Intel's root and the quote being
      // bound to this session, so the FMSPC asked about is one Intel certified. The enclave waits
      // for our verdict (its message timeout), which bounds the fetch too.
      const fmspc = evidence.fields.fmspc
      const fetched = await source.collateralFor(fmspc, { signal: timeoutSignal(opts.signal, TDX_COLLATERAL_WAIT_MS) }).catch((err: unknown) => {
        // a fetch that outlasted its wait is the platform's TCB info missing, not a session timeout
        // (the rental's own cancel stays what it is)
        if (err instanceof AttestationError || opts.signal?.aborted === true) throw err
        const why = (err as { name?: string }).name === 'TimeoutError' ? `Intel PCS or the PCCS did not answer within ${TDX_COLLATERAL_WAIT_MS / 1000} s` : `the fetch failed (${(err as Error).message ?? String(err)})`
        throw new AttestationError(AttestationErrorCode.COLLATERAL_NOT_FETCHED, `no TCB info for TDX platform ${fmspc}: ${why}`)
      })
      // [REJECT] the quote judged again, against its platform's TCB info
      evidence = verifier.verify(ev, { at: new Date(clock.now()), crls: opts.policy.crls, tdxCollateral: [fetched] })
    }
    // [REJECT] the policy accepts the kind, measurement, TCB, debug state and age
    checkPolicy(evidence, opts.policy, { now: clock.now(), requestedAt })
    let gpu: VerifiedGpuEvidence | undefined
    const gpus: VerifiedGpuEvidence[] = []
    if (wantGpu) {
      const gpuVerifier = opts.gpuVerifier ?? (defaultGpuVerifier ??= gpuEvidenceVerifier())
      // [REJECT] the GPU signed the nonce derived from this session's nonce, agreement, enclave key and
      // its index: a report from another session, agreement, enclave or position answers another one
      const verifyGpu = (i: number, e: GpuEvidence): VerifiedGpuEvidence => gpuVerifier.verify(e, {
        at: new Date(clock.now()), nonce: sessionGpuNonce(remoteKey, nonce, opts.agreementHash, i), crls: opts.policy.gpu?.crls, requireRevocation: opts.policy.gpu?.requireRevocation
      })
      if (m.gpuKind !== '') {
        // cheap checks on the list before any signature: validateEvidence bounded it and de-duplicated its indices
        // [REJECT] only the GPUs asked for
        const extra = m.moreGpus.find((g) => g.index >= gpuCount)
        if (extra != null) throw new SessionError(SessionErrorCode.MALFORMED_MESSAGE, `evidence of GPU ${extra.index}, ${gpuCount} asked for`)
        // [REJECT] a report for every GPU of the agreement (a GPU left out is not attested)
        if (1 + m.moreGpus.length < gpuCount) throw new AttestationError(AttestationErrorCode.GPU_COUNT_SHORT, `evidence of ${1 + m.moreGpus.length} GPUs, the agreement covers ${gpuCount}`)
        const gpu0 = { kind: m.gpuKind as GpuEvidenceKind, report: m.gpuReport, certs: m.gpuCerts, rims: m.gpuRims, ocsp: m.gpuOcsp }
        gpus.push(gpu = verifyGpu(0, gpu0))
        for (const g of [...m.moreGpus].sort((a, b) => a.index - b.index)) {
          // an empty RIM list stands for GPU 0's (one driver serves every GPU of the node), and GPU 0's
          // OCSP answers (about those RIMs' signers) count for every GPU: each answer names its certificate
          gpus.push(verifyGpu(g.index, { kind: g.kind as GpuEvidenceKind, report: g.report, certs: g.certs, rims: g.rims.length > 0 ? g.rims : gpu0.rims, ocsp: [...g.ocsp, ...gpu0.ocsp] }))
        }
      }
      // [REJECT] GPU evidence required but absent, simulated, CC off, unmatched, version or age refused
      checkGpuPolicy(gpu, opts.policy, { now: clock.now(), requestedAt })
      for (const g of gpus.slice(1)) checkGpuPolicy(g, opts.policy, { now: clock.now(), requestedAt })
      // [REJECT] every GPU of the agreement is a distinct device (one GPU answering for two is one GPU)
      if (gpu != null && new Set(gpus.map((g) => g.deviceId)).size < gpuCount) {
        throw new AttestationError(AttestationErrorCode.GPU_COUNT_SHORT, `evidence of ${new Set(gpus.map((g) => g.deviceId)).size} distinct GPUs, the agreement covers ${gpuCount}`)
      }
    }
    await wire.write(SessionVerdict.encode({ ok: true, code: '' }), opts.signal)
    if (evidence.kind === 'simulated') {
      // allowed only because the policy says so (devnet): say it where an operator will see it
      log?.error('WARNING: session with %p accepted a SIMULATED enclave: no hardware protects the job', remotePeer)
    } else {
      log?.('session with %p accepted: %s %s', remotePeer, evidence.kind, evidence.fields.measurement ?? evidence.fields.mrTd ?? '')
    }
    if (gpu?.kind === 'simulated-gpu') log?.error('WARNING: session with %p accepted a SIMULATED GPU: no hardware protects GPU memory', remotePeer)
    return { remotePeer, kind: evidence.kind, evidence, gpu, gpus, nonce, channel: new StreamChannel(wire, maxFrame) }
  } catch (err) {
    const e = toSessionError(err)
    log?.error('session with %p refused: %s %s', remotePeer, e.code, e.message)
    try {
      // the enclave waits for a verdict only once it has our hello
      if (helloSent) stream.send(lengthPrefixed(SessionVerdict.encode({ ok: false, code: e.code })))
      // wall time: a bound on closing the stream, not protocol time
      await stream.close({ signal: AbortSignal.timeout(1000) })
    } catch {
      stream.abort(e)
    }
    throw e
  }
}

function lengthPrefixed (data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + data.byteLength)
  new DataView(out.buffer).setUint32(0, data.byteLength, false)
  out.set(data, 4)
  return out
}

/**
 * Opens an attested session to an enclave peer: dials it (noise authenticates its peer id), opens
 * `/bazaar/session/1.0.0` and runs the renter handshake. Resolves only when the evidence verified,
 * the policy accepted it and it is bound to the dialled peer; job data may then flow on `channel`.
 */
export async function openAttestedSession (node: SessionRenterNode, enclave: PeerId | Multiaddr | Multiaddr[], opts: OpenSessionOptions): Promise<AttestedSession> {
  const log = node.logger?.forComponent('bazaar:session:renter')
  const connection = await node.dial(enclave, { signal: opts.signal })
  let stream: Stream
  try {
    stream = await connection.newStream(SESSION_PROTOCOL, { signal: opts.signal })
  } catch (err) {
    throw new SessionError(SessionErrorCode.STREAM_CLOSED, 'could not open a session stream', { cause: err })
  }
  return await runRenterHandshake(connection, stream, opts, log)
}
