#!/usr/bin/env node
// Prints attestation figures: verification rates of real SNP, TDX and NVIDIA GPU evidence from ../shared fixtures,
// and the attested-session handshake latency and channel throughput between two nodes on 127.0.0.1.
// Run after a build: npx tsc -p . && node scripts/bench-attest.mjs
import { generateKeyPairSync, sign } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const tee = await import(path.join(repo, 'dist/tee/index.js'))
const session = await import(path.join(repo, 'dist/protocols/session/index.js'))

function bench (name, fn, n) {
  for (let i = 0; i < 20; i++) fn()
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) fn()
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  console.log(`${name}: ${(n / ms * 1000).toFixed(0)}/s (${(ms / n).toFixed(3)} ms each, n=${n})`)
}

const F = path.resolve(repo, '../shared/fixtures/tee')
if (existsSync(path.join(F, 'manifest.json'))) {
  const m = JSON.parse(readFileSync(path.join(F, 'manifest.json'), 'utf8'))
  const read = (rel) => new Uint8Array(readFileSync(path.join(F, rel)))
  const snp = m.snp.find((e) => e.fields.signing_key === 1) ?? m.snp[0]
  const snpEv = { kind: 'sev-snp', evidence: read(snp.file), certs: [read(snp.vek)] }
  bench(`SNP verify (${snp.file}, chain to pinned ARK)`, () => tee.verifyEvidence(snpEv, { at: new Date(snp.pinAt) }), 500)
  const tdx = m.tdx.find((e) => e.role === 'DEV')
  const tdxEv = { kind: 'tdx', evidence: read(tdx.file), certs: [] }
  bench(`TDX verify (${tdx.file}, PCK chain to pinned root)`, () => tee.verifyEvidence(tdxEv, { at: new Date(tdx.pinAt) }), 500)
  bench('SNP parse only', () => tee.parseSnpReport(snpEv.evidence), 20000)
  bench('TDX parse only', () => tee.parseTdxQuote(tdxEv.evidence), 20000)
  // NVIDIA H100 report (nvtrust sample) with its driver and VBIOS RIMs, at a time inside the RIM signers' validity
  const hexFile = (rel) => new Uint8Array(Buffer.from(readFileSync(path.join(F, rel), 'latin1').trim(), 'hex'))
  const gpuEv = { kind: 'nvidia-gpu', report: hexFile('nvtrust/hopperAttestationReport.txt'), certs: [read('nvtrust/hopperCertChain.txt')], rims: [] }
  const rims = [read('nvtrust/NV_GPU_DRIVER_GH100_550.90.07.xml'), read('nvtrust/NV_GPU_VBIOS_1010_0200_882_96009F0001.xml')]
  const at = new Date('2024-07-01T00:00:00Z')
  bench('NVIDIA GPU report verify (H100, signature + chain to pinned root, no RIMs)', () => tee.verifyGpuEvidence(gpuEv, { at }), 300)
  bench('NVIDIA GPU report verify with driver + VBIOS RIMs (XML-DSig, RIM chains, 33 golden values)', () => tee.verifyGpuEvidence({ ...gpuEv, rims }, { at }), 100)
  const verifier = tee.gpuEvidenceVerifier()
  bench('NVIDIA GPU report verify with RIMs, verified RIMs cached (a renter\'s repeat sessions)', () => verifier.verify({ ...gpuEv, rims }, { at }), 300)
  bench('NVIDIA GPU report parse only', () => tee.parseGpuReport(gpuEv.report), 20000)
  // SPDM 1.1 against 1.2 signing, parse + ECDSA P-384 only: the H100 sample as it is, and the same
  // bytes relabelled SPDM 1.2 and signed here by 1.2 rules (prefix ‖ SHA-384 of the transcript)
  const leafKey = tee.loadCertificates(gpuEv.certs[0])[0].publicKey
  bench('NVIDIA GPU report signature, SPDM 1.1 (H100 sample: parse + ECDSA P-384)', () => tee.spdmMeasurementsSignatureValid(tee.parseGpuReport(gpuEv.report), leafKey), 300)
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' })
  const v12 = gpuEv.report.slice()
  v12[0] = 0x12
  v12[37] = 0x12
  const parsed12 = tee.parseGpuReport(v12)
  v12.set(sign('sha384', tee.spdmMeasurementsSignedMessage(parsed12), { key: privateKey, dsaEncoding: 'ieee-p1363' }), parsed12.signed.byteLength)
  if (!tee.spdmMeasurementsSignatureValid(tee.parseGpuReport(v12), publicKey)) throw new Error('SPDM 1.2 bench report does not verify')
  bench('NVIDIA GPU report signature, SPDM 1.2 (same bytes relabelled and re-signed: parse + prefix + SHA-384 + ECDSA P-384)', () => tee.spdmMeasurementsSignatureValid(tee.parseGpuReport(v12), publicKey), 300)
} else {
  console.log(`(no fixtures at ${F}: SNP/TDX/GPU figures skipped)`)
}
const simGpu = tee.simulatedGpuProvider()
const simGpuEv = await simGpu.attest(new Uint8Array(32))
bench('simulated GPU verify', () => tee.verifyGpuEvidence(simGpuEv), 2000)
const sim = tee.simulatedProvider()
const simEv = await sim.attest(new Uint8Array(64))
bench('simulated verify', () => tee.verifyEvidence(simEv), 2000)

const node = () => createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
const [renter, enclave, gpuEnclave] = await Promise.all([node(), node(), node()])
const handler = await session.registerSessionHandler(enclave, {
  provider: sim,
  maxInboundStreams: 64,
  onSession: async (ch) => { for await (const f of ch.frames()) await ch.send(f); await ch.close() }
})
const opts = { agreementHash: new Uint8Array(32).fill(1), policy: { kinds: ['simulated'], allowSimulated: true } }
const addr = enclave.getMultiaddrs()[0]
const times = []
for (let i = 0; i < 220; i++) {
  const t0 = performance.now()
  const s = await session.openAttestedSession(renter, addr, opts)
  times.push(performance.now() - t0)
  await s.channel.close()
}
const w = times.slice(20).sort((a, b) => a - b)
console.log(`session handshake (simulated, connection reused): p50 ${w[w.length >> 1].toFixed(2)} ms, p99 ${w[Math.floor(w.length * 0.99)].toFixed(2)} ms, n=${w.length}`)
// GPU evidence of 1 and of 2 simulated GPUs in the same handshake (a multi-GPU agreement attests each)
const gpuHandler = await session.registerSessionHandler(gpuEnclave, { provider: sim, gpuProvider: simGpu, maxInboundStreams: 64, onSession: async (ch) => { await ch.close() } })
for (const gpuCount of [1, 2]) {
  const gt = []
  const gopts = { ...opts, gpuCount, policy: { ...opts.policy, gpu: { mode: 'required' } } }
  for (let i = 0; i < 120; i++) {
    const t0 = performance.now()
    const g = await session.openAttestedSession(renter, gpuEnclave.getMultiaddrs()[0], gopts)
    gt.push(performance.now() - t0)
    if (g.gpus.length !== gpuCount) throw new Error(`${g.gpus.length} GPUs attested, ${gpuCount} asked for`)
    await g.channel.close()
  }
  const gw = gt.slice(20).sort((a, b) => a - b)
  console.log(`session handshake with ${gpuCount} simulated GPU${gpuCount > 1 ? 's' : ''} (connection reused): p50 ${gw[gw.length >> 1].toFixed(2)} ms, p99 ${gw[Math.floor(gw.length * 0.99)].toFixed(2)} ms, n=${gw.length}`)
}
await gpuHandler.unregister()
const s = await session.openAttestedSession(renter, addr, opts)
const frames = s.channel.frames()[Symbol.asyncIterator]()
const frame = new Uint8Array(64 * 1024)
const t0 = performance.now()
let n = 0
while (performance.now() - t0 < 2000) { await s.channel.send(frame); await frames.next(); n++ }
const sec = (performance.now() - t0) / 1000
console.log(`attested channel echo, 64 KiB frames: ${(n / sec).toFixed(0)} round trips/s, ${(n * frame.byteLength * 2 / sec / 1e6).toFixed(1)} MB/s both ways`)
await s.channel.close()
await handler.unregister()
await Promise.all([renter.stop(), enclave.stop(), gpuEnclave.stop()])
