import { describe, expect, it } from 'vitest'
import { decodeJobFrame, encodeJobFrame, JobLink } from '../../../src/protocols/job/index.js'
import { memoryChannelPair } from '../../../src/protocols/framed.js'
import { JobFrame } from '../../../src/wire/job.js'
import { ManualClock } from '../../../src/util/clock.js'

/** lets every queued promise callback run (the memory channel moves frames on promises alone) */
const settle = async (): Promise<void> => { await new Promise((resolve) => setImmediate(resolve)) }

const spec = { command: 'true', args: [], env: [], inputs: [], outputs: [], gpuCount: 0, maxDurationMs: 1000n, maxBudget: 0n, image: '' }

describe('job frames', () => {
  it('round-trips each kind', () => {
    const frames = [
      { start: { version: 1, jobId: 'j', spec } },
      { input: { file: 0, offset: 0n, data: new Uint8Array([1, 2]) } },
      { cancel: { reason: 'x' } },
      { stdout: new Uint8Array([104, 105]) },
      { stdout: new Uint8Array(0) },
      { tick: { elapsedMs: 2n ** 31n + 5n, stdoutBytes: 3_000_000_000n, stderrBytes: 0n, gpuCount: 1, paused: true } },
      { exit: { exitCode: -1, signal: 'SIGKILL', reason: 'timeout', durationMs: 5n, detail: '' } },
      { output: { file: 0, name: 'a', size: 3n, sha256: new Uint8Array(32), missing: false } },
      { done: { outputs: 1 } },
      { metering: new Uint8Array([9]) }
    ]
    for (const f of frames) {
      const d = decodeJobFrame(encodeJobFrame(f))
      expect(d.kind).toBe(Object.keys(f)[0])
      expect(d.value).toEqual(Object.values(f)[0])
    }
  })

  it.each<[string, () => Uint8Array, string]>([
    ['a frame over 512 KiB', () => new Uint8Array(512 * 1024 + 1), 'FRAME_TOO_LARGE'],
    ['bytes that are not protobuf', () => new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]), 'FRAME_MALFORMED'],
    ['a truncated frame', () => JobFrame.encode({ stdout: new Uint8Array(100) }).subarray(0, 50), 'FRAME_MALFORMED'],
    ['an empty frame', () => new Uint8Array(0), 'FRAME_INVALID'],
    ['two fields', () => JobFrame.encode({ stdout: new Uint8Array(1), stderr: new Uint8Array(1) }), 'FRAME_INVALID'],
    ['a chunk over 256 KiB', () => JobFrame.encode({ outputChunk: { file: 0, offset: 0n, data: new Uint8Array(256 * 1024 + 1) } }), 'FRAME_MALFORMED'],
    ['a stdout chunk over 256 KiB', () => JobFrame.encode({ stdout: new Uint8Array(256 * 1024 + 1) }), 'FRAME_MALFORMED'],
    ['a negative offset (fixed64 above 2^63)', () => JobFrame.encode({ input: { file: 0, offset: -1n, data: new Uint8Array(1) } }), 'FRAME_MALFORMED'],
    ['a negative output size', () => JobFrame.encode({ output: { file: 0, name: 'a', size: -5n, sha256: new Uint8Array(32), missing: false } }), 'FRAME_MALFORMED'],
    ['a negative duration', () => JobFrame.encode({ start: { version: 1, jobId: 'j', spec: { ...spec, maxDurationMs: -1n } } }), 'FRAME_MALFORMED'],
    ['an output hash of 31 bytes', () => JobFrame.encode({ output: { file: 0, name: 'a', size: 1n, sha256: new Uint8Array(31), missing: false } }), 'FRAME_MALFORMED'],
    ['2000 arguments (decode limit)', () => JobFrame.encode({ start: { version: 1, jobId: 'j', spec: { ...spec, args: Array.from({ length: 2000 }, () => 'a') } } }), 'FRAME_MALFORMED'],
    ['a long error code', () => JobFrame.encode({ error: { code: 'X'.repeat(65), message: '' } }), 'FRAME_MALFORMED']
  ])('rejects %s with %s', (_what, bytes, code) => {
    expect(() => decodeJobFrame(bytes())).toThrow(expect.objectContaining({ code }))
  })

  it('refuses to encode a frame over the limit', () => {
    expect(() => encodeJobFrame({ metering: new Uint8Array(600 * 1024) })).toThrow(expect.objectContaining({ code: 'FRAME_TOO_LARGE' }))
  })
})

describe('JobLink flow control', () => {
  const stdout = (n: number): Uint8Array => JobFrame.encode({ stdout: new Uint8Array(n) })

  it('moves many windows of frames both ways when each side consumes', async () => {
    const [a, b] = memoryChannelPair()
    const la = new JobLink(a, { window: 4096 })
    const lb = new JobLink(b, { window: 4096 })
    const N = 500
    const send = async (l: JobLink): Promise<void> => { for (let i = 0; i < N; i++) await l.send({ stdout: new Uint8Array(1000) }) }
    const recv = async (l: JobLink): Promise<number> => { let n = 0; while (n < N) { if ((await l.next())?.kind === 'stdout') n++ } return n }
    const [, , na, nb] = await Promise.all([send(la), send(lb), recv(la), recv(lb)])
    expect([na, nb]).toEqual([N, N])
  })

  it('holds a sender at the window until the receiver consumes', async () => {
    const [a, b] = memoryChannelPair()
    const la = new JobLink(a, { window: 4096 })
    const lb = new JobLink(b, { window: 4096 })
    let sent = 0
    const sending = (async () => { for (let i = 0; i < 10; i++) { await la.send({ stdout: new Uint8Array(1000) }); sent++ } })()
    await settle()
    expect(sent).toBe(4) // 4 frames of ~1003 bytes fit a 4096-byte window
    for (let i = 0; i < 10; i++) expect((await lb.next())?.kind).toBe('stdout')
    await sending
    expect(sent).toBe(10)
  })

  it('refuses a peer that sends past the window (FLOW_VIOLATION)', async () => {
    const [a, b] = memoryChannelPair()
    const lb = new JobLink(b, { window: 4096 })
    // a raw peer: five frames of ~1003 bytes without waiting for credit, none consumed yet
    for (let i = 0; i < 5; i++) await a.send(stdout(1000))
    await settle()
    const err = await (async () => { while (true) await lb.next() })().catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'FLOW_VIOLATION' })
  })

  it('refuses credit for bytes never sent (FLOW_VIOLATION)', async () => {
    const [a, b] = memoryChannelPair()
    const lb = new JobLink(b)
    await a.send(JobFrame.encode({ credit: 10 }))
    await expect(lb.next()).rejects.toMatchObject({ code: 'FLOW_VIOLATION' })
  })

  it('gives up on a peer that stops reading (FLOW_STALLED) once the stall timeout passes on its clock', async () => {
    const [a, b] = memoryChannelPair()
    const clock = new ManualClock(0)
    const la = new JobLink(a, { window: 4096, stallTimeoutMs: 60_000, clock })
    let sent = 0
    let failure: unknown
    const sending = (async () => { for (let i = 0; i < 10; i++) { await la.send({ stdout: new Uint8Array(1000) }); sent++ } })().catch((err: unknown) => { failure = err })
    await settle()
    // the fifth frame waits for credit: still waiting a moment before the timeout
    await clock.advanceAsync(59_999)
    expect(sent).toBe(4)
    expect(failure).toBeUndefined()
    await clock.advanceAsync(1)
    await sending
    expect(failure).toMatchObject({ code: 'FLOW_STALLED' })
    // the link aborted the channel: the peer sees it end with the error
    await expect((async () => { for await (const _ of b.frames()) {} })()).rejects.toMatchObject({ code: 'FLOW_STALLED' })
  })
})
