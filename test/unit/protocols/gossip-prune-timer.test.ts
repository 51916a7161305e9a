import { describe, expect, it, vi } from 'vitest'
import { MarketGossip, type MarketGossipComponents } from '../../../src/protocols/gossip/service.js'
import { ManualClock } from '../../../src/util/clock.js'

/** the parts of gossipsub that start() and stop() touch */
function fakePubsub (): MarketGossipComponents['pubsub'] {
  const target = new EventTarget()
  return {
    topicValidators: new Map(),
    subscribe: () => {},
    unsubscribe: () => {},
    addEventListener: target.addEventListener.bind(target),
    removeEventListener: target.removeEventListener.bind(target)
  } as unknown as MarketGossipComponents['pubsub']
}

describe('market gossip on the node clock', () => {
  it('prunes the validator\'s seen-cache every minute of its clock, and leaves no timer after stop', () => {
    const clock = new ManualClock()
    const gossip = new MarketGossip({ pubsub: fakePubsub(), clock }, { onMessage: () => {}, verifyWorkers: 0 })
    const prune = vi.spyOn(gossip.validator, 'prune')
    gossip.start()
    clock.advance(59_999)
    expect(prune).not.toHaveBeenCalled()
    clock.advance(1)
    expect(prune).toHaveBeenCalledTimes(1)
    clock.advance(120_000)
    expect(prune).toHaveBeenCalledTimes(3)
    gossip.stop()
    expect(clock.pending).toBe(0)
  })
})
