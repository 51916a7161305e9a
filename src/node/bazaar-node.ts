import path from 'node:path'
import { Level } from 'level'
import { LEVEL_OPTIONS } from '../util/level-options.js'
import { multiaddr } from '@multiformats/multiaddr'
import type { PeerId, PeerInfo } from '@libp2p/interface'
import type { EnclaveKey, Identity, VoucherKeyVault } from './keystore/index.js'
import type { BazaarConfig } from './config/types.js'
import { createHost, type Host, type HostInit } from './host.js'
import { createLogger, type Logger } from './logger.js'
import { Registry } from './metrics.js'
import { ControlApi, RawResponse, ApiError } from './api/server.js'
import { apiUrl } from './api/url.js'
import { dbOpenError, listenError } from './startup-errors.js'
import { MarketService } from './market-service.js'
import { AgreementStore, bookRows, RenterCooldownStore } from '../market/index.js'
import { bidView, offerView } from './market-json.js'
import { parseBidInput, parseBookQuery, parseOfferFilters, parseOfferInput, type BidInput, type OfferInput } from './market-input.js'
import { systemClock, type Clock, type TimerHandle } from '../util/clock.js'
import { MessageSigner } from '../market/signing/index.js'
import { MarketGossip, type MarketGossipComponents, type MarketGossipInit } from '../protocols/gossip/service.js'
import { createGossipMetrics } from '../protocols/gossip/metrics.js'
import { TOPIC_BIDS, TOPIC_OFFERS } from '../protocols/gossip/topics.js'
import type { ValidatedBid, ValidatedMessage, ValidatedOffer } from '../protocols/gossip/validate.js'
import { GossipLinkKeeper, createGossipLinkMetrics, linkState, peerProtocols, type GossipLinkKeeperInit } from './gossip-links.js'
import { peerScores, registerScoreMetrics, type PeerScoreView } from './gossip-scores.js'
import { guardedNetworkOperation } from './process-guard.js'
import { KeptPeers, dialAddr } from './kept-peers.js'
import { BookSync, createBookSyncMetrics, syncVerdictOf, type BookSyncInit, type SyncVerdict } from '../protocols/book-sync/index.js'
import { RemoteArbiter } from '../protocols/arbiter/index.js'
import { EscrowDb, EscrowService, type ChainCatchUp, type ChainPort } from '../escrow/index.js'
import { JobStore, type NvidiaSmiRunner } from '../jobs/index.js'
import { UserError } from '../util/errors.js'
import { homePaths } from './home.js'
import { holdApiAddress } from './api-address.js'
import { OwnMessages, republishSchedule } from './own-messages.js'
import { registerDaemonRoutes, type DaemonRouteContext } from './daemon-routes.js'
import type { ParsedRent } from './rent-input.js'
import type { SupplierRole } from './roles/supplier.js'
import type { RenterRole, RentEvent, RentSummary, ResumedEscrow } from './roles/renter.js'
import { openChain } from './services/chain.js'
import { describeChange } from '../escrow/chain/subtensor/connection.js'
import { SubnetRegistry } from './services/subnet-registry.js'
import { RecordPruner, type PruneCounts } from './services/record-pruner.js'
import { SupplierService } from './services/supplier.js'
import { RenterService } from './services/renter.js'
import { ArbiterService } from './services/arbiter.js'
import { EscrowSweeper } from './services/escrow-sweeper.js'
import { ChainFollower } from './services/chain-follower.js'
import { CrlRefresher } from './services/crl-refresher.js'
import { TdxCollateralKeeper } from './services/tdx-collateral-keeper.js'

/** one connected peer as `/v1/peers` and `bazaar peers` show it */
export interface PeerView {
  peerId: string
  addrs: string[]
  direction: string
  streams: number
  /** a bootstrap peer or one dialled on request: the node dials it again when the connection drops */
  kept: boolean
  /** the gossip link: both streams up, and the peer's gossipsub score with its parts; absent when the peer does not gossip */
  gossip?: PeerScoreView & { inbound: boolean, outbound: boolean }
}

export enum NodeStatus {
  Starting = 'starting',
  Running = 'running',
  Stopping = 'stopping',
  Stopped = 'stopped'
}

/** Which services a node runs besides the market layer (gossip, book, own offers and bids, control API). */
export type NodeRoles =
  /** the roles of `config.role`: the chain, the escrow store and service, supplier, renter, arbiter */
  | 'config'
  /** the market layer only: nodes that trade offers and bids by hand (market and gossip tests) */
  | 'none'

export interface BazaarNodeInit {
  config: BazaarConfig
  identity: Pick<Identity, 'peerKey' | 'hotkey' | 'coldkey'>
  /** the node home: database, escrow store, jobs' work directories, embedded ledger (required with roles) */
  home?: string
  /** level database directory (default: `<home>/db`) */
  dbPath?: string
  /** what to run besides the market layer (default `config`) */
  roles?: NodeRoles
  /** bearer token of the control API; without it the API is not started */
  apiToken?: string
  /** bearer token that opens only GET /metrics */
  metricsToken?: string
  /** the enclave key (role supplier or both): its peer id goes into offers, jobs run behind it */
  enclaveKey?: EnclaveKey
  /** peer id of the enclave that runs this supplier's jobs (default: the enclave key's, else this node's) */
  enclavePeer?: PeerId
  /**
   * the renter's sealed per-escrow voucher keys (role renter or both); without it they live in
   * memory only and a restarted renter cannot sign for an escrow it opened before
   */
  voucherKeys?: VoucherKeyVault
  /**
   * an open chain port to use instead of the config's (nodes of one process sharing an embedded
   * ledger: the devnet, tests); the node does not close it
   */
  chain?: ChainPort
  /** how long the renter waits for the supplier's approval of a cooperative close (default: the role's) */
  settleWaitMs?: number
  /** tests and devnets inject an absent nvidia-smi so the config's GPUs are used */
  runNvidiaSmi?: NvidiaSmiRunner
  clock?: Clock
  logger?: Logger
  /**
   * How the libp2p host is built beyond the config's listen, bootstrap and mDNS: the shape of a test
   * network or a devnet on one loopback address (a sparse topology without kad-dht, a mesh degree
   * below the connection degree, loopback exempt from inbound limits). Not operator settings.
   */
  network?: NodeNetworkInit
  /** the gossip validator's collaborators shared by the nodes of one process (see NodeGossipInit) */
  gossip?: NodeGossipInit
  /** the gossip link keeper's audit period (default 5 s; a test that audits by hand sets it far out) */
  links?: Pick<GossipLinkKeeperInit, 'auditIntervalMs'>
  /**
   * anti-entropy bounds other than the config's pull period (`market.bookSyncS`): envelopes per
   * exchange, requests served per peer per minute, frame and exchange timeouts (tests of the bounds)
   */
  bookSync?: Pick<BookSyncInit, 'maxEntries' | 'maxCancels' | 'maxPages' | 'digests' | 'maxConcurrent' | 'maxServing' | 'requestsPerMinute' | 'frameTimeoutMs' | 'pageTimeoutMs'>
  /** aborts the start (a chain that does not answer, an attestation probe); the node's own signal ends it afterwards */
  signal?: AbortSignal
}

/** The host options a node takes from its init rather than its config (see BazaarNodeInit.network). */
export type NodeNetworkInit = Pick<HostInit, 'meshDegree' | 'dht' | 'allow' | 'maxConnections'>

/**
 * What the nodes of one process may share for gossip validation: a certificate cache (a
 * certificate's verdict depends only on its bytes and the time) and a signature-verifier pool, or
 * no pool at all (`verifyWorkers: 0`: every check on the event loop, as a process that runs many
 * nodes wants rather than a worker pool per node).
 */
export type NodeGossipInit = Pick<MarketGossipInit, 'certCache' | 'verifyWorkers'> & Pick<MarketGossipComponents, 'verifyPool'>

/** The role services of a node, in start order (stopped in reverse). */
export interface NodeServices {
  /** reads the chain's new blocks at start and every 12 s (a chain read from its blocks: subtensor) */
  chainFollower?: ChainFollower
  /** reads the hotkeys registered on the market's subnet (a chain that has subnets: subtensor) */
  registry?: SubnetRegistry
  pruner?: RecordPruner
  supplier?: SupplierService
  /** keeps `tee.crlDir`'s CRLs current (a renter with `tee.crlDir`) */
  crls?: CrlRefresher
  /** keeps `tee.tdxCollateralDir`'s TDX TCB info current, and fetches a new platform's for a rental */
  tdxCollateral?: TdxCollateralKeeper
  renter?: RenterService
  arbiter?: ArbiterService
  /** sweeps settled escrows every `chain.sweepS` (a chain that has sweeps: subtensor) */
  sweeper?: EscrowSweeper
}

/** something the node opened, with how to close it; closed last-opened first */
interface Opened { name: string, close: () => Promise<void> }

/**
 * One marketplace node, wired in one place: the database, the libp2p host, gossip of signed offers
 * and bids with the order book and anti-entropy, its own offers and bids (persisted and
 * re-published before expiry), the stores (agreements, jobs, escrows: each opened once), the chain
 * port, one EscrowService, the roles of `config.role` as services (supplier, renter, arbiter) and
 * the control API with every route registered before it listens. `bazaar node start`, `bazaar
 * supply`, `bazaar arbiter`, the devnet and the tests all build nodes with `BazaarNode.init`.
 *
 * One AbortController (`signal`) reaches every subsystem. `close()` stops everything in the
 * reverse order of its start: control API → arbiter → renter (rentals cancelled and settled,
 * bounded) → supplier (offers withdrawn over gossip, sessions ended) → escrow store → chain →
 * timers → anti-entropy → book → gossip → host (streams, connections) → database.
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
  /** each party's standing in the book: own, registered on the subnet, or none */
  readonly registry: SubnetRegistry
  readonly links: GossipLinkKeeper
  readonly bookSync: BookSync
  /** agreements this node signed (a view of the node's database) */
  readonly agreements: AgreementStore
  /** jobs this node ran or rented (a view of the node's database) */
  readonly jobs: JobStore
  /** a supplier's renter cooldown scores (a view of the node's database) */
  readonly cooldowns: RenterCooldownStore
  /** the role services started (empty with roles `none`) */
  readonly services: NodeServices = {}
  /** the node home (absent for a market-only node built on a bare database path) */
  readonly home?: string
  apiAddress?: { host: string, port: number }
  private chainPort?: ChainPort
  /** resolves with a one-line reason once the chain endpoint serves another chain (see `chainChanged`) */
  private readonly changed: { promise: Promise<string>, resolve: (line: string) => void }
  private escrowStore?: EscrowDb
  private escrowService?: EscrowService
  private readonly sharedChainPort: boolean
  private readonly timers: TimerHandle[] = []
  /** our own offers and bids: stored, signed, published, re-published */
  private readonly own: OwnMessages
  private readonly opened: Opened[] = []
  private readonly controller = new AbortController()
  /** bootstrap peers and peers dialled on request: dialled again when their connection drops */
  readonly kept: KeptPeers
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
    init: BazaarNodeInit
  ) {
    this.host = host
    this.logger = logger
    this.home = init.home
    let resolveChanged = (_line: string): void => {}
    this.changed = { promise: new Promise<string>((resolve) => { resolveChanged = resolve }), resolve: (line) => { resolveChanged(line) } }
    this.sharedChainPort = init.chain != null
    this.startedAt = clock.now()
    this.agreements = new AgreementStore(db)
    this.jobs = new JobStore(db)
    this.cooldowns = new RenterCooldownStore(db)
    this.signer = MessageSigner.create(identity.hotkey, { now: clock.now() })
    this.gossip = new MarketGossip(
      { pubsub: host.services.pubsub, clock, metrics: createGossipMetrics(this.metrics), log: (level, msg, fields) => { logger[level](msg, fields) }, verifyPool: init.gossip?.verifyPool },
      { onMessage: (m) => { this.onMessage(m) }, certCache: init.gossip?.certCache, verifyWorkers: init.gossip?.verifyWorkers }
    )
    this.registry = new SubnetRegistry({
      ownHotkey: Buffer.from(identity.hotkey.publicKey).toString('hex'),
      clock,
      logger,
      netuid: config.chain.netuid,
      onChange: () => { logger.debug('order book standings asked again', { moved: this.market.book.restand() }) },
      // the last set read stands in at the next start, until that start's first read answers
      store: { get: async (key) => await db.get(key), put: async (key, value) => { await db.put(key, value) } }
    })
    this.metrics.gauge('bazaar_subnet_registered_hotkeys', 'hotkeys registered on the market\'s subnet at the last read (they rank above others in a full book)').collect(() => this.registry.size)
    this.market = new MarketService({ host, clock, logger, validator: this.gossip.validator, metrics: this.metrics, standing: this.registry.standingOf })
    const republish = republishSchedule(config.market.republishS)
    this.own = new OwnMessages({
      db,
      gossip: this.gossip,
      signer: this.signer,
      clock,
      logger,
      listenAddrs: () => host.getMultiaddrs().slice(0, 4).map((a) => a.bytes),
      enclavePeer,
      supplies: () => this.supplies,
      role: config.role,
      provideClasses: async (models) => { await this.market.provideClasses(models) },
      running: () => this.status === NodeStatus.Running,
      republishDueMs: republish.dueMs,
      republishSpreadMs: republish.spreadMs,
      signal: this.controller.signal
    })
    this.metrics.gauge('bazaar_peers', 'connected peers').collect(() => host.getPeers().length)
    // the signature pool's threads start with the first burst past the event loop's own budget and
    // each holds memory (README "Messages and gossip"): an operator sees here whether they run
    this.metrics.gauge('bazaar_gossip_verify_workers', 'signature worker threads running').collect(() => this.gossip.verifyWorkers)
    this.metrics.gauge('bazaar_gossip_verify_pool_jobs', 'signature checks sent to the worker threads since start (the rest ran on the event loop)').collect(() => this.gossip.verifySent.jobs)
    this.kept = new KeptPeers(host, logger, this.controller.signal)
    this.links = new GossipLinkKeeper({
      pubsub: host.services.pubsub,
      connections: () => host.getConnections(),
      protocols: peerProtocols(host),
      clock,
      log: (level, msg, fields) => { logger[level](msg, fields) },
      metrics: createGossipLinkMetrics(this.metrics)
    }, {
      auditIntervalMs: init.links?.auditIntervalMs,
      // what the peer gossiped while the link was down is in its book: pull it
      onRepair: (peer) => { this.bookSync.schedule(peer) }
    })
    registerScoreMetrics(this.metrics, host.services.pubsub)
    this.bookSync = new BookSync(
      { libp2p: host, clock, metrics: createBookSyncMetrics(this.metrics), log: (level, msg, fields) => { logger[level](msg, fields) } },
      {
        // the book's signed envelopes as they rest (offers as entries that read theirs when a page is
        // cut: an exchange holds a reference per offer, not a copy), and the signed cancels its tombstones hold
        entries: () => {
          const book = this.market.book
          return { offers: book.offerEnvelopeSources(), bids: book.bidEnvelopes(), offerCancels: book.offerCancels(), bidCancels: book.bidCancels() }
        },
        accept: (topic, data) => this.acceptSynced(topic, data),
        // StrictNoSign with a content id: publishing a peer's message is forwarding it unchanged
        forward: (topic, data) => { host.services.pubsub.publish(topic, data).catch(() => {}) },
        intervalMs: config.market.bookSyncS * 1000,
        ...init.bookSync
      }
    )
    if (init.apiToken != null) this.api = new ControlApi({ host: config.api.host, port: config.api.port, token: init.apiToken, metricsToken: init.metricsToken, logger, metrics: this.metrics })
  }

  /**
   * Builds and starts a node: database, host, market layer, then (roles `config`) the chain, the
   * escrow store and service and the role services in order, then the control API with all its
   * routes. On failure everything opened so far is closed again, in reverse, and the error (a
   * one-line UserError for what the operator can fix) is thrown.
   */
  static async init (init: BazaarNodeInit): Promise<BazaarNode> {
    const clock = init.clock ?? systemClock
    const logger = init.logger ?? nodeLogger(init.config)
    const roles = init.roles ?? 'config'
    if (roles === 'config' && init.home == null) throw new TypeError('BazaarNode.init: a node with roles needs its home')
    const dbPath = init.dbPath ?? (init.home != null ? homePaths(init.home).db : undefined)
    if (dbPath == null) throw new TypeError('BazaarNode.init: a home or a database path is required')
    const db = new Level<string, string>(dbPath, { ...LEVEL_OPTIONS, valueEncoding: 'utf8' })
    await db.open().catch((err: unknown) => { throw dbOpenError(err, dbPath) })
    let host: Host | undefined
    let node: BazaarNode | undefined
    try {
      host = await createHost({
        privateKey: init.identity.peerKey,
        listen: init.config.listen,
        bootstrap: init.config.bootstrap,
        mdns: init.config.mdns,
        ...init.network
      }).catch((err: unknown) => { throw listenError(err, init.config.listen) })
      node = new BazaarNode(init.config, init.identity, db, host, clock, logger, init.enclavePeer ?? init.enclaveKey?.peerId ?? host.peerId, init)
      const h = host
      node.opened.push({ name: 'database', close: async () => { await db.close() } }, { name: 'host', close: async () => { await h.stop() } })
      await node.start(init, roles)
      return node
    } catch (err) {
      // a start that failed half way (the control API's port taken, say) has timers, the link
      // keeper, the signature workers and maybe roles running: close them all, or the process never exits
      if (node != null) await node.close().catch(() => {})
      else {
        try { await host?.stop() } catch {}
        await db.close().catch(() => {})
      }
      throw err
    }
  }

  get peerId (): PeerId { return this.host.peerId }
  /** whether this node's role makes and serves offers (supplier or both) */
  get supplies (): boolean { return this.config.role === 'supplier' || this.config.role === 'both' }

  private async start (init: BazaarNodeInit, roles: NodeRoles): Promise<void> {
    const signal = init.signal != null ? AbortSignal.any([this.signal, init.signal]) : this.signal
    // the market layer
    this.links.start()
    this.opened.push({ name: 'gossip links', close: async () => { this.links.stop() } })
    this.gossip.start()
    this.opened.push({ name: 'gossip', close: async () => { this.gossip.stop() } })
    await this.market.start()
    this.opened.push({ name: 'market', close: async () => { await this.market.stop() } })
    await this.bookSync.start()
    this.opened.push({ name: 'anti-entropy', close: async () => { await this.bookSync.stop() } })
    // mDNS (and any discovery) only reports peers; dial them while we have room for connections
    this.host.addEventListener('peer:discovery', this.onDiscovery)
    this.opened.push({ name: 'discovery', close: async () => { this.host.removeEventListener('peer:discovery', this.onDiscovery) } })
    this.opened.push({
      name: 'timers',
      close: async () => {
        for (const t of this.timers.splice(0)) t.clear()
        // a re-publication in flight reads the database and publishes on gossip: both still open here
        await this.own.idle()
      }
    })
    this.every(30_000, () => { this.prune() })
    await this.kept.keepAddrs(this.config.bootstrap)
    this.every(60_000, () => { void this.kept.check() })
    this.every(republishSchedule(this.config.market.republishS).tickMs, () => { void this.own.republish({ spread: true }) })
    // the API's address is held before the roles open anything: one in use fails the start now, with its one line
    const held = this.api != null ? await holdApiAddress(this.config.api.host, this.config.api.port) : undefined
    if (held != null) this.opened.push({ name: 'control API address', close: async () => { await held.release() } })
    if (roles === 'config') await this.startRoles(init, signal)
    if (this.api != null) {
      const api = this.api
      // every route before the API listens: a client never meets a half-built node
      this.registerRoutes(api)
      if (roles === 'config') registerDaemonRoutes(api, this.daemonRoutes())
      this.opened.push({ name: 'control API', close: async () => { await api.stop() } })
      await held?.release()
      this.apiAddress = await api.start()
    }
    this.status = NodeStatus.Running
    await this.own.republish()
    this.logger.info('node started', {
      peerId: this.peerId.toString(),
      addrs: this.host.getMultiaddrs().map((a) => a.toString()),
      hotkey: this.identity.hotkey.address,
      api: this.apiAddress == null ? undefined : apiUrl(this.apiAddress.host, this.apiAddress.port)
    })
  }

  /**
   * The roles of `config.role` on the market layer: the chain port (the injected one, or the
   * config's), the escrow store `<home>/escrow`, one EscrowService, the arbiter client
   * (`chain.arbiterPeer`), then the services in order: the chain follower (a chain read from its
   * blocks), the subnet registry, agreement pruning, supplier (role supplier
   * or both), the CRL refresher, the TDX collateral keeper and the renter (renter or both; the refresher with `tee.crlDir`, the keeper with `tee.tdxCollateralDir`), arbiter, then the escrow sweeper (every `chain.sweepS`, on a
   * chain that has sweeps). A failure that is not already a UserError becomes one that names the
   * role.
   */
  private async startRoles (init: BazaarNodeInit, signal: AbortSignal): Promise<void> {
    const { config, logger, clock } = this
    const home = init.home as string
    const hotkey = init.identity.hotkey
    try {
      const chain = init.chain ?? await openChain(config, home, hotkey.address, logger, { signal })
      if (init.chain == null) this.opened.push({ name: 'chain', close: async () => { await chain.close() } })
      this.chainPort = chain
      // one line per change of the chain connection (polkadot's own lines, one per retry, are debug)
      const unresponsive = this.metrics.counter('bazaar_chain_unresponsive_total', 'chain sockets dropped and opened again because the node stopped answering on them (the subtensor adapter\'s health watch)')
      const unwatch = chain.onConnection?.((e) => {
        // the node left, reached or found serving another chain, where there are several
        const endpoint = e.endpoint ?? config.chain.endpoint
        if (e.kind === 'lost' && e.unresponsive === true) {
          unresponsive.inc()
          logger.warn('chain node stopped answering on an open socket (no answer to its health checks): socket dropped; reconnecting', { endpoint })
        } else if (e.kind === 'lost') logger.warn('chain connection lost; reconnecting (escrow operations wait for it, rentals are refused meanwhile)', { endpoint })
        else if (e.kind === 'restored') logger.info('chain connection restored', { endpoint })
        else {
          const what = `the chain endpoint now serves another chain (${describeChange(e)})`
          logger.error(`${what}: escrow operations fail until this node starts again`, { endpoint })
          this.changed.resolve(what)
        }
      })
      if (unwatch != null) this.opened.push({ name: 'chain connection watch', close: async () => { unwatch() } })
      const escrowDb = await EscrowDb.open(path.join(home, 'escrow'))
      this.opened.push({ name: 'escrow store', close: async () => { await escrowDb.close() } })
      this.escrowStore = escrowDb
      const arbiter = config.chain.arbiterPeer != null ? new RemoteArbiter(this.host, multiaddr(config.chain.arbiterPeer)) : undefined
      const escrow = new EscrowService({ chain, escrows: escrowDb.escrows, vouchers: escrowDb.vouchers, account: hotkey, arbiter, clock })
      this.escrowService = escrow
      // the escrows this node holds that may still be in play are found however long it was
      // stopped: the chain's scan reaches back to the oldest one's open block
      const scanStart = chain.scanFrom != null ? await escrow.scanStart() : undefined
      if (scanStart != null) {
        chain.scanFrom!(scanStart)
        logger.info('chain: escrow records are read from the open block of the oldest escrow this node holds that may still be in play, or earlier', { block: scanStart })
      }
      const components = { node: this, chain, escrowDb, escrow, agreements: this.agreements, jobs: this.jobs, cooldowns: this.cooldowns, arbiter, logger, signal: this.signal }
      const s = this.services
      if (chain.catchUp != null) {
        const readBlock = this.metrics.gauge('bazaar_chain_read_block', 'the last block whose escrow records this node read, as of the chain follower\'s last look (every 12 s)')
        // the escrows naming this node, as the chain shows them opened, keep their open blocks (an
        // arbiter keeps each one naming it; the others only gain the block they lack)
        const onOpened = async (opened: NonNullable<ChainCatchUp['opened']>): Promise<void> => { await escrow.keepOpened(opened) }
        s.chainFollower = new ChainFollower({ chain: { connected: chain.connected?.bind(chain), catchUp: chain.catchUp.bind(chain) }, clock, logger, readBlock, onOpened })
      }
      const pruned = this.metrics.counter('bazaar_records_pruned_total', 'records deleted past their retention, by kind: agreements (dormant ones, and those of pruned jobs), jobs (30 days after their end, once settled) and escrows (settled ones with their jobs, an arbiter\'s unasked ones)')
      s.pruner = new RecordPruner({ agreements: this.agreements, jobs: this.jobs, escrowDb, clock, logger, pruned })
      if (this.supplies) s.supplier = new SupplierService(components, { config, home, hotkey, enclaveKey: init.enclaveKey, runNvidiaSmi: init.runNvidiaSmi })
      if (config.role === 'renter' || config.role === 'both') {
        const { crlDir, crlSources, crlUrls, tdxCollateralDir, tdxPcsUrl } = config.tee
        if (crlDir != null) s.crls = new CrlRefresher({ dir: crlDir, sources: crlSources, urls: crlUrls, clock, logger: logger.child({ service: 'crl-refresher' }) })
        if (tdxCollateralDir != null) s.tdxCollateral = new TdxCollateralKeeper({ dir: tdxCollateralDir, ...(tdxPcsUrl != null ? { pcsUrl: tdxPcsUrl } : {}), clock, logger: logger.child({ service: 'tdx-collateral' }) })
        s.renter = new RenterService({ ...components, sharedChain: this.sharedChain }, { config, hotkey, voucherKeys: init.voucherKeys, settleWaitMs: init.settleWaitMs, crlsReady: s.crls?.ready, tdxCollateral: s.tdxCollateral })
      }
      if (config.role === 'arbiter') s.arbiter = new ArbiterService({ host: this.host, chain, escrowDb, clock, logger }, hotkey)
      // one sweep covers every role: the adapter cancels this key's stale approvals as a party and
      // empties the per-escrow keys of escrows it arbitrates
      if (chain.sweep != null && config.chain.sweepS > 0) s.sweeper = new EscrowSweeper({ escrow, clock, logger, intervalMs: config.chain.sweepS * 1000 })
      this.registry.watch(chain)
      s.registry = this.registry
      for (const service of [s.chainFollower, s.registry, s.pruner, s.supplier, s.crls, s.tdxCollateral, s.renter, s.arbiter, s.sweeper]) {
        if (service == null) continue
        // stop is safe after a partial start: whatever the service opened is closed with the node
        this.opened.push({ name: service.name, close: async () => { await service.stop() } })
        await service.start()
      }
    } catch (err) {
      if (err instanceof UserError || signal.aborted) throw err
      const code = (err as { code?: string }).code
      // a store that did not open says only "Database failed to open"; its cause names the path and why
      const cause = code === 'LEVEL_DATABASE_NOT_OPEN' ? (err as { cause?: { message?: unknown } }).cause?.message : undefined
      const why = typeof cause === 'string' ? `: ${cause.split('\n')[0]}` : ''
      throw new UserError(`the ${config.role} role did not start: ${(err as Error).message}${why}`, { code: code ?? 'DAEMON_START_FAILED', cause: err })
    }
  }

  private readonly onDiscovery = (evt: CustomEvent<PeerInfo>): void => {
    const peer = evt.detail
    // dialled while the roles start too (a chain connection can take seconds), never once closing
    if (this.status === NodeStatus.Stopping || this.status === NodeStatus.Stopped || this.host.getPeers().some((p) => p.equals(peer.id))) return
    guardedNetworkOperation(async (signal) => await this.host.dial(peer.id, { signal }), { signal: this.signal }).catch((err) => {
      this.logger.debug('dial of discovered peer failed', { peer: peer.id.toString(), err })
    })
  }

  /** the chain port of the roles (absent with roles `none`) */
  get chain (): ChainPort | undefined { return this.chainPort }

  /**
   * Resolves, with a one-line reason, once the chain endpoint serves another chain than the one
   * this node opened (CHAIN_CHANGED): nothing it signed or holds fits there until it starts again.
   * A daemon stops on it (`bazaar node start` exits 75, and the systemd units restart it); an
   * embedding process decides for itself.
   */
  get chainChanged (): Promise<string> { return this.changed.promise }
  /** the escrow store `<home>/escrow` (absent with roles `none`) */
  get escrowDb (): EscrowDb | undefined { return this.escrowStore }
  /** the one EscrowService every role of this node uses (absent with roles `none`) */
  get escrow (): EscrowService | undefined { return this.escrowService }
  /** the running supplier role (role supplier, or both with GPUs) */
  get supplier (): SupplierRole | undefined { return this.services.supplier?.role }
  /** the renter role with the config's attestation policy (role renter or both) */
  get renter (): RenterRole | undefined { return this.services.renter?.role }
  /** false for an embedded ledger this node opened itself: nobody outside this process sees it */
  get sharedChain (): boolean { return this.sharedChainPort || this.config.chain.adapter !== 'embedded' }
  /**
   * role renter/both: the settlement of escrows an earlier run of this renter left open (see
   * RenterRole.resume); resolves with what it did
   */
  get resumed (): Promise<ResumedEscrow[]> { return this.services.renter?.resumed ?? Promise.resolve([]) }

  /**
   * Why this node cannot rent at all, most fundamental first (role, then chain, then arbiter), or
   * undefined when it can. The same check answers the control API before a stream starts.
   */
  rentRefusal (): UserError | undefined {
    const renter = this.services.renter
    if (renter == null) return new UserError(`this node's role is ${this.config.role}: renting needs role renter or both`, { code: 'WRONG_ROLE' })
    return renter.rentRefusal()
  }

  /**
   * One rental as the renter (see RenterService.rent): streams its events, records it as a renter
   * job and resolves with the summary. Closing the node cancels it; the escrow still settles.
   */
  async rent (parsed: ParsedRent, opts: { signal?: AbortSignal, onEvent?: (e: RentEvent) => void } = {}): Promise<RentSummary> {
    const renter = this.services.renter
    const refusal = this.rentRefusal()
    if (renter == null || refusal != null) throw refusal ?? new UserError('not a renter', { code: 'WRONG_ROLE' })
    return await renter.rent(parsed, opts)
  }

  /** Prunes dormant agreements now (see RecordPruner); returns how many went. */
  async pruneAgreements (): Promise<number> {
    return (await this.pruneRecords()).agreements
  }

  /** Prunes the records past their retention now (see RecordPruner); returns how many of each went. */
  async pruneRecords (): Promise<PruneCounts> {
    return await (this.services.pruner?.prune() ?? Promise.resolve({ agreements: 0, jobs: 0, escrows: 0 }))
  }

  /** what the daemon's routes read: the role services and stores of this node */
  private daemonRoutes (): DaemonRouteContext {
    return {
      config: this.config,
      home: this.home as string,
      clock: this.clock,
      agreements: this.agreements,
      jobs: this.jobs,
      escrow: this.escrowService as EscrowService,
      chain: this.chainPort as ChainPort,
      supplier: () => this.supplier,
      chainRead: () => this.services.chainFollower?.last,
      rentRefusal: () => this.rentRefusal(),
      rent: async (parsed, opts) => await this.rent(parsed, opts)
    }
  }

  /** a timer the node owns; close() clears it */
  every (ms: number, fn: () => void): void {
    this.timers.push(this.clock.setInterval(fn, ms))
  }

  /** subscribes to every accepted market message (ours and peers') */
  onMarketMessage (fn: (m: ValidatedMessage) => void): void {
    this.listeners.push(fn)
  }

  /**
   * An envelope a peer served through anti-entropy: the gossip validator decides, exactly as for a
   * gossip message; an accepted one goes where a gossip message goes. What the book then refuses
   * is not 'applied' (the exchange re-gossips what was applied): an older version than the book
   * holds, or one under its tombstone, counts as a duplicate, and one it has no room for as ignored.
   */
  private acceptSynced (topic: typeof TOPIC_OFFERS | typeof TOPIC_BIDS, data: Uint8Array): SyncVerdict {
    let m: ValidatedMessage
    try {
      m = this.gossip.validator.validate(topic, data)
    } catch (err) {
      return syncVerdictOf(err)
    }
    const result = this.onMessage(m, 'fetch')
    return result === 'applied' ? 'applied' : result === 'STALE' ? 'duplicate' : 'ignored'
  }

  private onMessage (m: ValidatedMessage, source: 'gossip' | 'fetch' = 'gossip'): ReturnType<MarketService['apply']> {
    const result = this.market.apply(m, source, m.signer === this.signer.address)
    for (const l of this.listeners) {
      try { l(m) } catch (err) { this.logger.error('market listener failed', { err }) }
    }
    return result
  }

  private prune (): void {
    const now = this.clock.now()
    this.market.book.expire(now)
  }

  /** Signs and publishes an offer; persisted first so it is re-published after a restart. */
  async publishOffer (input: OfferInput): Promise<ValidatedOffer> { return await this.own.publishOffer(input) }

  async cancelOffer (id: string): Promise<void> { await this.own.cancelOffer(id) }

  /** Signs and publishes a bid; persisted first so it is re-published after a restart. */
  async publishBid (input: BidInput): Promise<ValidatedBid> { return await this.own.publishBid(input) }

  async cancelBid (id: string): Promise<void> { await this.own.cancelBid(id) }

  peers (): PeerView[] {
    const pubsub = this.host.services.pubsub
    const scores = peerScores(pubsub)
    const kept = new Set(this.kept.peers)
    return this.host.getConnections().map((c) => {
      const id = c.remotePeer.toString()
      const score = scores.get(id)
      return {
        peerId: id,
        addrs: [c.remoteAddr.toString()],
        direction: c.direction,
        streams: c.streams.length,
        kept: kept.has(id),
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
    api.route('GET', '/v1/offers', async (req) => this.market.book.offers(parseOfferFilters(req.query)).map((e) => offerView(e.offer)))
    api.route('POST', '/v1/offers', async (req) => offerView((await this.publishOffer(parseOfferInput(req.body, { ...market, teeProvider: this.config.tee.provider }))).offer))
    api.route('DELETE', '/v1/offers/:id', async (req) => { await this.cancelOffer(req.params.id); return { ok: true } })
    api.route('GET', '/v1/bids', async () => this.market.book.bids().map((e) => bidView(e.bid)))
    api.route('POST', '/v1/bids', async (req) => bidView((await this.publishBid(parseBidInput(req.body, { netuid: this.config.chain.netuid, ttlS: this.config.market.offerTtlS }))).bid))
    api.route('DELETE', '/v1/bids/:id', async (req) => { await this.cancelBid(req.params.id); return { ok: true } })
    api.route('GET', '/v1/book', async (req) => {
      const entries = this.market.book.offers(parseBookQuery(req.query))
      return { offers: bookRows(entries), bids: this.market.book.bids().length }
    })
    api.route('POST', '/v1/discover', async (req) => {
      const gpu = (req.body as { gpu?: unknown })?.gpu
      if (typeof gpu !== 'string' || !/^[a-z0-9][a-z0-9.-]{0,47}$/.test(gpu)) throw new ApiError(400, 'BAD_INPUT', 'gpu: expected a GPU model or class', 'gpu')
      return { added: await this.market.discover(gpu, { signal: AbortSignal.any([req.signal, AbortSignal.timeout(20_000)]) }) }
    })
    api.route('GET', '/metrics', async () => new RawResponse('text/plain; version=0.0.4', this.metrics.render()))
  }

  /**
   * Dials a peer by multiaddr (tests and `--bootstrap` at runtime) and keeps it: when the
   * connection drops, the node dials it again (KeptPeers).
   */
  async dial (addr: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const ma = multiaddr(addr)
    const conn = await dialAddr(this.host, ma, opts.signal)
    await this.kept.keep(conn.remotePeer, ma)
  }

  /**
   * Ordered shutdown, the reverse of the start: control API → role services → escrow store → chain
   * → timers → anti-entropy → book → gossip → host → database. The roles stop while gossip and the
   * host still run: a supplier withdraws its offers and a renter settles its escrows on the way out.
   */
  async close (): Promise<void> {
    if (this.status === NodeStatus.Stopping || this.status === NodeStatus.Stopped) return
    // a node whose start failed says nothing here: the start's one-line error is the whole story
    const started = this.status === NodeStatus.Running
    this.status = NodeStatus.Stopping
    this.controller.abort()
    for (const o of this.opened.splice(0).reverse()) {
      try {
        await o.close()
      } catch (err) {
        this.logger.warn(`${o.name} did not stop cleanly`, { err })
      }
    }
    this.status = NodeStatus.Stopped
    if (started) this.logger.info('node stopped', { peerId: this.peerId.toString() })
  }

  /** aborted when the node closes: every subsystem's operations end with it */
  get signal (): AbortSignal { return this.controller.signal }
}

/** The logger a node of this config writes with (`log.level`, `log.format`). */
export function nodeLogger (config: BazaarConfig): Logger {
  return createLogger({ level: toLogLevel(config.log.level), format: config.log.format })
}

function toLogLevel (l: string): 'debug' | 'info' | 'warn' | 'error' {
  if (l === 'trace' || l === 'debug') return 'debug'
  if (l === 'warn' || l === 'error') return l
  if (l === 'silent') return 'error'
  return 'info'
}

