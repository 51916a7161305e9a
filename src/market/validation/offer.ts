import type { Offer } from '../../wire/market.js'
import { MessageErrorCode, offerErrors } from './errors.js'
import { checkLifetime, checkParty } from './message.js'
import { checkAddrs, checkId, checkKey32, checkPeerId, checkRegion, checkRuntime, checkTeeKinds, checkU64 } from './fields.js'
import {
  MAX_DURATION_S, MAX_GPU_COUNT, MAX_GPU_ENTRIES, MAX_MEMORY_MIB, MESSAGE_VERSION, MODEL_PATTERN
} from './constants.js'

/**
 * The domain checks of an Offer, each throwing an OfferError. The gossip pipeline
 * (protocols/gossip/topic-validation.ts) runs them in its order, between the state it keeps (seen
 * ids, sequences, certificates) and the signature.
 */

const { reject } = offerErrors

/**
 * Schema checks of an Offer, cheapest first. A cancel carries the id and sequence; its other fields
 * may be empty, and those it carries are checked as in an offer.
 */
export function validateOfferSchema (o: Offer): void {
  try {
    offerSchema(o)
  } catch (err) {
    throw offerErrors.retype(err)
  }
}

/** [IGNORE] not yet or no longer live; [REJECT] a longer life than any offer may have */
export function validateOfferLifetime (o: Offer, now: number): void {
  checkLifetime(o.createdAt, o.expiresAt, now, offerErrors)
}

/** [REJECT] the supplier is not the hotkey that certified the signing key */
export function validateOfferParty (o: Offer, hotkey: Uint8Array): void {
  checkParty(o.supplier, hotkey, offerErrors)
}

function offerSchema (o: Offer): void {
  // [REJECT] unknown message version
  if (o.version !== MESSAGE_VERSION) throw reject(MessageErrorCode.BAD_VERSION, 'version')
  checkId(o.id)
  checkKey32(o.supplier, 'supplier')
  // [REJECT] a sequence outside [0, 2^63 - 1], as every 64-bit number
  checkU64(o.sequence, 'sequence')
  // [REJECT] gpuCc is encoded only as true: an explicit false would be a second encoding of "no"
  if (o.gpuCc === false) throw reject(MessageErrorCode.NON_CANONICAL, 'gpuCc')
  // a cancel's other fields may be empty; what it does carry is checked as in an offer (a node
  // keeps a cancel's envelope with the slot's tombstone and serves it to its peers)
  const cancel = o.cancelled
  if (!cancel || o.enclavePeer.byteLength > 0) checkPeerId(o.enclavePeer, 'enclavePeer')
  // [REJECT] 1..MAX_GPU_ENTRIES GPU entries, each a known-shape model with memory and a count
  if ((!cancel && o.gpus.length === 0) || o.gpus.length > MAX_GPU_ENTRIES) throw reject(MessageErrorCode.BAD_FIELD, 'gpus')
  o.gpus.forEach((g, i) => {
    if (!MODEL_PATTERN.test(g.model)) throw reject(MessageErrorCode.BAD_FIELD, `gpus[${i}].model`)
    if (g.memoryMib === 0 || g.memoryMib > MAX_MEMORY_MIB) throw reject(MessageErrorCode.BAD_FIELD, `gpus[${i}].memoryMib`)
    if (g.count === 0 || g.count > MAX_GPU_COUNT) throw reject(MessageErrorCode.BAD_FIELD, `gpus[${i}].count`)
  })
  checkTeeKinds(o.teeKinds, 'teeKinds', cancel)
  if (!cancel || o.region !== '') checkRegion(o.region, 'region')
  // [REJECT] a price of zero is not an offer
  checkU64(o.pricePerGpuHour, 'pricePerGpuHour', cancel ? 0n : 1n)
  if (!cancel || o.minDurationS !== 0 || o.maxDurationS !== 0) {
    if (o.minDurationS === 0 || o.minDurationS > MAX_DURATION_S) throw reject(MessageErrorCode.BAD_FIELD, 'minDurationS')
    if (o.maxDurationS < o.minDurationS || o.maxDurationS > MAX_DURATION_S) throw reject(MessageErrorCode.BAD_FIELD, 'maxDurationS')
  }
  checkAddrs(o.addrs, 'addrs')
  checkRuntime(o.runtime, o.images)
}
