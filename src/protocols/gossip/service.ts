import type { PeerId } from '@libp2p/interface'
import { TopicValidatorResult, type GossipSub, type Message } from '@libp2p/gossipsub'
import type { Clock, TimerHandle } from '../../util/clock.js'
import { MessageErrorCode, ignore } from '../../market/validation/errors.js'
import { TokenBucketLimiter } from '../../util/rate-limit.js'
import { schnorrkelWasmAvailable } from '../../util/schnorrkel-wasm.js'
import { TOPIC_BIDS, TOPIC_OFFERS, TOPICS } from './topics.js'
import { MarketMessageValidator, type ValidatedMessage } from './validate.js'
import { refusalOf } from './verdict.js'
import type { GossipMetrics } from './metrics.js'
import type { CertCache } from '../../market/signing/index.js'
import { VerifyPool } from './verify-pool.js'

export interface MarketGossipComponents {
  pubsub: GossipSub
  clock: Clock
  metrics?: GossipMetrics
  /** a verifier pool shared by several nodes of one process (benchmarks, devnets); not closed by stop() */
  verifyPool?: VerifyPool
  log?: (level: 'debug' | 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void
}

export interface MarketGossipInit {
  /** messages a single forwarding peer may send per second before they are ignored */
  perPeerRate?: number
  perPeerBurst?: number
  /**
   * verified signer certificates; nodes of one process (a devnet, a test network) may share one,
   * since a certificate's verdict depends only on its bytes and the time
   */
  certCache?: CertCache
  /** called with every accepted message (from peers and from ourselves) */
  onMessage: (m: ValidatedMessage) => void
  /**
   * worker threads that verify peers' signatures off the event loop (docs/protocol.md §2.5);
   * 0 verifies on the event loop. Default: the machine's cores less one, 1 to 4.
   */
  verifyWorkers?: number
}

/**
 * Adapts the market validator to gossipsub: a topic validator per topic (runs before a message is
 * delivered or forwarded), the verdict mapping (REJECT feeds gossipsub's peer score, IGNORE only
 * drops), a per-peer rate limit, and metrics by code.
 */
export class MarketGossip {
  readonly validator: MarketMessageValidator
  private readonly rate: TokenBucketLimiter
  private readonly onGossip = (evt: CustomEvent<Message>): void => { this.deliver(evt.detail) }
  /** accepted messages until gossipsub delivers them: it hands the validator's Message object back */
  private readonly pending = new WeakMap<Message, ValidatedMessage>()
  private pool?: VerifyPool
  private pruneTimer?: TimerHandle

  constructor (private readonly c: MarketGossipComponents, private readonly init: MarketGossipInit) {
    this.validator = new MarketMessageValidator({ clock: c.clock, certCache: init.certCache })
    this.rate = new TokenBucketLimiter(init.perPeerRate ?? 200, init.perPeerBurst ?? 400)
  }

  start (): void {
    // schnorrkel's wasm checks new signers' certificates (CertCache); loading it takes about 20 ms,
    // spent here at start rather than on the loop at the first new signer's message
    schnorrkelWasmAvailable()
    if (this.c.verifyPool != null) this.pool = this.c.verifyPool
    else if (this.init.verifyWorkers !== 0) {
      this.pool = new VerifyPool({
        workers: this.init.verifyWorkers,
        // the first burst past the event loop's budget: from now on this process holds the threads
        onStart: (workers) => { this.c.log?.('info', 'signature worker threads started', { workers }) }
      })
    }
    for (const t of TOPICS) {
      this.c.pubsub.topicValidators.set(t, (peer, msg) => this.validateFrom(peer, msg))
      this.c.pubsub.subscribe(t)
    }
    this.c.pubsub.addEventListener('message', this.onGossip)
    this.pruneTimer = this.c.clock.setInterval(() => { this.validator.prune() }, 60_000)
  }

  stop (): void {
    this.pruneTimer?.clear()
    this.c.pubsub.removeEventListener('message', this.onGossip)
    for (const t of TOPICS) {
      this.c.pubsub.topicValidators.delete(t)
      this.c.pubsub.unsubscribe(t)
    }
    // the workers are unref'd: nothing waits on their exit
    if (this.pool !== this.c.verifyPool) void this.pool?.close()
    this.pool = undefined
  }

  /** signature checks queued or running in the worker pool */
  get verifyQueueDepth (): number { return this.pool?.depth ?? 0 }
  /** batches and jobs this node's pool sent to its workers (zero without a pool) */
  get verifySent (): { batches: number, jobs: number } { return this.pool?.sent ?? { batches: 0, jobs: 0 } }
  /** signature worker threads running now (none until the inline budget first runs out) */
  get verifyWorkers (): number { return this.pool?.size ?? 0 }

  private validateFrom (peer: PeerId, msg: Message): TopicValidatorResult | Promise<TopicValidatorResult> {
    const now = this.c.clock.now()
    try {
      // [IGNORE] the forwarding peer is over its message rate
      if (!this.rate.take(peer.toString(), now)) throw ignore(MessageErrorCode.RATE_LIMITED)
      // light traffic: verify here, a thread hop would add more latency than the check costs;
      // under load (verifications queued, or the inline budget spent) the pool takes them all
      if (this.pool == null) return this.accepted(msg, this.validator.validate(msg.topic, msg.data))
      const pool = this.pool.takeInline(now) ? undefined : this.pool
      return this.validator.validateAsync(msg.topic, msg.data, pool).then((v) => this.accepted(msg, v), (err) => this.refused(peer, msg, err))
    } catch (err) {
      return this.refused(peer, msg, err)
    }
  }

  private accepted (msg: Message, v: ValidatedMessage): TopicValidatorResult {
    // gossipsub delivers this same Message object right after an Accept; keep the decoded form for that
    this.pending.set(msg, v)
    this.c.metrics?.validated.inc({ topic: msg.topic, result: 'accept', code: 'OK' })
    return TopicValidatorResult.Accept
  }

  private refused (peer: PeerId, msg: Message, err: unknown): TopicValidatorResult {
    const { action, code, result, label } = refusalOf(err)
    this.c.metrics?.validated.inc({ topic: msg.topic, result: label, code })
    this.c.log?.('debug', 'gossip message refused', { topic: msg.topic, peer: peer.toString(), code, action })
    return result
  }

  /**
   * Gossipsub dispatches an accepted message to its listeners before it forwards it to its mesh, in
   * the same turn. The node's own work on it (the book, the market's events, API streams) waits for
   * the forward, a microtask later and in arrival order, so that a hop costs the network the
   * validation only (go-libp2p-pubsub and rust-libp2p hand messages to the application apart from
   * forwarding as well).
   */
  private deliver (msg: Message): void {
    if (msg.topic !== TOPIC_OFFERS && msg.topic !== TOPIC_BIDS) return
    const v = this.pending.get(msg)
    if (v == null) return
    this.pending.delete(msg)
    queueMicrotask(() => {
      try {
        this.init.onMessage(v)
      } catch (err) {
        this.c.log?.('warn', 'accepted gossip message not applied', { topic: msg.topic, err })
      }
    })
  }

  /**
   * Publishes our own signed envelope. It runs through the same validator first, so a node never
   * sends what its peers would reject, and it is delivered locally like a peer's message.
   */
  async publish (topic: typeof TOPIC_OFFERS | typeof TOPIC_BIDS, data: Uint8Array): Promise<{ recipients: number, message: ValidatedMessage }> {
    const v = this.validator.validate(topic, data)
    this.init.onMessage(v)
    const res = await this.c.pubsub.publish(topic, data)
    this.c.metrics?.published.inc({ topic })
    return { recipients: res.recipients.length, message: v }
  }
}
