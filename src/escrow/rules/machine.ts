/**
 * The escrow state machine, pure and deterministic (no clock, no I/O: time comes in the event).
 *
 *   open ──voucher──▶ open (best voucher raised)
 *   open ──cooperative-close (payer + payee)────────────▶ closed
 *   open ──arbiter-close (payee + arbiter, best voucher)─▶ closed
 *   open ──refund (payer + arbiter, at or after expiry)──▶ refunded
 *
 * Anything else is refused with a code; a closed or refunded escrow accepts nothing.
 */
import type { EscrowErrorCode } from '../errors.js'
import type { EscrowState, Settlement, SignedVoucher } from '../types.js'
import { closeSettlement, refundSettlement } from './settlement.js'
import { checkVoucher } from './voucher.js'

export type EscrowEvent =
  | { type: 'voucher', voucher: SignedVoucher }
  | { type: 'cooperative-close', voucher?: SignedVoucher }
  | { type: 'arbiter-close', voucher: SignedVoucher }
  | { type: 'refund', now: number }

export type StepResult =
  | { ok: true, state: EscrowState, settlement?: Settlement }
  | { ok: false, code: EscrowErrorCode }

/**
 * Why `v` cannot close the escrow, or undefined. A closing voucher is valid like any voucher, but it
 * may equal the best voucher seen (closing with the latest voucher is the normal case); it may not
 * be below it.
 */
export function checkClosingVoucher (state: EscrowState, v: SignedVoucher): EscrowErrorCode | undefined {
  const best = state.best
  if (best != null && v.sequence === best.sequence && v.cumulative === best.cumulative && v.signature === best.signature) {
    return state.status === 'open' ? undefined : 'ESCROW_NOT_OPEN'
  }
  if (best != null && v.escrowId === best.escrowId && (v.sequence < best.sequence || v.cumulative < best.cumulative)) {
    // [REJECT] closing with less than a voucher already known would cheat the payee
    return state.status === 'open' ? 'STALE_VOUCHER' : 'ESCROW_NOT_OPEN'
  }
  return checkVoucher(state, v)
}

/** Applies one event. Never throws for any input of the declared types. */
export function step (state: EscrowState, event: EscrowEvent): StepResult {
  switch (event.type) {
    case 'voucher': {
      const code = checkVoucher(state, event.voucher)
      if (code != null) return { ok: false, code }
      return { ok: true, state: { ...state, best: event.voucher } }
    }
    case 'cooperative-close':
    case 'arbiter-close': {
      // [REJECT] a second close of the same escrow
      if (state.status !== 'open') return { ok: false, code: 'ESCROW_NOT_OPEN' }
      const v = event.voucher
      // [REJECT] the arbiter only co-signs a close backed by a voucher
      if (v == null && event.type === 'arbiter-close') return { ok: false, code: 'NO_VOUCHER' }
      if (v == null) {
        // [REJECT] closing with nothing while a voucher is known underpays the payee
        if (state.best != null) return { ok: false, code: 'STALE_VOUCHER' }
      } else {
        const code = checkClosingVoucher(state, v)
        if (code != null) return { ok: false, code }
      }
      const kind = event.type === 'cooperative-close' ? 'cooperative' : 'voucher'
      const settlement = closeSettlement(state.terms, v, kind)
      return { ok: true, state: { ...state, status: 'closed', best: v ?? state.best }, settlement }
    }
    case 'refund': {
      if (state.status !== 'open') return { ok: false, code: 'ESCROW_NOT_OPEN' }
      // [REJECT] a refund before expiry (the payee may still close with a voucher)
      if (!Number.isFinite(event.now) || event.now < state.terms.expiresAt) return { ok: false, code: 'NOT_EXPIRED' }
      return { ok: true, state: { ...state, status: 'refunded' }, settlement: refundSettlement(state.terms) }
    }
    default:
      return { ok: false, code: 'MALFORMED_SETTLEMENT' }
  }
}
