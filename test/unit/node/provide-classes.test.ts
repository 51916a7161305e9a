import { afterEach, describe, expect, it } from 'vitest'
import type { CID } from 'multiformats/cid'
import { MarketService } from '../../../src/node/market-service.js'
import { createLogger } from '../../../src/node/logger.js'
import { Registry } from '../../../src/node/metrics.js'
import { MarketMessageValidator } from '../../../src/protocols/gossip/validate.js'
import { gpuClassCid } from '../../../src/protocols/discovery/gpu-records.js'
import { ManualClock } from '../../../src/util/clock.js'
import type { Host } from '../../../src/node/host.js'

/**
 * A content router that records each provide and holds it open until told: the DHT's side of
 * `provideClasses`, which is all the method talks to.
 */
function routing (fail: (cid: string) => boolean = () => false): { host: Host, calls: string[], release: () => void, active: () => number } {
  const calls: string[] = []
  let waiting: Array<() => void> = []
  let active = 0
  const host = {
    services: { dht: {} },
    contentRouting: {
      provide: async (cid: CID, opts: { signal?: AbortSignal }): Promise<void> => {
        calls.push(cid.toString())
        active++
        try {
          await new Promise<void>((resolve, reject) => {
            waiting.push(resolve)
            opts.signal?.addEventListener('abort', () => { reject(opts.signal?.reason) })
          })
        } finally { active-- }
        if (fail(cid.toString())) throw new Error('no peers')
      }
    }
  } as unknown as Host
  return {
    host,
    calls,
    // releases every provide waiting now, and those that start while the queue drains
    release: () => { const w = waiting; waiting = []; for (const r of w) r() },
    active: () => active
  }
}

const services: MarketService[] = []
let clock: ManualClock
function service (host: Host): MarketService {
  clock = new ManualClock()
  const s = new MarketService({ host, clock, logger: createLogger({ level: 'warn', write: () => {} }), validator: new MarketMessageValidator({ clock }), metrics: new Registry() })
  services.push(s)
  return s
}
afterEach(async () => { for (const s of services.splice(0)) await s.stop() })

/** turns of the event loop until `cond` holds (the provides start after an async CID hash) */
async function until (cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((resolve) => setImmediate(resolve))
  expect(cond()).toBe(true)
}

async function drain (r: ReturnType<typeof routing>, done: Promise<void>): Promise<void> {
  let finished = false
  void done.then(() => { finished = true })
  while (!finished) {
    r.release()
    await new Promise((resolve) => setImmediate(resolve))
  }
}

describe('MarketService.provideClasses', () => {
  it('provides each class once, one at a time, however often offers are published', async () => {
    const r = routing()
    const s = service(r.host)
    const runs = Array.from({ length: 20 }, () => s.provideClasses(['h100-80gb', 'a100-40gb']))
    // one provide in flight, not one per publication
    await until(() => r.active() === 1)
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve))
    expect(r.active()).toBe(1)
    expect(r.calls.length).toBe(1)
    await drain(r, Promise.all(runs).then(() => {}))
    const expected = await Promise.all(['h100-80gb', 'h100', 'a100-40gb', 'a100'].map(async (c) => (await gpuClassCid(c)).toString()))
    expect(r.calls.sort()).toEqual(expected.sort())
    expect(s.providedClasses.sort()).toEqual(['a100', 'a100-40gb', 'h100', 'h100-80gb'])
    // later publications of the same classes start nothing
    await s.provideClasses(['h100-80gb'])
    expect(r.calls.length).toBe(4)
  })

  it('does not retry a failed class at the next publication', async () => {
    const failing = (await gpuClassCid('h100')).toString()
    const r = routing((cid) => cid === failing)
    const s = service(r.host)
    await drain(r, s.provideClasses(['h100-80gb']))
    expect(s.providedClasses).toEqual(['h100-80gb'])
    const before = r.calls.length
    await drain(r, s.provideClasses(['h100-80gb']))
    // the failed family waits for its retry timer
    expect(r.calls.length).toBe(before)
    // ... which fires a minute later on the service's clock, and tries that class alone again
    clock.advance(60_000 - 1)
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve))
    expect(r.calls.length).toBe(before)
    clock.advance(1)
    await until(() => r.calls.length === before + 1)
    expect(r.calls.at(-1)).toBe(failing)
    r.release()
  })

  it('stops an unfinished provide when the service stops', async () => {
    const r = routing()
    const s = service(r.host)
    const run = s.provideClasses(['h100-80gb'])
    await until(() => r.active() === 1)
    await s.stop()
    await run
    expect(r.active()).toBe(0)
    expect(s.providedClasses).toEqual([])
  })
})
