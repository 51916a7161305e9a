#!/usr/bin/env node
// Prints job-layer figures over an in-memory framed channel (no network): round-trip of an empty job,
// input upload, stdout streaming and output fetch throughput (sha256 checked on both sides), and
// the time a cancel takes to end a job; then transfer rates over an attested session between two
// libp2p nodes on 127.0.0.1 (simulated TEE). Run after a build: npx tsc -p . && node scripts/bench-jobs.mjs
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const jobs = await import(path.join(repo, 'dist/jobs/index.js'))
const { memoryChannelPair } = await import(path.join(repo, 'dist/protocols/framed.js'))

const root = await mkdtemp(path.join(tmpdir(), 'bazaar-bench-jobs-'))
const MiB = 1024 * 1024
let n = 0

async function job (spec, clientOpts = {}, serverOpts = {}) {
  const [renter, supplier] = memoryChannelPair()
  const jobId = `b${n++}`
  const server = jobs.runJobServer(supplier, { runtime: jobs.processRuntime(), workRoot: path.join(root, 'work'), gpuIndices: [], ...serverOpts })
  const t0 = process.hrtime.bigint()
  const result = await jobs.runJobClient(renter, spec, { outputDir: path.join(root, 'out', jobId), jobId, ...clientOpts })
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  await server
  return { result, ms }
}

const limits = { maxDurationMs: 600_000 }
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]

const rts = []
for (let i = 0; i < 50; i++) rts.push((await job({ command: 'true', gpuCount: 0, limits })).ms)
console.log(`empty job round trip (spawn + exit + done): p50 ${pct(rts, 0.5).toFixed(1)} ms, p90 ${pct(rts, 0.9).toFixed(1)} ms (n=50)`)

const input = new Uint8Array(64 * MiB).map((_, i) => i & 0xff)
const up = await job({ command: 'true', gpuCount: 0, limits, inputs: [{ name: 'in.bin', data: input }] })
console.log(`input upload 64 MiB (256 KiB chunks, sha256 both sides, written to disk): ${(64 / (up.ms / 1000)).toFixed(0)} MiB/s (${up.ms.toFixed(0)} ms)`)

let streamed = 0
const st = await job({ command: 'head', args: ['-c', String(256 * MiB), '/dev/zero'], gpuCount: 0, limits }, { onStdout: (c) => { streamed += c.byteLength } }, { maxStreamBytes: 512 * MiB })
console.log(`stdout streaming: ${(streamed / MiB / (st.ms / 1000)).toFixed(0)} MiB/s (${streamed / MiB} MiB in ${st.ms.toFixed(0)} ms)`)

const script = `require('node:fs').writeFileSync('out.bin', Buffer.alloc(${256 * MiB}, 7))`
const gen = await job({ command: process.execPath, args: ['-e', script], gpuCount: 0, limits })
const out = await job({ command: process.execPath, args: ['-e', script], gpuCount: 0, limits, outputs: ['out.bin'] })
const fetchMs = out.ms - gen.ms
console.log(`output fetch 256 MiB (hash, 256 KiB chunks, verify, write): ${(256 / (fetchMs / 1000)).toFixed(0)} MiB/s (${out.ms.toFixed(0)} ms with the job, ${gen.ms.toFixed(0)} ms without fetching)`)

const cancels = []
for (let i = 0; i < 10; i++) {
  const ac = new AbortController()
  let t0 = 0n
  const r = await job({ command: 'sleep', args: ['30'], gpuCount: 0, limits }, { signal: ac.signal }, { onStarted: () => { setTimeout(() => { t0 = process.hrtime.bigint(); ac.abort() }, 50) } })
  if (r.result.reason !== 'cancelled') throw new Error(`expected cancelled, got ${r.result.reason}`)
  cancels.push(Number(process.hrtime.bigint() - t0) / 1e6)
}
console.log(`cancel → result (SIGTERM to the group, group gone): p50 ${pct(cancels, 0.5).toFixed(1)} ms, max ${Math.max(...cancels).toFixed(1)} ms (n=10)`)

// the same job protocol over an attested session between two libp2p nodes on 127.0.0.1 (tcp, noise, yamux)
const { createLibp2p } = await import('libp2p')
const { tcp } = await import('@libp2p/tcp')
const { noise } = await import('@chainsafe/libp2p-noise')
const { yamux } = await import('@chainsafe/libp2p-yamux')
const session = await import(path.join(repo, 'dist/protocols/session/index.js'))
const { simulatedProvider } = await import(path.join(repo, 'dist/tee/providers/simulated.js'))
const node = () => createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
const [renterNode, enclaveNode] = await Promise.all([node(), node()])
const measurement = new Uint8Array(48).fill(0x42)
const policy = { kinds: ['simulated'], allowSimulated: true, measurements: { simulated: [Buffer.from(measurement).toString('hex')] }, maxEvidenceAgeMs: 30_000 }
const handler = await session.registerSessionHandler(enclaveNode, {
  provider: simulatedProvider({ measurement }),
  onSession: async (channel) => { await jobs.runJobServer(channel, { runtime: jobs.processRuntime(), workRoot: path.join(root, 'work'), gpuIndices: [], maxStreamBytes: 512 * MiB }) }
})
async function sessionJob (spec, clientOpts = {}) {
  const s = await session.openAttestedSession(renterNode, enclaveNode.getMultiaddrs()[0], { agreementHash: new Uint8Array(32), policy })
  const jobId = `s${n++}`
  const t0 = process.hrtime.bigint()
  const result = await jobs.runJobClient(s.channel, spec, { outputDir: path.join(root, 'out', jobId), jobId, ...clientOpts })
  return { result, ms: Number(process.hrtime.bigint() - t0) / 1e6 }
}
const small = `require('node:fs').writeFileSync('out.bin', Buffer.alloc(${64 * MiB}, 7))`
const sGen = await sessionJob({ command: process.execPath, args: ['-e', small], gpuCount: 0, limits })
const sOut = await sessionJob({ command: process.execPath, args: ['-e', small], gpuCount: 0, limits, outputs: ['out.bin'] })
console.log(`attested session (tcp+noise+yamux, 127.0.0.1): output fetch 64 MiB at ${(64 / ((sOut.ms - sGen.ms) / 1000)).toFixed(0)} MiB/s`)
let sStreamed = 0
const sSt = await sessionJob({ command: 'head', args: ['-c', String(64 * MiB), '/dev/zero'], gpuCount: 0, limits }, { onStdout: (c) => { sStreamed += c.byteLength } })
console.log(`attested session: stdout streaming ${(sStreamed / MiB / (sSt.ms / 1000)).toFixed(0)} MiB/s (${sStreamed / MiB} MiB)`)
const sUp = await sessionJob({ command: 'true', gpuCount: 0, limits, inputs: [{ name: 'in.bin', data: input }] })
console.log(`attested session: input upload 64 MiB at ${(64 / (sUp.ms / 1000)).toFixed(0)} MiB/s`)
await handler.unregister()
await Promise.all([renterNode.stop(), enclaveNode.stop()])

await rm(root, { recursive: true, force: true })
