/**
 * What the arbiter co-signs, decided purely from the request, the chain's view of the escrow, the
 * time and the highest voucher the arbiter has seen. Deterministic: the same inputs give the same
 * decision on every arbiter.
 *
 * Approved:
 * - a close (kind 'voucher') paying the payee the voucher's cumulative amount and the payer the rest,
 *   where the voucher is valid for the escrow and not below any voucher the arbiter has seen;
 * - a refund of the whole amount to the payer at or after expiry, unless this arbiter has co-signed
 *   the payee's close on a voucher of the escrow (it knows one: `highest`). That close may not have
 *   executed yet (the payee crashed before its own approval), and a refund co-signed beside it
 *   would let the payer take back what the voucher pays: `VOUCHER_CLOSE_PENDING`. The payer's
 *   remedy is to approve that close itself, which pays the payee the voucher and returns the rest.
 * Everything else is refused with a typed reason. A cooperative close needs payer and payee, never
 * the arbiter. Who asks is checked first, by the service (`checkRequestSignature`): only the payee
 * asks for a close on a voucher, only the payer for a refund. The payee should close before
 * expiry: after it, whichever valid request reaches the arbiter first is co-signed.
 */
import type { EscrowOnChain } from '../chain/port.js'
import type { EscrowErrorCode } from '../errors.js'
import { step } from '../rules/machine.js'
import { checkSettlementShape, settlementsEqual } from '../rules/settlement.js'
import { termsEqual } from '../rules/terms.js'
import type { EscrowTerms, Settlement, SignedVoucher } from '../types.js'

/** What a party asks the arbiter to co-sign. */
export interface ArbiterRequest {
  /** the terms as the requester knows them; must equal the terms on chain */
  terms: EscrowTerms
  settlement: Settlement
  /** the voucher the close relies on (kind 'voucher'); must equal `settlement.voucher` */
  voucher?: SignedVoucher
  /**
   * 0x-hex sr25519 signature of the requesting party: the payee for a close on a voucher, the payer
   * for a refund (request-signature.ts); the service checks it before it reads the chain
   */
  signature?: string
}

/** What the arbiter knows when it decides. */
export interface ArbiterView {
  escrow: EscrowOnChain | undefined
  now: number
  /**
   * the highest valid voucher this arbiter has seen for the escrow: it is stored only when a close
   * on it is about to be co-signed
   */
  highest?: SignedVoucher
}

export type ArbiterRefusal = EscrowErrorCode

export type ArbiterDecision = { approve: true } | { approve: false, reason: ArbiterRefusal }

const refuse = (reason: ArbiterRefusal): ArbiterDecision => ({ approve: false, reason })

export function decide (req: ArbiterRequest, view: ArbiterView): ArbiterDecision {
  const escrow = view.escrow
  if (escrow == null) return refuse('UNKNOWN_ESCROW')
  // [REJECT] the request describes another escrow than the one on chain
  if (!termsEqual(req.terms, escrow.terms)) return refuse('TERMS_MISMATCH')
  const terms = escrow.terms
  const s = req.settlement
  if (s.escrowId !== terms.escrowId) return refuse('WRONG_ESCROW')
  // [REJECT] a second close of the same escrow
  if (escrow.status !== 'open') return refuse('ESCROW_NOT_OPEN')
  const shape = checkSettlementShape(s, terms.amount)
  if (shape != null) return refuse(shape)
  const state = { terms, status: escrow.status, best: view.highest }
  switch (s.kind) {
    case 'cooperative':
      return refuse('COOPERATIVE_NOT_ARBITRATED')
    case 'voucher': {
      const v = req.voucher
      if (v == null || s.voucher == null) return refuse('NO_VOUCHER')
      // [REJECT] the evidence is not the voucher the settlement names
      if (v.escrowId !== s.escrowId || v.cumulative !== s.voucher.cumulative || v.sequence !== s.voucher.sequence ||
        v.signature !== s.voucher.signature) return refuse('SETTLEMENT_MISMATCH')
      const r = step(state, { type: 'arbiter-close', voucher: v })
      if (!r.ok) return refuse(r.code)
      // [REJECT] payouts other than voucher to payee, rest to payer
      if (r.settlement == null || !settlementsEqual(r.settlement, s)) return refuse('SETTLEMENT_MISMATCH')
      return { approve: true }
    }
    case 'refund': {
      const r = step(state, { type: 'refund', now: view.now })
      if (!r.ok) return refuse(r.code)
      if (r.settlement == null || !settlementsEqual(r.settlement, s)) return refuse('SETTLEMENT_MISMATCH')
      // [REJECT] a refund beside a close on a voucher this arbiter co-signed (it may not have
      // executed yet): two co-signed settlements would let whoever approves first decide
      if (view.highest != null) return refuse('VOUCHER_CLOSE_PENDING')
      return { approve: true }
    }
    default:
      return refuse('MALFORMED_SETTLEMENT')
  }
}
