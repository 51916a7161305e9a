/**
 * Types of the chain-independent escrow. The on-chain shapes (terms, settlement, records) live in
 * chain/port.ts and are re-exported here so that callers import one place.
 */
import type { EscrowChainStatus, EscrowTermsOnChain, Settlement } from './chain/port.js'

export type { EscrowTermsOnChain as EscrowTerms, Settlement, EscrowChainStatus as EscrowStatus } from './chain/port.js'

/** What the payer promises: the cumulative amount owed to the payee so far. */
export interface Voucher {
  /** 32-byte escrow id, 0x-hex (lowercase) */
  escrowId: string
  /** cumulative amount in base units; never decreases */
  cumulative: bigint
  /** strictly increasing per escrow, starting at 1 */
  sequence: bigint
}

/** A voucher with the payer's ed25519 signature (64 bytes, 0x-hex) over `voucherBytes`. */
export interface SignedVoucher extends Voucher {
  signature: string
}

/** The state the pure rules reason about. */
export interface EscrowState {
  terms: EscrowTermsOnChain
  status: EscrowChainStatus
  /** the highest valid voucher seen so far */
  best?: SignedVoucher
}

/** What moved the escrow out of `open`, for show/ls. */
export interface SettledState extends EscrowState {
  settlement?: Settlement
}
