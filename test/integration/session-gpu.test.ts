import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Libp2p } from 'libp2p'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { openAttestedSession, registerSessionHandler, SessionError, type SessionHandler } from '../../src/protocols/session/index.js'
import { AttestationErrorCode } from '../../src/tee/errors.js'
import { sessionGpuNonce } from '../../src/tee/binding.js'
import { gpuEvidenceVerifier } from '../../src/tee/gpu-verify.js'
import { simulatedProvider } from '../../src/tee/providers/simulated.js'
import { simulatedGpuProvider } from '../../src/tee/providers/simulated-gpu.js'
import type { AttestationPolicy } from '../../src/tee/policy.js'
import type { GpuAttestationProvider, GpuEvidence } from '../../src/tee/types.js'
import type { FramedChannel } from '../../src/protocols/framed.js'
import { ManualClock } from '../../src/util/clock.js'
import { sessionNode } from '../helpers/session-nodes.js'
import { fixture, haveTeeFixtures } from '../helpers/tee-fixtures.js'
import { buildSpdmReport, makeGpuPki, type TestGpuPki } from '../helpers/spdm-gpu.js'
import { withCrlFiles } from '../../src/node/crl-files.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
/** a devnet policy (simulation allowed) that requires GPU evidence */
const REQUIRE_GPU: AttestationPolicy = { kinds: ['simulated'], allowSimulated: true, maxEvidenceAgeMs: 30_000, gpu: { mode: 'required' } }

async function codeOf (p: Promise<unknown>): Promise<string | undefined> {
  try { await p } catch (err) { expect(err).toBeInstanceOf(SessionError); return (err as SessionError).code }
  return undefined
}

/** A GPU provider that answers the first request honestly and replays that evidence afterwards. */
function replayingGpu (inner: GpuAttestationProvider): GpuAttestationProvider & { calls: number } {
  let first: GpuEvidence | undefined
  const p = {
    kind: inner.kind,
    calls: 0,
    async attest (nonce: Uint8Array): Promise<GpuEvidence> {
      p.calls++
      first ??= await inner.attest(nonce)
      return first
    }
  }
  return p
}

describe('attested session with GPU evidence over 127.0.0.1', () => {
  let renter: Libp2p
  let enclave: Libp2p
  let handler: SessionHandler | undefined
  const agreementHash = new Uint8Array(randomBytes(32))
  const cpu = simulatedProvider()
  const refused: string[] = []

  beforeEach(async () => {
    [renter, enclave] = await Promise.all([sessionNode(), sessionNode()])
    refused.length = 0
  })
  afterEach(async () => {
    await handler?.unregister()
    handler = undefined
    await Promise.all([renter.stop(), enclave.stop()])
  })

  const close = async (ch: FramedChannel): Promise<void> => { await ch.close() }
  async function serve (gpuProvider?: GpuAttestationProvider): Promise<void> {
    handler = await registerSessionHandler(enclave, {
      provider: cpu,
      gpuProvider,
      onSession: close,
      onRefused: (e) => { refused.push(e.remoteCode ?? e.code) },
      messageTimeoutMs: 5_000
    })
  }
  const open = async (policy: AttestationPolicy, extra: Parameters<typeof openAttestedSession>[2] extends infer O ? Partial<O> : never = {}) =>
    await openAttestedSession(renter, enclave.getMultiaddrs()[0], { agreementHash, policy, ...extra })

  it('passes with valid simulated GPU evidence bound to the session, when the policy allows simulation', async () => {
    const gpu = simulatedGpuProvider({ driverVersion: '570.86.15' })
    await serve(gpu)
    const s = await open({ ...REQUIRE_GPU, gpu: { mode: 'required', minDriverVersion: '550.54.15' } })
    expect(s.gpu?.kind).toBe('simulated-gpu')
    expect(s.gpu?.driverVersion).toBe('570.86.15')
    expect(s.gpu?.deviceId).toBe(hex(gpu.deviceId))
    expect(hex(s.gpu!.nonce)).toBe(hex(sessionGpuNonce(enclave.peerId.publicKey!.raw, s.nonce, agreementHash)))
    await s.channel.close()
  })

  it('is refused without GPU evidence, with a code both sides see; optional accepts the absence', async () => {
    await serve()
    expect(await codeOf(open(REQUIRE_GPU))).toBe(AttestationErrorCode.GPU_EVIDENCE_MISSING)
    await expect.poll(() => refused).toEqual([AttestationErrorCode.GPU_EVIDENCE_MISSING])
    const s = await open({ ...REQUIRE_GPU, gpu: { mode: 'optional' } })
    expect(s.gpu).toBeUndefined()
    await s.channel.close()
  })

  it('is refused with stale GPU evidence', async () => {
    await serve(simulatedGpuProvider({ clock: new ManualClock(Date.now() - 120_000) }))
    expect(await codeOf(open(REQUIRE_GPU))).toBe(AttestationErrorCode.STALE)
    await expect.poll(() => refused).toEqual([AttestationErrorCode.STALE])
  })

  it('is refused with GPU evidence from another session', async () => {
    const replay = replayingGpu(simulatedGpuProvider())
    await serve(replay)
    const first = await open(REQUIRE_GPU)
    await first.channel.close()
    expect(await codeOf(open(REQUIRE_GPU))).toBe(AttestationErrorCode.REPORT_DATA_MISMATCH)
    expect(replay.calls).toBe(2)
    await expect.poll(() => refused).toEqual([AttestationErrorCode.REPORT_DATA_MISMATCH])
  })

  it('is refused with evidence from another GPU than the one the renter trusts', async () => {
    const trusted = simulatedGpuProvider()
    await serve(simulatedGpuProvider())
    expect(await codeOf(open(REQUIRE_GPU, { gpuVerifier: gpuEvidenceVerifier({ simulatedKeys: [trusted.publicKey] }) }))).toBe(AttestationErrorCode.CHAIN_INVALID)
  })

  it('simulated GPU evidence claiming CC off is refused', async () => {
    await serve(simulatedGpuProvider({ ccMode: false }))
    expect(await codeOf(open(REQUIRE_GPU))).toBe(AttestationErrorCode.GPU_CC_OFF)
  })

  it('a GPU version outside the policy is refused', async () => {
    await serve(simulatedGpuProvider({ vbiosVersion: '96.00.5E.00.01' }))
    expect(await codeOf(open({ ...REQUIRE_GPU, gpu: { mode: 'required', minVbiosVersion: '96.00.9F.00.00' } }))).toBe(AttestationErrorCode.GPU_VERSION_REFUSED)
  })

  it.skipIf(!haveTeeFixtures)('a real H100 report relayed into a session answers another nonce and is refused', async () => {
    const report = new Uint8Array(Buffer.from(Buffer.from(fixture('nvtrust/hopperAttestationReport.txt')).toString('latin1').trim(), 'hex'))
    await serve({ kind: 'nvidia-gpu', attest: async () => ({ kind: 'nvidia-gpu', report, certs: [fixture('nvtrust/hopperCertChain.txt')], rims: [] }) })
    expect(await codeOf(open({ ...REQUIRE_GPU, gpu: { mode: 'required', requireRimMatch: false } }))).toBe(AttestationErrorCode.REPORT_DATA_MISMATCH)
  })

  describe('NVIDIA SPDM 1.2 evidence under a self-made device chain, and tee.gpuCrlFiles', () => {
    let pki: TestGpuPki
    let dir: string
    beforeAll(async () => {
      pki = await makeGpuPki()
      dir = await mkdtemp(path.join(tmpdir(), 'bazaar-gpu-crl-'))
    })
    afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

    /** a GPU whose SPDM 1.2 report answers the session's nonce, signed by the test chain's leaf */
    const spdmGpu = (): GpuAttestationProvider => ({
      kind: 'nvidia-gpu',
      attest: async (nonce) => ({ kind: 'nvidia-gpu', report: buildSpdmReport({ version: 0x12, nonce, key: pki.leafKey }), certs: [pki.chainPem], rims: [] })
    })
    // the measurements of a self-made report match no NVIDIA RIM: this policy accepts signed, unmatched reports
    const NO_RIMS: AttestationPolicy = { ...REQUIRE_GPU, gpu: { mode: 'required', requireRimMatch: false } }
    const rentalPolicy = async (crls: Uint8Array[]): Promise<AttestationPolicy> => {
      const files = await Promise.all(crls.map(async (c, i) => { const f = path.join(dir, `nvidia-${i}-${randomBytes(4).toString('hex')}.crl`); await writeFile(f, c); return f }))
      return await withCrlFiles(NO_RIMS, { crlFiles: [], gpuCrlFiles: files })
    }
    const gpuVerifier = () => gpuEvidenceVerifier({ deviceRoots: [pki.root] })

    it('passes, checked by SPDM 1.2 rules and with current CRLs that list nothing on its chain', async () => {
      await serve(spdmGpu())
      const policy = await rentalPolicy([await pki.crl(['77'], { at: new Date() }), await pki.crl([], { by: 'root', at: new Date() })])
      const s = await open(policy, { gpuVerifier: gpuVerifier() })
      expect(s.gpu?.kind).toBe('nvidia-gpu')
      expect(s.gpu?.fields.spdmVersion).toBe('1.2')
      expect(s.gpu?.fields.revocationChecked).toBe(true)
      expect(s.gpu?.model).toBe('GB100')
      await s.channel.close()
    })

    it('a revoked device certificate is refused, with the code both sides see', async () => {
      await serve(spdmGpu())
      const policy = await rentalPolicy([await pki.crl([pki.leaf.serialNumber], { at: new Date() }), await pki.crl([], { by: 'root', at: new Date() })])
      expect(await codeOf(open(policy, { gpuVerifier: gpuVerifier() }))).toBe(AttestationErrorCode.CERT_REVOKED)
      await expect.poll(() => refused).toEqual([AttestationErrorCode.CERT_REVOKED])
    })
  })

  describe('NVIDIA OCSP answers stapled to the GPU evidence (OpenSSL-made chain and answers)', () => {
    const DIR = path.resolve(__dirname, '../fixtures/ocsp')
    const file = (f: string): Uint8Array => new Uint8Array(readFileSync(path.join(DIR, f)))
    // the answers are valid for the week after test/fixtures/ocsp/make.sh ran: both sides live then
    const clock = new ManualClock(new Date(readFileSync(path.join(DIR, 'made-at.txt'), 'utf8').trim()).getTime() + 24 * 3600_000)
    const root = new X509Certificate(readFileSync(path.join(DIR, 'root.pem')))
    const leafKey = createPrivateKey(readFileSync(path.join(DIR, 'leaf.key')))
    const stapling = (answers: string[]): GpuAttestationProvider => ({
      kind: 'nvidia-gpu',
      attest: async (nonce) => ({ kind: 'nvidia-gpu', report: buildSpdmReport({ version: 0x12, nonce, key: leafKey }), certs: [file('chain.pem')], rims: [], ocsp: answers.map((a) => file(`${a}.der`)) })
    })
    const REVOCATION: AttestationPolicy = { ...REQUIRE_GPU, gpu: { mode: 'required', requireRimMatch: false, requireRevocation: true } }
    const serveAt = async (gpuProvider: GpuAttestationProvider): Promise<void> => {
      handler = await registerSessionHandler(enclave, { provider: simulatedProvider({ clock }), gpuProvider, onSession: close, onRefused: (e) => { refused.push(e.remoteCode ?? e.code) }, messageTimeoutMs: 5_000 })
    }
    const verifier = () => gpuEvidenceVerifier({ deviceRoots: [root] })

    it('a renter requiring revocation takes the answers the enclave stapled', async () => {
      await serveAt(stapling(['brom-good', 'prov-good', 'ica-good']))
      const s = await open(REVOCATION, { gpuVerifier: verifier(), clock })
      expect(s.gpu?.fields.revocationChecked).toBe(true)
      expect(s.gpu?.chain).toHaveLength(5)
      await s.channel.close()
    })

    it('a revoked BROM, or a link without an answer, is refused with the code both sides see', async () => {
      await serveAt(stapling(['brom-revoked', 'prov-good', 'ica-good']))
      expect(await codeOf(open(REVOCATION, { gpuVerifier: verifier(), clock }))).toBe(AttestationErrorCode.CERT_REVOKED)
      await expect.poll(() => refused).toEqual([AttestationErrorCode.CERT_REVOKED])
      await handler?.unregister()
      refused.length = 0
      await serveAt(stapling(['brom-good', 'prov-good']))
      expect(await codeOf(open(REVOCATION, { gpuVerifier: verifier(), clock }))).toBe(AttestationErrorCode.CERT_MISSING)
      await expect.poll(() => refused).toEqual([AttestationErrorCode.CERT_MISSING])
    })
  })

  describe('a multi-GPU agreement: every GPU attests on its own indexed nonce', () => {
    const hexNonce = (s: { nonce: Uint8Array }, i: number): string => hex(sessionGpuNonce(enclave.peerId.publicKey!.raw, s.nonce, agreementHash, i))

    it('2 GPUs: both pass, each bound to its index, as distinct devices', async () => {
      const gpu = simulatedGpuProvider()
      await serve(gpu)
      const s = await open(REQUIRE_GPU, { gpuCount: 2 })
      expect(s.gpus).toHaveLength(2)
      expect(s.gpu).toBe(s.gpus[0])
      expect(s.gpus.map((g) => g.deviceId)).toEqual([hex(gpu.deviceIdOf(0)), hex(gpu.deviceIdOf(1))])
      expect(s.gpus.map((g) => hex(g.nonce))).toEqual([hexNonce(s, 0), hexNonce(s, 1)])
      expect(hexNonce(s, 0)).not.toBe(hexNonce(s, 1))
      await s.channel.close()
    })

    it('the GPUs attest at the node indices the agreement holds', async () => {
      const gpu = simulatedGpuProvider()
      handler = await registerSessionHandler(enclave, { provider: cpu, gpuProvider: gpu, gpuIndices: () => [3, 5], onSession: close, messageTimeoutMs: 5_000 })
      const s = await open(REQUIRE_GPU, { gpuCount: 2 })
      expect(s.gpus.map((g) => g.deviceId)).toEqual([hex(gpu.deviceIdOf(3)), hex(gpu.deviceIdOf(5))])
      await s.channel.close()
      // a renter asking for more GPUs than the agreement holds gets fewer, and refuses
      expect(await codeOf(open(REQUIRE_GPU, { gpuCount: 3 }))).toBe(AttestationErrorCode.GPU_COUNT_SHORT)
    })

    it('an agreement the supplier names no GPUs for gets no GPU evidence, not GPUs 0, 1, … of other jobs', async () => {
      const gpu = simulatedGpuProvider()
      const asked: Array<number | undefined> = []
      handler = await registerSessionHandler(enclave, { provider: cpu, gpuProvider: { kind: gpu.kind, attest: async (n, o) => { asked.push(o?.index); return await gpu.attest(n, o) } }, gpuIndices: () => undefined, onSession: close, messageTimeoutMs: 5_000 })
      expect(await codeOf(open(REQUIRE_GPU, { gpuCount: 4 }))).toBeDefined()
      expect(asked).toEqual([])
    })

    it('one GPU missing is refused with GPU_COUNT_SHORT, which both sides see', async () => {
      const inner = simulatedGpuProvider()
      await serve({ kind: inner.kind, attest: async (nonce, o) => { if ((o?.index ?? 0) === 1) throw new Error('GPU 1 fell off the bus'); return await inner.attest(nonce, o) } })
      expect(await codeOf(open(REQUIRE_GPU, { gpuCount: 2 }))).toBe(AttestationErrorCode.GPU_COUNT_SHORT)
      await expect.poll(() => refused).toEqual([AttestationErrorCode.GPU_COUNT_SHORT])
    })

    it('one GPU\'s evidence from another session is refused', async () => {
      const inner = simulatedGpuProvider()
      let kept: GpuEvidence | undefined
      // GPU 1 answers its first request honestly and replays that evidence afterwards
      await serve({ kind: inner.kind, attest: async (nonce, o) => (o?.index ?? 0) === 1 ? (kept ??= await inner.attest(nonce, o)) : await inner.attest(nonce, o) })
      const first = await open(REQUIRE_GPU, { gpuCount: 2 })
      await first.channel.close()
      expect(await codeOf(open(REQUIRE_GPU, { gpuCount: 2 }))).toBe(AttestationErrorCode.REPORT_DATA_MISMATCH)
      await expect.poll(() => refused).toEqual([AttestationErrorCode.REPORT_DATA_MISMATCH])
    })

    it('one GPU answering for two positions is refused (fewer distinct devices than the agreement)', async () => {
      const inner = simulatedGpuProvider()
      await serve({ kind: inner.kind, attest: async (nonce, o) => await inner.attest(nonce, { ...o, index: 0 }) })
      expect(await codeOf(open(REQUIRE_GPU, { gpuCount: 2 }))).toBe(AttestationErrorCode.GPU_COUNT_SHORT)
    })

    it('GPU 0\'s evidence in GPU 1\'s place answers another nonce and is refused', async () => {
      const inner = simulatedGpuProvider()
      // the supplier signs GPU 1's report over GPU 0's nonce (GPU 0 is asked first): position binding, not only session binding
      let nonce0: Uint8Array = new Uint8Array(32)
      await serve({ kind: inner.kind, attest: async (nonce, o) => await inner.attest((o?.index ?? 0) === 1 ? nonce0 : (nonce0 = nonce), o) })
      expect(await codeOf(open(REQUIRE_GPU, { gpuCount: 2 }))).toBe(AttestationErrorCode.REPORT_DATA_MISMATCH)
    })
  })
})
