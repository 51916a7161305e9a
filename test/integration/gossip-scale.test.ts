import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/**
 * Gossip at network scale, as separate OS processes (one event loop per process is the limit on a
 * 2-core machine, not the network): PROCESSES × PER_PROCESS market nodes on 127.0.0.1, without
 * kad-dht, in a sparse random graph (a ring plus random chords, average degree about DEGREE), with
 * a mesh degree below the connection degree so that every node also has non-mesh peers and IHAVE /
 * IWANT gossip carries part of the traffic. SUPPLIERS suppliers (OFFERS_EACH offers each) and
 * RENTERS renters (BIDS_EACH bids each) re-publish everything in WAVES waves, each wave spread over
 * SPREAD_MS (a wave of re-publications after a restart is the burst a market sees). Checked: every
 * node accepts every message; no gossip link is lost to a size or stream limit, and any link lost to
 * a starved event loop is restored; every connection ends as a gossip link both ways; memory per
 * node is bounded.
 *
 * Sizes come from the environment (BAZAAR_SCALE_PROCESSES, BAZAAR_SCALE_PER_PROCESS,
 * BAZAAR_SCALE_SUPPLIERS, BAZAAR_SCALE_WAVES; BAZAAR_SCALE_SEED replays a graph).
 */
const env = (name: string, def: number): number => {
  const v = Number(process.env[name])
  return Number.isInteger(v) && v > 0 ? v : def
}
// The suite's default: 30 nodes in three processes (ten nodes share one event loop, the most a
// 2-core machine carries with the waves below), with the machine to itself: vitest.config.ts runs
// this file after every other one.
const PROCESSES = env('BAZAAR_SCALE_PROCESSES', 3)
const PER_PROCESS = env('BAZAAR_SCALE_PER_PROCESS', 10)
const N = PROCESSES * PER_PROCESS
const DEGREE = 6
const MESH_DEGREE = 3
const SUPPLIERS = env('BAZAAR_SCALE_SUPPLIERS', 300)
const OFFERS_EACH = 1
const RENTERS = Math.ceil(SUPPLIERS / 5)
const BIDS_EACH = 1
const WAVES = env('BAZAAR_SCALE_WAVES', 3)
const SPREAD_MS = 6_000
/**
 * Waits and timeouts grow with the work a wave makes (deliveries: nodes × messages), measured
 * against the suite's default, so that a larger run asked for by the environment (the figures in
 * the README at 60, 120 and 240 nodes) is not cut short on the same two cores.
 */
const WORK = Math.max(1, N * (SUPPLIERS * OFFERS_EACH + RENTERS * BIDS_EACH) / (30 * 360))
const T = (ms: number): number => Math.round(ms * WORK)
/** bound on resident memory per node (process RSS / nodes in it) */
const MAX_RSS_PER_NODE = 64 * 1024 * 1024

const here = fileURLToPath(new URL('.', import.meta.url))
const CHILD = join(here, 'gossip-scale.child.ts')
const HOOKS = join(here, 'escrow-ts-hooks.mjs')
const repo = resolve(here, '../..')

interface Child { proc: ChildProcess, call: <T>(req: Record<string, unknown>) => Promise<T>, stderr: () => string }
interface LinkView { peer: string, inbound: boolean, outbound: boolean, subscribed: boolean }
interface StateView {
  got: string[][]
  frames: Array<{ over8k: number, largest: number, ihaveIds: number, iwantIds: number }>
  dropped: string[][]
  refused: string[][]
  routerPeers: number[]
  rss: number
  heapUsed: number
}

/** like waitFor, but polls the children twice a second (each poll is a round trip to every process) */
async function poll (cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}

function child (): Child {
  const proc = spawn(process.execPath, ['--experimental-transform-types', '--no-warnings', '--import', HOOKS, CHILD], {
    cwd: repo, stdio: ['ignore', 'ignore', 'pipe', 'ipc']
  })
  let stderr = ''
  proc.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-20_000) })
  let next = 0
  const waiting = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  proc.on('message', (m: { id: number, result?: unknown, error?: string }) => {
    const w = waiting.get(m.id)
    waiting.delete(m.id)
    if (m.error != null) w?.reject(new Error(m.error))
    else w?.resolve(m.result)
  })
  proc.on('exit', (code, signal) => {
    for (const w of waiting.values()) w.reject(new Error(`scale child exited (${signal ?? code}): ${stderr}`))
    waiting.clear()
  })
  const call = async <T>(req: Record<string, unknown>): Promise<T> => await new Promise<T>((resolve, reject) => {
    const id = next++
    waiting.set(id, { resolve: resolve as (v: unknown) => void, reject })
    proc.send({ ...req, id })
  })
  return { proc, call, stderr: () => stderr }
}

/** a deterministic pseudo-random generator (mulberry32), so that a failing graph can be rerun */
function rng (seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** a ring (connected) plus random chords up to an average degree of `degree`; no pair twice */
function sparseGraph (n: number, degree: number, seed: number): Array<[number, number]> {
  const rand = rng(seed)
  const key = (a: number, b: number): string => a < b ? `${a}-${b}` : `${b}-${a}`
  const edges = new Map<string, [number, number]>()
  for (let i = 0; i < n; i++) edges.set(key(i, (i + 1) % n), [i, (i + 1) % n])
  while (edges.size < Math.floor(n * degree / 2)) {
    const a = Math.floor(rand() * n)
    const b = Math.floor(rand() * n)
    if (a !== b && !edges.has(key(a, b))) edges.set(key(a, b), [a, b])
  }
  return [...edges.values()]
}

describe(`gossip at scale: ${N} nodes in ${PROCESSES} processes, ${SUPPLIERS} suppliers and ${RENTERS} renters re-publishing ${SUPPLIERS * OFFERS_EACH + RENTERS * BIDS_EACH} messages a wave`, () => {
  const children: Child[] = []
  let peers: string[] = []
  let edges: Array<[number, number]> = []
  const where = (g: number): { c: number, local: number } => ({ c: Math.floor(g / PER_PROCESS), local: g % PER_PROCESS })
  const seed = Number(process.env.BAZAAR_SCALE_SEED ?? Date.now() % 1_000_000)

  beforeAll(async () => {
    for (let i = 0; i < PROCESSES; i++) children.push(child())
    const started = await Promise.all(children.map(async (c) => await c.call<{ addrs: string[], peers: string[] }>({ op: 'start', count: PER_PROCESS, meshDegree: MESH_DEGREE })))
    const addrs = started.flatMap((s) => s.addrs)
    peers = started.flatMap((s) => s.peers)
    edges = sparseGraph(N, DEGREE, seed)
    // the lower index dials
    const byChild: Array<Array<[number, string]>> = children.map(() => [])
    for (const [a, b] of edges) byChild[where(a).c].push([where(a).local, addrs[b]])
    await Promise.all(children.map(async (c, i) => { await c.call({ op: 'connect', edges: byChild[i] }) }))
    // suppliers and renters spread over all nodes
    const sup: Array<Array<[number, number]>> = children.map(() => [])
    const ren: Array<Array<[number, number]>> = children.map(() => [])
    for (let g = 0; g < SUPPLIERS; g++) sup[where(g % N).c].push([g, where(g % N).local])
    for (let g = 0; g < RENTERS; g++) ren[where((g * 7 + 3) % N).c].push([g, where((g * 7 + 3) % N).local])
    await Promise.all(children.map(async (c, i) => { await c.call({ op: 'signers', suppliers: sup[i], renters: ren[i] }) }))
  }, T(120_000))

  afterAll(async () => {
    await Promise.all(children.map(async (c) => { await c.call({ op: 'stop' }).catch(() => {}) }))
    for (const c of children) if (c.proc.exitCode == null) c.proc.kill('SIGKILL')
  }, 30_000)

  /** every connection, seen from both ends, is a gossip link both ways with the topic subscribed */
  async function oneWayPairs (): Promise<string[]> {
    const views = (await Promise.all(children.map(async (c) => await c.call<LinkView[][]>({ op: 'links' })))).flat()
    const bad: string[] = []
    for (const [a, b] of edges) {
      for (const [x, y] of [[a, b], [b, a]]) {
        const l = views[x].find((v) => v.peer === peers[y])
        if (l == null || !l.inbound || !l.outbound || !l.subscribed) bad.push(`${x}->${y} ${JSON.stringify(l ?? 'no connection')}`)
      }
    }
    return bad
  }

  it('every node accepts every message, no link is lost to a limit, none is left one-way, memory per node is bounded', async () => {
    await poll(async () => (await oneWayPairs()).length === 0, T(60_000), 'gossip links both ways on every edge').catch(async (err: Error) => {
      throw new Error(`${err.message}: ${(await oneWayPairs()).slice(0, 5).join('; ')} (seed ${seed})`)
    })

    const published: string[] = []
    for (let w = 0; w < WAVES; w++) {
      const waves = await Promise.all(children.map(async (c) => await c.call<{ ids: string[] }>({ op: 'wave', n: w, spreadMs: SPREAD_MS, offersEach: OFFERS_EACH, bidsEach: BIDS_EACH })))
      published.push(...waves.flatMap((x) => x.ids))
      // the next wave waits for this one everywhere: its higher sequences must not overtake it
      let counts: number[] = []
      await poll(async () => {
        counts = (await Promise.all(children.map(async (c) => await c.call<number[]>({ op: 'counts' })))).flat()
        return counts.every((n) => n >= published.length)
      }, T(60_000), `wave ${w} at every node`).catch(async (err: Error) => {
        const states = await Promise.all(children.map(async (c) => await c.call<StateView>({ op: 'state' })))
        const short = counts.map((n, i) => [i, published.length - n]).filter(([, m]) => m > 0)
        throw new Error(`${err.message}: nodes missing messages [node, missing]: ${JSON.stringify(short.slice(0, 10))}; refused: ${JSON.stringify(states.map((s) => s.refused)).slice(0, 1000)}; links lost: ${states.reduce((a, s) => a + s.dropped.flat().length, 0)}, counters of node 0: ${JSON.stringify((states[0] as StateView & { linkCounters: string[][] }).linkCounters[0])}, first: ${JSON.stringify(states.flatMap((s) => s.dropped.flat()).slice(0, 3))} (seed ${seed})`)
      })
    }
    expect(published).toHaveLength(WAVES * (SUPPLIERS * OFFERS_EACH + RENTERS * BIDS_EACH))
    expect(new Set(published).size).toBe(published.length)

    const states = await Promise.all(children.map(async (c) => await c.call<StateView>({ op: 'state' })))
    const want = new Set(published)
    for (const s of states) {
      for (const got of s.got) {
        expect(got.length).toBe(want.size)
        expect(got.every((id) => want.has(id))).toBe(true)
      }
    }
    // No link lost to a size or stream limit: those are what cut honest peers off before frames and
    // messages were bounded apart. A starved event loop (this test shares two cores with other
    // work) can still time out a stream negotiation (10 s) or see a stream reset; such losses are
    // counted and reported, and the link keeper must have restored every one of them: no edge is
    // left without a gossip link both ways.
    const lost = states.flatMap((s) => s.dropped.flat())
    const reasons = new Map<string, number>()
    for (const l of lost) {
      const r = /"reason":"([A-Za-z]+)"/.exec(l)?.[1] ?? 'unparsed'
      reasons.set(r, (reasons.get(r) ?? 0) + 1)
    }
    expect(lost.filter((l) => /InvalidDataLength|InvalidMessageLength|TooMany|"reason":"other"|unparsed/.test(l))).toEqual([])
    await poll(async () => (await oneWayPairs()).length === 0, T(60_000), 'every lost link restored').catch(async (err: Error) => {
      const final0 = await Promise.all(children.map(async (c) => await c.call<StateView & { closed: string[][], loopDelayMs: unknown }>({ op: 'state' })))
    const closed = final0.flatMap((s) => s.closed.flat())
    throw new Error(`${err.message}: ${(await oneWayPairs()).slice(0, 5).join('; ')}; connections closed: ${JSON.stringify(closed.slice(0, 12))}; event loop delay: ${JSON.stringify(final0.map((s) => s.loopDelayMs))} (seed ${seed})`)
    })
    // every connection is in the gossip router
    const degree = new Array<number>(N).fill(0)
    for (const [a, b] of edges) { degree[a]++; degree[b]++ }
    const final = await Promise.all(children.map(async (c) => await c.call<StateView>({ op: 'state' })))
    expect(final.flatMap((s) => s.routerPeers)).toEqual(degree)

    const frames = states.flatMap((s) => s.frames)
    const rssPerNode = states.map((s) => s.rss / PER_PROCESS)
    const summary = {
      seed,
      nodes: N,
      edges: edges.length,
      messages: published.length,
      ihaveIds: frames.reduce((a, f) => a + f.ihaveIds, 0),
      iwantIds: frames.reduce((a, f) => a + f.iwantIds, 0),
      framesOver8KiB: frames.reduce((a, f) => a + f.over8k, 0),
      largestFrame: Math.max(...frames.map((f) => f.largest)),
      linksLostAndRestored: Object.fromEntries(reasons),
      rssPerNodeMiB: rssPerNode.map((r) => Math.round(r / 1048576)),
      loopDelayMs: states.map((s) => (s as StateView & { loopDelayMs: unknown }).loopDelayMs)
    }
    process.stdout.write(`gossip scale: ${JSON.stringify(summary)}\n`)
    // IHAVE/IWANT gossip took part (non-mesh peers exist in this graph)
    expect(summary.ihaveIds).toBeGreaterThan(0)
    for (const r of rssPerNode) expect(r).toBeLessThan(MAX_RSS_PER_NODE)
  }, T(240_000))
})
