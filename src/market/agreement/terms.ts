import { createHash, randomBytes } from 'node:crypto'
import { AgreementTerms } from '../../wire/agreement.js'
import type { MeasurementPolicy } from '../../wire/agreement.js'
import type { Bid, Offer } from '../../wire/market.js'
import { AGREEMENT_VERSION, DEFAULT_ESCROW_SLACK_MS, DEFAULT_START_WINDOW_MS, MAX_MEASUREMENTS, MAX_TERMS_BYTES, NONCE_BYTES } from '../constants.js'
import { NegotiationError } from '../errors.js'
import { compatible, selectTee } from '../match.js'
import { bytesEqual } from '../../util/bytes.js'
import { isImageReference } from '../../util/image-ref.js'
import { MAX_IMAGE_LENGTH } from '../validation/constants.js'

/**
 * The budget the escrow must hold: ceil(price per GPU hour × GPUs × seconds / 3600), in base units.
 * Integer arithmetic only: rounding up never leaves the supplier short by a fraction of a rao.
 */
export function agreementBudget (pricePerGpuHour: bigint, gpuCount: number, durationS: number): bigint {
  const num = pricePerGpuHour * BigInt(gpuCount) * BigInt(durationS)
  return (num + 3599n) / 3600n
}

/**
 * Canonical encoding of the terms (protobuf, see agreement.proto). The hash that both parties
 * sign, that the escrow records and that the attested session binds is SHA-256 of these bytes.
 */
export function encodeTerms (terms: AgreementTerms): Uint8Array<ArrayBuffer> {
  return AgreementTerms.encode(terms)
}

/** SHA-256 of the canonical encoding: the agreement's 32-byte identity. */
export function agreementHash (termsBytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(createHash('sha256').update(termsBytes).digest())
}

/**
 * Decodes untrusted terms: bounded size, bounded repeated fields, and canonical (re-encoding gives
 * the same bytes), so the hash of what was received is the hash of what was meant.
 * Throws NegotiationError MALFORMED.
 */
export function decodeTerms (bytes: Uint8Array): AgreementTerms {
  if (bytes.byteLength === 0 || bytes.byteLength > MAX_TERMS_BYTES) throw new NegotiationError('MALFORMED', 'terms size out of bounds')
  let terms: AgreementTerms
  try {
    terms = AgreementTerms.decode(bytes, { limits: { measurement: { measurements: MAX_MEASUREMENTS } } })
  } catch (err) {
    throw new NegotiationError('MALFORMED', 'terms do not decode', { cause: err })
  }
  const again = AgreementTerms.encode(terms)
  if (!bytesEqual(again, bytes)) throw new NegotiationError('MALFORMED', 'terms are not canonical')
  if (terms.version !== AGREEMENT_VERSION) throw new NegotiationError('MALFORMED', 'unknown terms version')
  if (terms.renter.byteLength !== 32 || terms.supplier.byteLength !== 32 || terms.nonce.byteLength !== NONCE_BYTES) {
    throw new NegotiationError('MALFORMED', 'terms lack parties or nonce')
  }
  if ((terms.measurement?.measurements.length ?? 0) > MAX_MEASUREMENTS) throw new NegotiationError('MALFORMED', 'too many measurements')
  // an image is written only when there is one ("" would be a second encoding, and a second hash, of none)
  const image = terms.image
  if (image !== undefined && (image === '' || image.length > MAX_IMAGE_LENGTH || !isImageReference(image))) throw new NegotiationError('MALFORMED', 'the image is not an image reference')
  // fixed64 decodes as signed: anything above 2^63 - 1 comes back negative
  const wide = [terms.offerSequence, terms.bidSequence, terms.pricePerGpuHour, terms.budget, terms.createdAt, terms.startBy, terms.escrow?.expiresAt ?? 0n]
  if (wide.some((v) => v < 0n)) throw new NegotiationError('MALFORMED', '64-bit term out of range')
  return terms
}

export interface BuildTermsOptions {
  now: number
  /** arbiter hotkey (32 bytes) for the escrow */
  arbiter: Uint8Array<ArrayBuffer>
  measurement?: MeasurementPolicy
  /** escrow expiry; default now + duration + one hour */
  escrowExpiresAt?: number
  /** the renter must open the escrow before now + this; default ten minutes */
  startWindowMs?: number
  nonce?: Uint8Array
}

/**
 * The renter's proposal terms for a bid and the offer it matched. Throws NegotiationError
 * TERMS_MISMATCH when the two are not compatible (by the matching rule).
 */
export function buildTerms (bid: Bid, offer: Offer, opts: BuildTermsOptions): AgreementTerms {
  const gpu = compatible(offer, bid, opts.now)
  const teeKind = selectTee(offer, bid)
  if (gpu === undefined || teeKind === undefined) throw new NegotiationError('TERMS_MISMATCH', 'offer does not satisfy the bid')
  const count = Math.max(1, bid.requirements?.count ?? 0)
  return {
    version: AGREEMENT_VERSION,
    renter: bid.renter,
    supplier: offer.supplier,
    enclavePeer: offer.enclavePeer,
    offerId: offer.id,
    offerSequence: offer.sequence,
    bidId: bid.id,
    bidSequence: bid.sequence,
    gpuModel: gpu.model,
    memoryMib: gpu.memoryMib,
    gpuCount: count,
    pricePerGpuHour: offer.pricePerGpuHour,
    netuid: offer.netuid,
    durationS: bid.durationS,
    budget: agreementBudget(offer.pricePerGpuHour, count, bid.durationS),
    teeKind,
    measurement: opts.measurement ?? { measurements: [], allowDebug: false },
    escrow: {
      arbiter: opts.arbiter,
      expiresAt: BigInt(opts.escrowExpiresAt ?? opts.now + bid.durationS * 1000 + DEFAULT_ESCROW_SLACK_MS)
    },
    region: offer.region,
    createdAt: BigInt(opts.now),
    startBy: BigInt(opts.now + (opts.startWindowMs ?? DEFAULT_START_WINDOW_MS)),
    nonce: new Uint8Array(opts.nonce ?? randomBytes(NONCE_BYTES)),
    // the job's image is a term: the supplier refuses it before any escrow if its offer does not run it
    ...(bid.requirements?.image !== undefined ? { image: bid.requirements.image } : {})
  }
}
