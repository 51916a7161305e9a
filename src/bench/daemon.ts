/**
 * `npm run bench:daemon`: daemons as an operator runs them (`bazaar node start`, separate OS
 * processes, the embedded defaults), measured from outside:
 *
 *   node dist/bench/daemon.js [--offers 1000] [--warmup 0] [--rest 20] [--runs 1] [--node-options='<flags>']
 *     [--daemons 2] [--publishers 1] [--rate 0] [--rest-after S[,S...]] [--json]
 *
 * Two daemons by default, a publisher and a receiver. `--daemons N --publishers P` runs N, the
 * first P publishing side by side, the others only receiving: the others bootstrap from the first
 * and find each other through its DHT, so the gossip mesh, its duplicates and its IHAVE/IWANT
 * traffic are a network's, not one link's. `--rate R` paces the publishers to R offers a second
 * together (0: each as fast as its API answers).
 *
 * - RSS of each daemon at rest, `--rest` seconds after its control API answered, and with
 *   `--rest-after S,S2` again S (and S2...) seconds after the measured offers;
 * - publishing `--offers` offers through the publishers' control APIs, each one request after
 *   another: p50/p99 of the HTTP round trip (sign, persist, publish);
 * - each receiver's CPU (all threads, from /proc: the scheduler's run time where the kernel keeps
 *   it, else user + system in 10 ms ticks) per offer it received, less its
 *   CPU at rest over the same time; and the same by thread name (its event loop, V8's helper
 *   threads, any other thread that used CPU), at rest included. With `--warmup N`, N offers go
 *   first and are not measured: a daemon that has run a while has its code compiled by V8's
 *   optimising tiers, while the first thousand offers a fresh daemon receives pay for that too
 *   (V8's compiler threads, and unoptimised code on the event loop).
 *
 * Each run measures two Node heap settings side by side: the daemon as `bazaar` starts it (the
 * bin re-executes a daemon with `DAEMON_SEMI_SPACE_MIB`, src/node/daemon-heap.ts), and Node's default young generation
 * (`--max-semi-space-size=0`, which also stops the re-execution). Node 24 lets the young generation
 * grow to 64 MiB per semi-space while the daemon starts (its module graph, the polkadot crypto
 * packages and their wasm the largest part, leaves a 159 MiB heap with 29 MiB live) and keeps it
 * committed afterwards: most of a resting daemon's RSS when uncapped.
 *
 * Each publisher cycles through 200 offer ids (a book keeps at most 256 per supplier), so more
 * offers are replacements; unpaced, it publishes as fast as its API answers, which its own pacing
 * (100/s, see `OWN_PUBLISH_RATE_PER_S`) bounds. A round is done when every receiver's validator
 * accepted every offer; each daemon's gossip links lost for a transport reason are summed from
 * its /metrics. At the end, with more than two daemons, it reads every daemon's `/v1/peers`: the
 * peer links gossiping both ways, and each daemon's mesh peers in the offers topic (a daemon takes
 * most offers once from each of them). Interrupted, it stops its daemons and removes their homes.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { DAEMON_SEMI_SPACE_MIB } from '../node/daemon-heap.js'
import { TOPIC_OFFERS } from '../protocols/gossip/topics.js'
import { counterBy, daemonMetrics, initHome, startDaemon, stopDaemon, type Daemon } from './daemon-process.js'

const { values } = parseArgs({ options: { offers: { type: 'string' }, warmup: { type: 'string' }, rest: { type: 'string' }, runs: { type: 'string' }, 'node-options': { type: 'string', multiple: true }, json: { type: 'boolean' }, daemons: { type: 'string' }, publishers: { type: 'string' }, rate: { type: 'string' }, 'rest-after': { type: 'string' } } })
const OFFERS = Math.max(10, Number(values.offers ?? 1000))
const REST_S = Math.max(1, Number(values.rest ?? 20))
/** seconds after the measured offers at which every daemon's RSS is read again, in order (none: not read) */
const REST_AFTER_S = String(values['rest-after'] ?? '').split(',').map(Number).filter((n) => Number.isFinite(n) && n > 0).sort((a, b) => a - b)
const WARMUP = Math.max(0, Number(values.warmup ?? 0))
const RUNS = Math.max(1, Number(values.runs ?? 1))
const DAEMONS = Math.max(2, Number(values.daemons ?? 2))
const PUBLISHERS = Math.min(DAEMONS - 1, Math.max(1, Number(values.publishers ?? 1)))
/** offers a second from all publishers together; 0: each publishes as fast as its API answers */
const RATE = Math.max(0, Number(values.rate ?? 0))
const TICKS = 100 // USER_HZ: /proc/<pid>/stat counts CPU in these

/** distinct offer ids the publisher cycles through: a book keeps at most 256 per supplier, so more offers are replacements */
const SLOTS = 200

const median = (xs: number[]): number => quantile(xs, 0.5)
function quantile (xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]
}

function rssMiB (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m == null ? NaN : Number(m[1]) / 1024
}

/**
 * The resident part of glibc's main heap (`[heap]` in `/proc/<pid>/smaps`), in MiB: the C
 * library's memory beside V8's. After traffic it holds mostly free memory that glibc keeps
 * (`malloc_trim` returned 13 to 15 MiB of a publisher's, docs/measurements.md). NaN where there is
 * no such mapping (another C library).
 */
function mainHeapMiB (pid: number): number {
  const m = /\[heap\]\n(?:[^\n]*\n)*?Rss:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/smaps`, 'utf8'))
  return m == null ? NaN : Number(m[1]) / 1024
}

/**
 * CPU of a process in ms, all its threads. From the scheduler's own count of each thread's run time
 * (`/proc/<pid>/task/<tid>/schedstat`, nanoseconds) where the kernel keeps it; else user + system
 * from `/proc/<pid>/stat`, in ticks of 10 ms. At 100 offers a second a receiver spends a few ms of
 * CPU a second at rest, so the rest rate subtracted from a run needs better than 10 ms in 5 s.
 */
function cpuMs (pid: number): number {
  let ms = 0
  for (const v of threadCpuMs(pid).values()) ms += v
  // summed over the live threads (a daemon's threads live as long as it does); the process's own
  // count, in ticks, keeps threads that ended as well
  return SCHEDSTAT ? ms : ticksMs(readFileSync(`/proc/${pid}/stat`, 'utf8'))
}

function ticksMs (stat: string): number {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(f[11]) + Number(f[12])) * 1000 / TICKS
}

/** the scheduler's run time of one thread in ms, or undefined where the kernel does not keep it */
function schedstatMs (pid: number, tid: string): number | undefined {
  const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
  return Number.isFinite(ns) && ns > 0 ? ns / 1e6 : undefined
}

/** whether this kernel counts run time per thread (the bench's own main thread has run by now) */
const SCHEDSTAT = (() => { try { return schedstatMs(process.pid, String(process.pid)) !== undefined } catch { return false } })()

/**
 * CPU of a process's threads in ms, summed by thread name (`/proc/<pid>/task/<tid>/comm`; Node 24
 * names the event loop `MainThread` and V8's helpers, concurrent marking and background
 * compilation among them, `V8Worker`). A thread that ended between two readings drops out, so this
 * is a breakdown, not the total.
 */
function threadCpuMs (pid: number): Map<string, number> {
  const out = new Map<string, number>()
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim()
      const ms = (SCHEDSTAT ? schedstatMs(pid, tid) : undefined) ?? ticksMs(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'))
      out.set(name, (out.get(name) ?? 0) + ms)
    } catch {}
  }
  return out
}

function init (home: string, dev: string): void { initHome(home, ['--dev', dev, '--json']) }

/** the daemons running now, and the folder of their homes */
const live = new Set<ChildProcess>()
let liveDir: string | undefined

/**
 * Interrupted (Ctrl-C, a `timeout`, a kill of the bench alone), the bench stops its daemons and
 * removes their homes before it exits, instead of leaving a dozen daemons running.
 */
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    const exits = [...live].map(async (p) => { await new Promise((resolve) => { p.once('exit', resolve); p.kill('SIGTERM') }) })
    // a daemon that does not stop within 10 s is killed (real time: these are processes)
    const deadline = setTimeout(() => { for (const p of live) p.kill('SIGKILL') }, 10_000)
    void Promise.all(exits).finally(() => {
      clearTimeout(deadline)
      if (liveDir != null) rmSync(liveDir, { recursive: true, force: true })
      process.exit(signal === 'SIGINT' ? 130 : 143)
    })
  })
}

async function start (home: string, nodeOptions: string, bootstrap?: string): Promise<Daemon> {
  return await startDaemon(home, { nodeOptions, bootstrap, onSpawn: (proc) => { live.add(proc); proc.once('exit', () => { live.delete(proc) }) } })
}

async function call (d: Daemon, method: string, route: string, body?: unknown): Promise<any> {
  const res = await fetch(d.url + route, {
    method,
    headers: { authorization: `Bearer ${d.token}`, ...(body != null ? { 'content-type': 'application/json' } : {}) },
    body: body == null ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000)
  })
  if (!res.ok) throw new Error(`${method} ${route}: HTTP ${res.status} ${await res.text()}`)
  return await res.json()
}

async function until (what: string, ok: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}


interface Row {
  setting: string
  daemons: number
  publishers: number
  restPublisherMiB: number[]
  restReceiverMiB: number[]
  /** every daemon's RSS, and glibc's main heap in it, at each `--rest-after` second after the measured offers (empty without it) */
  restAfterMiB: Array<{ s: number, mib: number[], heapMiB: number[] }>
  /** each daemon's signature worker threads at the end, and the checks it sent them */
  verifyWorkers: number[]
  poolJobs: number[]
  /** messages the daemons published (their re-publications) while they rested after the offers */
  republished: number
  publishP50Ms: number
  publishP99Ms: number
  /** measured publications whose round trip took over 50 ms */
  publishOver50Ms: number
  /** measured publications over 50 ms inside the publishing daemons, by their own `bazaar_api_request_seconds` */
  insideOver50Ms: number
  /** the bucket bound under which 99% of the publications' time inside the daemon fell (ms) */
  insideP99BoundMs: number
  /** how late the bench's own event loop ran over the measured offers, p99 and largest (ms) */
  benchLoopLateP99Ms: number
  benchLoopLateMaxMs: number
  /** each daemon's event loop over the measured offers (publishers first): the bucket bound under which 99% of its lateness samples fell (ms), and the samples over 50 ms */
  loopP99UnderMs: number[]
  loopOver50Ms: number[]
  /** offers a second the publishers reached together over the measured offers */
  offersPerS: number
  receiverCpuPerOfferMs: number[]
  receiverIdleCpuMsPerS: number[]
  /** the first receiver's, by thread */
  receiverCpuPerOfferByThreadMs: Record<string, number>
  /** gossip links lost for a transport reason over the whole run (start included), every daemon's count by reason */
  linksLost: Record<string, number>
  /** gossip links restored on a connection that stayed up, every daemon's count summed */
  linksRepaired: number
  /** each daemon's connections at the end */
  connections: number[]
  /** at the end, over every daemon: connected peers with a gossip link both ways, and those without one either way or both */
  linksBothWays: number
  linksNotBothWays: number
  /** at the end, each daemon's mesh peers in the offers topic (each sends it a copy of most offers) */
  offerMesh: number[]
}

/**
 * Every daemon's RSS once it has rested `--rest-after` seconds after the measured offers: what a
 * daemon holds at rest after traffic (its signature workers, if the traffic started them; what its
 * memory reducer gave back).
 */
async function restAfter (ds: Daemon[]): Promise<Array<{ s: number, mib: number[], heapMiB: number[] }>> {
  const t0 = performance.now()
  const out: Array<{ s: number, mib: number[], heapMiB: number[] }> = []
  for (const s of REST_AFTER_S) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, t0 + s * 1000 - performance.now())))
    out.push({ s, mib: ds.map((d) => Math.round(rssMiB(d.proc.pid as number))), heapMiB: ds.map((d) => Math.round(mainHeapMiB(d.proc.pid as number))) })
  }
  return out
}


/**
 * A histogram's cumulative counts in /metrics texts, summed over daemons: count per bucket bound,
 * '+Inf' included; `labels` are the series' own labels as rendered (sorted), before `le`
 */
function buckets (texts: string[], name: string, labels = ''): Map<string, number> {
  const out = new Map<string, number>()
  const esc = (x: string): string => x.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  const re = new RegExp(`^${esc(name)}_bucket\\{${esc(labels === '' ? '' : labels + ',')}le="([^"]+)"\\} (\\d+)$`, 'gm')
  for (const t of texts) {
    for (const m of t.matchAll(re)) out.set(m[1], (out.get(m[1]) ?? 0) + Number(m[2]))
  }
  return out
}

/** the counts between two readings of `buckets`: each bound's share of what happened in between */
function bucketsSince (after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  return new Map([...after].map(([le, n]) => [le, n - (before.get(le) ?? 0)]))
}

/** how many over `bound` (seconds, one of the bucket bounds), and the bound under which 99% fell (ms) */
function tail (b: Map<string, number>, bound: string): { over: number, p99UnderMs: number } {
  const all = b.get('+Inf') ?? 0
  const p99 = [...b].find(([, n]) => n >= 0.99 * all)?.[0]
  return { over: all - (b.get(bound) ?? 0), p99UnderMs: all === 0 || p99 == null ? Number.NaN : Number(p99) * 1000 }
}

/** the publishers' own timing of `POST /v1/offers` (`bazaar_api_request_seconds`, time inside the daemon) */
const PUBLISH_SERIES = 'method="POST",route="/v1/offers",status="201"'

async function measure (setting: string, nodeOptions: string, homes: string[]): Promise<Row> {
  const ds: Daemon[] = []
  try {
    ds.push(await start(homes[0], nodeOptions))
    const boot = `/ip4/127.0.0.1/tcp/${ds[0].port}/p2p/${ds[0].peerId}`
    // the others bootstrap from the first and meet each other through its DHT, as operators' daemons do
    // each joins `ds` as it starts, so that one failing to start leaves none of the others running
    await Promise.all(homes.slice(1).map(async (h) => { ds.push(await start(h, nodeOptions, boot)) }))
    const pubs = ds.slice(0, PUBLISHERS)
    const recvs = ds.slice(PUBLISHERS)
    await until('every daemon to see a subscriber of the offers topic', async () => {
      for (const d of ds) if ((await call(d, 'GET', '/v1/status')).topicPeers.offers === 0) return false
      return true
    }, 120_000)
    // offers a receiver's gossip validator accepted (replacements included), from its /metrics
    const held = async (d: Daemon): Promise<number> => {
      const m = /^bazaar_gossip_validation_total\{code="OK",result="accept",topic="\/bazaar\/offers\/1"\} (\d+)$/m.exec(await daemonMetrics(d))
      return m == null ? 0 : Number(m[1])
    }
    const before = await Promise.all(recvs.map(held))
    // at rest: no traffic but the daemons' own timers
    await new Promise((resolve) => setTimeout(resolve, REST_S * 1000))
    const restPub = pubs.map((d) => rssMiB(d.proc.pid as number))
    const restRecv = recvs.map((d) => rssMiB(d.proc.pid as number))
    // the receivers' CPU at rest over 5 s, to subtract
    const idle0 = recvs.map((d) => cpuMs(d.proc.pid as number))
    const t0 = performance.now()
    await new Promise((resolve) => setTimeout(resolve, 5000))
    const idleRate = recvs.map((d, i) => (cpuMs(d.proc.pid as number) - idle0[i]) / (performance.now() - t0))
    const run = Date.now().toString(36)
    let published = 0
    /**
     * n offers through the publishers' APIs, each publisher one request after another (paced to
     * `--rate` together, or as fast as its API answers); the round trip of each
     */
    const publish = async (n: number): Promise<number[]> => {
      const lat: number[] = []
      const first = published
      const t = performance.now()
      await Promise.all(pubs.map(async (d, j) => {
        for (let k = j; k < n; k += pubs.length) {
          if (RATE > 0) {
            const due = t + (k * 1000) / RATE - performance.now()
            if (due > 0) await new Promise((resolve) => setTimeout(resolve, due))
          }
          const i = first + k
          const t1 = performance.now()
          await call(d, 'POST', '/v1/offers', { id: `bench-${run}-${Math.floor(i / pubs.length) % SLOTS}`, gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 1 + (i % 8) }], teeKinds: ['simulated'], pricePerGpuHour: String(1_000_000_000 + i) })
          lat.push(performance.now() - t1)
        }
      }))
      published += n
      // polled by count (a small answer): listing the book would cost a receiver more than the offers
      await until('every receiver to hold every offer', async () => {
        for (const [i, d] of recvs.entries()) if (await held(d) < before[i] + published) return false
        return true
      }, 120_000)
      return lat
    }
    if (WARMUP > 0) await publish(WARMUP)
    // every daemon scraped just before and after the measured offers: the histograms' differences are theirs
    const texts0 = await Promise.all(ds.map(daemonMetrics))
    const cpu0 = recvs.map((d) => cpuMs(d.proc.pid as number))
    const threads0 = threadCpuMs(recvs[0].proc.pid as number)
    const t1 = performance.now()
    // the bench's own loop sends the requests and times them: its lateness is in every round trip
    const own = monitorEventLoopDelay({ resolution: 10 })
    own.enable()
    const lat = await publish(OFFERS)
    own.disable()
    const elapsed = performance.now() - t1
    const busy = recvs.map((d, i) => cpuMs(d.proc.pid as number) - cpu0[i] - idleRate[i] * elapsed)
    const byThread: Record<string, number> = {}
    for (const [name, ms] of threadCpuMs(recvs[0].proc.pid as number)) byThread[name] = Number(((ms - (threads0.get(name) ?? 0)) / OFFERS).toFixed(3))
    const texts = await Promise.all(ds.map(daemonMetrics))
    const inside = tail(bucketsSince(buckets(texts.slice(0, pubs.length), 'bazaar_api_request_seconds', PUBLISH_SERIES), buckets(texts0.slice(0, pubs.length), 'bazaar_api_request_seconds', PUBLISH_SERIES)), '0.05')
    const loops = ds.map((_, i) => tail(bucketsSince(buckets([texts[i]], 'bazaar_event_loop_delay_seconds'), buckets([texts0[i]], 'bazaar_event_loop_delay_seconds')), '0.05'))
    // every connected peer of every daemon: a gossip stream each way, as the link keeper keeps them
    let bothWays = 0
    let notBothWays = 0
    const offerMesh: number[] = []
    for (const d of ds) {
      const views = await call(d, 'GET', '/v1/peers') as Array<{ peerId: string, gossip?: { inbound?: boolean, outbound?: boolean, meshTopics?: string[] } }>
      offerMesh.push(new Set(views.filter((v) => v.gossip?.meshTopics?.includes(TOPIC_OFFERS) === true).map((v) => v.peerId)).size)
      for (const peer of new Set(views.map((v) => v.peerId))) {
        if (views.some((v) => v.peerId === peer && v.gossip?.inbound === true && v.gossip?.outbound === true)) bothWays++
        else notBothWays++
      }
    }
    const restAfterMiB = await restAfter(ds)
    // read again after the rest: what the daemons re-published meanwhile, and the workers it started
    const textsAfter = REST_AFTER_S.length > 0 ? await Promise.all(ds.map(daemonMetrics)) : texts
    return {
      setting,
      daemons: ds.length,
      publishers: pubs.length,
      restPublisherMiB: restPub.map((x) => Math.round(x)),
      restReceiverMiB: restRecv.map((x) => Math.round(x)),
      restAfterMiB,
      verifyWorkers: textsAfter.map((t) => counterBy(t, 'bazaar_gossip_verify_workers').get('') ?? 0),
      poolJobs: textsAfter.map((t) => counterBy(t, 'bazaar_gossip_verify_pool_jobs').get('') ?? 0),
      republished: textsAfter.reduce((a, t, i) => a + (counterBy(t, 'bazaar_gossip_published_total').get('') ?? 0) - (counterBy(texts[i], 'bazaar_gossip_published_total').get('') ?? 0), 0),
      publishP50Ms: Number(median(lat).toFixed(1)),
      publishP99Ms: Number(quantile(lat, 0.99).toFixed(1)),
      publishOver50Ms: lat.filter((x) => x > 50).length,
      // the histogram holds the intervals between its 10 ms samples, in ns
      benchLoopLateP99Ms: Number(Math.max(0, own.percentile(99) / 1e6 - 10).toFixed(1)),
      benchLoopLateMaxMs: Number(Math.max(0, own.max / 1e6 - 10).toFixed(1)),
      insideOver50Ms: inside.over,
      insideP99BoundMs: inside.p99UnderMs,
      loopP99UnderMs: loops.map((l) => l.p99UnderMs),
      loopOver50Ms: loops.map((l) => l.over),
      offersPerS: Math.round(OFFERS / (elapsed / 1000)),
      receiverCpuPerOfferMs: busy.map((b) => Number((b / OFFERS).toFixed(3))),
      receiverIdleCpuMsPerS: idleRate.map((r) => Number((r * 1000).toFixed(1))),
      receiverCpuPerOfferByThreadMs: byThread,
      linksLost: texts.reduce<Record<string, number>>((a, t) => {
        for (const [reason, n] of counterBy(t, 'bazaar_gossip_peer_dropped_total', 'reason')) if (n > 0) a[reason] = (a[reason] ?? 0) + n
        return a
      }, {}),
      linksRepaired: texts.reduce((a, t) => a + (counterBy(t, 'bazaar_gossip_link_repairs_total').get('') ?? 0), 0),
      connections: await Promise.all(ds.map(async (d) => (await call(d, 'GET', '/v1/status')).peers as number)),
      linksBothWays: bothWays,
      linksNotBothWays: notBothWays,
      offerMesh
    }
  } finally {
    // the others first: the first daemon is everyone's bootstrap peer
    await Promise.all(ds.slice(1).map(stopDaemon))
    if (ds.length > 0) await stopDaemon(ds[0])
  }
}

// --node-options (repeatable): settings of your own instead (a profile: --node-options='--cpu-prof --cpu-prof-dir=/tmp/prof')
const own = values['node-options']
const settings: Array<[string, string]> = own != null ? own.map((o) => [o === '' ? 'as bazaar starts it' : o, o]) : [[`as bazaar starts it (${DAEMON_SEMI_SPACE_MIB} MiB semi-space)`, ''], ["Node's default young generation", '--max-semi-space-size=0']]
const rows: Row[] = []
/** two daemons keep the dev names they always had; more are bench0, bench1, ... */
const names = DAEMONS === 2 ? ['alice', 'bob'] : Array.from({ length: DAEMONS }, (_, i) => `bench${i}`)
for (let r = 0; r < RUNS; r++) {
  for (const [name, opts] of r % 2 === 0 ? settings : [...settings].reverse()) {
    const dir = mkdtempSync(path.join(tmpdir(), 'bazaar-bench-daemon-'))
    liveDir = dir
    try {
      const homes = names.map((n) => path.join(dir, n))
      for (const [i, h] of homes.entries()) init(h, names[i])
      rows.push(await measure(name, opts, homes))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
const range = (xs: number[], unit: string): string => {
  const u = unit === '' ? '' : ` ${unit}`
  return xs.length === 1 ? `${xs[0]}${u}` : `median ${median(xs)}${u} (${Math.min(...xs)}–${Math.max(...xs)})`
}
if (values.json === true) console.log(JSON.stringify(rows))
else {
  const who = DAEMONS === 2 ? 'two daemons' : `${DAEMONS} daemons, ${PUBLISHERS} of them publishing,`
  console.log(`${who} (bazaar node start, embedded defaults), ${OFFERS} offers published through the API${RATE > 0 ? ` at ${RATE}/s in all` : ''}${WARMUP > 0 ? ` after ${WARMUP} not measured` : ''}, RSS ${REST_S} s after start; CPU from ${SCHEDSTAT ? "the scheduler's run time (ns)" : '/proc ticks (10 ms)'}`)
  for (const x of rows) {
    const pubName = x.publishers === 1 ? 'publisher' : 'publishers'
    const recvName = x.restReceiverMiB.length === 1 ? 'receiver' : 'receivers'
    console.log(`${x.setting}: RSS at rest ${pubName} ${range(x.restPublisherMiB, 'MiB')}, ${recvName} ${range(x.restReceiverMiB, 'MiB')}; publish p50 ${x.publishP50Ms} ms, p99 ${x.publishP99Ms} ms (${x.offersPerS} offers/s), ${x.publishOver50Ms} over 50 ms; inside the ${pubName} (their own timing) p99 under ${x.insideP99BoundMs} ms, ${x.insideOver50Ms} over 50 ms; event loops late p99 under ${range(x.loopP99UnderMs.slice(0, x.publishers), 'ms')} in the ${pubName} (samples over 50 ms ${range(x.loopOver50Ms.slice(0, x.publishers), '')}), under ${range(x.loopP99UnderMs.slice(x.publishers), 'ms')} in the ${recvName} (over 50 ms ${range(x.loopOver50Ms.slice(x.publishers), '')}), the bench's own p99 ${x.benchLoopLateP99Ms} ms (at most ${x.benchLoopLateMaxMs} ms); ${recvName} CPU per offer ${range(x.receiverCpuPerOfferMs, 'ms')} (at rest ${range(x.receiverIdleCpuMsPerS, 'ms/s')}); by thread, at rest included${x.restReceiverMiB.length === 1 ? '' : ' (the first receiver)'}: ${Object.entries(x.receiverCpuPerOfferByThreadMs).filter(([, ms]) => ms > 0).sort((p, q) => q[1] - p[1]).map(([name, ms]) => `${name} ${ms} ms`).join(', ')}${x.daemons > 2 ? `; connections per daemon ${range(x.connections, '')}; gossip links lost ${Object.values(x.linksLost).reduce((a, n) => a + n, 0)}${Object.keys(x.linksLost).length > 0 ? ` (${Object.entries(x.linksLost).map(([r, n]) => `${r} ${n}`).join(', ')})` : ''}, restored ${x.linksRepaired}; at the end ${x.linksBothWays} of ${x.linksBothWays + x.linksNotBothWays} peer links gossip both ways; offers mesh per daemon ${range(x.offerMesh, '')}` : ''}${x.restAfterMiB.length > 0 ? `; RSS after the offers: ${x.restAfterMiB.map((r) => `${r.s} s ${range(r.mib, 'MiB')} (glibc's main heap ${range(r.heapMiB, 'MiB')})`).join(', ')}, ${x.republished} re-published meanwhile` : ''}; signature workers started in ${x.verifyWorkers.filter((n) => n > 0).length} of ${x.daemons} daemons (checks sent to them ${range(x.poolJobs, '')})`)
  }
}
