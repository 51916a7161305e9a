import type { Connection, Logger, PeerId, Stream, StreamHandler } from '@libp2p/interface'
import { SessionEvidence, type SessionHello } from '../../wire/session.js'
import { sessionGpuNonce, sessionReportData } from '../../tee/binding.js'
import { bytesEqual } from '../../util/bytes.js'
import type { AttestationProvider, GpuAttestationProvider, GpuEvidence } from '../../tee/types.js'
import type { FramedChannel } from '../framed.js'
import {
  DEFAULT_MAX_FRAME, DEFAULT_MAX_INBOUND_STREAMS, DEFAULT_MESSAGE_TIMEOUT_MS, DEFAULT_SEEN_NONCES,
  MAX_HELLO_SIZE, MAX_VERDICT_SIZE, SESSION_PROTOCOL, SESSION_VERSION
} from './constants.js'
import { SessionError, SessionErrorCode, isFailureCode, toSessionError } from './errors.js'
import { NonceCache } from './nonces.js'
import { ed25519KeyOf } from './peer-key.js'
import { validateHello, validateVerdict } from './validate.js'
import { StreamChannel, Wire } from './wire.js'

/** What the enclave's node offers: its own peer id and protocol registration. */
export interface SessionEnclaveNode {
  peerId: PeerId
  handle: (protocol: string, handler: StreamHandler, options?: { maxInboundStreams?: number }) => Promise<void>
  unhandle: (protocol: string) => Promise<void>
  logger?: { forComponent: (name: string) => Logger }
}

export interface SessionInfo {
  remotePeer: PeerId
  agreementHash: Uint8Array
  nonce: Uint8Array
}

export interface SessionHandlerInit {
  /** produces evidence binding the session's report data */
  provider: AttestationProvider
  /**
   * produces GPU evidence when a renter asks for it (SessionHello.wantGpu). Absent, or failing: the
   * evidence goes without it, and a renter that requires it refuses with GPU_EVIDENCE_MISSING
   */
  gpuProvider?: GpuAttestationProvider
  /**
   * the node's GPU indices (CUDA/NVML) an agreement holds, in the agreement's order: GPU i of a
   * hello's gpuCount attests at indices[i], and a position past the list gets no evidence; an
   * agreement it names no GPUs for gets none. Absent (a node with no GPU ledger): GPU i attests at
   * index i (GPU 0 at the provider's own)
   */
  gpuIndices?: (agreementHash: Uint8Array) => readonly number[] | undefined
  /** called once the renter accepted the evidence; owns the channel from then on */
  onSession: (channel: FramedChannel, info: SessionInfo) => void | Promise<void>
  /**
   * refuses hellos for agreements this enclave does not serve to this peer (UNKNOWN_AGREEMENT):
   * checked before any evidence is produced
   */
  acceptAgreement?: (agreementHash: Uint8Array, remotePeer: PeerId) => boolean | Promise<boolean>
  /** called when a handshake fails, with its typed error (logging and metrics) */
  onRefused?: (err: SessionError, remotePeer: PeerId) => void
  maxInboundStreams?: number
  /** wait for each renter message */
  messageTimeoutMs?: number
  /** nonces remembered to refuse replays */
  seenNonces?: number
  maxFrame?: number
}

export interface SessionHandler {
  /** nonces currently remembered */
  readonly seenNonces: number
  unregister: () => Promise<void>
}

function sameRims (a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  return a.length === b.length && a.every((r, i) => bytesEqual(r, b[i]))
}

/** The answers of `a` that `b` does not hold (copied): what GPU i > 0 adds to GPU 0's. */
function notIn (a: readonly Uint8Array[], b: readonly Uint8Array[]): Array<Uint8Array<ArrayBuffer>> {
  return a.filter((x) => !b.some((y) => bytesEqual(x, y))).map((x) => new Uint8Array(x))
}

function send (stream: Stream, data: Uint8Array): void {
  const out = new Uint8Array(4 + data.byteLength)
  new DataView(out.buffer).setUint32(0, data.byteLength, false)
  out.set(data, 4)
  stream.send(out)
}

/**
 * Serves `/bazaar/session/1.0.0` inside the enclave: answers a renter's fresh nonce with evidence
 * whose report data is SHA-512("bazaar-attest-v1" || own peer key || nonce || agreement hash),
 * refuses replayed nonces, and hands the channel to `onSession` once the renter accepts.
 */
export async function registerSessionHandler (node: SessionEnclaveNode, init: SessionHandlerInit): Promise<SessionHandler> {
  const ownKey = ed25519KeyOf(node.peerId)
  const nonces = new NonceCache(init.seenNonces ?? DEFAULT_SEEN_NONCES)
  const timeoutMs = init.messageTimeoutMs ?? DEFAULT_MESSAGE_TIMEOUT_MS
  const maxFrame = init.maxFrame ?? DEFAULT_MAX_FRAME
  const log = node.logger?.forComponent('bazaar:session:enclave')
  const controller = new AbortController()

  const handler = async (stream: Stream, connection: Connection): Promise<void> => {
    const remotePeer = connection.remotePeer
    const wire = new Wire(stream, Math.max(MAX_HELLO_SIZE, maxFrame + 1))
    // a handshake step's deadline: wall time, since it bounds stream I/O with the renter
    const deadline = (): AbortSignal => AbortSignal.any([controller.signal, AbortSignal.timeout(timeoutMs)])
    let channel: StreamChannel
    let hello: SessionHello
    let answered = false
    try {
      hello = validateHello(await wire.expect(MAX_HELLO_SIZE, deadline(), 'hello'))
      // [REJECT] a nonce seen before: someone is replaying a renter's hello
      if (!nonces.add(hello.nonce)) throw new SessionError(SessionErrorCode.NONCE_REPLAYED, 'nonce seen before')
      if (init.acceptAgreement != null && !await init.acceptAgreement(hello.agreementHash, remotePeer)) {
        throw new SessionError(SessionErrorCode.UNKNOWN_AGREEMENT, 'agreement not served here')
      }
      const reportData = sessionReportData(ownKey, hello.nonce, hello.agreementHash)
      const signal = deadline()
      // the CPU and GPU firmware calls are independent: run them together
      const gpuProvider = init.gpuProvider
      const gpuCount = hello.wantGpu && gpuProvider != null ? Math.max(1, hello.gpuCount) : 0
      const indices = gpuCount > 0 ? init.gpuIndices?.(hello.agreementHash) : undefined
      const attestGpu = async (i: number): Promise<GpuEvidence | undefined> => {
        // [REJECT] where the supplier assigns GPUs, one it does not name for this agreement: another
        // renter's job may run on it
        const assigned = init.gpuIndices != null
        const index = assigned ? indices?.[i] : (i === 0 ? undefined : i)
        if (gpuProvider == null || (assigned && index === undefined)) return undefined
        return await gpuProvider.attest(sessionGpuNonce(ownKey, hello.nonce, hello.agreementHash, i), { signal, index }).catch((err: unknown): undefined => {
          log?.error('session from %p: evidence of GPU %d unavailable: %s', remotePeer, i, (err as Error)?.message)
          return undefined
        })
      }
      const gpuPromise = Promise.all(Array.from({ length: gpuCount }, async (_, i) => await attestGpu(i)))
      let ev
      try {
        ev = await init.provider.attest(reportData, { signal })
      } catch (err) {
        throw new SessionError(SessionErrorCode.PROVIDER_FAILED, 'attestation provider failed', { cause: err })
      }
      const gpus = await gpuPromise
      const gpu: GpuEvidence | undefined = gpus[0]
      // GPUs 1.. travel only beside GPU 0; their RIMs are left out where they are GPU 0's
      const moreGpus = gpu == null
        ? []
        : gpus.flatMap((g, i) => i === 0 || g == null
          ? []
          : [{ index: i, kind: g.kind, report: new Uint8Array(g.report), certs: g.certs.map((c) => new Uint8Array(c)), rims: sameRims(g.rims, gpu.rims) ? [] : g.rims.map((r) => new Uint8Array(r)), ocsp: notIn(g.ocsp ?? [], gpu.ocsp ?? []) }])
      await wire.write(SessionEvidence.encode({
        version: SESSION_VERSION, kind: ev.kind, evidence: new Uint8Array(ev.evidence), certs: ev.certs.map((c) => new Uint8Array(c)),
        enclaveKey: new Uint8Array(ownKey), nonce: hello.nonce, agreementHash: hello.agreementHash, error: '',
        gpuKind: gpu?.kind ?? '',
        gpuReport: new Uint8Array(gpu?.report ?? new Uint8Array(0)),
        gpuCerts: (gpu?.certs ?? []).map((c) => new Uint8Array(c)),
        gpuRims: (gpu?.rims ?? []).map((c) => new Uint8Array(c)),
        moreGpus,
        gpuOcsp: (gpu?.ocsp ?? []).map((c) => new Uint8Array(c))
      }), deadline())
      answered = true
      const verdict = validateVerdict(await wire.expect(MAX_VERDICT_SIZE, deadline(), 'verdict'))
      if (!verdict.ok) {
        const code = verdict.code.slice(0, 64)
        throw new SessionError(SessionErrorCode.REFUSED_BY_RENTER, `renter refused the evidence: ${code}`, { remoteCode: isFailureCode(code) ? code : undefined })
      }
      log?.('session from %p attested (%s)', remotePeer, ev.kind)
      channel = new StreamChannel(wire, maxFrame)
    } catch (err) {
      const e = toSessionError(err)
      log?.error('session from %p ended: %s %s', remotePeer, e.code, e.message)
      init.onRefused?.(e, remotePeer)
      // before our evidence went out, the renter waits for an answer: tell it why (once answered, it has its own verdict)
      if (!answered && e.code !== SessionErrorCode.STREAM_CLOSED && e.code !== SessionErrorCode.TIMEOUT) {
        try { send(stream, SessionEvidence.encode({ version: SESSION_VERSION, error: e.code })) } catch {}
      }
      // wall time: a bound on closing the stream, not protocol time
      await stream.close({ signal: AbortSignal.timeout(1000) }).catch(() => { stream.abort(e) })
      return
    }
    // the job layer owns the channel now; a failure there ends the channel, not the handshake
    try {
      await init.onSession(channel, { remotePeer, agreementHash: hello.agreementHash, nonce: hello.nonce })
    } catch (err) {
      log?.error('session from %p: job layer failed: %s', remotePeer, (err as Error)?.message)
      channel.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }

  await node.handle(SESSION_PROTOCOL, (stream, connection) => { void handler(stream, connection) }, {
    maxInboundStreams: init.maxInboundStreams ?? DEFAULT_MAX_INBOUND_STREAMS
  })
  return {
    get seenNonces () { return nonces.size },
    async unregister () {
      controller.abort()
      await node.unhandle(SESSION_PROTOCOL)
    }
  }
}
