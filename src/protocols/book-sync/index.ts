import type { Connection, IdentifyResult, Libp2p, Libp2pEvents, PeerId, Stream, TypedEventTarget } from '@libp2p/interface'
import { setImmediate } from 'node:timers/promises'
import { BookSyncChunk, BookSyncRequest } from '../../wire/book-sync.js'
import { Bid, Envelope, Offer } from '../../wire/market.js'
import { WindowLimiter } from '../../util/rate-limit.js'
import { MAX_RATE_PEERS } from '../../market/constants.js'
import type { Clock, TimerHandle } from '../../util/clock.js'
import { TOPIC_BIDS, TOPIC_OFFERS } from '../gossip/topics.js'
import {
  BOOK_SYNC_PROTOCOL, BOOK_SYNC_VERSION, DEFAULT_PAGE_TIMEOUT_MS, DEFAULT_FRAME_TIMEOUT_MS, DEFAULT_INTERVAL_MS,
  DEFAULT_MAX_CONCURRENT, DEFAULT_REQUESTS_PER_MINUTE, MAX_CHUNK_BYTES, MAX_CHUNK_ENTRIES, MAX_INBOUND_STREAMS,
  MAX_QUEUED_PEERS, MAX_REQUEST_BYTES, MAX_SERVED_AT_ONCE, MAX_SYNC_CANCELS, MAX_SYNC_ENTRIES, MAX_SYNC_PAGES,
  VALIDATE_YIELD_EVERY
} from './constants.js'
import { BookSyncError, toBookSyncError } from './errors.js'
import { MAX_DIGEST_BITS, MIN_DIGEST_BITS, bucketDigests, differingBuckets, digestBitsFor, inBitmap, type IdCache } from './digest.js'
import { EMPTY_BYTES } from '../../wire/empty-bytes.js'
import { envelopeOf, type EnvelopeSource } from './source.js'
import type { Counter } from '../../util/metrics.js'
import { errorCodeOf, gossipActionOf } from '../gossip/validate.js'
import { MessageErrorCode } from '../../market/validation/errors.js'
import { GossipAction } from '../../util/errors.js'
import { decodeOrMalformed } from '../stream-errors.js'
import { boundedPbStream } from '../pb-stream.js'

export * from './constants.js'
export * from './errors.js'
export * from './digest.js'
export * from './source.js'

/** What the receiver made of one envelope: its own validator's verdict, as for gossip. */
export type SyncVerdict = 'applied' | 'duplicate' | 'ignored' | 'rejected'

/** The verdict of a received envelope from the error the gossip validator threw for it. */
export function syncVerdictOf (err: unknown): SyncVerdict {
  const code = errorCodeOf(err)
  // an envelope we hold already, or an older version of one
  if (code === MessageErrorCode.DUPLICATE || code === MessageErrorCode.STALE_SEQUENCE) return 'duplicate'
  return gossipActionOf(err) === GossipAction.REJECT ? 'rejected' : 'ignored'
}

/** Counters of exchanges by role and result, and of received envelopes by verdict. */
export interface BookSyncMetrics {
  exchanges: Counter
  entries: Counter
}

export interface BookSyncComponents {
  libp2p: Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol' | 'getConnections' | 'peerId'> & TypedEventTarget<Libp2pEvents>
  clock: Clock
  metrics?: BookSyncMetrics
  log?: (level: 'debug' | 'info', msg: string, fields?: Record<string, unknown>) => void
}

export interface BookSyncInit {
  /**
   * The signed envelopes this node holds and serves: its book's resting offers and bids, and the
   * signed cancels its tombstones hold (served only to a requester that asks for cancels).
   */
  entries: () => SyncEntries
  /**
   * Validates one received envelope exactly as gossip on `topic` would be, and applies it when
   * valid. `rejected` (a REJECT verdict) ends the exchange: the peer sent something invalid.
   */
  accept: (topic: typeof TOPIC_OFFERS | typeof TOPIC_BIDS, data: Uint8Array) => SyncVerdict
  /**
   * Re-gossips an envelope that an exchange brought and the book did not hold, so that the rest of
   * a healed partition hears it from this node at once; not what an exchange brings to a book that
   * was empty (a node that just started). Paced at `forwardPerSecond` so that neighbours' per-peer
   * rate limits never drop it; the queue holds at most `maxEntries`.
   */
  forward?: (topic: typeof TOPIC_OFFERS | typeof TOPIC_BIDS, data: Uint8Array) => void
  /** default 100/s, half of a neighbour's default per-peer gossip rate */
  forwardPerSecond?: number
  /** pull from one random peer this often, beside the pull on every new connection; 0 = never */
  intervalMs?: number
  /** the most envelopes to ask for and to serve in one page */
  maxEntries?: number
  /** the most cancels to ask for and to serve in one page (0: ask for none, as a version-1 peer) */
  maxCancels?: number
  /** the most pages to ask for in one exchange (at most `MAX_SYNC_PAGES`, which also bounds what is served) */
  maxPages?: number
  /** ask for the peer's bucket digests first, then only for the buckets that differ (default true) */
  digests?: boolean
  maxConcurrent?: number
  /** exchanges served at once, from all peers (default `MAX_SERVED_AT_ONCE`) */
  maxServing?: number
  requestsPerMinute?: number
  frameTimeoutMs?: number
  pageTimeoutMs?: number
}

/** What a node serves in an exchange (see `BookSyncInit.entries`). */
export interface SyncEntries {
  offers: EnvelopeSource[]
  bids: EnvelopeSource[]
  offerCancels?: EnvelopeSource[]
  bidCancels?: EnvelopeSource[]
}

/** Totals of one exchange as the requester (cancels counted in `received` and the verdicts too). */
export interface SyncResult {
  received: number
  applied: number
  duplicate: number
  ignored: number
  /** cancels received, of those above */
  cancels: number
  /** pages the peer sent */
  pages: number
  /** the peer held more after the last page this node asked for (`maxPages` reached) */
  truncated: boolean
  /** buckets whose digests differed from this node's (undefined: no digests, a peer from before them) */
  differing?: number
}

type Topic = typeof TOPIC_OFFERS | typeof TOPIC_BIDS

/**
 * Whether `data` is the envelope of a cancel on `topic`. Only cancels may arrive in a chunk's cancel
 * lists; an envelope that does not decode is no cancel either (the validator would reject it).
 */
export function isCancelEnvelope (topic: Topic, data: Uint8Array): boolean {
  try {
    const body = Envelope.decode(data).body
    return topic === TOPIC_OFFERS ? Offer.decode(body, { limits: { gpus: 16, teeKinds: 4, addrs: 8, images: 16 } }).cancelled : Bid.decode(body, { limits: { addrs: 8, requirements: { teeKinds: 4, regions: 16 } } }).cancelled
  } catch {
    return false
  }
}

/**
 * Anti-entropy of the order book over /bazaar/book-sync/1.0.0. Gossip only carries what is
 * published while a node listens: a node that joins, or two halves of a partition that heal, would
 * otherwise wait for every supplier's next re-publication. So on every new connection to a peer
 * that speaks the protocol (learned through identify), and on a timer with one random peer, the
 * node asks for the peer's current signed offers and bids, and the signed cancels it holds, and runs
 * each through its own validator, exactly as gossip: a cancel made on the other side of a partition
 * then empties the slot here too, instead of the offer resting until it expires.
 *
 * A book larger than one page comes in pages over the same stream, each asked for once the last is
 * validated, so the requester's work paces the responder. The pages cut the book as it stood at the
 * exchange's first request, taken once: a page never repeats or skips what another carried, while
 * what changed since arrives by gossip. (Before pages, one response of at most 20,000 envelopes
 * served a large book's first offers on every pull and its bids never.)
 *
 * Each exchange starts with the responder's bucket digests of that snapshot (`digest.ts`), and the
 * requester asks only for the buckets whose digests differ from its own book's, or for nothing:
 * the periodic pull between two nodes whose gossip kept their books in step then costs a few
 * kilobytes and one hash per envelope on each side, not the whole book sent and validated again.
 *
 * Everything is bounded: entries per page, pages per exchange, frame sizes, per-frame and per-page
 * timeouts, exchanges at once and peers queued for one, requests per peer per minute.
 */
export class BookSync {
  private readonly limiter: WindowLimiter
  private readonly queue = new Map<string, PeerId>()
  private running = 0
  private serving = 0
  /** the ids of this node's own entries, for its digests as requester and as responder */
  private readonly ids: IdCache = new WeakMap()
  private timer?: TimerHandle
  private readonly controller = new AbortController()
  private started = false
  private readonly forwardQueue: Array<[typeof TOPIC_OFFERS | typeof TOPIC_BIDS, Uint8Array]> = []
  private forwardTimer?: TimerHandle
  /** connections whose peer this node pulled from when they opened */
  private readonly pulledOn = new WeakSet<Connection>()
  /**
   * A connection's first identify that shows the protocol pulls the peer's book. Identify runs again
   * on the same connection whenever the peer's addresses or protocols change (identify push: an
   * observed address confirmed, a handler added), and a pull each time would have every neighbour
   * of that peer take its book again at once, although nothing was lost in between.
   */
  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const { protocols, peerId, connection } = evt.detail
    if (!protocols.includes(BOOK_SYNC_PROTOCOL)) return
    if (connection != null) {
      if (this.pulledOn.has(connection)) return
      this.pulledOn.add(connection)
    }
    this.schedule(peerId)
  }

  constructor (private readonly c: BookSyncComponents, private readonly init: BookSyncInit) {
    this.limiter = new WindowLimiter(init.requestsPerMinute ?? DEFAULT_REQUESTS_PER_MINUTE, 60_000, MAX_RATE_PEERS)
  }

  async start (): Promise<void> {
    await this.c.libp2p.handle(BOOK_SYNC_PROTOCOL, async (stream, connection) => { await this.serve(stream, connection) }, { maxInboundStreams: MAX_INBOUND_STREAMS })
    this.c.libp2p.addEventListener('peer:identify', this.onIdentify)
    const every = this.init.intervalMs ?? DEFAULT_INTERVAL_MS
    if (every > 0) {
      this.timer = this.c.clock.setInterval(() => { this.pullFromRandomPeer() }, every)
    }
    if (this.init.forward != null) {
      // ten ticks a second, each sending its share of the rate
      const perTick = Math.max(1, Math.round((this.init.forwardPerSecond ?? 100) / 10))
      this.forwardTimer = this.c.clock.setInterval(() => {
        for (const [topic, data] of this.forwardQueue.splice(0, perTick)) {
          try { this.init.forward?.(topic, data) } catch {}
        }
      }, 100)
    }
    this.started = true
  }

  /** envelopes waiting to be re-gossiped */
  get forwardBacklog (): number { return this.forwardQueue.length }

  async stop (): Promise<void> {
    this.started = false
    this.timer?.clear()
    this.forwardTimer?.clear()
    this.forwardQueue.length = 0
    this.controller.abort()
    this.queue.clear()
    this.c.libp2p.removeEventListener('peer:identify', this.onIdentify)
    await this.c.libp2p.unhandle(BOOK_SYNC_PROTOCOL)
  }

  /** Queues an exchange with `peer` (at most one queued per peer; the queue is bounded). */
  schedule (peer: PeerId): void {
    if (!this.started || peer.equals(this.c.libp2p.peerId)) return
    const id = peer.toString()
    if (this.queue.has(id) || this.queue.size >= MAX_QUEUED_PEERS) return
    this.queue.set(id, peer)
    this.drain()
  }

  private pullFromRandomPeer (): void {
    const conns = this.c.libp2p.getConnections().filter((c) => c.status === 'open')
    if (conns.length === 0) return
    this.schedule(conns[Math.floor(Math.random() * conns.length)].remotePeer)
  }

  private drain (): void {
    while (this.running < (this.init.maxConcurrent ?? DEFAULT_MAX_CONCURRENT) && this.queue.size > 0) {
      const [id, peer] = this.queue.entries().next().value as [string, PeerId]
      this.queue.delete(id)
      this.running++
      this.pull(peer, { signal: this.controller.signal })
        // an exchange that brought something (a node catching up, a healed partition) is worth an
        // operator's eye; the periodic one between books in step is not
        .then((r) => { this.c.log?.(r.applied > 0 ? 'info' : 'debug', 'book sync done', { peer: id, ...r }) })
        .catch((err: unknown) => {
          const e = toBookSyncError(err)
          this.c.log?.(e.code === 'INVALID_ENTRY' || e.code === 'NOT_A_CANCEL' ? 'info' : 'debug', 'book sync with peer failed', { peer: id, code: e.code })
        })
        .finally(() => { this.running--; if (this.started) this.drain() })
    }
  }

  /**
   * Pulls a peer's book once, its signed cancels included (unless `maxCancels` is 0). With digests
   * (unless `digests` is false) it first asks for the peer's bucket digests and then only for the
   * buckets that differ from its own book, or for nothing when none does. The envelopes come page
   * after page while the peer says it holds more (at most `maxPages`). Throws BookSyncError:
   * TIMEOUT, MALFORMED, TOO_MANY (more envelopes or cancels in a page than asked for),
   * INVALID_ENTRY (an envelope the validator rejects), NOT_A_CANCEL (a cancel list carried
   * something else) or ABORTED.
   */
  async pull (peer: PeerId, opts: { signal?: AbortSignal } = {}): Promise<SyncResult> {
    const frameMs = this.init.frameTimeoutMs ?? DEFAULT_FRAME_TIMEOUT_MS
    const pageMs = this.init.pageTimeoutMs ?? DEFAULT_PAGE_TIMEOUT_MS
    // stream deadlines stay on wall time: they bound socket I/O with a remote peer, which a
    // stopped clock would leave open forever
    const outer = opts.signal != null ? [opts.signal] : []
    let page = AbortSignal.any([AbortSignal.timeout(pageMs), ...outer])
    const step = (): AbortSignal => AbortSignal.any([AbortSignal.timeout(frameMs), page])
    const maxEntries = Math.min(this.init.maxEntries ?? MAX_SYNC_ENTRIES, MAX_SYNC_ENTRIES)
    const maxCancels = Math.min(this.init.maxCancels ?? MAX_SYNC_CANCELS, MAX_SYNC_CANCELS)
    const maxPages = Math.max(1, Math.min(this.init.maxPages ?? MAX_SYNC_PAGES, MAX_SYNC_PAGES))
    // what this node holds as the peer digests what it serves: offers and bids, and cancels when asked for
    const { offers, bids, offerCancels = [], bidCancels = [] } = this.init.entries()
    const own = maxCancels > 0 ? [offers, bids, offerCancels, bidCancels] : [offers, bids]
    const digestBits = this.init.digests === false ? 0 : digestBitsFor(own.reduce((n, l) => n + l.length, 0))
    // A node whose book was empty as the exchange began has just started: what it brings is what
    // its peer's side of the network holds already, so re-gossiping it would only have every
    // neighbour check it again. A node that held a book may be the one link of a healed partition.
    const forward = offers.length + bids.length > 0
    const result: SyncResult = { received: 0, applied: 0, duplicate: 0, ignored: 0, cancels: 0, pages: 0, truncated: false }
    let stream: Stream | undefined
    try {
      stream = await this.c.libp2p.dialProtocol(peer, BOOK_SYNC_PROTOCOL, { signal: step() })
      const pb = boundedPbStream(stream, { maxDataLength: MAX_CHUNK_BYTES })
      let request: BookSyncRequest = { version: BOOK_SYNC_VERSION, maxEntries, maxCancels, digestBits, buckets: EMPTY_BYTES }
      for (;;) {
        await pb.write(request, BookSyncRequest, { signal: step() })
        const { more, digests } = await this.readPage(pb, { maxEntries, maxCancels }, step, result, forward)
        if (digests !== undefined) {
          // [REJECT] digests only as the answer to the first request, as many as it asked for
          const diff = request.digestBits > 0 && result.differing === undefined ? differingBuckets(bucketDigests(own, digestBits, this.ids).digests, digests, digestBits) : undefined
          if (diff == null) throw new BookSyncError('MALFORMED', 'unexpected digests')
          result.differing = diff.count
          if (diff.count === 0 || !more) break
          request = { version: BOOK_SYNC_VERSION, maxEntries, maxCancels, digestBits: 0, buckets: diff.bitmap }
        } else {
          result.pages++
          if (!more) break
          if (result.pages >= maxPages) {
            result.truncated = true
            break
          }
        }
        page = AbortSignal.any([AbortSignal.timeout(pageMs), ...outer])
      }
      await stream.close({ signal: step() }).catch(() => {})
      this.c.metrics?.exchanges.inc({ role: 'requester', result: 'ok' })
      return result
    } catch (err) {
      const e = toBookSyncError(err)
      stream?.abort(e)
      this.c.metrics?.exchanges.inc({ role: 'requester', result: e.code })
      throw e
    }
  }

  /**
   * Reads one page's chunks up to the one marked `last`, validating and applying each envelope as
   * it comes, queues what was new for re-gossip when `forward`, and adds them to `result`. Returns
   * whether the peer holds more, and the digests when the page was the peer's digests (one chunk
   * that carries nothing else).
   */
  private async readPage (pb: ReturnType<typeof boundedPbStream>, asked: { maxEntries: number, maxCancels: number }, step: () => AbortSignal, result: SyncResult, forward: boolean): Promise<{ more: boolean, digests?: Uint8Array }> {
    let entries = 0
    let cancels = 0
    let validated = 0
    for (let first = true; ; first = false) {
      const chunk = await pb.read(decodeOrMalformed(BookSyncChunk), { signal: step(), limits: { offers: MAX_CHUNK_ENTRIES, bids: MAX_CHUNK_ENTRIES, offerCancels: MAX_CHUNK_ENTRIES, bidCancels: MAX_CHUNK_ENTRIES } })
      const n = chunk.offers.length + chunk.bids.length + chunk.offerCancels.length + chunk.bidCancels.length
      if (chunk.digests.byteLength > 0) {
        // [REJECT] digests come alone: one chunk, the page's first and last
        if (!first || !chunk.last || n > 0) throw new BookSyncError('MALFORMED', 'digests beside envelopes')
        return { more: chunk.more, digests: chunk.digests }
      }
      entries += chunk.offers.length + chunk.bids.length
      cancels += chunk.offerCancels.length + chunk.bidCancels.length
      result.received += n
      result.cancels += chunk.offerCancels.length + chunk.bidCancels.length
      // [REJECT] more envelopes, or more cancels, in a page than asked for
      if (entries > asked.maxEntries || cancels > asked.maxCancels) throw new BookSyncError('TOO_MANY', 'more envelopes than requested')
      const lists = [[TOPIC_OFFERS, chunk.offers, false], [TOPIC_BIDS, chunk.bids, false], [TOPIC_OFFERS, chunk.offerCancels, true], [TOPIC_BIDS, chunk.bidCancels, true]] as const
      for (const [topic, list, cancel] of lists) {
        for (const view of list) {
          // the validator checks an unknown signer's certificate inline here (about 1.3 ms), where
          // gossip paces them one per event-loop turn: a page of fresh signers must not hold the
          // loop (keep-alives, gossip, the control API) for seconds, so it is given back every few
          if (++validated % VALIDATE_YIELD_EVERY === 0) await setImmediate()
          // [REJECT] a cancel list carries only cancels (checked before the validator remembers it)
          if (cancel && !isCancelEnvelope(topic, view)) throw new BookSyncError('NOT_A_CANCEL', 'the peer sent a non-cancel in a cancel list')
          // copy: the book keeps what it is given, and a view would pin the whole frame buffer
          const data = view.slice()
          const verdict = this.init.accept(topic, data)
          this.c.metrics?.entries.inc({ verdict })
          if (verdict === 'rejected') throw new BookSyncError('INVALID_ENTRY', 'the peer sent an invalid message')
          if (verdict === 'applied') {
            result.applied++
            if (forward && this.init.forward != null && this.forwardQueue.length < (this.init.maxEntries ?? MAX_SYNC_ENTRIES)) this.forwardQueue.push([topic, data])
          }
          else if (verdict === 'duplicate') result.duplicate++
          else result.ignored++
        }
      }
      if (chunk.last) return { more: chunk.more }
    }
  }

  private async serve (stream: Stream, connection: Connection): Promise<void> {
    const frameMs = this.init.frameTimeoutMs ?? DEFAULT_FRAME_TIMEOUT_MS
    const pageMs = this.init.pageTimeoutMs ?? DEFAULT_PAGE_TIMEOUT_MS
    // wall time, as in pull(): a bound on socket I/O, not protocol time
    let page = AbortSignal.timeout(pageMs)
    const step = (): AbortSignal => AbortSignal.any([AbortSignal.timeout(frameMs), page, this.controller.signal])
    let counted = false
    try {
      // [refuse] one exchange more than this node serves at once
      if (this.serving >= (this.init.maxServing ?? MAX_SERVED_AT_ONCE)) throw new BookSyncError('BUSY', 'serving as many book sync exchanges as allowed')
      this.serving++
      counted = true
      // [refuse] a peer over its request rate (an exchange counts once, whatever its pages)
      if (!this.limiter.take(connection.remotePeer.toString(), this.c.clock.now())) throw new BookSyncError('RATE_LIMITED', 'too many book sync requests')
      const pb = boundedPbStream(stream, { maxDataLength: MAX_REQUEST_BYTES })
      const out = boundedPbStream(stream, { maxDataLength: MAX_CHUNK_BYTES })
      /** the requester's next request on this stream, or undefined when it closed its side instead */
      const next = async (): Promise<BookSyncRequest | undefined> => {
        page = AbortSignal.timeout(pageMs)
        return await pb.read(decodeOrMalformed(BookSyncRequest), { signal: step() }).catch((err: unknown) => {
          if (stream.remoteWriteStatus !== 'writable') return undefined
          throw err
        })
      }
      let req = await pb.read(decodeOrMalformed(BookSyncRequest), { signal: step() })
      // [refuse] a request of a version this node does not speak
      if (req.version !== BOOK_SYNC_VERSION) throw new BookSyncError('MALFORMED', 'unknown version')
      // the book as it stands now: the digests and every page cut this one
      let { offers, bids, offerCancels = [], bidCancels = [] } = this.init.entries()
      // whether cancels are digested and served is the first request's choice
      const asksCancels = Math.min(req.maxCancels, this.init.maxCancels ?? MAX_SYNC_CANCELS) > 0
      if (req.digestBits !== 0) {
        // [refuse] digests bucketed by more or fewer bits than a requester may ask for
        if (req.digestBits < MIN_DIGEST_BITS || req.digestBits > MAX_DIGEST_BITS) throw new BookSyncError('MALFORMED', 'digest bits out of range')
        const digested = bucketDigests(asksCancels ? [offers, bids, offerCancels, bidCancels] : [offers, bids], req.digestBits, this.ids)
        await out.write({ ...emptyChunk(), digests: digested.digests, last: true, more: true }, BookSyncChunk, { signal: step() })
        const wanted = await next()
        // the requester holds what this node holds, or wants nothing more
        if (wanted === undefined) return await this.served(stream, step)
        req = wanted
        if (req.version !== BOOK_SYNC_VERSION) throw new BookSyncError('MALFORMED', 'unknown version')
        if (req.buckets.byteLength > 0) {
          // [refuse] a bitmap of another size than the buckets digested
          if (req.buckets.byteLength !== Math.ceil((1 << digested.bits) / 8)) throw new BookSyncError('MALFORMED', 'bucket bitmap of the wrong size')
          let k = 0
          const keep = (list: EnvelopeSource[]): EnvelopeSource[] => list.filter(() => inBitmap(req.buckets, digested.buckets[k++]))
          offers = keep(offers)
          bids = keep(bids)
          if (asksCancels) {
            offerCancels = keep(offerCancels)
            bidCancels = keep(bidCancels)
          }
        }
      }
      await this.servePages(req, { offers, bids, offerCancels, bidCancels }, asksCancels, out, step, next)
      return await this.served(stream, step)
    } catch (err) {
      const e = toBookSyncError(err)
      this.c.metrics?.exchanges.inc({ role: 'responder', result: e.code })
      stream.abort(e)
    } finally {
      if (counted) this.serving--
    }
  }

  /** Closes a served exchange's stream and counts it. */
  private async served (stream: Stream, step: () => AbortSignal): Promise<void> {
    await stream.close({ signal: step() })
    this.c.metrics?.exchanges.inc({ role: 'responder', result: 'ok' })
  }

  /**
   * Serves `held` in pages, the first for `req`, each next one when `next` brings the request for
   * it: offers, then bids, then (when `asksCancels`) the cancels.
   */
  private async servePages (req: BookSyncRequest, held: Required<SyncEntries>, asksCancels: boolean, out: ReturnType<typeof boundedPbStream>, step: () => AbortSignal, next: () => Promise<BookSyncRequest | undefined>): Promise<void> {
    const { offers, bids, offerCancels, bidCancels } = held
    const sources = [
      { list: offers, kind: 'offers', budget: 'entries', before: 0 },
      { list: bids, kind: 'bids', budget: 'entries', before: offers.length },
      { list: offerCancels, kind: 'offerCancels', budget: 'cancels', before: 0 },
      { list: bidCancels, kind: 'bidCancels', budget: 'cancels', before: offerCancels.length }
    ] as const
    const total = { entries: offers.length + bids.length, cancels: asksCancels ? offerCancels.length + bidCancels.length : 0 }
    /** how many of each budget's envelopes the pages so far carried */
    const sent = { entries: 0, cancels: 0 }
    for (let pages = 1; ; pages++) {
      // [refuse] a request of a version this node does not speak
      if (req.version !== BOOK_SYNC_VERSION) throw new BookSyncError('MALFORMED', 'unknown version')
      const budgets = {
        entries: Math.min(req.maxEntries, this.init.maxEntries ?? MAX_SYNC_ENTRIES, MAX_SYNC_ENTRIES),
        cancels: asksCancels ? Math.min(req.maxCancels, this.init.maxCancels ?? MAX_SYNC_CANCELS, MAX_SYNC_CANCELS) : 0
      }
      let chunk = emptyChunk()
      let bytes = 0
      const flush = async (): Promise<void> => {
        await out.write(chunk, BookSyncChunk, { signal: step() })
        chunk = emptyChunk()
        bytes = 0
      }
      for (const { list, kind, budget, before } of sources) {
        for (let i = Math.max(0, sent[budget] - before); i < list.length && budgets[budget] > 0; i++) {
          // read now: the snapshot holds what reads each envelope, not its bytes
          const env = envelopeOf(list[i])
          budgets[budget]--
          sent[budget]++
          if (env === undefined) continue
          // each envelope costs its bytes plus a tag and a length prefix of at most 3 bytes; at
          // most MAX_CHUNK_ENTRIES in a chunk, all lists together
          if (chunk.offers.length + chunk.bids.length + chunk.offerCancels.length + chunk.bidCancels.length >= MAX_CHUNK_ENTRIES ||
            bytes + env.byteLength + 4 > MAX_CHUNK_BYTES - 16) await flush()
          // the encoder only reads it
          chunk[kind].push(env as Uint8Array<ArrayBuffer>)
          bytes += env.byteLength + 4
        }
      }
      chunk.last = true
      chunk.more = pages < MAX_SYNC_PAGES && (sent.entries < total.entries || sent.cancels < total.cancels)
      const more = chunk.more
      await flush()
      if (!more) return
      // the requester asks for the next page on this stream, or closes it (as one from before
      // pages does): either way this exchange is served
      const following = await next()
      if (following === undefined) return
      req = following
    }
  }
}

function emptyChunk (): BookSyncChunk {
  return { offers: [], bids: [], offerCancels: [], bidCancels: [], last: false, more: false, digests: EMPTY_BYTES }
}

export function createBookSyncMetrics (r: { counter: (name: string, help: string) => Counter }): BookSyncMetrics {
  return {
    exchanges: r.counter('bazaar_book_sync_exchanges_total', 'anti-entropy exchanges of the order book, by role and result'),
    entries: r.counter('bazaar_book_sync_entries_total', 'envelopes received through anti-entropy, by verdict')
  }
}
