import { TopicValidatorResult } from '@libp2p/gossipsub'
import { GossipAction } from '../../util/errors.js'
import { MessageError } from '../../market/validation/errors.js'

/**
 * The one adapter from a validation error to what gossipsub and the metrics are told
 * (STYLE: "one adapter maps them to the gossipsub verdict and to metrics"). A typed refusal
 * (OfferError, BidError, or a MessageError decided before the topic) keeps its action and code; any
 * other error is a local bug or failure, never the sender's fault: IGNORE, counted as `INTERNAL`.
 */
export interface Refusal {
  action: GossipAction
  /** the MessageErrorCode, or `INTERNAL` for an untyped error */
  code: string
  /** gossipsub's verdict: Reject feeds the forwarding peer's score, Ignore only drops */
  result: TopicValidatorResult
  /** the `result` label of bazaar_gossip_validation_total */
  label: 'reject' | 'ignore'
}

export function refusalOf (err: unknown): Refusal {
  const action = gossipActionOf(err)
  return action === GossipAction.REJECT
    ? { action, code: errorCodeOf(err), result: TopicValidatorResult.Reject, label: 'reject' }
    : { action, code: errorCodeOf(err), result: TopicValidatorResult.Ignore, label: 'ignore' }
}

/** Maps any error to the gossipsub verdict: an untyped error (a local bug) only IGNOREs. */
export function gossipActionOf (err: unknown): GossipAction {
  return err instanceof MessageError ? err.action : GossipAction.IGNORE
}

/** The code a refusal is counted and logged under. */
export function errorCodeOf (err: unknown): string {
  return err instanceof MessageError ? err.code : 'INTERNAL'
}
