import { describe, expect, it } from 'vitest'
import { isImageReference, JobSpecError, isSafeRelativePath, validateJobId, validateJobSpec } from '../../../src/jobs/index.js'
import type { JobSpec } from '../../../src/jobs/index.js'

const base: JobSpec = {
  command: 'python3',
  args: ['train.py', '--epochs', '3'],
  env: { SEED: '1', _UNDER: 'x' },
  inputs: [{ name: 'train.py', data: new Uint8Array(10) }, { name: 'data/a.bin', data: new Uint8Array(3) }],
  outputs: ['model.bin', 'logs/metrics.json'],
  gpuCount: 2,
  limits: { maxDurationMs: 3_600_000, maxBudget: 10n ** 12n },
  image: 'ghcr.io/acme/train:1.2@sha256:' + 'ab'.repeat(32)
}

const with_ = (patch: Partial<JobSpec>): JobSpec => ({ ...base, ...patch })
const big = (n: number): Uint8Array => new Uint8Array(n)

describe('validateJobSpec', () => {
  it.each([
    'alpine', 'alpine:3', 'library/alpine:3.20', 'docker.io/pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime', 'ghcr.io/acme/train@sha256:' + 'ab'.repeat(32),
    'localhost/bazaar-test-busybox:1', 'localhost:5000/a/b', 'registry:5000/team/model:v1', 'nvcr.io/nvidia/pytorch:24.05-py3', 'a__b/c-d.e_f:1'
  ])('accepts the image reference %s', (image) => {
    expect(isImageReference(image)).toBe(true)
    expect(() => validateJobSpec(with_({ image }))).not.toThrow()
  })

  it('accepts a complete spec and a minimal one', () => {
    expect(() => { validateJobSpec(base) }).not.toThrow()
    expect(() => { validateJobSpec({ command: 'true', gpuCount: 0, limits: { maxDurationMs: 1 } }) }).not.toThrow()
  })

  // specs are built lazily: vitest keeps each row's values, and some rows hold hundreds of MiB
  it.each<[string, () => JobSpec, string]>([
    ['an empty command', () => with_({ command: '' }), 'COMMAND_INVALID'],
    ['a NUL in the command', () => with_({ command: 'a\0b' }), 'COMMAND_INVALID'],
    ['a command over 4 KiB', () => with_({ command: 'x'.repeat(4097) }), 'COMMAND_INVALID'],
    ['1025 arguments', () => with_({ args: Array.from({ length: 1025 }, () => 'a') }), 'TOO_MANY_ARGS'],
    ['a NUL in an argument', () => with_({ args: ['a\0'] }), 'ARG_INVALID'],
    ['an argument over 64 KiB', () => with_({ args: ['x'.repeat(65 * 1024)] }), 'ARG_INVALID'],
    ['arguments over 128 KiB in all', () => with_({ args: Array.from({ length: 3 }, () => 'x'.repeat(60 * 1024)) }), 'ARGS_TOO_LARGE'],
    ['an env name with a dash', () => with_({ env: { 'A-B': '1' } }), 'ENV_NAME_INVALID'],
    ['an env name with a leading digit', () => with_({ env: { '1A': '1' } }), 'ENV_NAME_INVALID'],
    ['an env name with "="', () => with_({ env: { 'A=B': '1' } }), 'ENV_NAME_INVALID'],
    ['an empty env name', () => with_({ env: { '': '1' } }), 'ENV_NAME_INVALID'],
    ['CUDA_VISIBLE_DEVICES', () => with_({ env: { CUDA_VISIBLE_DEVICES: '0,1,2,3' } }), 'ENV_RESERVED'],
    ['HOME', () => with_({ env: { HOME: '/' } }), 'ENV_RESERVED'],
    ['a NUL in an env value', () => with_({ env: { A: 'x\0' } }), 'ENV_VALUE_INVALID'],
    ['257 env variables', () => with_({ env: Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`V${i}`, '1'])) }), 'TOO_MANY_ENV'],
    ['an env over 64 KiB', () => with_({ env: { A: 'x'.repeat(65 * 1024) } }), 'ENV_TOO_LARGE'],
    ['an absolute input path', () => with_({ inputs: [{ name: '/etc/passwd', data: big(1) }] }), 'INPUT_PATH_INVALID'],
    ['an input path with ..', () => with_({ inputs: [{ name: 'a/../../b', data: big(1) }] }), 'INPUT_PATH_INVALID'],
    ['an input path that is ..', () => with_({ inputs: [{ name: '..', data: big(1) }] }), 'INPUT_PATH_INVALID'],
    ['an input path with .', () => with_({ inputs: [{ name: './a', data: big(1) }] }), 'INPUT_PATH_INVALID'],
    ['an input path with //', () => with_({ inputs: [{ name: 'a//b', data: big(1) }] }), 'INPUT_PATH_INVALID'],
    ['an input path ending in /', () => with_({ inputs: [{ name: 'a/', data: big(1) }] }), 'INPUT_PATH_INVALID'],
    ['an input path with a backslash', () => with_({ inputs: [{ name: '..\\a', data: big(1) }] }), 'INPUT_PATH_INVALID'],
    ['an input path with a newline', () => with_({ inputs: [{ name: 'a\nb', data: big(1) }] }), 'INPUT_PATH_INVALID'],
    ['an empty input path', () => with_({ inputs: [{ name: '', data: big(1) }] }), 'INPUT_PATH_INVALID'],
    ['an input that is the parent of another', () => with_({ inputs: [{ name: 'a', data: big(1) }, { name: 'a/b', data: big(1) }] }), 'INPUT_PATH_INVALID'],
    ['an input without bytes', () => with_({ inputs: [{ name: 'a' } as never] }), 'INPUT_PATH_INVALID'],
    ['a duplicate input', () => with_({ inputs: [{ name: 'a', data: big(1) }, { name: 'a', data: big(1) }] }), 'INPUT_DUPLICATE'],
    ['257 inputs', () => with_({ inputs: Array.from({ length: 257 }, (_, i) => ({ name: `f${i}`, data: big(0) })) }), 'TOO_MANY_INPUTS'],
    ['inputs over 256 MiB', () => with_({ inputs: [{ name: 'a', data: big(200 * 1024 * 1024) }, { name: 'b', data: big(60 * 1024 * 1024) }] }), 'INPUTS_TOO_LARGE'],
    ['an absolute output path', () => with_({ outputs: ['/root/.ssh/id_ed25519'] }), 'OUTPUT_PATH_INVALID'],
    ['an output path with ..', () => with_({ outputs: ['../x'] }), 'OUTPUT_PATH_INVALID'],
    ['a duplicate output', () => with_({ outputs: ['a', 'a'] }), 'OUTPUT_DUPLICATE'],
    ['257 outputs', () => with_({ outputs: Array.from({ length: 257 }, (_, i) => `o${i}`) }), 'TOO_MANY_OUTPUTS'],
    ['a negative gpu count', () => with_({ gpuCount: -1 }), 'GPU_COUNT_INVALID'],
    ['a fractional gpu count', () => with_({ gpuCount: 1.5 }), 'GPU_COUNT_INVALID'],
    ['65 GPUs', () => with_({ gpuCount: 65 }), 'GPU_COUNT_INVALID'],
    ['a zero duration', () => with_({ limits: { maxDurationMs: 0 } }), 'DURATION_INVALID'],
    ['a duration over 30 days', () => with_({ limits: { maxDurationMs: 31 * 86_400_000 } }), 'DURATION_INVALID'],
    ['a NaN duration', () => with_({ limits: { maxDurationMs: Number.NaN } }), 'DURATION_INVALID'],
    ['a negative budget', () => with_({ limits: { maxDurationMs: 1, maxBudget: -1n } }), 'BUDGET_INVALID'],
    ['a budget over u64', () => with_({ limits: { maxDurationMs: 1, maxBudget: 1n << 64n } }), 'BUDGET_INVALID'],
    ['an image that reads as a flag', () => with_({ image: '--privileged' }), 'IMAGE_INVALID'],
    ['an image with a space', () => with_({ image: 'ubuntu latest' }), 'IMAGE_INVALID'],
    // podman's transports load an image from the supplier's own disk, whatever its pull policy
    ['an image from a docker archive on the host', () => with_({ image: 'docker-archive:/var/lib/bazaar/jobs/j1/img.tar' }), 'IMAGE_INVALID'],
    ['an image from an OCI layout on the host', () => with_({ image: 'oci:img' }), 'IMAGE_INVALID'],
    ['an image from a folder on the host', () => with_({ image: 'dir:img' }), 'IMAGE_INVALID'],
    ['an image from the engine\'s own storage by transport', () => with_({ image: 'containers-storage:alpine' }), 'IMAGE_INVALID'],
    ['an image as a URL', () => with_({ image: 'docker://ghcr.io/acme/train:1' }), 'IMAGE_INVALID'],
    ['an image with an uppercase repository', () => with_({ image: 'ghcr.io/Acme/train' }), 'IMAGE_INVALID'],
    ['an image with a short digest', () => with_({ image: 'alpine@sha256:abc' }), 'IMAGE_INVALID'],
    ['an image with an empty tag', () => with_({ image: 'alpine:' }), 'IMAGE_INVALID'],
    ['an image with a port and no path', () => with_({ image: 'registry:5000/' }), 'IMAGE_INVALID']
  ])('rejects %s with %s', (_what, spec, code) => {
    let err: unknown
    try { validateJobSpec(spec()) } catch (e) { err = e }
    expect(err).toBeInstanceOf(JobSpecError)
    expect((err as JobSpecError).code).toBe(code)
  })
})

describe('isSafeRelativePath and validateJobId', () => {
  it.each(['a', 'a/b/c.txt', '.hidden', 'a..b', '...', 'ünïcode/ok'])('%s is safe', (p) => {
    expect(isSafeRelativePath(p)).toBe(true)
  })

  it.each(['job-1', 'A.b_c', '0'])('job id %s is valid', (id) => {
    expect(() => { validateJobId(id) }).not.toThrow()
  })

  it.each(['', '.', '..', '.a', 'a/b', 'x'.repeat(65), 'a b', '-a'])('job id %j is refused', (id) => {
    expect(() => { validateJobId(id) }).toThrow(expect.objectContaining({ code: 'JOB_ID_INVALID' }))
  })
})
