import { createHash } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { JobLink, runJobServer } from '../../../../src/protocols/job/index.js'
import { memoryChannelPair } from '../../../../src/protocols/framed.js'
import { processRuntime } from '../../../../src/jobs/index.js'
import { MemoryVoucherStore } from '../../../../src/escrow/store/memory.js'
import { rentJob, runRentJob, type RentContext } from '../../../../src/node/roles/renter/saga.js'
import type { RentEvent, RentRequest } from '../../../../src/node/roles/renter/types.js'
import { roleMetrics } from '../../../../src/node/roles/metrics.js'
import { Registry } from '../../../../src/node/metrics.js'
import { silentLogger } from '../../../../src/node/logger.js'
import { ManualClock } from '../../../../src/util/clock.js'
import { outputLines, rentEventLine } from '../../../../src/cli/rent-story.js'
import type { FramedChannel } from '../../../../src/protocols/framed.js'
import { parties, signer, T0, terms as mkTerms } from '../../escrow/fixtures.js'

const t = mkTerms(await parties())
const sha = (s: string): Uint8Array<ArrayBuffer> => new Uint8Array(createHash('sha256').update(s).digest())
const bytes = (s: string): Uint8Array<ArrayBuffer> => new Uint8Array(new TextEncoder().encode(s))

const dirs: string[] = []
afterEach(async () => { for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true }) })

/**
 * The job step of a rental (`runRentJob`) over an in-memory channel whose other end is the test's:
 * the events it emits, and its outcome. A session that breaks is not taken up again (reattachMs 0).
 */
async function rentalJob (outputs: string[], command: Pick<RentRequest['spec'], 'command' | 'args'> = { command: 'true' }): Promise<{ supplier: FramedChannel, events: RentEvent[], out: string, job: ReturnType<typeof runRentJob> }> {
  const root = await mkdtemp(path.join(tmpdir(), 'bazaar-renter-job-'))
  dirs.push(root)
  const out = path.join(root, 'out')
  const clock = new ManualClock(T0)
  const [renterSide, supplierSide] = memoryChannelPair()
  const events: RentEvent[] = []
  const ctx = {
    init: { node: { clock }, escrowDb: { vouchers: new MemoryVoucherStore() }, reattachMs: 0 },
    metrics: roleMetrics(new Registry()),
    logger: silentLogger,
    emit: (e: RentEvent) => { events.push(e) },
    signal: new AbortController().signal
  } as unknown as RentContext
  const req: RentRequest = { gpu: '', count: 1, maxPricePerGpuHour: 1n, durationS: 60, teeKinds: [], regions: [], spec: { ...command, outputs, limits: { maxDurationMs: 60_000 } }, outputDir: out }
  const agreed = { id: 'ab'.repeat(32), terms: { pricePerGpuHour: 3_600_000_000n, gpuCount: 1 } }
  const opened = { session: { channel: renterSide, remotePeer: { toString: () => 'enclave' } }, measurement: '', addrs: [] }
  const job = runRentJob(ctx, req, agreed as never, { terms: t, voucherSigner: signer() } as never, opened as never)
  return { supplier: supplierSide, events, out, job }
}

/** the supplier's side of a job: the start is read, then `frames` are sent as they are */
async function supply (channel: FramedChannel, frames: Array<Parameters<JobLink['send']>[0]>): Promise<void> {
  const link = new JobLink(channel)
  expect((await link.next())?.kind).toBe('start')
  for (const f of frames) await link.send(f)
}

const started = { started: { gpuIndices: [], startedAt: 0n } }
const exited = (exitCode: number, signal = '', reason = 'exited'): Parameters<JobLink['send']>[0] => ({ exit: { exitCode, signal, reason, durationMs: 5n, detail: '' } })
const jobEvent = (events: RentEvent[]): Extract<RentEvent, { type: 'job' }> | undefined => events.find((e): e is Extract<RentEvent, { type: 'job' }> => e.type === 'job')

describe('what the renter reports of how its job ended', () => {
  it('a process a signal ended: the signal is in the job event and the summary, and the story says it was killed', async () => {
    const r = await rentalJob([])
    await supply(r.supplier, [started, exited(-1, 'SIGKILL'), { done: { outputs: 0 } }])
    const { result } = await r.job
    const event = jobEvent(r.events)
    expect(event).toMatchObject({ exitCode: -1, signal: 'SIGKILL', reason: 'exited' })
    expect(rentJob(result, [])).toMatchObject({ exitCode: -1, signal: 'SIGKILL', reason: 'exited' })
    expect(rentEventLine(event!)).toEqual(['job ended: killed by SIGKILL'])
  })

  it('a job that a signal ended at the supplier (the process runtime): the rental reports the signal', async () => {
    const r = await rentalJob([], { command: process.execPath, args: ['-e', "process.kill(process.pid, 'SIGKILL')"] })
    const root = await mkdtemp(path.join(tmpdir(), 'bazaar-renter-job-srv-'))
    dirs.push(root)
    const server = runJobServer(r.supplier, { runtime: processRuntime(), workRoot: root, gpuIndices: [0] })
    const { result } = await r.job
    await server
    expect(result).toMatchObject({ exitCode: -1, signal: 'SIGKILL', reason: 'exited' })
    expect(rentEventLine(jobEvent(r.events)!)[0]).toBe('job ended: killed by SIGKILL')
  })

  it('a delivery that fails part way: the exit received and the outputs verified stand, the rest is undelivered with the failure\'s code', async () => {
    const r = await rentalJob(['a.txt', 'gone.txt', 'b.txt'])
    await supply(r.supplier, [
      started,
      exited(0),
      { output: { file: 0, name: 'a.txt', size: 1n, sha256: sha('x'), missing: false } },
      { outputChunk: { file: 0, offset: 0n, data: bytes('x') } },
      { output: { file: 1, name: 'gone.txt', size: 0n, sha256: new Uint8Array(32), missing: true } },
      // the bytes of b.txt are not those declared
      { output: { file: 2, name: 'b.txt', size: 1n, sha256: sha('y'), missing: false } },
      { outputChunk: { file: 2, offset: 0n, data: bytes('z') } },
      { done: { outputs: 3 } }
    ]).catch(() => {})
    const { result } = await r.job
    expect(result).toMatchObject({ exitCode: 0, reason: 'failed', detail: 'OUTPUT_HASH_MISMATCH', missingOutputs: ['gone.txt'] })
    expect(result.outputs.map((o) => o.name)).toEqual(['a.txt'])
    // a.txt was verified and renamed into place: it stays, and nothing half-written is left
    expect(await readFile(path.join(r.out, 'a.txt'), 'utf8')).toBe('x')
    expect(await readdir(r.out)).toEqual(['a.txt'])
    const summary = rentJob(result, ['a.txt', 'gone.txt', 'b.txt'])
    expect(summary).toMatchObject({ exitCode: 0, reason: 'failed', detail: 'OUTPUT_HASH_MISMATCH', missingOutputs: ['gone.txt'], undelivered: ['b.txt'] })
    const event = jobEvent(r.events)!
    expect(event).toMatchObject({ exitCode: 0, reason: 'failed', detail: 'OUTPUT_HASH_MISMATCH', undelivered: ['b.txt'] })
    expect(event.outputs.map((o) => o.name)).toEqual(['a.txt'])
    expect(rentEventLine(event)).toEqual([
      'job ended: failed, exit code 0 (OUTPUT_HASH_MISMATCH)',
      `  output a.txt (1 bytes) sha256 ${createHash('sha256').update('x').digest('hex')}`,
      '  output b.txt not delivered (OUTPUT_HASH_MISMATCH)'
    ])
    // what `bazaar rent` prints at the end: only the supplier's word makes an output "not written"
    expect(outputLines(summary, ['a.txt', 'gone.txt', 'b.txt'])).toEqual([
      `output a.txt → ${path.join(r.out, 'a.txt')}`,
      'output gone.txt: not written by the job',
      'output b.txt: not delivered (OUTPUT_HASH_MISMATCH)'
    ])
  })

  it('a session that breaks after the exit (not taken up again): the exit and its signal stand, nothing is said unwritten', async () => {
    const r = await rentalJob(['a.txt', 'b.txt'])
    await supply(r.supplier, [
      started,
      exited(-1, 'SIGTERM', 'timeout'),
      { output: { file: 0, name: 'a.txt', size: 1n, sha256: sha('x'), missing: false } },
      { outputChunk: { file: 0, offset: 0n, data: bytes('x') } },
      { output: { file: 1, name: 'b.txt', size: 2n, sha256: sha('yy'), missing: false } },
      { outputChunk: { file: 1, offset: 0n, data: bytes('y') } }
    ])
    await r.supplier.close()
    const { result } = await r.job
    expect(result).toMatchObject({ exitCode: -1, signal: 'SIGTERM', reason: 'failed', detail: 'CHANNEL_CLOSED', missingOutputs: [] })
    expect(result.outputs.map((o) => o.name)).toEqual(['a.txt'])
    expect(await readdir(r.out)).toEqual(['a.txt'])
    expect(rentEventLine(jobEvent(r.events)!)[0]).toBe('job ended: failed, killed by SIGTERM (CHANNEL_CLOSED)')
    expect(outputLines(rentJob(result, ['a.txt', 'b.txt']), ['a.txt', 'b.txt'])).toEqual([
      `output a.txt → ${path.join(r.out, 'a.txt')}`,
      'output b.txt: not delivered (CHANNEL_CLOSED)'
    ])
  })
})

describe('the live output of a rental\'s job', () => {
  const text = (events: RentEvent[], type: 'stdout' | 'stderr'): string => events.flatMap((e) => e.type === type ? [e.text] : []).join('')

  it('a character split between chunks comes out whole, on each stream apart, and one cut off at the end as U+FFFD', async () => {
    const r = await rentalJob([])
    const euro = [0xe2, 0x82, 0xac]
    const chunk = (...b: number[]): Uint8Array<ArrayBuffer> => Uint8Array.from(b)
    await supply(r.supplier, [
      started,
      { stdout: chunk(0x61, euro[0], euro[1]) },
      // the other stream, between the two halves of stdout's character, with a split one of its own
      { stderr: chunk(euro[0]) },
      { stdout: chunk(euro[2], euro[0]) },
      { stderr: chunk(euro[1], euro[2], 0x21) },
      { stdout: chunk(euro[1], euro[2], 0x62, euro[0], euro[1]) },
      exited(0),
      { done: { outputs: 0 } }
    ])
    await r.job
    expect(text(r.events, 'stdout')).toBe('a€€b\ufffd')
    expect(text(r.events, 'stderr')).toBe('€!')
    // nothing is emitted for a chunk that holds only the start of a character
    expect(r.events.filter((e) => (e.type === 'stdout' || e.type === 'stderr') && e.text === '')).toEqual([])
  })

  it('200,000 euro signs from a real process arrive as written (the pipe cuts them anywhere)', async () => {
    const r = await rentalJob([], { command: process.execPath, args: ['-e', "process.stdout.write('\\u20ac'.repeat(200000))"] })
    const root = await mkdtemp(path.join(tmpdir(), 'bazaar-renter-job-srv-'))
    dirs.push(root)
    const server = runJobServer(r.supplier, { runtime: processRuntime(), workRoot: root, gpuIndices: [0] })
    const { result } = await r.job
    await server
    expect(result.reason).toBe('exited')
    const out = text(r.events, 'stdout')
    expect([...out].filter((c) => c === '\ufffd')).toHaveLength(0)
    expect(out).toBe('€'.repeat(200_000))
  })
})
