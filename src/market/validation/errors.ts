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

export class MessageError extends GossipActionError<MessageErrorCode> {
  /** which field was wrong, for BAD_FIELD */
  readonly field?: string
  constructor (action: GossipAction, code: MessageErrorCode, detail?: { field?: string, message?: string }) {
    super(action, code, detail?.message ?? (detail?.field != null ? `${code}: ${detail.field}` : code))
    this.field = detail?.field
  }
}

export const reject = (code: MessageErrorCode, field?: string): MessageError => new MessageError(GossipAction.REJECT, code, { field })
export const ignore = (code: MessageErrorCode, field?: string): MessageError => new MessageError(GossipAction.IGNORE, code, { field })
