import { GossipAction, GossipActionError } from '../../util/errors.js'

/**
 * Why a market message was refused. The action tells gossipsub whether to penalise the peer that
 * forwarded it (REJECT) or only drop it (IGNORE).
 */
export enum MessageErrorCode {
  TOO_LARGE = 'TOO_LARGE',
  MALFORMED = 'MALFORMED',
  NON_CANONICAL = 'NON_CANONICAL',
  BAD_VERSION = 'BAD_VERSION',
  BAD_FIELD = 'BAD_FIELD',
  SIGNER_MISMATCH = 'SIGNER_MISMATCH',
  DUPLICATE = 'DUPLICATE',
  EXPIRED = 'EXPIRED',
  FUTURE_DATED = 'FUTURE_DATED',
  TTL_TOO_LONG = 'TTL_TOO_LONG',
  STALE_SEQUENCE = 'STALE_SEQUENCE',
  CERT_MALFORMED = 'CERT_MALFORMED',
  CERT_EXPIRED = 'CERT_EXPIRED',
  CERT_BAD_SIGNATURE = 'CERT_BAD_SIGNATURE',
  BAD_SIGNATURE = 'BAD_SIGNATURE',
  RATE_LIMITED = 'RATE_LIMITED',
  /** the node's signature verifiers are saturated: dropped, never the sender's fault */
  OVERLOADED = 'OVERLOADED',
  UNKNOWN_TOPIC = 'UNKNOWN_TOPIC'
}

/** Codes decided before a message's type is known: they belong to no topic's table. */
type TopicFreeCode = MessageErrorCode.UNKNOWN_TOPIC | MessageErrorCode.RATE_LIMITED

/**
 * The codes an offer's checks end with (docs/protocol.md §2.5). Offers and bids pass the same kinds
 * of check, so the two sets are equal; each keeps its own name so that a validator's signature says
 * which message it refuses.
 */
export type OfferErrorCode = Exclude<MessageErrorCode, TopicFreeCode>
/** The codes a bid's checks end with (see OfferErrorCode). */
export type BidErrorCode = Exclude<MessageErrorCode, TopicFreeCode>

/**
 * A refused market message. Callers that only need the verdict catch this base class; OfferError
 * and BidError say which message type failed. A refusal decided before the topic is known (an
 * unknown topic, a peer over its rate) is a plain MessageError.
 */
export class MessageError<C extends MessageErrorCode = MessageErrorCode> extends GossipActionError<C> {
  /** which field was wrong, for BAD_FIELD */
  readonly field?: string
  constructor (action: GossipAction, code: C, detail?: { field?: string, message?: string }) {
    super(action, code, detail?.message ?? (detail?.field != null ? fieldMessage(code, detail.field) : code))
    this.field = detail?.field
  }
}

/**
 * What each field must be (docs/protocol.md §2.4), for the message of a refusal: an operator whose
 * own publication is refused reads why, not only which field. Indices are left out of the lookup.
 */
const FIELD_RULES: Readonly<Record<string, string>> = {
  id: '1 to 64 characters of a-z, 0-9, ".", "_" and "-"',
  supplier: 'a 32-byte public key',
  renter: 'a 32-byte public key',
  sequence: 'a whole number from 0 to 2^63 - 1',
  enclavePeer: 'the peer id of an ed25519 key',
  gpus: '1 to 16 GPU entries',
  'gpus.model': 'a GPU model: a-z, 0-9, "." and "-", at most 48 characters',
  'gpus.memoryMib': '1 to 4,194,304 MiB',
  'gpus.count': '1 to 1,024 GPUs',
  teeKinds: '1 to 4 distinct of tdx, sev-snp and simulated',
  region: 'a region: a-z, 0-9 and "-", at most 32 characters',
  pricePerGpuHour: 'a price of 1 to 2^63 - 1 base units per GPU-hour',
  maxPricePerGpuHour: 'a price of 1 to 2^63 - 1 base units per GPU-hour',
  minDurationS: '1 s to 30 days',
  maxDurationS: 'at least the minimum duration and at most 30 days',
  durationS: '1 s to 30 days',
  addrs: 'at most 8 well-formed multiaddrs of known protocols',
  runtime: 'absent (processes) or "container"',
  images: 'with runtime "container" only, up to 16 distinct image references (ghcr.io/org/name:tag) or prefixes of one ending in *, at most 256 characters each',
  requirements: 'the GPUs the bid asks for',
  'requirements.gpu': 'a GPU model or class: a-z, 0-9, "." and "-"',
  'requirements.minMemoryMib': 'at most 4,194,304 MiB',
  'requirements.count': '1 to 1,024 GPUs',
  'requirements.teeKinds': 'up to 4 distinct of tdx, sev-snp and simulated',
  'requirements.regions': 'up to 16 regions: a-z, 0-9 and "-", at most 32 characters each',
  'requirements.image': 'an image reference (ghcr.io/org/name:tag) of at most 512 characters'
}

function fieldMessage (code: string, field: string): string {
  const rule = code === MessageErrorCode.BAD_FIELD ? FIELD_RULES[field.replace(/\[\d+\]/g, '')] : undefined
  return rule != null ? `${field}: expected ${rule}` : `${code}: ${field}`
}

/** An offer (topic /bazaar/offers/1) failed a check. */
export class OfferError extends MessageError<OfferErrorCode> {}

/** A bid (topic /bazaar/bids/1) failed a check. */
export class BidError extends MessageError<BidErrorCode> {}

export const reject = (code: MessageErrorCode, field?: string): MessageError => new MessageError(GossipAction.REJECT, code, { field })
export const ignore = (code: MessageErrorCode, field?: string): MessageError => new MessageError(GossipAction.IGNORE, code, { field })

/** How one message type's checks throw: REJECT and IGNORE of its own error class. */
export interface MessageErrors<C extends MessageErrorCode> {
  reject: (code: C, field?: string) => MessageError<C>
  ignore: (code: C, field?: string) => MessageError<C>
  /**
   * The same refusal as this message type's error. The field checks shared by offers and bids
   * (fields.ts) throw the base MessageError; a validator re-types what they throw at its boundary.
   * Anything else (an untyped error, an error of the right type) is returned as it is.
   */
  retype: (err: unknown) => unknown
}

function errorsOf<C extends MessageErrorCode> (E: new (action: GossipAction, code: C, detail?: { field?: string }) => MessageError<C>, isCode: (code: MessageErrorCode) => code is C): MessageErrors<C> {
  return {
    reject: (code, field) => new E(GossipAction.REJECT, code, { field }),
    ignore: (code, field) => new E(GossipAction.IGNORE, code, { field }),
    retype: (err) => {
      if (!(err instanceof MessageError) || alreadyA(err, E) || !isCode(err.code)) return err
      return new E(err.action, err.code, { field: err.field })
    }
  }
}

/** `instanceof` without narrowing: the error classes are structurally equal, so a guard would narrow to never */
const alreadyA = (err: MessageError, E: abstract new (...args: never[]) => unknown): boolean => err instanceof E

const inTopic = (code: MessageErrorCode): code is OfferErrorCode & BidErrorCode => code !== MessageErrorCode.UNKNOWN_TOPIC && code !== MessageErrorCode.RATE_LIMITED

export const offerErrors: MessageErrors<OfferErrorCode> = errorsOf(OfferError, inTopic)
export const bidErrors: MessageErrors<BidErrorCode> = errorsOf(BidError, inTopic)
