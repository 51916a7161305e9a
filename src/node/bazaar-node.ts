import { Level } from 'level'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import type { Identity } from './keystore/index.js'
import type { BazaarConfig } from './config/types.js'
import { createHost, type Host } from './host.js'
import { createLogger, type Logger } from './logger.js'
import { Registry } from './metrics.js'
import { ControlApi, RawResponse, ApiError } from './api/server.js'
import { dbOpenError, listenError } from './startup-errors.js'
import { MarketService } from './market-service.js'
import { bookRows } from '../market/index.js'
import { bidView, offerView } from './market-json.js'
import { parseBidInput, parseOfferInput, inputToJson, type BidInput, type OfferInput } from './market-input.js'
import { systemClock, type Clock } from '../util/clock.js'
import { MessageSigner } from '../market/signing/index.js'
import type { Bid, Offer } from '../wire/market.js'
import { MarketGossip } from '../protocols/gossip/service.js'
import { createGossipMetrics } from '../protocols/gossip/metrics.js'
import { sealBid, sealOffer } from '../protocols/gossip/envelope.js'
import { TOPIC_BIDS, TOPIC_OFFERS } from '../protocols/gossip/topics.js'
import type { ValidatedBid, ValidatedMessage, ValidatedOffer } from '../protocols/gossip/validate.js'
import { GossipLinkKeeper, createGossipLinkMetrics, linkState, peerProtocols } from './gossip-links.js'
import { peerScores, registerScoreMetrics, type PeerScoreView } from './gossip-scores.js'
import { guardedNetworkOperation } from './process-guard.js'
import { BookSync, createBookSyncMetrics, syncVerdictOf, type SyncVerdict } from '../protocols/book-sync/index.js'

/** one connected peer as `/v1/peers` and `bazaar peers` show it */
export interface PeerView {
  peerId: string
  addrs: string[]
  direction: string
  streams: number
  /** the gossip link: both streams up, and the peer's gossipsub score with its parts; absent when the peer does not gossip */
  gossip?: PeerScoreView & { inbound: boolean, outbound: boolean }
}

export enum NodeStatus {
  Starting = 'starting',
  Running = 'running',
  Stopping = 'stopping',
  Stopped = 'stopped'
}

export interface BazaarNodeInit {
  config: BazaarConfig
  identity: Pick<Identity, 'peerKey' | 'hotkey' | 'coldkey'>
  /** level database directory */
  dbPath: string
  /** bearer token of the control API; without it the API is not started */
  apiToken?: string
  /** bearer token that opens only GET /metrics */
  metricsToken?: string
  /** peer id of the enclave that runs this supplier's jobs (default: this node's peer id) */
  enclavePeer?: PeerId
  clock?: Clock
  logger?: Logger
}

/** Key prefixes in the node's database (stable; a retired prefix is never reused). */
const DB = {
  meta: 'v1-meta',
  ownOffers: 'v1-own-offers',
  ownBids: 'v1-own-bids'
} as const

interface OwnRecord { input: string, active: boolean }

/**
 * One marketplace node: the libp2p host, gossip of signed offers and bids, the messages it holds,
 * its own offers and bids (persisted and re-published before expiry), and the control API.
 * `BazaarNode.init` wires everything; `close()` stops it in order (gossip → timers → API → host → db).
 */
export class BazaarNode {
  status = NodeStatus.Starting
  readonly host: Host
  readonly gossip: MarketGossip
  readonly signer: MessageSigner
  readonly metrics = new Registry()
  readonly logger: Logger
  readonly api?: ControlApi
  readonly market: MarketService
  readonly links: GossipLinkKeeper
  readonly bookSync: BookSync
  apiAddress?: { host: string, port: number }
  private readonly timers: NodeJS.Timeout[] = []
  private readonly controller = new AbortController()
  private readonly listeners: Array<(m: ValidatedMessage) => void> = []
  private readonly startedAt: number

  private constructor (
    readonly config: BazaarConfig,
    readonly identity: BazaarNodeInit['identity'],
    readonly db: Level<string, string>,
    host: Host,
    readonly clock: Clock,
    logger: Logger,
    readonly enclavePeer: PeerId,
    apiToken?: string,
    metricsToken?: string
  ) {
    this.host = host
    this.logger = logger
    this.startedAt = clock.now()
    this.signer = MessageSigner.create(identity.hotkey, { now: clock.now() })
    this.gossip = new MarketGossip(
      { pubsub: host.services.pubsub, clock, metrics: createGossipMetrics(this.metrics), log: (level, msg, fields) => { logger[level](msg, fields) } },
      { onMessage: (m) => { this.onMessage(m) } }
    )
    this.market = new MarketService({ host, clock, logger, validator: this.gossip.validator, metrics: this.metrics })
    this.metrics.gauge('bazaar_peers', 'connected peers').collect(() => host.getPeers().length)
    this.links = new GossipLinkKeeper({
      pubsub: host.services.pubsub,
      connections: () => host.getConnections(),
      protocols: peerProtocols(host),
      clock,
      log: (level, msg, fields) => { logger[level](msg, fields) },
      metrics: createGossipLinkMetrics(this.metrics)
    }, {
      // what the peer gossiped while the link was down is in its book: pull it
      onRepair: (peer) => { this.bookSync.schedule(peer) }
    })
    registerScoreMetrics(this.metrics, host.services.pubsub)
    this.bookSync = new BookSync(
      { libp2p: host, clock, metrics: createBookSyncMetrics(this.metrics), log: (level, msg, fields) => { logger[level](msg, fields) } },
      {
        entries: () => ({
          offers: this.market.book.offers().flatMap((e) => e.meta.envelope == null ? [] : [e.meta.envelope]),
          bids: this.market.book.bids().flatMap((e) => e.meta.envelope == null ? [] : [e.meta.envelope])
        }),
        accept: (topic, data) => this.acceptSynced(topic, data),
        // StrictNoSign with a content id: publishing a peer's message is forwarding it unchanged
        forward: (topic, data) => { host.services.pubsub.publish(topic, data).catch(() => {}) },
        intervalMs: config.market.bookSyncS * 1000
      }
    )
    if (apiToken != null) this.api = new ControlApi({ host: config.api.host, port: config.api.port, token: apiToken, metricsToken, logger })
  }

  /** Builds and starts a node. On failure everything opened so far is closed again. */
  static async init (init: BazaarNodeInit): Promise<BazaarNode> {
    const clock = init.clock ?? systemClock
    const logger = init.logger ?? createLogger({ level: toLogLevel(init.config.log.level), format: init.config.log.format })
    const db = new Level<string, string>(init.dbPath, { valueEncoding: 'utf8' })
    await db.open().catch((err: unknown) => { throw dbOpenError(err, init.dbPath) })
    let host: Host | undefined
    let node: BazaarNode | undefined
    try {
      host = await createHost({
        privateKey: init.identity.peerKey,
        listen: init.config.listen,
        bootstrap: init.config.bootstrap,
        mdns: init.config.mdns
      }).catch((err: unknown) => { throw listenError(err, init.config.listen) })
      node = new BazaarNode(init.config, init.identity, db, host, clock, logger, init.enclavePeer ?? host.peerId, init.apiToken, init.metricsToken)
      await node.start()
      return node
    } catch (err) {
      // a start that failed half way (the control API's port taken, say) has timers, the link
      // keeper and the signature workers running: close them all, or the process never exits
      await node?.close().catch(() => {})
      try { await host?.stop() } catch {}
      await db.close().catch(() => {})
      throw err
    }
  }

  get peerId (): PeerId { return this.host.peerId }
  /** whether this node's role makes and serves offers (supplier or both) */
  get supplies (): boolean { return this.config.role === 'supplier' || this.config.role === 'both' }

  private async start (): Promise<void> {
    this.links.start()
    this.gossip.start()
    await this.market.start()
    await this.bookSync.start()
    // mDNS (and any discovery) only reports peers; dial them while we have room for connections
    this.host.addEventListener('peer:discovery', (evt) => {
      const peer = evt.detail
      if (this.status !== NodeStatus.Running || this.host.getPeers().some((p) => p.equals(peer.id))) return
      guardedNetworkOperation(async (signal) => await this.host.dial(peer.id, { signal }), { signal: this.signal }).catch((err) => {
        this.logger.debug('dial of discovered peer failed', { peer: peer.id.toString(), err })
      })
    })
    this.every(30_000, () => { this.prune() })
    this.every(Math.max(5, this.config.market.republishS) * 1000, () => { void this.republish() })
    if (this.api != null) {
      this.registerRoutes(this.api)
      this.apiAddress = await this.api.start()
    }
    this.status = NodeStatus.Running
    await this.republish()
    this.logger.info('node started', {
      peerId: this.peerId.toString(),
      addrs: this.host.getMultiaddrs().map((a) => a.toString()),
      hotkey: this.identity.hotkey.address,
      api: this.apiAddress == null ? undefined : `http://${this.apiAddress.host}:${this.apiAddress.port}`
    })
  }

  /** a timer the node owns; close() clears it */
  every (ms: number, fn: () => void): void {
    const t = setInterval(fn, ms)
    t.unref()
    this.timers.push(t)
  }

  /** subscribes to every accepted market message (ours and peers') */
  onMarketMessage (fn: (m: ValidatedMessage) => void): void {
    this.listeners.push(fn)
  }

  /**
   * An envelope a peer served through anti-entropy: the gossip validator decides, exactly as for a
   * gossip message; an accepted one goes where a gossip message goes.
   */
  private acceptSynced (topic: typeof TOPIC_OFFERS | typeof TOPIC_BIDS, data: Uint8Array): SyncVerdict {
    try {
      this.onMessage(this.gossip.validator.validate(topic, data), 'fetch')
      return 'applied'
    } catch (err) {
      return syncVerdictOf(err)
    }
  }

  private onMessage (m: ValidatedMessage, source: 'gossip' | 'fetch' = 'gossip'): void {
    this.market.apply(m, source, m.signer === this.signer.address)
    for (const l of this.listeners) {
      try { l(m) } catch (err) { this.logger.error('market listener failed', { err }) }
    }
  }

  private prune (): void {
    const now = this.clock.now()
    this.market.book.expire(now)
  }

  /** the next per-signer sequence, durable before use; never below the clock so a lost db still moves forward */
  private async nextSequence (): Promise<bigint> {
    const last = BigInt(await this.db.get(`${DB.meta}:sequence`) ?? '0')
    const next = [last + 1n, BigInt(this.clock.now())].reduce((a, b) => a > b ? a : b)
    await this.db.put(`${DB.meta}:sequence`, next.toString())
    return next
  }

  private listenAddrs (): Uint8Array[] {
    return this.host.getMultiaddrs().slice(0, 4).map((a) => a.bytes)
  }

  private async buildOffer (i: OfferInput, cancelled = false): Promise<Offer> {
    const now = this.clock.now()
    const enclave = i.enclavePeer != null ? peerIdFromString(i.enclavePeer) : this.enclavePeer
    return {
      version: 1,
      id: i.id,
      supplier: this.signer.hotkey,
      enclavePeer: cancelled ? new Uint8Array(0) : new Uint8Array(enclave.toMultihash().bytes),
      gpus: cancelled ? [] : i.gpus,
      teeKinds: cancelled ? [] : i.teeKinds,
      // only `true` is encoded: an offer without CC GPUs keeps the bytes it had before the field existed
      ...(!cancelled && i.gpuCc === true ? { gpuCc: true } : {}),
      region: cancelled ? '' : i.region,
      pricePerGpuHour: cancelled ? 0n : i.pricePerGpuHour,
      netuid: cancelled ? 0 : i.netuid,
      minDurationS: cancelled ? 0 : i.minDurationS,
      maxDurationS: cancelled ? 0 : i.maxDurationS,
      createdAt: BigInt(now),
      expiresAt: BigInt(now + i.ttlS * 1000),
      sequence: await this.nextSequence(),
      cancelled,
      addrs: cancelled ? [] : [...this.listenAddrs(), ...(i.extraAddrs ?? []).map((a) => multiaddr(a).bytes)].slice(0, 8).map((a) => new Uint8Array(a))
    }
  }

  private async buildBid (i: BidInput, cancelled = false): Promise<Bid> {
    const now = this.clock.now()
    return {
      version: 1,
      id: i.id,
      renter: this.signer.hotkey,
      requirements: cancelled ? undefined : { gpu: i.gpu, minMemoryMib: i.minMemoryMib, count: i.count, teeKinds: i.teeKinds, regions: i.regions },
      maxPricePerGpuHour: cancelled ? 0n : i.maxPricePerGpuHour,
      netuid: cancelled ? 0 : i.netuid,
      durationS: cancelled ? 0 : i.durationS,
      createdAt: BigInt(now),
      expiresAt: BigInt(now + i.ttlS * 1000),
      sequence: await this.nextSequence(),
      cancelled,
      addrs: cancelled ? [] : this.listenAddrs().map((a) => new Uint8Array(a))
    }
  }

  /** Signs and publishes an offer; persisted first so it is re-published after a restart. */
  async publishOffer (input: OfferInput): Promise<ValidatedOffer> {
    // [refuse] an offer commits this node to serve it: a node that does not supply must not make one
    if (!this.supplies) throw new ApiError(409, 'WRONG_ROLE', `this node's role is ${this.config.role}: offers need role supplier or both`)
    const offer = await this.buildOffer(input)
    const data = sealOffer(offer, this.signer)
    await this.db.put(`${DB.ownOffers}:${input.id}`, JSON.stringify({ input: inputToJson(input), active: true } satisfies OwnRecord))
    const { message } = await this.gossip.publish(TOPIC_OFFERS, data)
    void this.market.provideClasses(offer.gpus.map((g) => g.model))
    return message as ValidatedOffer
  }

  async cancelOffer (id: string): Promise<void> {
    const rec = await this.ownRecord(DB.ownOffers, id)
    const input = parseStoredOffer(rec.input)
    await this.db.put(`${DB.ownOffers}:${id}`, JSON.stringify({ input: rec.input, active: false } satisfies OwnRecord))
    await this.gossip.publish(TOPIC_OFFERS, sealOffer(await this.buildOffer(input, true), this.signer))
  }

  async publishBid (input: BidInput): Promise<ValidatedBid> {
    const bid = await this.buildBid(input)
    const data = sealBid(bid, this.signer)
    await this.db.put(`${DB.ownBids}:${input.id}`, JSON.stringify({ input: inputToJson(input), active: true } satisfies OwnRecord))
    const { message } = await this.gossip.publish(TOPIC_BIDS, data)
    return message as ValidatedBid
  }

  async cancelBid (id: string): Promise<void> {
    const rec = await this.ownRecord(DB.ownBids, id)
    const input = parseStoredBid(rec.input)
    await this.db.put(`${DB.ownBids}:${id}`, JSON.stringify({ input: rec.input, active: false } satisfies OwnRecord))
    await this.gossip.publish(TOPIC_BIDS, sealBid(await this.buildBid(input, true), this.signer))
  }

  private async ownRecord (prefix: string, id: string): Promise<OwnRecord> {
    const raw = await this.db.get(`${prefix}:${id}`)
    if (raw == null) throw new ApiError(404, 'NOT_FOUND', `no ${prefix === DB.ownOffers ? 'offer' : 'bid'} of ours with id ${id}`)
    const rec = JSON.parse(raw) as OwnRecord
    if (!rec.active) throw new ApiError(409, 'ALREADY_CANCELLED', `${id} is already cancelled`)
    return rec
  }

  /** Re-publishes our active offers and bids with a fresh expiry (before the previous one runs out). */
  private async republish (): Promise<void> {
    if (this.status !== NodeStatus.Running) return
    for (const [prefix, isOffer] of [[DB.ownOffers, true], [DB.ownBids, false]] as const) {
      for await (const [, raw] of this.db.iterator({ gt: `${prefix}:`, lt: `${prefix};` })) {
        const rec = JSON.parse(raw) as OwnRecord
        if (!rec.active) continue
        // offers stored under an earlier role stay stored but are not advertised while this one does not supply
        if (isOffer && !this.supplies) continue
        try {
          if (isOffer) await this.gossip.publish(TOPIC_OFFERS, sealOffer(await this.buildOffer(parseStoredOffer(rec.input)), this.signer))
          else await this.gossip.publish(TOPIC_BIDS, sealBid(await this.buildBid(parseStoredBid(rec.input)), this.signer))
        } catch (err) {
          this.logger.warn('re-publication failed', { err })
        }
      }
    }
  }

  peers (): PeerView[] {
    const pubsub = this.host.services.pubsub
    const scores = peerScores(pubsub)
    return this.host.getConnections().map((c) => {
      const id = c.remotePeer.toString()
      const score = scores.get(id)
      return {
        peerId: id,
        addrs: [c.remoteAddr.toString()],
        direction: c.direction,
        streams: c.streams.length,
        gossip: score == null ? undefined : { ...score, ...linkState(pubsub, id) }
      }
    })
  }

  statusView (): Record<string, unknown> {
    return {
      status: this.status,
      peerId: this.peerId.toString(),
      addrs: this.host.getMultiaddrs().map((a) => a.toString()),
      hotkey: this.identity.hotkey.address,
      coldkey: this.identity.coldkey.address,
      role: this.config.role,
      enclavePeer: this.enclavePeer.toString(),
      peers: this.host.getPeers().length,
      // peers known to be subscribed to each market topic (what a publication reaches directly)
      topicPeers: {
        offers: this.host.services.pubsub.getSubscribers(TOPIC_OFFERS).length,
        bids: this.host.services.pubsub.getSubscribers(TOPIC_BIDS).length
      },
      offers: this.market.book.offerCount,
      bids: this.market.book.bidCount,
      uptimeS: Math.floor((this.clock.now() - this.startedAt) / 1000)
    }
  }

  private registerRoutes (api: ControlApi): void {
    const market = { ...this.config.market, netuid: this.config.chain.netuid }
    api.route('GET', '/v1/status', async () => this.statusView())
    api.route('GET', '/v1/peers', async () => this.peers())
    // the valid offers and bids the node holds are the ones resting in its order book
    api.route('GET', '/v1/offers', async (req) => this.market.book.offers({
      gpu: req.query.get('gpu') ?? undefined, region: req.query.get('region') ?? undefined, teeKind: req.query.get('tee') ?? undefined
    }).map((e) => offerView(e.offer)))
    api.route('POST', '/v1/offers', async (req) => offerView((await this.publishOffer(parseOfferInput(req.body, market))).offer))
    api.route('DELETE', '/v1/offers/:id', async (req) => { await this.cancelOffer(req.params.id); return { ok: true } })
    api.route('GET', '/v1/bids', async () => this.market.book.bids().map((e) => bidView(e.bid)))
    api.route('POST', '/v1/bids', async (req) => bidView((await this.publishBid(parseBidInput(req.body, { netuid: this.config.chain.netuid, ttlS: this.config.market.offerTtlS }))).bid))
    api.route('DELETE', '/v1/bids/:id', async (req) => { await this.cancelBid(req.params.id); return { ok: true } })
    api.route('GET', '/v1/book', async (req) => {
      const q = req.query
      const maxPrice = q.get('maxPrice')
      const entries = this.market.book.offers({
        gpu: q.get('gpu') ?? undefined,
        teeKind: q.get('tee') ?? undefined,
        gpuCc: q.get('gpuCc') === '1' || q.get('gpuCc') === 'true' ? true : undefined,
        region: q.get('region') ?? undefined,
        maxPrice: maxPrice != null && /^[0-9]{1,19}$/.test(maxPrice) ? BigInt(maxPrice) : undefined,
        limit: Math.min(Number(q.get('limit') ?? 1000) || 1000, 10_000)
      })
      return { offers: bookRows(entries), bids: this.market.book.bids().length }
    })
    api.route('POST', '/v1/discover', async (req) => {
      const gpu = (req.body as { gpu?: unknown })?.gpu
      if (typeof gpu !== 'string' || !/^[a-z0-9][a-z0-9.-]{0,47}$/.test(gpu)) throw new ApiError(400, 'BAD_INPUT', 'gpu: expected a GPU model or class')
      return { added: await this.market.discover(gpu, { signal: AbortSignal.any([req.signal, AbortSignal.timeout(20_000)]) }) }
    })
    api.route('GET', '/metrics', async () => new RawResponse('text/plain; version=0.0.4', this.metrics.render()))
  }

  /** Dials a peer by multiaddr (tests and `--bootstrap` at runtime). */
  async dial (addr: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const ma = multiaddr(addr)
    const parts = ma.getComponents()
    const host = parts.find((p) => p.name === 'ip4' || p.name === 'ip6')?.value
    const port = Number(parts.find((p) => p.name === 'tcp')?.value)
    await guardedNetworkOperation(async (signal) => { await this.host.dial(ma, { signal }) }, {
      signal: opts.signal, target: { host, port: Number.isInteger(port) ? port : undefined }
    })
  }

  /** Ordered shutdown: gossip → timers → control API → libp2p (streams, connections) → database. */
  async close (): Promise<void> {
    if (this.status === NodeStatus.Stopping || this.status === NodeStatus.Stopped) return
    // a node whose start failed says nothing here: the start's one-line error is the whole story
    const started = this.status === NodeStatus.Running
    this.status = NodeStatus.Stopping
    this.controller.abort()
    this.gossip.stop()
    this.links.stop()
    await this.bookSync.stop()
    await this.market.stop()
    for (const t of this.timers) clearInterval(t)
    this.timers.length = 0
    await this.api?.stop()
    await this.host.stop()
    await this.db.close()
    this.status = NodeStatus.Stopped
    if (started) this.logger.info('node stopped', { peerId: this.peerId.toString() })
  }

  get signal (): AbortSignal { return this.controller.signal }
}

function toLogLevel (l: string): 'debug' | 'info' | 'warn' | 'error' {
  if (l === 'trace' || l === 'debug') return 'debug'
  if (l === 'warn' || l === 'error') return l
  if (l === 'silent') return 'error'
  return 'info'
}


function parseStoredOffer (json: string): OfferInput {
  const o = JSON.parse(json) as OfferInput & { pricePerGpuHour: string }
  return { ...o, pricePerGpuHour: BigInt(o.pricePerGpuHour) }
}

function parseStoredBid (json: string): BidInput {
  const b = JSON.parse(json) as BidInput & { maxPricePerGpuHour: string }
  return { ...b, maxPricePerGpuHour: BigInt(b.maxPricePerGpuHour) }
}
