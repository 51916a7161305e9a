import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { buildContainerArgv, containerRuntime, detectContainerEngine, engineEnv, gpuAccessMissing, imageAllowed, processRuntime, RuntimeError } from '../../../src/jobs/index.js'
import type { CommandProbe, RuntimeJob } from '../../../src/jobs/index.js'

const job: RuntimeJob = {
  jobId: 'j1',
  dir: '/var/lib/bazaar/jobs/j1',
  command: 'python3',
  args: ['train.py', '--lr', '3e-4'],
  env: { SEED: '1' },
  gpuIndices: [0, 2],
  image: 'pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime'
}

describe('buildContainerArgv', () => {
  it('builds the docker run argv with quoted GPU devices, the job dir mounted and the command after the image', () => {
    expect(buildContainerArgv('docker', job, { user: '1000:1000', pidsLimit: 512 })).toEqual([
      'run', '--rm', '--init', '--name', 'bazaar-job-j1', '--network', 'none', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--user', '1000:1000', '--pids-limit', '512',
      '--gpus', '"device=0,2"',
      '-v', '/var/lib/bazaar/jobs/j1:/job', '-w', '/job',
      '-e', 'SEED=1', '-e', 'HOME=/job', '-e', 'TMPDIR=/job', '-e', 'BAZAAR_JOB_ID=j1', '-e', 'BAZAAR_JOB_DIR=/job', '-e', 'NVIDIA_VISIBLE_DEVICES=0,2',
      'pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime', 'python3', 'train.py', '--lr', '3e-4'
    ])
  })

  it('uses CDI devices for podman and no GPU flag for a CPU job', () => {
    const podman = buildContainerArgv('podman', job, { user: '1:1', network: 'bridge' })
    expect(podman).toContain('bridge')
    expect(podman.filter((a) => a.startsWith('nvidia.com/gpu='))).toEqual(['nvidia.com/gpu=0', 'nvidia.com/gpu=2'])
    expect(podman).not.toContain('--gpus')
    const cpu = buildContainerArgv('docker', { ...job, gpuIndices: [] }, { user: '1:1' })
    expect(cpu).not.toContain('--gpus')
    // an image's own NVIDIA_VISIBLE_DEVICES=all is overridden: no GPU for a CPU job
    expect(cpu).toContain('NVIDIA_VISIBLE_DEVICES=void')
  })

  it('refuses a job without an image', () => {
    expect(() => buildContainerArgv('docker', { ...job, image: undefined })).toThrow(expect.objectContaining({ code: 'IMAGE_REQUIRED' }))
  })

  it('sets the limits as ulimits, soft and hard alike, memory without swap, and the pull policy', () => {
    const argv = buildContainerArgv('podman', { ...job, gpuIndices: [] }, { user: '1:1', memoryBytes: 1 << 30, pull: 'never', limits: { openFiles: 1024, processes: 512, fileSizeBytes: 4096 }, namePrefix: 'bazaar-abc-job-' })
    const pairs = (flag: string): string[] => argv.flatMap((a, i) => a === flag ? [argv[i + 1]] : [])
    expect(pairs('--ulimit')).toEqual(['core=0:0', 'nofile=1024:1024', 'nproc=512:512', 'fsize=4096:4096'])
    expect(pairs('--memory')).toEqual([String(1 << 30)])
    expect(pairs('--memory-swap')).toEqual([String(1 << 30)])
    expect(pairs('--name')).toEqual(['bazaar-abc-job-j1'])
    expect(argv).toContain('--pull=never')
    // every option comes before the image: nothing of the job's reads as an engine flag
    expect(argv.indexOf(job.image!)).toBe(argv.length - 1 - 1 - job.args.length)
  })
})

describe('what a container supplier runs', () => {
  it.each<[string, string[], boolean]>([
    ['any image where the list is empty', [], true],
    ['an exact reference', ['pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime'], true],
    ['a prefix ending in *', ['pytorch/pytorch:*'], true],
    ['another tag than the exact one', ['pytorch/pytorch:2.3.0'], false],
    ['a prefix without a separator (pytorch/pytorch-other matches it too)', ['pytorch/pytorch*'], true],
    ['another registry', ['ghcr.io/*'], false]
  ])('%s', (_what, allowed, ok) => {
    expect(imageAllowed(job.image!, allowed)).toBe(ok)
  })

  it('refuses a job naming no image or one not allowed, and the process runtime refuses any image', () => {
    const rt = containerRuntime({ engine: 'docker', images: ['pytorch/pytorch:*'] })
    expect(() => rt.check!(undefined)).toThrow(expect.objectContaining({ code: 'IMAGE_REQUIRED' }))
    expect(() => rt.check!('alpine:3')).toThrow(expect.objectContaining({ code: 'IMAGE_NOT_ALLOWED' }))
    expect(() => rt.check!(job.image)).not.toThrow()
    const proc = processRuntime()
    expect(() => proc.check!(job.image)).toThrow(expect.objectContaining({ code: 'IMAGE_NOT_SUPPORTED' }))
    expect(() => proc.check!(undefined)).not.toThrow()
  })

  it('gives the engine client only what reaches the engine, none of the supplier\'s secrets', () => {
    const env = engineEnv({ PATH: '/bin', HOME: '/home/s', DOCKER_HOST: 'unix:///run/user/1000/docker.sock', BAZAAR_PASSPHRASE: 'secret', AWS_SECRET_ACCESS_KEY: 'x' })
    expect(env).toEqual({ PATH: '/bin', HOME: '/home/s', DOCKER_HOST: 'unix:///run/user/1000/docker.sock' })
  })
})

describe('detectContainerEngine', () => {
  it.each<[string, string[], string | undefined]>([
    ['docker works', ['docker'], 'docker'],
    ['only podman works', ['podman'], 'podman'],
    ['both work: docker first', ['podman', 'docker'], 'docker'],
    ['neither works', [], undefined]
  ])('%s', async (_what, working, expected) => {
    const calls: string[] = []
    const probe: CommandProbe = async (file, args) => { calls.push(`${file} ${args.join(' ')}`); return working.includes(file) }
    expect(await detectContainerEngine(probe)).toBe(expected)
    expect(calls[0]).toBe('docker info')
  })

  it('finds no engine on a host whose docker client has no daemon, and the runtime says RUNTIME_UNAVAILABLE', async () => {
    const dockerInfo = spawnSync('docker', ['info'], { timeout: 15_000 })
    const podmanInfo = spawnSync('podman', ['info'], { timeout: 15_000 })
    if (dockerInfo.status === 0 || podmanInfo.status === 0) {
      // a working engine here: detection must find it
      expect(await detectContainerEngine()).toBeDefined()
      return
    }
    expect(await detectContainerEngine()).toBeUndefined()
    const err = await containerRuntime().start(job).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RuntimeError)
    expect((err as RuntimeError).code).toBe('RUNTIME_UNAVAILABLE')
  })
})

describe('whether the engine can hand a container GPUs', () => {
  it('podman: a CDI spec of kind nvidia.com/gpu, JSON or YAML, in one of its folders; docker: NVIDIA\'s container hook on PATH', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bazaar-cdi-'))
    try {
      const [a, b] = [path.join(dir, 'a'), path.join(dir, 'b')]
      mkdirSync(a)
      mkdirSync(b)
      expect(await gpuAccessMissing('podman', { cdiDirs: [a, b] })).toMatch(/^podman finds no CDI spec for nvidia\.com\/gpu in .*\/a or .*\/b \(nvidia-ctk cdi generate/)
      writeFileSync(path.join(a, 'other.json'), JSON.stringify({ cdiVersion: '0.5.0', kind: 'vendor.example/fpga', devices: [] }))
      writeFileSync(path.join(b, 'nvidia.txt'), 'kind: nvidia.com/gpu')
      expect(await gpuAccessMissing('podman', { cdiDirs: [a, b] })).toBeDefined()
      writeFileSync(path.join(b, 'nvidia.yaml'), 'cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n- name: "0"\n')
      expect(await gpuAccessMissing('podman', { cdiDirs: [a, b] })).toBeUndefined()
      rmSync(path.join(b, 'nvidia.yaml'))
      writeFileSync(path.join(a, 'nvidia.json'), JSON.stringify({ cdiVersion: '0.5.0', kind: 'nvidia.com/gpu', devices: [] }))
      expect(await gpuAccessMissing('podman', { cdiDirs: [a, b] })).toBeUndefined()

      expect(await gpuAccessMissing('docker', { path: a })).toMatch(/^docker cannot give a container GPUs here/)
      const hook = path.join(b, 'nvidia-container-runtime-hook')
      writeFileSync(hook, '#!/bin/sh\n', { mode: 0o755 })
      expect(await gpuAccessMissing('docker', { path: `${a}:${b}` })).toBeUndefined()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
