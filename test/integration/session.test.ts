import { randomBytes } from 'node:crypto'
import type { Libp2p } from 'libp2p'
import type { Connection, Stream } from '@libp2p/interface'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SessionEvidence, SessionHello } from '../../src/wire/session.js'
import { SESSION_PROTOCOL, SESSION_VERSION, MAX_EVIDENCE_MESSAGE_SIZE, MAX_HELLO_SIZE } from '../../src/protocols/session/constants.js'
import { openAttestedSession, registerSessionHandler, SessionError, SessionErrorCode, type SessionHandler, type SessionHandlerInit } from '../../src/protocols/session/index.js'
import { validateEvidence, validateHello } from '../../src/protocols/session/validate.js'
import { Wire } from '../../src/protocols/session/wire.js'
import { AttestationError, AttestationErrorCode } from '../../src/tee/errors.js'
import { sessionReportData } from '../../src/tee/binding.js'
import { simulatedProvider } from '../../src/tee/providers/simulated.js'
import type { AttestationPolicy } from '../../src/tee/policy.js'
import type { AttestationProvider, Evidence } from '../../src/tee/types.js'
import type { FramedChannel } from '../../src/protocols/framed.js'
import { ManualClock } from '../../src/util/clock.js'
import { sessionNode } from '../helpers/session-nodes.js'
import { fixture, haveTeeFixtures, manifest } from '../helpers/tee-fixtures.js'

const MEASUREMENT = new Uint8Array(48).fill(0x42)
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const DEVNET: AttestationPolicy = { kinds: ['simulated'], allowSimulated: true, measurements: { simulated: [hex(MEASUREMENT)] }, maxEvidenceAgeMs: 30_000 }

async function codeOf (p: Promise<unknown>): Promise<string | undefined> {
  try { await p } catch (err) { expect(err).toBeInstanceOf(SessionError); return (err as SessionError).code }
  return undefined
}

/** A raw protocol peer for attacks: reads the hello and answers with whatever `answer` builds. */
async function rogueEnclave (node: Libp2p, answer: (hello: SessionHello, connection: Connection) => Promise<Uint8Array>): Promise<void> {
  await node.handle(SESSION_PROTOCOL, async (stream: Stream, connection: Connection) => {
    const wire = new Wire(stream, MAX_EVIDENCE_MESSAGE_SIZE)
    const hello = validateHello((await wire.read(MAX_HELLO_SIZE))!)
    await wire.write(await answer(hello, connection))
    await wire.read(256).catch(() => null)
    await stream.close().catch(() => {})
  })
}

/** Evidence message as an honest enclave with `key` would build it, with fields overridable. */
async function evidenceMessage (provider: AttestationProvider, key: Uint8Array, nonce: Uint8Array, agreementHash: Uint8Array, over: Partial<SessionEvidence> = {}, bindAgreement = agreementHash): Promise<Uint8Array> {
  const ev = await provider.attest(sessionReportData(key, nonce, bindAgreement))
  return SessionEvidence.encode({ version: SESSION_VERSION, kind: ev.kind, evidence: new Uint8Array(ev.evidence), certs: [], enclaveKey: new Uint8Array(key), nonce: new Uint8Array(nonce), agreementHash: new Uint8Array(agreementHash), error: '', ...over })
}

describe('attested session over 127.0.0.1 (simulated provider)', () => {
  let renter: Libp2p
  let enclave: Libp2p
  let relay: Libp2p
  let handler: SessionHandler | undefined
  const agreementHash = new Uint8Array(randomBytes(32))
  const provider = simulatedProvider({ measurement: MEASUREMENT })
  const refused: string[] = []

  beforeEach(async () => {
    [renter, enclave, relay] = await Promise.all([sessionNode(), sessionNode(), sessionNode()])
    refused.length = 0
  })
  afterEach(async () => {
    await handler?.unregister()
    handler = undefined
    await Promise.all([renter.stop(), enclave.stop(), relay.stop()])
  })

  const echo = async (ch: FramedChannel): Promise<void> => {
    for await (const f of ch.frames()) await ch.send(Uint8Array.from([...f].reverse()))
    await ch.close()
  }

  async function serve (onSession: SessionHandlerInit['onSession'] = echo, p: AttestationProvider = provider): Promise<void> {
    handler = await registerSessionHandler(enclave, {
      provider: p,
      onSession,
      onRefused: (e) => { refused.push(e.remoteCode ?? e.code) },
      messageTimeoutMs: 5_000
    })
  }

  it('good case: evidence verified and bound, then job frames flow both ways', async () => {
    let info: { agreementHash: Uint8Array } | undefined
    await serve(async (ch: FramedChannel, i: { agreementHash: Uint8Array }) => {
      info = i
      for await (const f of ch.frames()) await ch.send(Uint8Array.from([...f].reverse()))
      await ch.close()
    })
    const s = await openAttestedSession(renter, enclave.getMultiaddrs()[0], { agreementHash, policy: DEVNET })
    expect(s.kind).toBe('simulated')
    expect(s.remotePeer.equals(enclave.peerId)).toBe(true)
    expect(hex(s.evidence.measurement)).toBe(hex(MEASUREMENT))
    expect(hex(s.evidence.reportData)).toBe(hex(sessionReportData(enclave.peerId.publicKey!.raw, s.nonce, agreementHash)))
    const frames = s.channel.frames()[Symbol.asyncIterator]()
    await s.channel.send(Uint8Array.of(1, 2, 3))
    expect([...(await frames.next()).value as Uint8Array]).toEqual([3, 2, 1])
    await s.channel.send(new Uint8Array(100_000).fill(7))
    expect(((await frames.next()).value as Uint8Array).byteLength).toBe(100_000)
    await s.channel.close()
    expect((await frames.next()).done).toBe(true)
    expect(hex(info!.agreementHash)).toBe(hex(agreementHash))
  })

  it('a channel aborted with a typed error ends on both sides with that code; oversized frames are refused', async () => {
    const seen: unknown[] = []
    await serve(async (ch) => {
      try { for await (const f of ch.frames()) seen.push(f) } catch (err) { seen.push(err) }
    })
    const s = await openAttestedSession(renter, enclave.getMultiaddrs()[0], { agreementHash, policy: DEVNET, maxFrame: 1024 })
    await expect(s.channel.send(new Uint8Array(1025))).rejects.toMatchObject({ code: SessionErrorCode.MESSAGE_TOO_LARGE })
    await s.channel.send(Uint8Array.of(9))
    s.channel.abort(new SessionError(SessionErrorCode.TIMEOUT, 'vouchers lag'))
    await expect.poll(() => seen.length).toBe(2)
    expect(seen[0]).toEqual(Uint8Array.of(9))
    expect(seen[1]).toMatchObject({ code: SessionErrorCode.CHANNEL_ABORTED, remoteCode: SessionErrorCode.TIMEOUT })
  })

  it('a job layer that throws ends the channel for the renter', async () => {
    await serve(async () => { throw new SessionError(SessionErrorCode.PROVIDER_FAILED, 'no GPU') })
    const s = await openAttestedSession(renter, enclave.getMultiaddrs()[0], { agreementHash, policy: DEVNET })
    const it = s.channel.frames()[Symbol.asyncIterator]()
    await expect(it.next()).rejects.toMatchObject({ code: SessionErrorCode.CHANNEL_ABORTED, remoteCode: SessionErrorCode.PROVIDER_FAILED })
  })

  it('simulated evidence is refused by a policy that does not allow it; the enclave learns why', async () => {
    await serve()
    expect(await codeOf(openAttestedSession(renter, enclave.getMultiaddrs()[0], { agreementHash, policy: { kinds: ['sev-snp', 'tdx', 'simulated'] } }))).toBe(AttestationErrorCode.SIMULATED_REFUSED)
    await expect.poll(() => refused).toEqual([AttestationErrorCode.SIMULATED_REFUSED])
  })

  it('a measurement outside the policy is refused', async () => {
    await serve()
    const policy = { ...DEVNET, measurements: { simulated: [hex(new Uint8Array(48).fill(1))] } }
    expect(await codeOf(openAttestedSession(renter, enclave.getMultiaddrs()[0], { agreementHash, policy }))).toBe(AttestationErrorCode.MEASUREMENT_REFUSED)
    await expect.poll(() => refused).toEqual([AttestationErrorCode.MEASUREMENT_REFUSED])
  })

  it('the policy\'s CRLs reach the verifier with the evidence; a verifier refusal on them ends the session', async () => {
    await serve()
    const crl = { issuer: new Uint8Array([1]), thisUpdate: new Date(0), revoked: new Set<string>(), tbs: new Uint8Array(), signatureAlgorithm: '1.2.840.10045.4.3.2', signature: new Uint8Array() }
    const seen: unknown[] = []
    const refusing = {
      verify: (ev: Evidence, o?: { at?: Date, crls?: readonly unknown[] }) => {
        seen.push(o?.crls)
        throw new AttestationError(AttestationErrorCode.CERT_REVOKED, 'revoked (test verifier)')
      }
    }
    expect(await codeOf(openAttestedSession(renter, enclave.getMultiaddrs()[0], { agreementHash, policy: { ...DEVNET, crls: [crl] }, verifier: refusing as never }))).toBe(AttestationErrorCode.CERT_REVOKED)
    expect(seen).toEqual([[crl]])
    await expect.poll(() => refused).toEqual([AttestationErrorCode.CERT_REVOKED])
  })

  it('stale evidence is refused (clock injected)', async () => {
    const old = new ManualClock(Date.now() - 120_000)
    await serve(undefined, simulatedProvider({ measurement: MEASUREMENT, clock: old, privateKey: undefined }))
    expect(await codeOf(openAttestedSession(renter, enclave.getMultiaddrs()[0], { agreementHash, policy: DEVNET }))).toBe(AttestationErrorCode.STALE)
  })

  it('the enclave refuses a replayed nonce', async () => {
    await serve()
    const hello = SessionHello.encode({ version: SESSION_VERSION, nonce: new Uint8Array(randomBytes(32)), agreementHash })
    const ask = async (): Promise<SessionEvidence> => {
      const stream = await renter.dialProtocol(enclave.getMultiaddrs()[0], SESSION_PROTOCOL)
      const wire = new Wire(stream, MAX_EVIDENCE_MESSAGE_SIZE)
      await wire.write(hello)
      const m = validateEvidence((await wire.read(MAX_EVIDENCE_MESSAGE_SIZE))!)
      stream.abort(new Error('done'))
      return m
    }
    const first = await ask()
    expect(first.error).toBe('')
    expect(first.kind).toBe('simulated')
    const second = await ask()
    expect(second.error).toBe(SessionErrorCode.NONCE_REPLAYED)
    expect(second.evidence.byteLength).toBe(0)
    expect(handler?.seenNonces).toBe(1)
  })

  it('evidence replayed from an earlier session (other nonce) is refused', async () => {
    // capture genuine evidence for an earlier nonce, then answer every hello with it
    const earlierNonce = new Uint8Array(randomBytes(32))
    const captured = await evidenceMessage(provider, enclave.peerId.publicKey!.raw, earlierNonce, agreementHash)
    await rogueEnclave(enclave, async () => captured)
    expect(await codeOf(openAttestedSession(renter, enclave.getMultiaddrs()[0], { agreementHash, policy: DEVNET }))).toBe(SessionErrorCode.NONCE_MISMATCH)
    // a replay that also lies in its echo is caught by the signed report data
    const lying = async (h: SessionHello) => {
      const m = SessionEvidence.decode(captured)
      return SessionEvidence.encode({ ...m, nonce: h.nonce })
    }
    await enclave.unhandle(SESSION_PROTOCOL)
    await rogueEnclave(enclave, lying)
    expect(await codeOf(openAttestedSession(renter, enclave.getMultiaddrs()[0], { agreementHash, policy: DEVNET }))).toBe(AttestationErrorCode.REPORT_DATA_MISMATCH)
  })

  it('evidence for another agreement is refused', async () => {
    const other = new Uint8Array(randomBytes(32))
    await rogueEnclave(enclave, async (h) => await evidenceMessage(provider, enclave.peerId.publicKey!.raw, h.nonce, other))
    expect(await codeOf(openAttestedSession(renter, enclave.getMultiaddrs()[0], { agreementHash, policy: DEVNET }))).toBe(SessionErrorCode.AGREEMENT_MISMATCH)
    // echo says the right agreement, but the signed binding is for another one
    await enclave.unhandle(SESSION_PROTOCOL)
    await rogueEnclave(enclave, async (h) => await evidenceMessage(provider, enclave.peerId.publicKey!.raw, h.nonce, h.agreementHash, {}, other))
    expect(await codeOf(openAttestedSession(renter, enclave.getMultiaddrs()[0], { agreementHash, policy: DEVNET }))).toBe(AttestationErrorCode.REPORT_DATA_MISMATCH)
  })

  it('a relay in the middle forwarding the real enclave\'s evidence is refused', async () => {
    await serve()
    // the relay answers the renter's hello by asking the real enclave the same question
    const forward = async (helloBytes: Uint8Array): Promise<Uint8Array> => {
      const stream = await relay.dialProtocol(enclave.getMultiaddrs()[0], SESSION_PROTOCOL)
      const wire = new Wire(stream, MAX_EVIDENCE_MESSAGE_SIZE)
      await wire.write(helloBytes)
      const m = (await wire.read(MAX_EVIDENCE_MESSAGE_SIZE))!
      stream.abort(new Error('relayed'))
      return m
    }
    await rogueEnclave(relay, async (h) => await forward(SessionHello.encode(h)))
    expect(await codeOf(openAttestedSession(renter, relay.getMultiaddrs()[0], { agreementHash, policy: DEVNET }))).toBe(SessionErrorCode.PEER_MISMATCH)
    // the relay also rewrites the echoed key to its own: the signed report data still names the enclave
    await relay.unhandle(SESSION_PROTOCOL)
    await rogueEnclave(relay, async (h) => {
      const m = SessionEvidence.decode(await forward(SessionHello.encode(h)))
      return SessionEvidence.encode({ ...m, enclaveKey: new Uint8Array(relay.peerId.publicKey!.raw) })
    })
    expect(await codeOf(openAttestedSession(renter, relay.getMultiaddrs()[0], { agreementHash, policy: DEVNET }))).toBe(AttestationErrorCode.REPORT_DATA_MISMATCH)
  })

  it('a peer other than the one the agreement names is refused before any evidence is asked for', async () => {
    await serve()
    expect(await codeOf(openAttestedSession(renter, enclave.getMultiaddrs()[0], { agreementHash, policy: DEVNET, expectedPeer: relay.peerId }))).toBe(SessionErrorCode.PEER_MISMATCH)
    expect(handler?.seenNonces).toBe(0)
  })

  it('an enclave that never answers times out', async () => {
    await enclave.handle(SESSION_PROTOCOL, () => {})
    expect(await codeOf(openAttestedSession(renter, enclave.getMultiaddrs()[0], { agreementHash, policy: DEVNET, timeoutMs: 300 }))).toBe(SessionErrorCode.TIMEOUT)
  })

  it('malformed and oversized hellos are refused by the enclave without evidence', async () => {
    await serve()
    for (const [bytes, want] of [
      [SessionHello.encode({ version: SESSION_VERSION, nonce: new Uint8Array(16), agreementHash }), SessionErrorCode.MALFORMED_MESSAGE],
      [SessionHello.encode({ version: 2, nonce: new Uint8Array(32), agreementHash }), SessionErrorCode.MALFORMED_MESSAGE],
      [new Uint8Array(MAX_HELLO_SIZE + 1), SessionErrorCode.MESSAGE_TOO_LARGE]
    ] as const) {
      const stream = await renter.dialProtocol(enclave.getMultiaddrs()[0], SESSION_PROTOCOL)
      const wire = new Wire(stream, MAX_EVIDENCE_MESSAGE_SIZE)
      await wire.write(bytes)
      const m = validateEvidence((await wire.read(MAX_EVIDENCE_MESSAGE_SIZE))!)
      expect(m.error).toBe(want)
      stream.abort(new Error('done'))
    }
  })

  it.skipIf(!haveTeeFixtures)('real SNP evidence that does not carry the session binding is refused after it verifies', async () => {
    const e = manifest().snp.find((x) => x.fields.policy !== '0xb0000')!
    const real: AttestationProvider = {
      kind: 'sev-snp',
      attest: async () => ({ kind: 'sev-snp', evidence: fixture(e.file), certs: [fixture(e.vek)] })
    }
    await serve(undefined, real)
    const clock = new ManualClock(Date.parse(e.pinAt))
    const policy: AttestationPolicy = { kinds: ['sev-snp'], maxEvidenceAgeMs: 60_000 }
    expect(await codeOf(openAttestedSession(renter, enclave.getMultiaddrs()[0], { agreementHash, policy, clock }))).toBe(AttestationErrorCode.REPORT_DATA_MISMATCH)
    // and at a time outside its certificates' validity it is refused for that first
    expect(await codeOf(openAttestedSession(renter, enclave.getMultiaddrs()[0], { agreementHash, policy, clock: new ManualClock(Date.UTC(2045, 0, 1)) }))).toBe(AttestationErrorCode.CERT_EXPIRED)
  })
})
