import { describe, expect, it } from 'vitest'
import { decodeJobFrame, encodeJobFrame } from '../../../src/protocols/job/index.js'
import { JobFrame } from '../../../src/protocols/schema/job.js'

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
