/**
 * Does an escrow on chain back an agreement? The supplier asks before any job runs: the renter names
 * the agreement in its attested session, and the escrow whose id is the agreement's hash must lock
 * the agreed budget, in the agreed subnet, for us, with the agreed arbiter, until the agreed expiry
 * at least, and its account must hold what it locks. Pure: the caller reads the chain and passes
 * what it found.
 */
import { encodeSs58 } from '../../util/ss58.js'
import type { EscrowOnChain } from '../chain/port.js'
import { SS58_PREFIX } from '../constants.js'

/** Why an escrow does not back an agreement (the supplier ends the session with this code). */
export type AgreementEscrowCode =
  | 'ESCROW_MISSING'
  | 'ESCROW_NOT_OPEN'
  | 'ESCROW_AGREEMENT_MISMATCH'
  | 'ESCROW_PAYEE_MISMATCH'
  | 'ESCROW_ARBITER_MISMATCH'
  | 'ESCROW_AMOUNT_MISMATCH'
  | 'ESCROW_UNFUNDED'
  | 'ESCROW_EXPIRY_MISMATCH'

/** The agreement terms the escrow must match (a structural subset of the signed AgreementTerms). */
export interface AgreedEscrowTerms {
  budget: bigint
  netuid: number
  /**
   * the arbiter's 32-byte account id, and the time (ms) before which the renter may not refund;
   * absent terms name no arbiter, which no escrow matches
   */
  escrow?: { arbiter: Uint8Array, expiresAt: bigint }
}

/**
 * The id of the escrow that backs an agreement: its hash, 0x-hex. One agreement, one escrow, so a
 * renter cannot point two sessions at one payment.
 */
export function escrowIdOfAgreement (agreementHash: string): string {
  return '0x' + agreementHash
}

/**
 * Why `escrow` (as the chain returned it for the agreement's escrow id, or undefined when none
 * exists) does not back the agreement with hash `agreementHash` (lowercase hex, no 0x) and terms
 * `terms`, paying `payee` (our ss58 address); undefined when it does. Checks run in this order, so
 * the code names the first thing wrong.
 */
export function checkAgreementEscrow (escrow: EscrowOnChain | undefined, agreementHash: string, terms: AgreedEscrowTerms, payee: string): AgreementEscrowCode | undefined {
  // [REFUSE] no escrow at all: the renter never paid in (or the chain has not seen it yet)
  if (escrow == null) return 'ESCROW_MISSING'
  // [REFUSE] a closed or refunded escrow pays nothing more
  if (escrow.status !== 'open') return 'ESCROW_NOT_OPEN'
  // [REFUSE] the escrow records another agreement
  if (escrow.terms.agreementHash !== escrowIdOfAgreement(agreementHash)) return 'ESCROW_AGREEMENT_MISMATCH'
  // [REFUSE] the escrow pays someone else
  if (escrow.terms.payee !== payee) return 'ESCROW_PAYEE_MISMATCH'
  // [REFUSE] the arbiter is not the one both parties signed for (an all-zero id when the terms name none)
  const arbiter = encodeSs58(terms.escrow?.arbiter ?? new Uint8Array(32), SS58_PREFIX)
  if (escrow.terms.arbiter !== arbiter) return 'ESCROW_ARBITER_MISMATCH'
  // [REFUSE] less than the budget locked, or the alpha of another subnet
  if (escrow.terms.amount < terms.budget || escrow.terms.netuid !== terms.netuid) return 'ESCROW_AMOUNT_MISMATCH'
  // [REFUSE] the account holds less than the terms lock (an open record whose funding failed)
  if (escrow.balance < escrow.terms.amount) return 'ESCROW_UNFUNDED'
  // [REFUSE] the renter could refund before the agreed time: every voucher the job earns would be
  // refunded from under the supplier, since the arbiter co-signs a refund once the escrow expired
  if (BigInt(escrow.terms.expiresAt) < (terms.escrow?.expiresAt ?? 0n)) return 'ESCROW_EXPIRY_MISMATCH'
  return undefined
}
