import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Level } from 'level'
import { Keyring } from '@polkadot/keyring'
import { cryptoWaitReady } from '@polkadot/util-crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { OWN_PUBLISH_BURST, OwnMessages, republishSchedule, type OwnMessagesComponents } from '../../../src/node/own-messages.js'
import type { OfferInput } from '../../../src/node/market-input.js'
import { createLogger } from '../../../src/node/logger.js'
import { MessageSigner } from '../../../src/market/signing/index.js'
import { MarketMessageValidator, type ValidatedMessage, type ValidatedOffer } from '../../../src/protocols/gossip/validate.js'
import { ManualClock } from '../../../src/util/clock.js'
import { waitFor } from '../../helpers/wait.js'

const offer = (id: string, pricePerGpuHour = 2_000_000_000n): OfferInput => ({
  id, gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 1 }], teeKinds: ['simulated'], region: 'eu-west',
  pricePerGpuHour, netuid: 1, minDurationS: 60, maxDurationS: 3600, ttlS: 3000
})

/**
 * A node's own offers go out one at a time: each is read, given its sequence, signed, stored and
 * published in one turn. Published through the market validator, as MarketGossip publishes them
 * (a node never sends what its peers would refuse), so a message the network would drop as stale
 * is refused here too.
 */
describe('OwnMessages: our offers are signed and published in turn', () => {
  let dir = ''
  let db: Level<string, string>
  let clock: ManualClock
  let own: OwnMessages
  /** every message the validator accepted, in publication order */
  let accepted: ValidatedMessage[]
  let warnings: string[]
  /** the pacer's waits on the clock so far */
  let sleeping: number
  /** the clock's time at each accepted message */
  let acceptedAt: number[]
  /** an OwnMessages over this test's database, validator and clock (and what a test adds) */
  let make: (republishDueMs: number, more?: Partial<Pick<OwnMessagesComponents, 'republishSpreadMs' | 'signal' | 'running' | 'gossip'>>) => OwnMessages

  beforeEach(async () => {
    await cryptoWaitReady()
    dir = await mkdtemp(path.join(tmpdir(), 'bazaar-own-'))
    db = new Level<string, string>(dir, { valueEncoding: 'utf8' })
    await db.open()
    clock = new ManualClock(Date.now())
    sleeping = 0
    // the clock's own sleep, counted (no real time passes: the test moves the clock)
    const clockSleep = clock.sleep.bind(clock)
    clock.sleep = async (ms, opts) => { sleeping++; await clockSleep(ms, opts) }
    const validator = new MarketMessageValidator({ clock })
    accepted = []
    warnings = []
    const hotkey = new Keyring({ type: 'sr25519' }).addFromUri('//OwnMessages')
    const signer = MessageSigner.create(hotkey, { now: clock.now() })
    const enclavePeer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    acceptedAt = []
    make = (republishDueMs, more = {}) => new OwnMessages({
      db,
      gossip: {
        publish: async (topic, data) => {
          const message = validator.validate(topic, data)
          accepted.push(message)
          acceptedAt.push(clock.now())
          return { recipients: 0, message }
        }
      },
      signer,
      clock,
      logger: createLogger({ level: 'warn', write: (line) => { warnings.push(line) } }),
      listenAddrs: () => [multiaddr('/ip4/127.0.0.1/tcp/4001').bytes],
      enclavePeer,
      supplies: () => true,
      role: 'supplier',
      provideClasses: async () => {},
      running: () => true,
      republishDueMs,
      ...more
    })
    // every standing message due at once (a re-publication sends all of them), unless a test says otherwise
    own = make(0)
  })
  afterEach(async () => {
    await db.close()
    await rm(dir, { recursive: true, force: true })
  })

  const last = (id: string): ValidatedOffer | undefined =>
    accepted.filter((m): m is ValidatedOffer => m.kind === 'offer' && m.offer.id === id).at(-1)

  it('has each sequence in the database before its message is sent, so a restart with the clock set back signs above all of them', async () => {
    // the stored sequence at the moment each message left, beside the message's own
    const storedAtSend: Array<[bigint, bigint]> = []
    const sent: bigint[] = []
    const validator = new MarketMessageValidator({ clock })
    const withCheck = (): OwnMessages => make(0, {
      gossip: {
        publish: async (topic, data) => {
          const message = validator.validate(topic, data)
          const seq = message.kind === 'offer' ? message.offer.sequence : (message as { bid: { sequence: bigint } }).bid.sequence
          storedAtSend.push([BigInt(await db.get('v1-meta:sequence') ?? '0'), seq])
          sent.push(seq)
          return { recipients: 0, message }
        }
      }
    })
    const first = withCheck()
    await first.publishOffer(offer('a'))
    await first.publishOffer(offer('b'))
    // the clock stands still: the sequences run ahead of it, one apart
    await first.publishOffer(offer('a', 3_000_000_000n))
    await first.cancelOffer('b')
    await first.republish()
    expect(sent.length).toBe(5)
    for (const [stored, seq] of storedAtSend) expect(stored).toBe(seq)
    // a restart an hour back in time: the clock's floor is below every sequence sent
    clock.set(clock.now() - 3_600_000)
    const second = withCheck()
    await second.publishOffer(offer('c'))
    expect(sent.at(-1)).toBeGreaterThan(sent.slice(0, -1).reduce((a, b) => (a > b ? a : b)))
  })

  it('signs the container runtime and its images into an offer that has them, the image into a bid, and neither into a process offer or a cancel', async () => {
    await own.publishOffer({ ...offer('containers'), images: ['docker.io/pytorch/pytorch:*'] })
    expect(last('containers')?.offer).toMatchObject({ runtime: 'container', images: ['docker.io/pytorch/pytorch:*'] })
    await own.publishOffer({ ...offer('any-image'), images: [] })
    expect(last('any-image')?.offer).toMatchObject({ runtime: 'container', images: [] })
    await own.publishOffer(offer('processes'))
    expect(last('processes')?.offer.runtime).toBeUndefined()
    await own.cancelOffer('containers')
    expect(last('containers')?.offer).toMatchObject({ cancelled: true, images: [] })
    expect(last('containers')?.offer.runtime).toBeUndefined()
    const bid = { id: 'job', gpu: 'h100', minMemoryMib: 0, count: 1, teeKinds: [], regions: [], maxPricePerGpuHour: 3_000_000_000n, netuid: 1, durationS: 600, ttlS: 600 }
    expect((await own.publishBid({ ...bid, image: 'docker.io/pytorch/pytorch:2.4' })).bid.requirements?.image).toBe('docker.io/pytorch/pytorch:2.4')
    expect((await own.publishBid({ ...bid, id: 'plain' })).bid.requirements?.image).toBeUndefined()
  })

  it('publishes every one of concurrent publications of one id, each above the one before', async () => {
    const prices = [1n, 2n, 3n, 4n, 5n].map((k) => k * 1_000_000_000n)
    const results = await Promise.allSettled(prices.map(async (p) => await own.publishOffer(offer('same', p))))
    // before turns, two of them could read the same last sequence and sign the same one: the
    // second was refused as STALE_SEQUENCE (an HTTP 400 to the operator's API call)
    expect(results.map((r) => r.status)).toEqual(prices.map(() => 'fulfilled'))
    const same = accepted.filter((m): m is ValidatedOffer => m.kind === 'offer' && m.offer.id === 'same')
    expect(same.map((m) => m.offer.pricePerGpuHour).sort()).toEqual(prices)
    for (let i = 1; i < same.length; i++) expect(same[i].offer.sequence).toBeGreaterThan(same[i - 1].offer.sequence)
  }, 30_000)

  it('never brings back an offer cancelled while a re-publication runs', async () => {
    // the pacer's burst spent: from here every publication waits for its turn on the clock
    for (let i = 0; i < OWN_PUBLISH_BURST; i++) await own.publishOffer(offer(`o-${i}`))
    expect(sleeping).toBe(0)
    const republished = own.republish()
    await waitFor(() => sleeping === 1, 10_000, 'the re-publication waiting for its first turn')
    const cancelled = own.cancelOffer('o-5')
    await waitFor(() => sleeping === 2, 10_000, 'the cancel waiting for its turn')
    await clock.advanceAsync(10_000)
    await Promise.all([republished, cancelled])

    // the cancel stands: the re-publication, which read o-5 before it was cancelled, did not sign
    // the old offer again above the cancel's sequence (which every node would then have held
    // until it expired)
    expect(last('o-5')?.offer.cancelled).toBe(true)
    // every other offer went out again, and nothing was refused
    for (let i = 0; i < OWN_PUBLISH_BURST; i++) {
      if (i !== 5) expect(accepted.filter((m) => m.kind === 'offer' && m.offer.id === `o-${i}`).length, `o-${i}`).toBe(2)
    }
    expect(warnings).toEqual([])
  }, 60_000)

  it('refuses a replacement no node would accept before storing it: the standing offer stays, and is re-published as it was', async () => {
    await own.publishOffer(offer('o-1'))
    // a minimum duration over the maximum: BAD_FIELD, as every validator says
    await expect(own.publishOffer({ ...offer('o-1', 9_000_000_000n), minDurationS: 7200, maxDurationS: 3600 })).rejects.toMatchObject({ code: 'BAD_FIELD' })
    // a new id refused the same way stands nowhere
    await expect(own.publishOffer({ ...offer('o-2'), minDurationS: 7200, maxDurationS: 3600 })).rejects.toMatchObject({ code: 'BAD_FIELD' })
    expect(accepted).toHaveLength(1)
    await own.republish()
    expect(accepted.map((m) => (m as ValidatedOffer).offer.id)).toEqual(['o-1', 'o-1'])
    expect(last('o-1')?.offer.pricePerGpuHour).toBe(2_000_000_000n)
    expect(warnings).toEqual([])
  })

  it('re-publishes an offer replaced during the run with its new terms', async () => {
    for (let i = 0; i < OWN_PUBLISH_BURST; i++) await own.publishOffer(offer(`o-${i}`))
    const republished = own.republish()
    await waitFor(() => sleeping === 1, 10_000, 'the re-publication waiting for its first turn')
    const replaced = own.publishOffer(offer('o-7', 9_000_000_000n))
    await waitFor(() => sleeping === 2, 10_000, 'the replacement waiting for its turn')
    await clock.advanceAsync(10_000)
    await Promise.all([republished, replaced])
    expect(last('o-7')?.offer.pricePerGpuHour).toBe(9_000_000_000n)
    expect(warnings).toEqual([])
  }, 60_000)

  it('re-publishes each standing offer once it is due, not one sent within its period', async () => {
    // looks every eighth of the period and spreads what is due over half a look; due after the
    // period less a look and a half, so never sent later than the period
    expect(republishSchedule(120)).toEqual({ tickMs: 15_000, dueMs: 97_500, spreadMs: 7500 })
    expect(republishSchedule(5)).toEqual({ tickMs: 1000, dueMs: 3500, spreadMs: 500 })
    expect(republishSchedule(1)).toEqual({ tickMs: 1000, dueMs: 3500, spreadMs: 500 })
    const { dueMs } = republishSchedule(120)
    own = make(dueMs)
    const sent = (): number[] => ['a', 'b', 'c'].map((id) => accepted.filter((m) => m.kind === 'offer' && m.offer.id === id).length)

    await own.publishOffer(offer('a'))
    await own.publishOffer(offer('b'))
    await clock.advanceAsync(60_000)
    // b replaced and c published through the API: both sent now
    await own.publishOffer(offer('b', 3_000_000_000n))
    await own.publishOffer(offer('c'))
    await clock.advanceAsync(45_000)
    // a was sent 105 s ago: due; b and c 45 s ago: not (before, all three were signed and sent again)
    await own.republish()
    expect(sent()).toEqual([2, 2, 1])
    await clock.advanceAsync(60_000)
    // now b and c are 105 s old, a (re-published) 60 s
    await own.republish()
    expect(sent()).toEqual([2, 3, 2])
    expect(last('b')?.offer.pricePerGpuHour).toBe(3_000_000_000n)

    // a cancelled offer is never due; after a restart every standing one is, at once
    await own.cancelOffer('c')
    own = make(dueMs)
    await own.republish()
    expect(sent()).toEqual([3, 4, 3])
    expect(last('c')?.offer.cancelled).toBe(true)
    expect(warnings).toEqual([])
  })

  it('spreads a timer\'s re-publication evenly over its spread, and stops waiting when the node closes', async () => {
    for (const id of ['a', 'b', 'c', 'd']) await own.publishOffer(offer(id))
    const count = (): number => accepted.length - 4
    own = make(0, { republishSpreadMs: 8000 })
    const t0 = clock.now()
    const run = own.republish({ spread: true })
    // one goes at once, the next waits a quarter of the spread on the clock
    await waitFor(() => sleeping === 1, 10_000, 'the second re-publication waiting for its time')
    expect(count()).toBe(1)
    for (let k = 2; k <= 3; k++) {
      await clock.advanceAsync(2000)
      await waitFor(() => sleeping === k, 10_000, `re-publication ${k + 1} waiting for its time`)
      expect(count()).toBe(k)
    }
    await clock.advanceAsync(2000)
    await run
    expect(count()).toBe(4)
    expect(acceptedAt.slice(4).map((t) => t - t0)).toEqual([0, 2000, 4000, 6000])
    // the start's run (no spread) sends everything due at once, at the pacer's rate
    await own.republish()
    expect(count()).toBe(8)
    expect(acceptedAt.slice(8).every((t) => t === acceptedAt[8])).toBe(true)

    // closing: the wait ends with the node's signal, and nothing more is sent or warned about
    const closing = new AbortController()
    let running = true
    own = make(0, { republishSpreadMs: 8000, signal: closing.signal, running: () => running })
    const waits = sleeping
    const stopped = own.republish({ spread: true })
    await waitFor(() => sleeping === waits + 1, 10_000, 'the second re-publication waiting for its time')
    running = false
    closing.abort()
    await stopped
    expect(count()).toBe(9)
    expect(warnings).toEqual([])
  })

  it('leaves the pacer room for the API while a spread re-publication runs, where one sent at once fills it', async () => {
    for (let i = 0; i < OWN_PUBLISH_BURST; i++) await own.publishOffer(offer(`o-${i}`))
    await clock.advanceAsync(10_000)
    // spread: 100 re-publications over 8 s, one every 80 ms, while the pacer refills at 100/s
    own = make(0, { republishSpreadMs: 8000 })
    const t0 = clock.now()
    const run = own.republish({ spread: true })
    // the clock moves one re-publication at a time (each reads the database between its waits)
    for (let i = 1; i < OWN_PUBLISH_BURST; i++) {
      await waitFor(() => sleeping === i, 10_000, `re-publication ${i + 1} waiting for its time`)
      if (i === OWN_PUBLISH_BURST / 2) {
        // half way: the API publication goes out at once
        await own.publishOffer(offer('api'))
        expect(sleeping).toBe(i)
      }
      await clock.advanceAsync(80)
    }
    await run
    // each re-publication at its time in the spread: none waited for the pacer
    const times = accepted.flatMap((m, i) => i >= OWN_PUBLISH_BURST && m.kind === 'offer' && m.offer.id !== 'api' ? [acceptedAt[i] - t0] : [])
    expect(times).toEqual(Array.from({ length: OWN_PUBLISH_BURST }, (_, i) => i * 80))

    // at once (the start's run): the re-publication spends the pacer's burst, and the API waits behind it
    own = make(0)
    const before = sleeping
    const atOnce = own.republish()
    // 101 standing offers: the last one waits for the pacer
    await waitFor(() => sleeping === before + 1, 10_000, 'the re-publication\'s last offer waiting for the pacer')
    const queued = own.publishOffer(offer('api-2'))
    await waitFor(() => sleeping === before + 2, 10_000, 'the API publication waiting behind the re-publication')
    expect(last('api-2')).toBeUndefined()
    await clock.advanceAsync(1000)
    await Promise.all([atOnce, queued])
    expect(last('api-2')).toBeDefined()
    expect(warnings).toEqual([])
  }, 60_000)
})
