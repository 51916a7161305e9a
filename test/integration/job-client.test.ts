import { createHash } from 'node:crypto'
import { existsSync, readdirSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { attachJobClient, JobLink, runJobClient } from '../../src/protocols/job/index.js'
import { memoryChannelPair, type FramedChannel } from '../../src/protocols/framed.js'
import { JobFrame } from '../../src/wire/job.js'
import type { JobSpec } from '../../src/jobs/index.js'
import { ManualClock } from '../../src/util/clock.js'

// The renter against a supplier that lies or breaks the protocol: a scripted peer answers JobStart
// with fixed frames.
let root: string
beforeEach(async () => { root = await mkdtemp(path.join(tmpdir(), 'bazaar-job-client-')) })
afterEach(async () => { await rm(root, { recursive: true, force: true }) })

const spec: JobSpec = { command: 'true', gpuCount: 0, outputs: ['a.txt'], limits: { maxDurationMs: 10_000 } }
const hash = (s: string): Uint8Array<ArrayBuffer> => new Uint8Array(createHash('sha256').update(s).digest())
const bytes = (s: string): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(s))
const exit = { exit: { exitCode: 0, signal: '', reason: 'exited', durationMs: 5n, detail: '' } }

describe('the renter refuses a supplier that breaks the protocol', () => {
  it.each<[string, Array<Partial<JobFrame>>, string]>([
    ['an output before the exit', [{ output: { file: 0, name: 'a.txt', size: 1n, sha256: hash('x'), missing: false } }], 'OUTPUT_INVALID'],
    ['an output not asked for', [exit, { output: { file: 0, name: 'b.txt', size: 1n, sha256: hash('x'), missing: false } }], 'OUTPUT_INVALID'],
    ['an output name leaving the output dir', [exit, { output: { file: 0, name: '../a.txt', size: 1n, sha256: hash('x'), missing: false } }], 'OUTPUT_INVALID'],
    ['an output over the renter bound', [exit, { output: { file: 0, name: 'a.txt', size: 2n ** 40n, sha256: hash('x'), missing: false } }], 'OUTPUT_INVALID'],
    ['a chunk past the declared size', [exit, { output: { file: 0, name: 'a.txt', size: 1n, sha256: hash('x'), missing: false } }, { outputChunk: { file: 0, offset: 0n, data: bytes('xy') } }], 'CHUNK_INVALID'],
    ['a chunk at the wrong offset', [exit, { output: { file: 0, name: 'a.txt', size: 2n, sha256: hash('xy'), missing: false } }, { outputChunk: { file: 0, offset: 1n, data: bytes('x') } }], 'CHUNK_INVALID'],
    ['an output cut short', [exit, { output: { file: 0, name: 'a.txt', size: 2n, sha256: hash('xy'), missing: false } }, { outputChunk: { file: 0, offset: 0n, data: bytes('x') } }, { done: { outputs: 1 } }], 'OUTPUT_SIZE_MISMATCH'],
    ['an empty output chunk (it moves nothing on, so it could hold the renter for ever)', [exit, { output: { file: 0, name: 'a.txt', size: 1n, sha256: hash('x'), missing: false } }, { outputChunk: { file: 0, offset: 0n, data: new Uint8Array(0) } }], 'CHUNK_INVALID'],
    ['output bytes that do not match the hash', [exit, { output: { file: 0, name: 'a.txt', size: 2n, sha256: hash('xy'), missing: false } }, { outputChunk: { file: 0, offset: 0n, data: bytes('xz') } }, { done: { outputs: 1 } }], 'OUTPUT_HASH_MISMATCH'],
    ['done before every output', [exit, { done: { outputs: 0 } }], 'UNEXPECTED_FRAME'],
    ['two exits', [exit, exit], 'UNEXPECTED_FRAME'],
    ['a second start (it would move the run\'s bound on)', [{ started: { gpuIndices: [], startedAt: 0n } }, { started: { gpuIndices: [], startedAt: 0n } }], 'UNEXPECTED_FRAME'],
    ['an unknown exit reason', [{ exit: { ...exit.exit, reason: 'vanished' } }], 'UNEXPECTED_FRAME'],
    ['a frame only a renter sends', [{ cancel: { reason: '' } }], 'UNEXPECTED_FRAME'],
    ['garbage', [], 'FRAME_MALFORMED'],
    ['an error frame', [{ error: { code: 'NO_CAPACITY', message: 'full' } }], 'REMOTE_REJECTED'],
    ['a channel that ends before the job', [exit], 'CHANNEL_CLOSED']
  ])('%s → %s', async (what, frames, code) => {
    const [renter, supplier] = memoryChannelPair()
    const peer = (async () => {
      const it = supplier.frames()[Symbol.asyncIterator]()
      await it.next() // JobStart
      for (const f of frames) await supplier.send(JobFrame.encode(f))
      if (what === 'garbage') await supplier.send(new Uint8Array([0xff, 0xff, 0xff]))
      await supplier.close()
    })()
    const err = await runJobClient(renter, spec, { outputDir: path.join(root, 'out') }).catch((e: unknown) => e)
    await peer
    expect(err).toMatchObject({ code })
    // nothing unverified is left in the output directory
    expect(readdirSync(path.join(root, 'out'))).toEqual([])
  })

  it('gives up on a supplier that does not confirm a cancel within 30 s of its clock (CANCEL_TIMEOUT)', async () => {
    const [renter, supplier] = memoryChannelPair()
    const clock = new ManualClock()
    const ac = new AbortController()
    let cancelled!: () => void
    const sawCancel = new Promise<void>((resolve) => { cancelled = resolve })
    // a supplier that reads everything and answers nothing; the renter cancels once JobStart is out
    const silent = (async () => {
      try {
        for await (const f of supplier.frames()) {
          ac.abort()
          if (JobFrame.decode(f).cancel != null) cancelled()
        }
      } catch {}
    })()
    let outcome: unknown
    const running = runJobClient(renter, spec, { outputDir: path.join(root, 'out'), signal: ac.signal, clock }).then((r) => r, (e: unknown) => e).then((o) => { outcome = o })
    await sawCancel
    await clock.advanceAsync(29_999)
    expect(outcome).toBeUndefined()
    await clock.advanceAsync(1)
    await running
    await silent
    expect(outcome).toMatchObject({ code: 'CANCEL_TIMEOUT' })
  })

  it.each([
    ['answers no start', false],
    ['goes silent once started, past the job\'s maximum duration', true]
  ])('gives up on a supplier that %s (SUPPLIER_SILENT), and resets the channel', async (_what, starts) => {
    const [renter, supplier] = memoryChannelPair()
    const peer = (async () => {
      const it = supplier.frames()[Symbol.asyncIterator]()
      await it.next() // JobStart
      if (starts) await supplier.send(JobFrame.encode({ started: { gpuIndices: [], startedAt: 0n } }))
      // then nothing, not even a tick: the channel stays open until the renter resets it
      try { while (!(await it.next()).done) {} } catch (e) { return e }
    })()
    const short = { ...spec, limits: { maxDurationMs: 300 } }
    const err = await runJobClient(renter, short, { outputDir: path.join(root, 'out'), supplierSilenceMs: 200 }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'SUPPLIER_SILENT' })
    expect(await peer).toMatchObject({ code: 'SUPPLIER_SILENT' })
  })

  it.each([
    ['before the start', false],
    ['after the exit', true]
  ])('ticks %s do not hold the renter: the silence counts from the last frame that moved the job on (SUPPLIER_SILENT)', async (_what, exited) => {
    const [renter, supplier] = memoryChannelPair()
    let ticks = 0
    const peer = (async () => {
      const it = supplier.frames()[Symbol.asyncIterator]()
      await it.next() // JobStart
      if (exited) {
        await supplier.send(JobFrame.encode({ started: { gpuIndices: [], startedAt: 0n } }))
        await supplier.send(JobFrame.encode(exit))
      }
      // ticks one after another, each far within the 200 ms silence, for as long as the renter listens
      try {
        while (true) {
          await supplier.send(JobFrame.encode({ tick: { elapsedMs: 0n, stdoutBytes: 0n, stderrBytes: 0n, gpuCount: 0, paused: false } }))
          ticks++
          await new Promise((resolve) => { setImmediate(resolve) })
        }
      } catch (e) { return e }
    })()
    const onTick: string[] = []
    const err = await runJobClient(renter, spec, { outputDir: path.join(root, 'out'), supplierSilenceMs: 200, onTick: () => onTick.push('tick') }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'SUPPLIER_SILENT' })
    await peer
    expect(ticks).toBeGreaterThan(1)
    // a tick of a job that no longer runs is not shown
    if (exited) expect(onTick).toEqual([])
  })

  it('an output trickled in just inside the silence ends at the outputs\' window: the silence and their bytes at the minimum rate (DELIVERY_TIMEOUT)', async () => {
    const [renter, supplier] = memoryChannelPair()
    let sent = 0
    const peer = (async () => {
      const it = supplier.frames()[Symbol.asyncIterator]()
      await it.next() // JobStart
      await supplier.send(JobFrame.encode({ started: { gpuIndices: [], startedAt: 0n } }))
      await supplier.send(JobFrame.encode(exit))
      // 3 bytes (a millisecond at the minimum rate), a byte every 150 ms: each well inside the
      // 200 ms silence, the third after the 200 ms window
      await supplier.send(JobFrame.encode({ output: { file: 0, name: 'a.txt', size: 3n, sha256: hash('xyz'), missing: false } }))
      try {
        for (const [i, b] of ['x', 'y', 'z'].entries()) {
          await new Promise((resolve) => { setTimeout(resolve, 150) })
          await supplier.send(JobFrame.encode({ outputChunk: { file: 0, offset: BigInt(i), data: bytes(b) } }))
          sent++
        }
        await supplier.send(JobFrame.encode({ done: { outputs: 1 } }))
      } catch (e) { return e }
    })()
    const err = await runJobClient(renter, spec, { outputDir: path.join(root, 'out'), supplierSilenceMs: 200 }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'DELIVERY_TIMEOUT' })
    await peer
    expect(sent).toBeLessThan(3)
    expect(readdirSync(path.join(root, 'out'))).toEqual([])
  })

  it('keeps the supplier\'s words to a code: an error code, an exit signal and detail that are not one are not passed on', async () => {
    const junk = '\u001b[2J\u001b[1;31mPAY 0x\n'
    const refuse = async (frames: Array<Partial<JobFrame>>): Promise<unknown> => {
      const [renter, supplier] = memoryChannelPair()
      const peer = (async () => {
        const it = supplier.frames()[Symbol.asyncIterator]()
        await it.next() // JobStart
        for (const f of frames) await supplier.send(JobFrame.encode(f))
        await supplier.close()
      })()
      const out = await runJobClient(renter, { ...spec, outputs: [] }, { outputDir: path.join(root, 'out') }).catch((e: unknown) => e)
      await peer
      return out
    }
    const err = await refuse([{ error: { code: junk, message: junk } }])
    expect(err).toMatchObject({ code: 'REMOTE_REJECTED', remoteCode: 'UNKNOWN' })
    expect((err as Error).message).toBe('supplier refused the job: UNKNOWN')
    expect(await refuse([{ error: { code: 'NO_CAPACITY', message: '' } }])).toMatchObject({ remoteCode: 'NO_CAPACITY' })
    const result = await refuse([{ exit: { ...exit.exit, signal: junk, detail: junk } }, { done: { outputs: 0 } }])
    expect(result).toMatchObject({ reason: 'exited', detail: 'UNKNOWN' })
    expect(result).not.toHaveProperty('signal')
    expect(await refuse([{ exit: { ...exit.exit, signal: 'SIGKILL', detail: 'METERING_FAILED' } }, { done: { outputs: 0 } }])).toMatchObject({ signal: 'SIGKILL', detail: 'METERING_FAILED' })
  })

  it('a renter taking a job up again after a restart stops at the job\'s maximum duration it kept (SUPPLIER_SILENT)', async () => {
    const [renter, supplier] = memoryChannelPair()
    const peer = (async () => {
      const it = supplier.frames()[Symbol.asyncIterator]()
      await it.next() // JobAttach
      await supplier.send(JobFrame.encode({ started: { gpuIndices: [], startedAt: 0n } }))
      try { while (!(await it.next()).done) {} } catch (e) { return e }
    })()
    const err = await attachJobClient(renter, { agreementId: new Uint8Array(32).fill(7), outputs: [], outputDir: path.join(root, 'out'), maxDurationMs: 300, supplierSilenceMs: 200 }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'SUPPLIER_SILENT' })
    expect(await peer).toMatchObject({ code: 'SUPPLIER_SILENT' })
  })

  it('a peer that takes no bytes holds no send past the stall timeout (FLOW_STALLED), and the channel is reset', async () => {
    // the transport's window is smaller than the job's credit window: a peer that stops reading
    // blocks the write itself, which ends only when its deadline aborts it
    let aborted: Error | undefined
    const stuck: FramedChannel = {
      send: async (_f, opts) => await new Promise<void>((_resolve, reject) => { opts?.signal?.addEventListener('abort', () => { reject(opts.signal!.reason) }, { once: true }) }),
      frames: async function * () {},
      close: async () => {},
      abort: (e) => { aborted = e }
    }
    const link = new JobLink(stuck, { clock: new ManualClock(), stallTimeoutMs: 200 })
    await expect(link.send({ stdout: bytes('x') })).rejects.toMatchObject({ code: 'FLOW_STALLED' })
    expect(aborted).toMatchObject({ code: 'FLOW_STALLED' })
    expect(link.broken).toBe(true)
  })

  it('writes nothing and sends nothing for an invalid spec', async () => {
    const [renter, supplier] = memoryChannelPair()
    const err = await runJobClient(renter, { ...spec, outputs: ['/etc/passwd'] }, { outputDir: path.join(root, 'never') }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'OUTPUT_PATH_INVALID' })
    expect(existsSync(path.join(root, 'never'))).toBe(false)
    await renter.close()
    const got: Uint8Array[] = []
    for await (const f of supplier.frames()) got.push(f)
    expect(got).toEqual([])
  })
})

describe('the renter writes outputs over no file but its own', () => {
  /** a supplier that sends the exit, then each output whole (or with other bytes than declared), then done */
  async function serve (supplier: FramedChannel, outs: Array<{ name: string, data: string, declared?: string }>): Promise<void> {
    const it = supplier.frames()[Symbol.asyncIterator]()
    await it.next() // JobStart
    await supplier.send(JobFrame.encode(exit))
    for (const [file, o] of outs.entries()) {
      await supplier.send(JobFrame.encode({ output: { file, name: o.name, size: BigInt(o.data.length), sha256: hash(o.declared ?? o.data), missing: false } }))
      await supplier.send(JobFrame.encode({ outputChunk: { file, offset: 0n, data: bytes(o.data) } }))
    }
    await supplier.send(JobFrame.encode({ done: { outputs: outs.length } }))
    await supplier.close()
  }

  it('keeps an output named as another output\'s ".partial", and the user\'s own "<name>.partial"', async () => {
    const out = path.join(root, 'out')
    await mkdir(out)
    await writeFile(path.join(out, 'a.txt.partial'), 'mine')
    const [renter, supplier] = memoryChannelPair()
    const peer = serve(supplier, [{ name: 'x.partial', data: 'A' }, { name: 'x', data: 'B' }, { name: 'a.txt', data: 'C' }])
    const result = await runJobClient(renter, { ...spec, outputs: ['x.partial', 'x', 'a.txt'] }, { outputDir: out })
    await peer
    expect(result.outputs.map((o) => o.name)).toEqual(['x.partial', 'x', 'a.txt'])
    expect(readdirSync(out).sort()).toEqual(['a.txt', 'a.txt.partial', 'x', 'x.partial'])
    expect(await readFile(path.join(out, 'x.partial'), 'utf8')).toBe('A')
    expect(await readFile(path.join(out, 'x'), 'utf8')).toBe('B')
    expect(await readFile(path.join(out, 'a.txt'), 'utf8')).toBe('C')
    expect(await readFile(path.join(out, 'a.txt.partial'), 'utf8')).toBe('mine')
  })

  it('removes only the file it received into when an output does not verify', async () => {
    const out = path.join(root, 'out')
    await mkdir(out)
    await writeFile(path.join(out, 'a.txt.partial'), 'mine')
    const [renter, supplier] = memoryChannelPair()
    const peer = serve(supplier, [{ name: 'a.txt', data: 'C', declared: 'D' }])
    const err = await runJobClient(renter, spec, { outputDir: out }).catch((e: unknown) => e)
    await peer.catch(() => {})
    expect(err).toMatchObject({ code: 'OUTPUT_HASH_MISMATCH' })
    expect(readdirSync(out)).toEqual(['a.txt.partial'])
    expect(await readFile(path.join(out, 'a.txt.partial'), 'utf8')).toBe('mine')
  })
})
