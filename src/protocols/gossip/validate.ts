import type { Clock } from '../../util/clock.js'
import type { SignerCert } from '../../wire/market.js'
import { CertCache } from '../../market/signing/index.js'
import { MessageErrorCode, reject, ignore } from '../../market/validation/errors.js'
import { BoundedMap } from '../../util/bounded-map.js'
import {
  BID_VALIDATION, OFFER_VALIDATION, TopicValidator, gossipMessageDigest, type ValidatedMessage, type ValidationState
} from './topic-validation.js'
import type { VerifyPool } from './verify-pool.js'
import { SlotSequences, expiredBy } from './slot-sequences.js'

export { messageId, type ValidatedBid, type ValidatedMessage, type ValidatedOffer } from './topic-validation.js'
export { errorCodeOf, gossipActionOf } from './verdict.js'

/**
 * The message id as bytes (gossipsub's msgIdFn): the same 20 bytes `messageId` gives in base64.
 * Remembered by `data` for the topic validator, which gossipsub runs next on the same array.
 */
export function msgIdBytes (data: Uint8Array): Uint8Array {
  return new Uint8Array(gossipMessageDigest(data))
}

/**
 * gossipsub's msgIdToStrFn: the key of its seen-cache, message cache and IWANT tracking. The same
 * base64 as `messageId` (a market message's id is one string everywhere), through Node's native
 * encoder rather than the default's JS one, which cost a few µs per message.
 */
export function msgIdString (id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('base64')
}

/** distinct uncached certificates that may wait for their turn (about 1 ms of CPU each through the wasm verifier, 7.5 ms before it is ready) */
const MAX_CERT_QUEUE = 1024

export interface MarketValidatorInit {
  clock: Clock
  certCache?: CertCache
  /** how many message ids to remember for replay detection */
  maxSeen?: number
  /** how many (signer, id) slots to track sequences for */
  maxSlots?: number
}

/** What the validator does with one topic's messages, whatever their type. */
interface TopicPipeline {
  validate: (wire: Uint8Array) => ValidatedMessage
  validateAsync: (wire: Uint8Array, pool?: VerifyPool) => Promise<ValidatedMessage>
}

/**
 * Validation of an untrusted market message: the topic picks its row of the table
 * (topic-validation.ts), whose steps run cheapest first (STYLE: Lodestar's gossip validation):
 * size cap → bounded decode → canonical encoding → schema → seen-cache → expiry and clock skew →
 * sequence → party and certificate (cached sr25519) → signature (ed25519). The order and the
 * verdict of each check are docs/protocol.md §2.5.
 *
 * `validate` runs every check on the calling thread; `validateAsync` hands the ed25519 signature,
 * still the last check, to a VerifyPool and gives its verdict when a worker answered.
 *
 * Throws (or rejects with) an OfferError or a BidError (a MessageError for an unknown topic) whose
 * action says whether to penalise the forwarding peer. Only after every check passed does it
 * remember the message id and the slot's sequence. The seen-cache, the sequences and the
 * certificate cache are shared by both topics.
 *
 * What an accepted message keeps, it owns: the envelope is copied out of the buffer it arrived in
 * (a gossipsub RPC frame, a stream chunk) before it is decoded, so the body's fields are views into
 * that exact-size copy and a held offer never pins a whole frame.
 */
export class MarketMessageValidator {
  private readonly clock: Clock
  readonly certCache: CertCache
  private readonly seen: BoundedMap<string, number>
  private readonly slots: SlotSequences
  private readonly topics: ReadonlyMap<string, TopicPipeline>
  /** uncached certificate checks run one per event-loop turn, in arrival order */
  private certQueue: Promise<void> = Promise.resolve()
  /** turns queued, by certificate signature */
  private readonly certTurns = new Map<string, Promise<void>>()

  constructor (init: MarketValidatorInit) {
    this.clock = init.clock
    this.certCache = init.certCache ?? new CertCache()
    this.seen = new BoundedMap(init.maxSeen ?? 100_000)
    this.slots = new SlotSequences(init.maxSlots ?? 200_000)
    const state: ValidationState = {
      clock: this.clock,
      certCache: this.certCache,
      seen: this.seen,
      slots: this.slots,
      certTurn: async (signer) => { await this.certTurn(signer) }
    }
    this.topics = new Map<string, TopicPipeline>([
      [OFFER_VALIDATION.topic, new TopicValidator(OFFER_VALIDATION, state)],
      [BID_VALIDATION.topic, new TopicValidator(BID_VALIDATION, state)]
    ])
  }

  validate (topic: string, data: Uint8Array): ValidatedMessage {
    return this.pipeline(topic).validate(data)
  }

  /**
   * The same checks in the same order, the signature verified by `pool` off the event loop (or
   * here, without one). A certificate not seen before is verified in its own turn of the event
   * loop (`certTurn`). The verdict comes when the worker answered.
   */
  async validateAsync (topic: string, data: Uint8Array, pool?: VerifyPool): Promise<ValidatedMessage> {
    return await this.pipeline(topic).validateAsync(data, pool)
  }

  private pipeline (topic: string): TopicPipeline {
    const p = this.topics.get(topic)
    // [REJECT] not a market topic: no row of the table applies
    if (p === undefined) throw reject(MessageErrorCode.UNKNOWN_TOPIC)
    return p
  }

  /**
   * The certificate check of a signer not seen before (an sr25519 verification, milliseconds of
   * CPU), one per turn of the event loop: a burst of new signers, or a peer that sends fresh
   * certificates on purpose, must not stall the event loop (connection keep-alives and every other
   * message wait on it). Bounded: past MAX_CERT_QUEUE waiting checks the message is dropped.
   */
  private async certTurn (signer: SignerCert): Promise<void> {
    // messages of one signer wait on one turn: the first to run verifies, the others hit the cache
    const id = Buffer.from(signer.signature).toString('base64')
    let turn = this.certTurns.get(id)
    if (turn === undefined) {
      // [IGNORE] too many new certificates waiting: dropped, not the sender's fault
      if (this.certTurns.size >= MAX_CERT_QUEUE) throw ignore(MessageErrorCode.OVERLOADED)
      turn = this.certQueue.then(async () => {
        await new Promise((resolve) => setImmediate(resolve))
        this.certTurns.delete(id)
        // the slow check, in this turn of its own; its result lands in the cache
        this.certCache.check(signer, this.clock.now())
      })
      // a failed turn must not stop the ones after it
      this.certQueue = turn.catch(() => {})
      this.certTurns.set(id, turn)
    }
    await turn
  }

  /** forgets expired slots and ids; the node calls this on a timer */
  prune (): void {
    const now = this.clock.now()
    const past = expiredBy(now)
    this.seen.prune((exp) => exp <= past)
    this.slots.prune(now)
  }
}
