import { Worker } from 'node:worker_threads'
import { availableParallelism } from 'node:os'
import { ED25519_BACKEND } from '../../util/ed25519.js'
import { TokenBucketLimiter } from '../../util/rate-limit.js'

/**
 * ed25519 verification of market messages off the event loop, in batches (Lodestar verifies BLS
 * gossip signatures the same way): jobs queue until the current turn of the event loop ends or a
 * batch is full, then one message carries the whole batch to the least busy worker, which answers
 * with one byte per job. The event loop keeps decoding, checking and forwarding while the workers
 * verify, so a node's gossip throughput is no longer one core's ed25519 rate.
 *
 * What a job is: the signing key (32 bytes), the signature (64 bytes), the domain tag and the body;
 * the worker verifies `tag || 0x00 || body` (docs/protocol.md §2.2) with the implementation the
 * event loop uses (`ED25519_BACKEND`: libsodium when its addon loads, else node:crypto with the key
 * objects of recent signers kept), so a verdict never depends on which thread gave it.
 */

export interface VerifyPoolInit {
  /** worker threads, 1 to 4; default `DEFAULT_VERIFY_WORKERS` */
  workers?: number
  /** most jobs in one batch */
  maxBatch?: number
  /** most jobs queued or in flight; beyond it `verify` answers 'busy' at once */
  maxPending?: number
  /** called once, as the workers start (the node logs it) */
  onStart?: (workers: number) => void
}

/**
 * Worker threads by default: the machine's cores less the event loop's, and at most two. At about
 * 65 µs a libsodium check on this project's development machine, two workers verify about 30,000
 * signatures a second, three times what one event loop can decode, check and forward (its gossip
 * flood tops out near 10,000 offers a second), so more only cost memory: each worker, started and idle, holds about 15 MiB of
 * RSS (1, 2 and 4 workers: 70, 84 and 113 MiB against 53 MiB without a pool), and four of them
 * would have put a resting daemon on a machine of five cores or more over its 150 MB.
 */
export const DEFAULT_VERIFY_WORKERS = Math.max(1, Math.min(2, availableParallelism() - 1))

/** signature checks the event loop may do itself while the pool is idle: about 5% of it (about 100 µs each) */
const INLINE_VERIFY_RATE = 500
const INLINE_VERIFY_BURST = 50

export type VerifyVerdict = 'valid' | 'invalid' | 'busy'

interface Job { key: Uint8Array, signature: Uint8Array, domain: number, body: Uint8Array, resolve: (v: VerifyVerdict) => void }
interface WorkerState { worker: Worker, inFlight: number, batches: Map<number, Job[]> }

/** domain tags, by the index a job carries */
export const VERIFY_DOMAINS = ['bazaar-offer-v1', 'bazaar-bid-v1'] as const

// The worker's code, evaluated as a CommonJS script (`eval: true`) so the same pool runs from the
// compiled dist/ and from the TypeScript sources under test, with no file of its own to locate.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { createPublicKey, verify } = require('node:crypto')
const sodium = workerData.sodiumPath != null ? require(workerData.sodiumPath) : null
const DOMAINS = ${JSON.stringify(VERIFY_DOMAINS)}.map((d) => Buffer.concat([Buffer.from(d), Buffer.from([0])]))
const SPKI = Buffer.from('302a300506032b6570032100', 'hex')
const keys = new Map()
function keyOf (raw) {
  const id = raw.toString('base64')
  let k = keys.get(id)
  if (k === undefined) {
    k = createPublicKey({ key: Buffer.concat([SPKI, raw]), format: 'der', type: 'spki' })
    if (keys.size >= 4096) keys.delete(keys.keys().next().value)
    keys.set(id, k)
  }
  return k
}
// The signed bytes (tag || 0x00 || body) are assembled in one buffer that lives as long as the
// worker: a fresh one per job would be garbage that an idle worker never collects (its GC runs
// only when it allocates), and the process would hold it long after the flood that made it.
let signed = Buffer.alloc(16384)
parentPort.on('message', ({ id, buf, n }) => {
  const b = Buffer.from(buf)
  const out = new Uint8Array(n)
  let at = 0
  for (let j = 0; j < n; j++) {
    const key = b.subarray(at, at + 32)
    const sig = b.subarray(at + 32, at + 96)
    const domain = DOMAINS[b[at + 96]]
    const len = b.readUInt32LE(at + 97)
    const body = b.subarray(at + 101, at + 101 + len)
    at += 101 + len
    try {
      if (domain === undefined) { out[j] = 0; continue }
      const size = domain.length + body.length
      if (size > signed.length) signed = Buffer.alloc(size)
      domain.copy(signed, 0)
      body.copy(signed, domain.length)
      const data = signed.subarray(0, size)
      if (sodium !== null) out[j] = sodium.crypto_sign_verify_detached(sig, data, key) ? 1 : 0
      else out[j] = verify(null, data, keyOf(key), sig) ? 1 : 0
    } catch {
      out[j] = 0
    }
  }
  parentPort.postMessage({ id, out }, [out.buffer])
})
`

/**
 * A pool of verifier threads. `verify` resolves 'valid' or 'invalid' once a worker answered, or
 * 'busy' at once when `maxPending` jobs are already waiting (the caller drops the message without
 * penalising anyone: overload is not the sender's fault). `close()` ends the workers; jobs still
 * waiting then resolve 'busy'.
 *
 * The workers start with the first job. Light traffic is checked on the event loop (`takeInline`),
 * so a node that never sees more holds no worker thread; the first burst waits once for the
 * workers to start (about 0.1 to 0.25 s on the development machine) while its messages queue.
 */
export class VerifyPool {
  private readonly workers: WorkerState[] = []
  /** the workers this pool runs once started */
  private readonly count: number
  private started = false
  private queue: Job[] = []
  private pending = 0
  private flushScheduled = false
  private nextId = 1
  private closed = false
  private readonly maxBatch: number
  private readonly maxPending: number
  private sentBatches = 0
  /**
   * The event loop's own budget of signature checks (`takeInline`). It belongs to the pool, not to
   * each node that uses it: nodes that share a pool share an event loop (a devnet, a test network),
   * and 20 budgets of 5% each would let light traffic take the whole loop.
   */
  private readonly inlineBudget = new TokenBucketLimiter(INLINE_VERIFY_RATE, INLINE_VERIFY_BURST, 1)
  private sentJobs = 0
  private readonly onStart?: (workers: number) => void

  constructor (init: VerifyPoolInit = {}) {
    this.onStart = init.onStart
    this.count = Math.max(1, Math.min(4, init.workers ?? DEFAULT_VERIFY_WORKERS))
    this.maxBatch = init.maxBatch ?? 128
    this.maxPending = init.maxPending ?? 16_384
  }

  /** starts the workers, once: the first job's call */
  private start (): void {
    this.started = true
    for (let i = 0; i < this.count; i++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { sodiumPath: ED25519_BACKEND.sodiumPath } })
      // an idle pool must not keep the process alive
      worker.unref()
      const st: WorkerState = { worker, inFlight: 0, batches: new Map() }
      worker.on('message', (m: { id: number, out: Uint8Array }) => { this.answer(st, m) })
      worker.on('error', () => { this.fail(st) })
      worker.on('exit', () => { this.fail(st) })
      this.workers.push(st)
    }
    this.onStart?.(this.count)
  }

  /** worker threads running now: none before the first job, and none left once all died */
  get size (): number { return this.workers.length }
  /** jobs queued or being verified */
  get depth (): number { return this.pending }
  /** batches and jobs sent to the workers so far: their ratio is the mean batch size */
  get sent (): { batches: number, jobs: number } { return { batches: this.sentBatches, jobs: this.sentJobs } }

  /**
   * Whether the caller may verify one signature on the event loop instead: light traffic, where a
   * thread hop adds more latency than the check costs. true at most `INLINE_VERIFY_RATE` times a
   * second (bursts of `INLINE_VERIFY_BURST`), and never while jobs wait for the workers.
   */
  takeInline (now: number): boolean {
    return this.pending === 0 && this.inlineBudget.take('', now)
  }

  verify (key: Uint8Array, signature: Uint8Array, domain: 0 | 1, body: Uint8Array): Promise<VerifyVerdict> {
    if (this.closed || this.pending >= this.maxPending) return Promise.resolve('busy')
    if (key.byteLength !== 32 || signature.byteLength !== 64) return Promise.resolve('invalid')
    if (!this.started) this.start()
    // every worker died
    if (this.workers.length === 0) return Promise.resolve('busy')
    this.pending++
    return new Promise((resolve) => {
      this.queue.push({ key, signature, domain, body, resolve })
      if (this.queue.length >= this.maxBatch) this.flush()
      else if (!this.flushScheduled) {
        this.flushScheduled = true
        // after the messages of the frame being handled now have joined the batch
        setImmediate(() => { this.flushScheduled = false; this.flush() })
      }
    })
  }

  private flush (): void {
    while (this.queue.length > 0) {
      const jobs = this.queue.splice(0, this.maxBatch)
      let size = 0
      for (const j of jobs) size += 101 + j.body.byteLength
      const buf = new Uint8Array(size)
      const view = new DataView(buf.buffer)
      let at = 0
      for (const j of jobs) {
        buf.set(j.key, at)
        buf.set(j.signature, at + 32)
        buf[at + 96] = j.domain
        view.setUint32(at + 97, j.body.byteLength, true)
        buf.set(j.body, at + 101)
        at += 101 + j.body.byteLength
      }
      let st = this.workers[0]
      for (const w of this.workers) if (w.inFlight < st.inFlight) st = w
      const id = this.nextId++
      st.batches.set(id, jobs)
      st.inFlight += jobs.length
      this.sentBatches++
      this.sentJobs += jobs.length
      st.worker.postMessage({ id, buf: buf.buffer, n: jobs.length }, [buf.buffer])
    }
  }

  private answer (st: WorkerState, m: { id: number, out: Uint8Array }): void {
    const jobs = st.batches.get(m.id)
    if (jobs === undefined) return
    st.batches.delete(m.id)
    st.inFlight -= jobs.length
    this.pending -= jobs.length
    for (let j = 0; j < jobs.length; j++) jobs[j].resolve(m.out[j] === 1 ? 'valid' : 'invalid')
  }

  /** a worker that died takes its batches with it: they resolve 'busy', the worker leaves the pool */
  private fail (st: WorkerState): void {
    const i = this.workers.indexOf(st)
    if (i !== -1) this.workers.splice(i, 1)
    for (const jobs of st.batches.values()) {
      this.pending -= jobs.length
      for (const j of jobs) j.resolve('busy')
    }
    st.batches.clear()
    st.inFlight = 0
  }

  async close (): Promise<void> {
    this.closed = true
    const queued = this.queue
    this.queue = []
    for (const j of queued) { this.pending--; j.resolve('busy') }
    const ws = [...this.workers]
    await Promise.all(ws.map(async (st) => { await st.worker.terminate() }))
    for (const st of ws) this.fail(st)
  }
}
