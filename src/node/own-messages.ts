import type { Level } from 'level'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import type { Clock } from '../util/clock.js'
import type { MessageSigner } from '../market/signing/index.js'
import type { Bid, Offer } from '../wire/market.js'
import type { MarketGossip } from '../protocols/gossip/service.js'
import { sealBid, sealOffer } from '../protocols/gossip/envelope.js'
import { validateBidSchema, validateOfferSchema } from '../market/validation/index.js'
import { TOPIC_BIDS, TOPIC_OFFERS } from '../protocols/gossip/topics.js'
import type { ValidatedBid, ValidatedOffer } from '../protocols/gossip/validate.js'
import { ApiError } from './api/server.js'
import { SerialQueue } from '../util/serial.js'
import { inputToJson, type BidInput, type OfferInput } from './market-input.js'
import type { Logger } from './logger.js'
import { DEFAULT_MAX_BIDS_PER_RENTER, DEFAULT_MAX_OFFERS_PER_SUPPLIER } from '../market/constants.js'
import { CONTAINER_RUNTIME } from '../market/validation/constants.js'

/** Key prefixes in the node's database (stable; a retired prefix is never reused). */
export const OWN_DB = {
  meta: 'v1-meta',
  ownOffers: 'v1-own-offers',
  ownBids: 'v1-own-bids'
} as const

/** where the last sequence taken is kept */
const SEQUENCE_KEY = `${OWN_DB.meta}:sequence`

/**
 * The pace of our own publications, cancels and re-publications together: 100 messages/s with a
 * burst of 100. A receiving node ignores a forwarding peer past 200 messages/s (burst 400,
 * docs/protocol.md §2.5), counting what that peer forwards for others too; a node that published
 * faster than that would lose its own messages at its neighbours (measured: 334 of 2,000 offers
 * published back to back through the control API were RATE_LIMITED at the receiver). Half the
 * limit leaves the other half for the traffic the link forwards.
 */
export const OWN_PUBLISH_RATE_PER_S = 100
export const OWN_PUBLISH_BURST = 100

/**
 * When our standing messages go out again, for a re-publication period (`market.republishS`, at
 * least 5 s): the node looks every eighth of the period (at least every second), and sends what is
 * due spread evenly over half a look (`spreadMs`) rather than in one burst. A message is due once
 * the period less a look and a half has passed since it was last sent, so each is sent again
 * between 13/16 and all of the period after its last sending, never later, and never outlives its
 * expiry (the period is below every offer's lifetime). A message published or replaced through the
 * API meanwhile waits its own period: a supplier that updates its offers is not made to sign and
 * gossip them again in one burst, and no node validates a copy a few seconds newer than the last.
 *
 * Why the spread: a supplier's offers, published together, fall due together, and re-publications
 * share the pacer with the API's publications. Sent at once, a supplier's 200 offers spend the
 * pacer's burst and a second more of its rate, and an offer published through the API meanwhile
 * waits behind them (up to a second, against the API's 50 ms goal); every neighbour takes the 200
 * in one burst too. Spread over 7.5 s (the default period), they go out at 27 a second, the pacer
 * keeps its room, and the network sees a trickle (`own-messages.test.ts`).
 */
export function republishSchedule (republishS: number): { tickMs: number, dueMs: number, spreadMs: number } {
  const periodMs = Math.max(5, republishS) * 1000
  const tickMs = Math.max(1000, Math.floor(periodMs / 8))
  const spreadMs = Math.floor(tickMs / 2)
  return { tickMs, dueMs: periodMs - tickMs - spreadMs, spreadMs }
}

/** one of our offers or bids as stored: the input it was built from, and whether it still stands */
interface OwnRecord { input: string, active: boolean }

export interface OwnMessagesComponents {
  db: Level<string, string>
  gossip: Pick<MarketGossip, 'publish'>
  signer: MessageSigner
  clock: Clock
  logger: Logger
  /** the node's listen addresses, first ones first (an offer or bid carries up to four) */
  listenAddrs: () => Uint8Array[]
  /** the peer whose enclave serves offers that name none */
  enclavePeer: PeerId
  /** whether the node's role makes offers (supplier or both) */
  supplies: () => boolean
  role: string
  /** the GPU classes an offer names are announced in the DHT */
  provideClasses: (models: string[]) => Promise<void>
  /** false once the node closes: a re-publication in flight stops */
  running: () => boolean
  /** how long after its last sending a standing message is due to go out again (`republishSchedule`) */
  republishDueMs: number
  /** how long a spread re-publication takes to send what is due (`republishSchedule`); default 0, at once */
  republishSpreadMs?: number
  /** aborted when the node closes: a spread re-publication's wait ends with it */
  signal?: AbortSignal
}

/**
 * How one kind of our own messages is stored, built, sealed and published: offers and bids differ
 * only here, so publishing, cancelling and re-publishing are written once for both.
 */
interface Kind<I, M> {
  noun: 'offer' | 'bid'
  prefix: string
  /** the most of ours that may stand at once: what every node's book keeps per party */
  limit: number
  topic: typeof TOPIC_OFFERS | typeof TOPIC_BIDS
  build: (i: I, cancelled: boolean) => Promise<M>
  /** the schema every node checks (throws MessageError): run before the message is stored */
  check: (m: M) => void
  seal: (m: M) => Uint8Array
  parse: (json: string) => I
}

/**
 * This node's own offers and bids: each is signed with the next durable sequence, stored before it
 * is published, cancelled by a signed cancel of a higher sequence, and re-published with a fresh
 * expiry while it stands (after a restart too). One re-publication runs at a time.
 */
export class OwnMessages {
  private republishing?: Promise<void>
  /** the last sequence taken (read from the database on first use) */
  private sequence?: bigint
  /**
   * Our messages' turns: each is read from the database, given its sequence, signed, stored and
   * published in one turn, so a later one always signs a higher sequence and publishes after an
   * earlier one. Two publications of one id never share a sequence (the second was refused as
   * STALE_SEQUENCE), and a re-publication that reads an offer after its cancel finds it cancelled
   * instead of signing the old offer again above the cancel's sequence, which brought a cancelled
   * offer back to the network until it expired.
   */
  private readonly turns = new SerialQueue()
  /** the pacer's theoretical arrival time (GCRA): when the next publication is due at the steady rate */
  private paceTat = 0
  /**
   * when each of our standing messages was last sent, by its database key: this process's sendings
   * only, so after a restart every one is due at once
   */
  private readonly sentAt = new Map<string, number>()
  /**
   * the ids of our standing messages (an active record stored), per kind: read from the database on
   * first use in a turn, and changed only in turns, after the write that changes what stands
   */
  private readonly standing = new Map<string, Set<string>>()
  private readonly offers: Kind<OfferInput, Offer>
  private readonly bids: Kind<BidInput, Bid>

  constructor (private readonly c: OwnMessagesComponents) {
    this.offers = {
      noun: 'offer',
      prefix: OWN_DB.ownOffers,
      limit: DEFAULT_MAX_OFFERS_PER_SUPPLIER,
      topic: TOPIC_OFFERS,
      build: async (i, cancelled) => await this.buildOffer(i, cancelled),
      check: validateOfferSchema,
      seal: (m) => sealOffer(m, c.signer),
      parse: parseStoredOffer
    }
    this.bids = {
      noun: 'bid',
      prefix: OWN_DB.ownBids,
      limit: DEFAULT_MAX_BIDS_PER_RENTER,
      topic: TOPIC_BIDS,
      build: async (i, cancelled) => await this.buildBid(i, cancelled),
      check: validateBidSchema,
      seal: (m) => sealBid(m, c.signer),
      parse: parseStoredBid
    }
  }

  /** Signs and publishes an offer; persisted first so it is re-published after a restart. */
  async publishOffer (input: OfferInput): Promise<ValidatedOffer> {
    // [refuse] an offer commits this node to serve it: a node that does not supply must not make one
    if (!this.c.supplies()) throw new ApiError(409, 'WRONG_ROLE', `this node's role is ${this.c.role}: offers need role supplier or both`)
    const { message, built } = await this.publish(this.offers, input)
    void this.c.provideClasses(built.gpus.map((g) => g.model))
    return message as ValidatedOffer
  }

  async cancelOffer (id: string): Promise<void> { await this.cancel(this.offers, id) }

  async publishBid (input: BidInput): Promise<ValidatedBid> {
    return (await this.publish(this.bids, input)).message as ValidatedBid
  }

  async cancelBid (id: string): Promise<void> { await this.cancel(this.bids, id) }

  /**
   * Re-publishes those of our standing offers and bids that are due (`republishDueMs` after they
   * were last sent) with a fresh expiry, before the previous one runs out; with `spread`, evenly
   * over `republishSpreadMs` (the timer's runs), else at the pacer's rate (the run at start, which
   * announces a restarted node's messages at once). One run at a time: a call while one runs waits
   * for that one.
   */
  async republish (opts: { spread?: boolean } = {}): Promise<void> {
    this.republishing ??= this.republishOnce(opts.spread === true).catch((err: unknown) => {
      if (this.c.running()) this.c.logger.warn('re-publication failed', { err })
    }).finally(() => { this.republishing = undefined })
    await this.republishing
  }

  /** the re-publication in flight and the turns taken, if any (close waits for them before the database goes) */
  async idle (): Promise<void> {
    await this.republishing
    await this.turns.idle()
  }

  private async publish<I extends { id: string }, M> (kind: Kind<I, M>, input: I): Promise<{ message: unknown, built: M }> {
    // what the caller did wrong is answered at once, before the pacer's wait (once the standing ids
    // are known); and again in the turn, where other publications may have come first
    const known = this.standing.get(kind.prefix)
    if (known != null) this.checkLimit(kind, known, input.id)
    await this.pace()
    return await this.turns.run(async () => {
      // in the turn, as every change to what stands is: the count cannot move until this one is
      // stored or refused, so concurrent publications cannot pass the limit together, and a refused
      // one leaves no id counted (a cancelled id published again with bad terms included)
      const standing = await this.standingIds(kind)
      this.checkLimit(kind, standing, input.id)
      const built = await kind.build(input, false)
      // [refuse] what no node would accept is refused before it is stored: stored, it would
      // replace the standing message of this id, fail at each re-publication, and let the good
      // one expire
      kind.check(built)
      const data = kind.seal(built)
      const key = `${kind.prefix}:${input.id}`
      // the record and the sequence it was signed with, in one write before anything is sent
      // synced: the API answers once this is written, and an acknowledged publication must survive
      // a power loss as well as a crash (a cancel below likewise, or a restart would publish again
      // what the operator withdrew)
      await this.c.db.batch([this.sequenceOp(), { type: 'put', key, value: JSON.stringify({ input: inputToJson(input as never), active: true } satisfies OwnRecord) }], { sync: true })
      // stored, it stands even if gossip fails: it is re-published
      standing.add(input.id)
      const { message } = await this.c.gossip.publish(kind.topic, data)
      this.sentAt.set(key, this.c.clock.now())
      return { message, built }
    })
  }

  /**
   * [refuse] every book keeps at most `limit` messages per party and drops the rest
   * (SUPPLIER_LIMIT): one past it would be signed and gossiped, yet held nowhere. A standing id
   * published again replaces its message and adds nothing.
   */
  private checkLimit<I, M> (kind: Kind<I, M>, standing: Set<string>, id: string): void {
    if (standing.has(id) || standing.size < kind.limit) return
    throw new ApiError(409, kind.noun === 'offer' ? 'OFFER_LIMIT' : 'BID_LIMIT', `this node already has ${standing.size} standing ${kind.noun}s, the most a node's book keeps per ${kind.noun === 'offer' ? 'supplier' : 'renter'}: cancel one, or replace one by publishing its id again`)
  }

  /**
   * Waits for this publication's turn under `OWN_PUBLISH_RATE_PER_S`: at once within the burst,
   * else on the clock until the bucket has room. The turn is taken before the wait, so concurrent
   * callers queue in order.
   */
  private async pace (): Promise<void> {
    const interval = 1000 / OWN_PUBLISH_RATE_PER_S
    const now = this.c.clock.now()
    const tat = Math.max(this.paceTat, now)
    const wait = tat - now - (OWN_PUBLISH_BURST - 1) * interval
    this.paceTat = tat + interval
    if (wait > 0) await this.c.clock.sleep(wait)
  }

  /** the ids of our standing messages of `kind`; called in a turn, so no write is under way while they are read */
  private async standingIds<I, M> (kind: Kind<I, M>): Promise<Set<string>> {
    let ids = this.standing.get(kind.prefix)
    if (ids != null) return ids
    ids = new Set<string>()
    for await (const [key, raw] of this.c.db.iterator({ gt: `${kind.prefix}:`, lt: `${kind.prefix};` })) {
      if ((JSON.parse(raw) as OwnRecord).active) ids.add(key.slice(kind.prefix.length + 1))
    }
    this.standing.set(kind.prefix, ids)
    return ids
  }

  private async cancel<I, M> (kind: Kind<I, M>, id: string): Promise<void> {
    // what the caller did wrong is answered at once, before the pacer's wait; and again in the
    // turn, where another cancel may have come first
    const check = async (): Promise<OwnRecord> => {
      const raw = await this.c.db.get(`${kind.prefix}:${id}`)
      if (raw == null) throw new ApiError(404, 'NOT_FOUND', `no ${kind.noun} of ours with id ${id}`)
      const rec = JSON.parse(raw) as OwnRecord
      if (!rec.active) throw new ApiError(409, 'ALREADY_CANCELLED', `${id} is already cancelled`)
      return rec
    }
    await check()
    await this.pace()
    await this.turns.run(async () => {
      const rec = await check()
      const data = kind.seal(await kind.build(kind.parse(rec.input), true))
      await this.c.db.batch([this.sequenceOp(), { type: 'put', key: `${kind.prefix}:${id}`, value: JSON.stringify({ input: rec.input, active: false } satisfies OwnRecord) }], { sync: true })
      this.standing.get(kind.prefix)?.delete(id)
      this.sentAt.delete(`${kind.prefix}:${id}`)
      await this.c.gossip.publish(kind.topic, data)
    })
  }

  private async republishOnce (spread: boolean): Promise<void> {
    if (!this.c.running()) return
    // what is due, read first: their number sets the spacing. Offers stored under an earlier role
    // stay stored but are not advertised while this one does not supply.
    const due: Array<() => Promise<void>> = []
    if (this.c.supplies()) await this.collectDue(this.offers, due)
    await this.collectDue(this.bids, due)
    const spacing = spread && due.length > 1 ? (this.c.republishSpreadMs ?? 0) / due.length : 0
    const start = this.c.clock.now()
    for (let i = 0; i < due.length; i++) {
      // a closing node stops here: its gossip and database are about to go
      if (!this.c.running()) return
      const wait = start + i * spacing - this.c.clock.now()
      if (wait > 0) await this.c.clock.sleep(wait, { signal: this.c.signal })
      try {
        await due[i]()
      } catch (err) {
        this.c.logger.warn('re-publication failed', { err })
      }
    }
  }

  /** adds a re-publication of each of our standing messages of `kind` that is due */
  private async collectDue<I, M> (kind: Kind<I, M>, due: Array<() => Promise<void>>): Promise<void> {
    for await (const [key, raw] of this.c.db.iterator({ gt: `${kind.prefix}:`, lt: `${kind.prefix};` })) {
      // one sent within its period waits, and takes no turn from the pacer
      if ((JSON.parse(raw) as OwnRecord).active && this.due(key)) due.push(async () => { await this.republishOne(kind, key) })
    }
  }

  private async republishOne<I, M> (kind: Kind<I, M>, key: string): Promise<void> {
    await this.pace()
    await this.turns.run(async () => {
      if (!this.c.running()) return
      // the list was read when the run began: the record as it stands now may have been replaced
      // (its newer input is signed, or it was sent meanwhile and waits) or cancelled (nothing is sent)
      const now = await this.c.db.get(key)
      const rec = now == null ? undefined : JSON.parse(now) as OwnRecord
      if (rec?.active !== true || !this.due(key)) return
      const data = kind.seal(await kind.build(kind.parse(rec.input), false))
      await this.c.db.batch([this.sequenceOp()])
      await this.c.gossip.publish(kind.topic, data)
      this.sentAt.set(key, this.c.clock.now())
    })
  }

  /** whether the standing message under `key` is due to go out again */
  private due (key: string): boolean {
    const at = this.sentAt.get(key)
    return at === undefined || this.c.clock.now() - at >= this.c.republishDueMs
  }

  /**
   * The next per-signer sequence, never below the clock so that a lost database still moves
   * forward. It is kept in memory once read (every build runs in a turn, one at a time), and made
   * durable by `sequenceOp` in the same write as the record it signs, before the message is sent:
   * a sequence that never reached the database was never seen by a peer, so a crash cannot make
   * one reused. One write per publication instead of a read and two writes, each a round trip
   * through libuv's thread pool and a turn of the event loop, which a busy daemon makes long.
   */
  private async nextSequence (): Promise<bigint> {
    this.sequence ??= BigInt(await this.c.db.get(SEQUENCE_KEY) ?? '0')
    const now = BigInt(this.c.clock.now())
    this.sequence = this.sequence + 1n > now ? this.sequence + 1n : now
    return this.sequence
  }

  /** the write that makes the last sequence taken durable; part of the batch stored before a message is sent */
  private sequenceOp (): { type: 'put', key: string, value: string } {
    return { type: 'put', key: SEQUENCE_KEY, value: String(this.sequence ?? 0n) }
  }

  /** the fields every message of ours carries: its time window, its sequence, whether it cancels */
  private async stamp (ttlS: number, cancelled: boolean): Promise<{ createdAt: bigint, expiresAt: bigint, sequence: bigint, cancelled: boolean }> {
    const now = this.c.clock.now()
    return { createdAt: BigInt(now), expiresAt: BigInt(now + ttlS * 1000), sequence: await this.nextSequence(), cancelled }
  }

  /** A cancel keeps only what identifies the slot; everything it offered is emptied. */
  private async buildOffer (i: OfferInput, cancelled: boolean): Promise<Offer> {
    const enclave = i.enclavePeer != null ? peerIdFromString(i.enclavePeer) : this.c.enclavePeer
    return {
      version: 1,
      id: i.id,
      supplier: this.c.signer.hotkey,
      enclavePeer: cancelled ? new Uint8Array(0) : new Uint8Array(enclave.toMultihash().bytes),
      gpus: cancelled ? [] : i.gpus,
      teeKinds: cancelled ? [] : i.teeKinds,
      // only `true` is encoded: an offer without CC GPUs keeps the bytes it had before the field existed
      ...(!cancelled && i.gpuCc === true ? { gpuCc: true } : {}),
      // likewise only the container runtime is encoded: a process supplier's offer keeps its old bytes
      ...(!cancelled && i.images !== undefined ? { runtime: CONTAINER_RUNTIME } : {}),
      images: cancelled || i.images === undefined ? [] : i.images,
      region: cancelled ? '' : i.region,
      pricePerGpuHour: cancelled ? 0n : i.pricePerGpuHour,
      netuid: cancelled ? 0 : i.netuid,
      minDurationS: cancelled ? 0 : i.minDurationS,
      maxDurationS: cancelled ? 0 : i.maxDurationS,
      ...await this.stamp(i.ttlS, cancelled),
      addrs: cancelled ? [] : [...this.c.listenAddrs(), ...(i.extraAddrs ?? []).map((a) => multiaddr(a).bytes)].slice(0, 8).map((a) => new Uint8Array(a))
    }
  }

  private async buildBid (i: BidInput, cancelled: boolean): Promise<Bid> {
    return {
      version: 1,
      id: i.id,
      renter: this.c.signer.hotkey,
      requirements: cancelled ? undefined : { gpu: i.gpu, minMemoryMib: i.minMemoryMib, count: i.count, teeKinds: i.teeKinds, regions: i.regions, ...(i.image !== undefined ? { image: i.image } : {}) },
      maxPricePerGpuHour: cancelled ? 0n : i.maxPricePerGpuHour,
      netuid: cancelled ? 0 : i.netuid,
      durationS: cancelled ? 0 : i.durationS,
      ...await this.stamp(i.ttlS, cancelled),
      addrs: cancelled ? [] : this.c.listenAddrs().map((a) => new Uint8Array(a))
    }
  }
}

function parseStoredOffer (json: string): OfferInput {
  const o = JSON.parse(json) as OfferInput & { pricePerGpuHour: string }
  return { ...o, pricePerGpuHour: BigInt(o.pricePerGpuHour) }
}

function parseStoredBid (json: string): BidInput {
  const b = JSON.parse(json) as BidInput & { maxPricePerGpuHour: string }
  return { ...b, maxPricePerGpuHour: BigInt(b.maxPricePerGpuHour) }
}
