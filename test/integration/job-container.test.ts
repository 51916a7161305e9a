import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { CapacityLedger, containerName, containerRuntime, WorkDirTrash, type ContainerRuntimeInit, type JobResult, type JobSpec } from '../../src/jobs/index.js'
import { runJobClient, runJobServer, type JobServerResult } from '../../src/protocols/job/index.js'
import { memoryChannelPair } from '../../src/protocols/framed.js'
import { ManualClock } from '../../src/util/clock.js'
import { foreignNvidiaSpec, podmanForTests, TEST_CDI_FILE, TEST_IMAGE, writeTestCdiSpec } from '../helpers/container-engine.js'
import { createHash } from 'node:crypto'
import { rmSync } from 'node:fs'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { BazaarNode, type BazaarNodeInit } from '../../src/node/bazaar-node.js'
import { defaultConfig } from '../../src/node/config/index.js'
import type { BazaarConfig } from '../../src/node/config/types.js'
import { silentLogger } from '../../src/node/logger.js'
import { loadOrCreateEnclaveKey } from '../../src/node/keystore/index.js'
import { EmbeddedLedger } from '../../src/escrow/index.js'
import { UserError } from '../../src/util/errors.js'
import { devPair } from '../helpers/keys.js'
import { recordingLogger } from '../helpers/nodes.js'

/**
 * Jobs in a real container engine (podman, with an image imported from the host's static busybox),
 * through the job protocol as a supplier runs them. Skipped, with the reason, where podman cannot
 * run containers here.
 */
const engine = podmanForTests()
const why = 'unavailable' in engine ? engine.unavailable : undefined
if (why != null) console.warn(`job-container: skipped: ${why}`)
// the runtime's engine commands take the test's containers.conf from the supplier's environment
if (!('unavailable' in engine)) process.env.CONTAINERS_CONF = engine.env.CONTAINERS_CONF

const PREFIX = `bazaar-test${process.pid}-job-`
/** the config's defaults, within what podman allows here (it caps processes at the kernel's pid_max) */
const LIMITS = { openFiles: 1024, processes: 16_384 }
const sha256 = (b: string): string => createHash('sha256').update(b).digest('hex')

let root: string
let workRoot: string
let outputDir: string
let ledger: CapacityLedger
let clock: ManualClock
/** where the jobs' directories go: drained before the work root is checked */
let trash: WorkDirTrash

beforeEach(async () => {
  clock = new ManualClock()
  root = await mkdtemp(path.join(tmpdir(), 'bazaar-cjob-'))
  workRoot = path.join(root, 'work')
  outputDir = path.join(root, 'out')
  ledger = new CapacityLedger([{ index: 0, model: 'h100-80gb' }])
  ledger.hold('agr-1', 'h100-80gb', 1, 60_000)
  trash = new WorkDirTrash()
})

afterEach(async () => {
  expect(ledger.active()).toEqual([])
  await trash.drain()
  expect(existsSync(workRoot) ? readdirSync(workRoot) : []).toEqual([])
  await rm(root, { recursive: true, force: true })
})

afterAll(() => {
  if (why == null) expect(containersOfTest()).toEqual([])
})

/** the containers of this test run, running or not */
function containersOfTest (): string[] {
  const r = spawnSync('podman', ['ps', '-a', '--filter', `name=^${PREFIX}`, '--format', '{{.Names}}'], { encoding: 'utf8', timeout: 30_000 })
  return r.stdout.split('\n').filter((s) => s.startsWith(PREFIX))
}

async function run (spec: JobSpec, init: ContainerRuntimeInit = {}, signal?: AbortSignal): Promise<{ server: PromiseSettledResult<JobServerResult>, client: PromiseSettledResult<JobResult>, stdout: string }> {
  // each run holds the GPU of its own agreement, as a rental would
  if (ledger.get('agr-1') == null) ledger.hold('agr-1', 'h100-80gb', 1, 60_000)
  const [renter, supplier] = memoryChannelPair()
  let stdout = ''
  const server = runJobServer(supplier, {
    runtime: containerRuntime({ engine: 'podman', namePrefix: PREFIX, limits: LIMITS, ...init }),
    workRoot,
    trash,
    lease: { ledger, agreementId: 'agr-1' },
    clock,
    tickIntervalMs: 100,
    killGraceMs: 1000
  })
  const client = runJobClient(renter, spec, {
    outputDir,
    clock,
    jobId: 'cjob-1',
    onStdout: (c) => { stdout += Buffer.from(c).toString() },
    ...(signal != null ? { signal } : {})
  })
  const [s, c] = await Promise.allSettled([server, client])
  return { server: s, client: c, stdout }
}

function ok<T> (r: PromiseSettledResult<T>): T {
  if (r.status === 'rejected') throw r.reason
  return r.value
}

describe.skipIf(why != null)('jobs in containers (podman)', () => {
  it('runs the job\'s image with no network, no capabilities, the limits as ulimits, and fetches its output', async () => {
    const script = [
      'echo home=$HOME dir=$(pwd) gpus=$NVIDIA_VISIBLE_DEVICES',
      'echo nets=$(ls /sys/class/net)',
      'grep CapEff /proc/self/status',
      'grep -E "Max (open files|processes|file size|core)" /proc/self/limits',
      'echo uid=$(id -u)',
      'echo result > out.txt'
    ].join('; ')
    const r = await run({ command: 'sh', args: ['-c', script], image: TEST_IMAGE, gpuCount: 0, outputs: ['out.txt'], limits: { maxDurationMs: 60_000 } }, {
      limits: { openFiles: 512, processes: 200, fileSizeBytes: 1024 * 1024 },
      hardLimits: { openFiles: 20_000, processes: 1_000_000 }
    })
    const res = ok(r.client)
    expect(res).toMatchObject({ reason: 'exited', exitCode: 0 })
    expect(ok(r.server)).toMatchObject({ reason: 'exited', exitCode: 0 })
    expect(r.stdout).toContain('home=/job dir=/job gpus=void')
    // --network none: the loopback device alone
    expect(r.stdout).toMatch(/nets=lo\n/)
    expect(r.stdout).toMatch(/CapEff:\s+0{16}/)
    expect(r.stdout).toMatch(/Max open files\s+512\s+512/)
    expect(r.stdout).toMatch(/Max processes\s+200\s+200/)
    expect(r.stdout).toMatch(/Max file size\s+1048576\s+1048576/)
    expect(r.stdout).toMatch(/Max core file size\s+0\s+0/)
    expect(r.stdout).toContain(`uid=${process.getuid!()}`)
    expect(res.outputs).toEqual([expect.objectContaining({ name: 'out.txt', sha256: sha256('result\n') })])
    expect(containersOfTest()).toEqual([])
  })

  it('kills a job past its memory limit (exit 137), where the process runtime bounds no memory', async () => {
    const r = await run({ command: 'dd', args: ['if=/dev/zero', 'of=/dev/null', 'bs=100M', 'count=1'], image: TEST_IMAGE, gpuCount: 0, limits: { maxDurationMs: 60_000 } }, { memoryBytes: 32 * 1024 * 1024 })
    expect(ok(r.client)).toMatchObject({ reason: 'exited', exitCode: 137 })
    // the same job under a limit it fits in
    const fits = await run({ command: 'dd', args: ['if=/dev/zero', 'of=/dev/null', 'bs=8M', 'count=1'], image: TEST_IMAGE, gpuCount: 0, limits: { maxDurationMs: 60_000 } }, { memoryBytes: 32 * 1024 * 1024 })
    expect(ok(fits.client)).toMatchObject({ reason: 'exited', exitCode: 0 })
  })

  it('a cancel from the renter removes the container, not only the engine\'s client', async () => {
    const ac = new AbortController()
    let seen = ''
    const [renter, supplier] = memoryChannelPair()
    const server = runJobServer(supplier, { runtime: containerRuntime({ engine: 'podman', namePrefix: PREFIX, limits: LIMITS }), workRoot, trash, lease: { ledger, agreementId: 'agr-1' }, clock, tickIntervalMs: 100, killGraceMs: 1000 })
    const client = runJobClient(renter, { command: 'sh', args: ['-c', 'echo up; exec sleep 600'], image: TEST_IMAGE, gpuCount: 0, limits: { maxDurationMs: 600_000 } }, {
      outputDir,
      clock,
      jobId: 'cjob-2',
      signal: ac.signal,
      onStdout: (c) => {
        seen += Buffer.from(c).toString()
        if (seen.includes('up') && !ac.signal.aborted) {
          expect(containersOfTest()).toEqual([containerName('cjob-2', PREFIX)])
          ac.abort()
        }
      }
    })
    const [s, c] = await Promise.allSettled([server, client])
    expect(ok(c)).toMatchObject({ reason: 'cancelled' })
    expect(ok(s)).toMatchObject({ reason: 'cancelled' })
    expect(containersOfTest()).toEqual([])
  })

  it('refuses a job with no image or an image not allowed, before its inputs, with the code', async () => {
    const none = await run({ command: 'true', gpuCount: 0, limits: { maxDurationMs: 60_000 } })
    expect(none.server.status === 'rejected' && (none.server.reason as { code?: string }).code).toBe('IMAGE_REQUIRED')
    expect(none.client.status === 'rejected' && (none.client.reason as { remoteCode?: string }).remoteCode).toBe('IMAGE_REQUIRED')
    const other = await run({ command: 'true', image: 'docker.io/library/alpine:3', gpuCount: 0, limits: { maxDurationMs: 60_000 } }, { images: ['localhost/bazaar-test-busybox:*'] })
    expect(other.server.status === 'rejected' && (other.server.reason as { code?: string }).code).toBe('IMAGE_NOT_ALLOWED')
    const allowed = await run({ command: 'true', image: TEST_IMAGE, gpuCount: 0, limits: { maxDurationMs: 60_000 } }, { images: ['localhost/bazaar-test-busybox:*'] })
    expect(ok(allowed.client)).toMatchObject({ reason: 'exited', exitCode: 0 })
  })

  it('a stop while the engine creates or starts the container leaves no container behind', async () => {
    const rt = containerRuntime({ engine: 'podman', namePrefix: PREFIX, limits: LIMITS })
    const dir = path.join(root, 'stop-early')
    await mkdir(dir, { recursive: true })
    for (let i = 0; i < 10; i++) {
      const job = await rt.start({ jobId: `stop-${i}`, dir, command: 'sleep', args: ['600'], env: {}, gpuIndices: [], image: TEST_IMAGE })
      job.stdout.resume()
      job.stderr.resume()
      // a few moments into the engine's create and start, a different one each round
      await new Promise((resolve) => setTimeout(resolve, i * 20))
      await job.stop(1000)
      await job.exited
      expect(containersOfTest()).toEqual([])
    }
    // no job ran: the GPU held for one goes back
    ledger.release('agr-1')
  }, 120_000)

  it('with pull never, an image not here fails the job without reaching a registry', async () => {
    const r = await run({ command: 'true', image: 'localhost/bazaar-test-absent:1', gpuCount: 0, limits: { maxDurationMs: 60_000 } }, { pull: 'never' })
    const res = ok(r.client)
    expect(res.reason).toBe('exited')
    expect(res.exitCode).not.toBe(0)
  })

  it('sweep removes the containers of its prefix a crashed supplier left, and no other', async () => {
    // no job here: the GPU held for one goes back
    ledger.release('agr-1')
    const left = `${PREFIX}left-1`
    const other = `bazaar-other${process.pid}-job-x`
    for (const name of [left, other]) {
      const r = spawnSync('podman', ['run', '-d', '--name', name, '--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', TEST_IMAGE, 'sleep', '600'], { encoding: 'utf8', timeout: 60_000 })
      expect(r.status, r.stderr).toBe(0)
    }
    try {
      expect(await containerRuntime({ engine: 'podman', namePrefix: PREFIX }).sweep()).toBe(1)
      expect(containersOfTest()).toEqual([])
      const still = spawnSync('podman', ['ps', '-a', '--filter', `name=^${other}$`, '--format', '{{.Names}}'], { encoding: 'utf8', timeout: 30_000 })
      expect(still.stdout.trim()).toBe(other)
    } finally {
      spawnSync('podman', ['rm', '-f', '-t', '0', other], { timeout: 60_000 })
    }
  })
})

/** a supplier daemon's home, config and keys, on the embedded ledger */
async function supplierInit (home: string, jobs: Partial<BazaarConfig['jobs']>, logger = silentLogger): Promise<BazaarNodeInit> {
  const base = await defaultConfig()
  const config: BazaarConfig = {
    ...base, role: 'supplier', listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], api: { ...base.api, host: '127.0.0.1', port: 0 },
    gpus: [{ model: 'H100 80GB HBM3', memoryMib: 81559, count: 1 }],
    jobs: { ...base.jobs, runtime: 'container', engine: 'podman', ...jobs }
  }
  return {
    config, home, chain, clock: new ManualClock(), logger,
    identity: { peerKey: await generateKeyPair('Ed25519'), hotkey: await devPair('Eve//hot'), coldkey: await devPair('Eve') },
    enclaveKey: await loadOrCreateEnclaveKey(home, 'pw', { scrypt: { N: 2 ** 10, r: 8, p: 1 } }),
    runNvidiaSmi: async () => ({ absent: true })
  }
}

let chain: EmbeddedLedger

describe('a supplier daemon whose jobs run in containers', () => {
  beforeAll(async () => { chain = await EmbeddedLedger.open({ netuid: 1 }) })
  afterAll(async () => {
    await chain.close()
    rmSync(TEST_CDI_FILE, { force: true })
  })
  // these tests run no job: the GPU each test holds goes back
  beforeEach(() => { ledger.release('agr-1') })

  it('does not start where its engine does not work, and says so in one line', async () => {
    if (spawnSync('docker', ['info'], { timeout: 15_000 }).status === 0) {
      console.warn('job-container: a docker engine works here, so a supplier with jobs.engine docker starts: its refusal is not tested')
      return
    }
    const err = await BazaarNode.init(await supplierInit(path.join(root, 'no-engine'), { engine: 'docker' })).then(async (n) => { await n.close(); return undefined }, (e: unknown) => e)
    expect(err).toBeInstanceOf(UserError)
    expect(err).toMatchObject({ code: 'CONTAINER_ENGINE_UNAVAILABLE' })
    expect((err as Error).message).toMatch(/^jobs\.runtime is container, but no container engine works here \(`docker info` fails\): start the engine, or set jobs\.runtime to process$/)
  }, 60_000)

  it.skipIf(why != null || foreignNvidiaSpec() != null)('does not start with GPUs podman cannot hand a container (no CDI spec for nvidia.com/gpu)', async () => {
    rmSync(TEST_CDI_FILE, { force: true })
    const err = await BazaarNode.init(await supplierInit(path.join(root, 'no-cdi'), {})).then(async (n) => { await n.close(); return undefined }, (e: unknown) => e)
    expect(err).toMatchObject({ code: 'CONTAINER_GPUS_UNAVAILABLE' })
    expect((err as Error).message).toMatch(/^jobs\.runtime is container, but podman finds no CDI spec for nvidia\.com\/gpu in \/etc\/cdi or \/var\/run\/cdi \(nvidia-ctk cdi generate --output=\/etc\/cdi\/nvidia\.yaml\)/)
  }, 60_000)

  it.skipIf(why != null)('hands a GPU job its GPU as a CDI device, and only that one', async (ctx) => {
    const cannot = writeTestCdiSpec()
    if (cannot != null) { console.warn(`job-container: the GPU test is skipped: ${cannot}`); ctx.skip() }
    ledger.release('agr-1')
    ledger.hold('agr-1', 'h100-80gb', 1, 60_000)
    const r = await run({ command: 'sh', args: ['-c', 'echo gpu=$BAZAAR_CDI_GPU visible=$NVIDIA_VISIBLE_DEVICES'], image: TEST_IMAGE, gpuCount: 1, limits: { maxDurationMs: 60_000 } })
    expect(ok(r.client)).toMatchObject({ reason: 'exited', exitCode: 0 })
    expect(r.stdout).toContain('gpu=0 visible=0')
  }, 60_000)

  it.skipIf(why != null)('removes at start the job containers a crashed run of the same home left, and no other', async (ctx) => {
    const cannot = writeTestCdiSpec()
    if (cannot != null) { console.warn(`job-container: the daemon's start is not tested: ${cannot}`); ctx.skip() }
    const home = path.join(root, 'left')
    // the names a supplier of this home gives its jobs' containers, and one of another home
    const tag = `bazaar-${createHash('sha256').update(path.resolve(home)).digest('hex').slice(0, 12)}-job-`
    const left = `${tag}job-1`
    const other = `bazaar-000000000000-job-${process.pid}`
    const names = (prefix: string): string[] => spawnSync('podman', ['ps', '-a', '--filter', `name=^${prefix}`, '--format', '{{.Names}}'], { encoding: 'utf8', timeout: 30_000 }).stdout.split('\n').filter((n) => n.length > 0)
    try {
      for (const name of [left, other]) {
        const r = spawnSync('podman', ['run', '-d', '--name', name, '--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', TEST_IMAGE, 'sleep', '600'], { encoding: 'utf8', timeout: 60_000 })
        expect(r.status, r.stderr).toBe(0)
      }
      const { logger, records } = recordingLogger((r) => r.msg.includes('container'))
      const node = await BazaarNode.init(await supplierInit(home, { memoryMib: 512 }, logger))
      try {
        expect(names(tag)).toEqual([])
        expect(names(other)).toEqual([other])
        expect(records.map((r) => r.msg)).toEqual(['removed the job containers a previous run of this supplier left', 'jobs run in containers'])
        expect(records[1].fields).toMatchObject({ engine: 'podman', images: 'any', memoryMib: 512 })
      } finally {
        await node.close()
      }
    } finally {
      // one at a time: podman's rm stops at a name already gone (the sweep removed `left`)
      for (const name of [left, other]) spawnSync('podman', ['rm', '-f', '-t', '0', '--ignore', name], { timeout: 60_000 })
    }
  }, 120_000)
})
