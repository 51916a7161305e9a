import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Libp2p } from 'libp2p'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CapacityLedger, processRuntime } from '../../src/jobs/index.js'
import { runJobClient, runJobServer } from '../../src/protocols/job/index.js'
import { openAttestedSession, registerSessionHandler, type SessionHandler } from '../../src/protocols/session/index.js'
import { simulatedProvider } from '../../src/tee/providers/simulated.js'
import type { AttestationPolicy } from '../../src/tee/policy.js'
import type { JobServerResult } from '../../src/protocols/job/index.js'
import { sessionNode } from '../helpers/session-nodes.js'

// The job protocol over the real transport: an attested session (simulated TEE) between two libp2p
// nodes on 127.0.0.1 (tcp, noise, yamux), the job channel being the session's StreamChannel.
const MEASUREMENT = new Uint8Array(48).fill(0x42)
const DEVNET: AttestationPolicy = { kinds: ['simulated'], allowSimulated: true, measurements: { simulated: [Buffer.from(MEASUREMENT).toString('hex')] }, maxEvidenceAgeMs: 30_000 }
const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex')

describe('jobs over an attested session on 127.0.0.1', () => {
  let renter: Libp2p
  let enclave: Libp2p
  let handler: SessionHandler
  let root: string
  let ledger: CapacityLedger
  let served: Array<Promise<JobServerResult>>

  beforeEach(async () => {
    [renter, enclave] = await Promise.all([sessionNode(), sessionNode()])
    root = await mkdtemp(path.join(tmpdir(), 'bazaar-job-session-'))
    ledger = new CapacityLedger([{ index: 0, model: 'h100-80gb' }])
    served = []
    handler = await registerSessionHandler(enclave, {
      provider: simulatedProvider({ measurement: MEASUREMENT }),
      onSession: async (channel) => {
        ledger.hold('agr', 'h100-80gb', 1, 60_000)
        const p = runJobServer(channel, { runtime: processRuntime(), workRoot: path.join(root, 'work'), lease: { ledger, agreementId: 'agr' }, tickIntervalMs: 100, killGraceMs: 300 })
        served.push(p)
        await p
      },
      messageTimeoutMs: 5_000
    })
  })

  afterEach(async () => {
    await handler.unregister()
    await Promise.all([renter.stop(), enclave.stop()])
    await rm(root, { recursive: true, force: true })
    expect(ledger.active()).toEqual([])
  })

  it('runs a job with a multi-chunk input and output and checks the output hash', async () => {
    const s = await openAttestedSession(renter, enclave.getMultiaddrs()[0], { agreementHash: new Uint8Array(randomBytes(32)), policy: DEVNET })
    const input = new Uint8Array(randomBytes(600 * 1024))
    let stdout = ''
    const result = await runJobClient(s.channel, {
      command: 'sh',
      args: ['-c', 'echo gpus=$CUDA_VISIBLE_DEVICES; cat in.bin in.bin > out.bin'],
      inputs: [{ name: 'in.bin', data: input }],
      outputs: ['out.bin'],
      gpuCount: 1,
      limits: { maxDurationMs: 20_000 }
    }, { outputDir: path.join(root, 'out'), onStdout: (c) => { stdout += Buffer.from(c).toString() } })
    const expected = Buffer.concat([input, input])
    expect(result).toMatchObject({ reason: 'exited', exitCode: 0, outputs: [{ name: 'out.bin', sha256: sha256(expected), bytes: expected.byteLength }] })
    expect(stdout).toBe('gpus=0\n')
    expect(sha256(await readFile(path.join(root, 'out', 'out.bin')))).toBe(sha256(expected))
    expect(await served[0]).toMatchObject({ reason: 'exited' })
  })

  it('cancels a job over the session', async () => {
    const s = await openAttestedSession(renter, enclave.getMultiaddrs()[0], { agreementHash: new Uint8Array(randomBytes(32)), policy: DEVNET })
    const ac = new AbortController()
    const result = await runJobClient(s.channel, { command: 'sh', args: ['-c', 'echo up; sleep 30'], gpuCount: 1, limits: { maxDurationMs: 20_000 } }, {
      outputDir: path.join(root, 'out'),
      signal: ac.signal,
      onStdout: () => { ac.abort() }
    })
    expect(result.reason).toBe('cancelled')
    expect(await served[0]).toMatchObject({ reason: 'cancelled' })
  })
})
