import { describe, expect, it } from 'vitest'
import { REGISTRY_DB_PREFIX, REGISTRY_RETRY_MS, REGISTRY_STORED_MAX_AGE_MS, SubnetRegistry, type RegistryStore } from '../../../src/node/services/subnet-registry.js'
import { createLogger } from '../../../src/node/logger.js'
import { OrderBook } from '../../../src/market/book/order-book.js'
import { offerKey } from '../../../src/market/book/keys.js'
import { STANDING } from '../../../src/market/types.js'
import { ManualClock } from '../../../src/util/clock.js'
import { T0, mkOffer, party } from '../market/book-fixtures.js'

const hexOf = (n: number): string => Buffer.from(party(n)).toString('hex')

/** a chain whose reads of the registered hotkeys the test answers by hand */
/** a database's get/put over a Map */
function memoryStore (): RegistryStore & { map: Map<string, string> } {
  const map = new Map<string, string>()
  return { map, get: async (k) => map.get(k), put: async (k, v) => { map.set(k, v) } }
}

function fakeChain (): { registeredHotkeys: (netuid: number, opts?: { signal?: AbortSignal }) => Promise<ReadonlySet<string>>, reads: Array<{ netuid: number, end: (r: ReadonlySet<string> | Error) => void }> } {
  const reads: Array<{ netuid: number, end: (r: ReadonlySet<string> | Error) => void }> = []
  return {
    reads,
    registeredHotkeys: async (netuid, opts = {}) => await new Promise<ReadonlySet<string>>((resolve, reject) => {
      reads.push({ netuid, end: (r) => { if (r instanceof Error) reject(r); else resolve(r) } })
      opts.signal?.addEventListener('abort', () => { reject(opts.signal?.reason) }, { once: true })
    })
  }
}

const settle = async (): Promise<void> => { for (let i = 0; i < 5; i++) await Promise.resolve() }

describe('subnet registry', () => {
  it('ranks the node\'s own hotkey, then those the chain says are registered; reads again every interval and keeps the last set on a failure', async () => {
    const clock = new ManualClock(T0)
    const chain = fakeChain()
    const lines: string[] = []
    let changes = 0
    const registry = new SubnetRegistry({ ownHotkey: hexOf(3), clock, logger: createLogger({ level: 'info', write: (l) => { lines.push(l) } }), netuid: 7, intervalMs: 60_000, onChange: () => { changes++ } })
    const of = (n: number): number => registry.standingOf(party(n), hexOf(n))
    // before any read: only the node's own hotkey stands out
    expect([of(1), of(3)]).toEqual([STANDING.none, STANDING.own])
    registry.watch(chain)
    await registry.start()
    expect(chain.reads.map((r) => r.netuid)).toEqual([7])
    chain.reads[0].end(new Set([hexOf(1), hexOf(3)]))
    await settle()
    expect([of(1), of(2), of(3)]).toEqual([STANDING.registered, STANDING.none, STANDING.own])
    expect(registry.size).toBe(2)
    expect(changes).toBe(1)
    expect(lines.some((l) => l.includes('hotkeys registered on the subnet'))).toBe(true)

    // the next read fails: the set stands, and the failure is logged
    clock.advance(60_000)
    expect(chain.reads).toHaveLength(2)
    chain.reads[1].end(new Error('endpoint gone'))
    await settle()
    expect(of(1)).toBe(STANDING.registered)
    expect(lines.some((l) => l.includes('last set stands') && l.includes('endpoint gone'))).toBe(true)
    expect(changes).toBe(1)

    // a deregistration shows at the read after it
    clock.advance(60_000)
    chain.reads[2].end(new Set([hexOf(2)]))
    await settle()
    expect([of(1), of(2)]).toEqual([STANDING.none, STANDING.registered])
    // a changed set is a change; the same set read again is not
    expect(changes).toBe(2)
    clock.advance(60_000)
    chain.reads[3].end(new Set([hexOf(2)]))
    await settle()
    expect(changes).toBe(2)

    // a read still running at stop is abandoned, and no timer is left
    clock.advance(60_000)
    expect(chain.reads).toHaveLength(5)
    await registry.stop()
    clock.advance(600_000)
    expect(chain.reads).toHaveLength(5)
  })

  it('without a chain that has subnets it reads nothing; as the book\'s standing, a free hotkey cannot evict a registered offer', async () => {
    const clock = new ManualClock(T0)
    const registry = new SubnetRegistry({ ownHotkey: hexOf(3), clock, logger: createLogger({ level: 'error', write: () => {} }), netuid: 1 })
    registry.watch({})
    await registry.start()
    await registry.refresh()
    expect(registry.size).toBe(0)

    const chain = fakeChain()
    registry.watch(chain)
    const done = registry.refresh()
    chain.reads[0].end(new Set([hexOf(1)]))
    await done
    const book = new OrderBook({ clock, maxOffers: 1, standing: registry.standingOf })
    book.upsertOffer(mkOffer({ id: 'r', supplierN: 1 }))
    expect(() => book.upsertOffer(mkOffer({ id: 's', supplierN: 9, expiresAt: BigInt(T0 + 86_400_000) }))).toThrow(/book full/)
    expect(book.getOffer(offerKey(mkOffer({ id: 'r', supplierN: 1 })))).toBeDefined()
    await registry.stop()
  })

  it('after a failed read, reads again sooner: the retry wait doubles up to the interval, and a success goes back to the interval', async () => {
    const clock = new ManualClock(T0)
    const chain = fakeChain()
    const registry = new SubnetRegistry({ ownHotkey: hexOf(3), clock, logger: createLogger({ level: 'error', write: () => {} }), netuid: 7, intervalMs: 600_000 })
    registry.watch(chain)
    await registry.start()
    chain.reads[0].end(new Error('endpoint gone'))
    await settle()
    // the first retry after REGISTRY_RETRY_MS, not after the interval
    clock.advance(REGISTRY_RETRY_MS - 1)
    expect(chain.reads).toHaveLength(1)
    clock.advance(1)
    expect(chain.reads).toHaveLength(2)
    chain.reads[1].end(new Error('endpoint gone'))
    await settle()
    // then twice that
    clock.advance(2 * REGISTRY_RETRY_MS - 1)
    expect(chain.reads).toHaveLength(2)
    clock.advance(1)
    expect(chain.reads).toHaveLength(3)
    chain.reads[2].end(new Set([hexOf(1)]))
    await settle()
    expect(registry.standingOf(party(1), hexOf(1))).toBe(STANDING.registered)
    // a success: the interval again
    clock.advance(4 * REGISTRY_RETRY_MS)
    expect(chain.reads).toHaveLength(3)
    clock.advance(600_000 - 4 * REGISTRY_RETRY_MS)
    expect(chain.reads).toHaveLength(4)
    await registry.stop()
  })

  it('keeps each set read with the chain\'s genesis; a start on the same chain and subnet uses it until its own first read answers', async () => {
    const clock = new ManualClock(T0)
    const store = memoryStore()
    const lines: string[] = []
    const logger = createLogger({ level: 'info', write: (l) => { lines.push(l) } })
    const onChain = (genesis: string): ReturnType<typeof fakeChain> & { info: () => Promise<{ genesis: string }> } => Object.assign(fakeChain(), { info: async () => ({ genesis }) })
    const of = (r: SubnetRegistry, n: number): number => r.standingOf(party(n), hexOf(n))

    // a first run reads {1, 2} and keeps it
    const first = new SubnetRegistry({ ownHotkey: hexOf(3), clock, logger, netuid: 7, store })
    const chain1 = onChain('0xaa')
    first.watch(chain1)
    await first.start()
    chain1.reads[0].end(new Set([hexOf(1), hexOf(2)]))
    await settle()
    await first.stop()
    const kept = JSON.parse(store.map.get(`${REGISTRY_DB_PREFIX}:7`) ?? '{}')
    expect(kept).toMatchObject({ v: 1, genesis: '0xaa', netuid: 7, readAt: T0 })
    expect(kept.hotkeys.sort()).toEqual([hexOf(1), hexOf(2)].sort())

    // the next start, its read not answered yet: the kept set stands in, and the book is told
    clock.advance(3_600_000)
    let changes = 0
    const second = new SubnetRegistry({ ownHotkey: hexOf(3), clock, logger, netuid: 7, store, onChange: () => { changes++ } })
    const chain2 = onChain('0xaa')
    second.watch(chain2)
    await second.start()
    expect([of(second, 1), of(second, 2), of(second, 4)]).toEqual([STANDING.registered, STANDING.registered, STANDING.none])
    expect(changes).toBe(1)
    expect(lines.some((l) => l.includes('as last read, until the chain answers'))).toBe(true)
    // its own read answers: that set, kept in turn
    chain2.reads[0].end(new Set([hexOf(4)]))
    await settle()
    expect([of(second, 1), of(second, 4)]).toEqual([STANDING.none, STANDING.registered])
    expect(changes).toBe(2)
    expect(JSON.parse(store.map.get(`${REGISTRY_DB_PREFIX}:7`) ?? '{}').hotkeys).toEqual([hexOf(4)])
    await second.stop()

    // not used: another chain, another subnet, a set older than the bound, a damaged record
    const unused = async (genesis: string, netuid: number): Promise<number> => {
      const r = new SubnetRegistry({ ownHotkey: hexOf(3), clock, logger, netuid, store })
      r.watch(onChain(genesis))
      await r.start()
      const standing = of(r, 4)
      await r.stop()
      return standing
    }
    expect(await unused('0xbb', 7)).toBe(STANDING.none)
    store.map.set(`${REGISTRY_DB_PREFIX}:8`, store.map.get(`${REGISTRY_DB_PREFIX}:7`) ?? '')
    expect(await unused('0xaa', 8)).toBe(STANDING.none)
    expect(await unused('0xaa', 7)).toBe(STANDING.registered)
    clock.advance(REGISTRY_STORED_MAX_AGE_MS + 1)
    expect(await unused('0xaa', 7)).toBe(STANDING.none)
    clock.advance(-REGISTRY_STORED_MAX_AGE_MS - 1)
    for (const damaged of ['{', '[]', JSON.stringify({ ...kept, hotkeys: ['not hex'] }), JSON.stringify({ ...kept, hotkeys: 5 })]) {
      store.map.set(`${REGISTRY_DB_PREFIX}:7`, damaged)
      expect(await unused('0xaa', 7)).toBe(STANDING.none)
    }

    // a genesis that could not be read at start is asked again when a set is read, and the set kept
    const store3 = memoryStore()
    let infoCalls = 0
    const flaky = Object.assign(fakeChain(), { info: async () => { if (++infoCalls === 1) throw new Error('slow chain'); return { genesis: '0xcc' } } })
    const late = new SubnetRegistry({ ownHotkey: hexOf(3), clock, logger, netuid: 7, store: store3 })
    late.watch(flaky)
    await late.start()
    flaky.reads[0].end(new Set([hexOf(5)]))
    await settle()
    await late.stop()
    expect(JSON.parse(store3.map.get(`${REGISTRY_DB_PREFIX}:7`) ?? '{}')).toMatchObject({ genesis: '0xcc', hotkeys: [hexOf(5)] })

    // a chain that does not say its genesis: nothing is kept or used
    const store2 = memoryStore()
    const plain = new SubnetRegistry({ ownHotkey: hexOf(3), clock, logger, netuid: 7, store: store2 })
    const chain3 = fakeChain()
    plain.watch(chain3)
    await plain.start()
    chain3.reads[0].end(new Set([hexOf(1)]))
    await settle()
    await plain.stop()
    expect(store2.map.size).toBe(0)
  })
})
