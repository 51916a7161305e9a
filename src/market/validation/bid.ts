import type { Bid } from '../../wire/market.js'
import { MessageErrorCode, bidErrors } from './errors.js'
import { checkLifetime, checkParty } from './message.js'
import { checkAddrs, checkId, checkImage, checkKey32, checkRegion, checkTeeKinds, checkU64 } from './fields.js'
import { MAX_DURATION_S, MAX_GPU_COUNT, MAX_MEMORY_MIB, MAX_REGIONS, MESSAGE_VERSION, MODEL_PATTERN } from './constants.js'

/** The domain checks of a Bid, each throwing a BidError (see offer.ts). */

const { reject } = bidErrors

/** Schema checks of a Bid, cheapest first. A cancel carries the id and sequence; its other fields may be empty (see offer.ts). */
export function validateBidSchema (b: Bid): void {
  try {
    bidSchema(b)
  } catch (err) {
    throw bidErrors.retype(err)
  }
}

/** [IGNORE] not yet or no longer live; [REJECT] a longer life than any bid may have */
export function validateBidLifetime (b: Bid, now: number): void {
  checkLifetime(b.createdAt, b.expiresAt, now, bidErrors)
}

/** [REJECT] the renter is not the hotkey that certified the signing key */
export function validateBidParty (b: Bid, hotkey: Uint8Array): void {
  checkParty(b.renter, hotkey, bidErrors)
}

function bidSchema (b: Bid): void {
  // [REJECT] unknown message version
  if (b.version !== MESSAGE_VERSION) throw reject(MessageErrorCode.BAD_VERSION, 'version')
  checkId(b.id)
  checkKey32(b.renter, 'renter')
  // [REJECT] a sequence outside [0, 2^63 - 1], as every 64-bit number
  checkU64(b.sequence, 'sequence')
  // a cancel's other fields may be empty; what it does carry is checked as in a bid (see offer.ts)
  const cancel = b.cancelled
  const r = b.requirements
  // [REJECT] a bid states its requirements
  if (r == null && !cancel) throw reject(MessageErrorCode.BAD_FIELD, 'requirements')
  if (r != null) {
    if (r.gpu !== '' && !MODEL_PATTERN.test(r.gpu)) throw reject(MessageErrorCode.BAD_FIELD, 'requirements.gpu')
    if (r.minMemoryMib > MAX_MEMORY_MIB) throw reject(MessageErrorCode.BAD_FIELD, 'requirements.minMemoryMib')
    if ((!cancel && r.count === 0) || r.count > MAX_GPU_COUNT) throw reject(MessageErrorCode.BAD_FIELD, 'requirements.count')
    checkTeeKinds(r.teeKinds, 'requirements.teeKinds', true)
    if (r.regions.length > MAX_REGIONS) throw reject(MessageErrorCode.BAD_FIELD, 'requirements.regions')
    r.regions.forEach((x, i) => { checkRegion(x, `requirements.regions[${i}]`) })
    checkImage(r.image, 'requirements.image')
  }
  checkU64(b.maxPricePerGpuHour, 'maxPricePerGpuHour', cancel ? 0n : 1n)
  if ((!cancel && b.durationS === 0) || b.durationS > MAX_DURATION_S) throw reject(MessageErrorCode.BAD_FIELD, 'durationS')
  checkAddrs(b.addrs, 'addrs')
}
