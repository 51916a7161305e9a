import { describe, expect, it } from 'vitest'
import { SubnetRegistry } from '../../../src/node/services/subnet-registry.js'
import { createLogger } from '../../../src/node/logger.js'
import { OrderBook } from '../../../src/market/book/order-book.js'
import { offerKey } from '../../../src/market/book/keys.js'
import { STANDING } from '../../../src/market/types.js'
import { ManualClock } from '../../../src/util/clock.js'
import { T0, mkOffer, party } from '../market/book-fixtures.js'

const hexOf = (n: number): string => Buffer.from(party(n)).toString('hex')

/** a chain whose reads of the registered hotkeys the test answers by hand */
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
})
