/**
 * The escrow: terms, vouchers, the pure rules, metering, the arbiter, the chain port and its
 * embedded adapter. Chain-independent; knows nothing of libp2p.
 */
export * from './constants.js'
export { EscrowError, type EscrowErrorCode } from './errors.js'
export type { Voucher, SignedVoucher, EscrowState, EscrowTerms, EscrowStatus, Settlement } from './types.js'
export { amountToString, parseAmount, formatUnits } from './amount.js'
export * from './voucher/index.js'
export * from './rules/index.js'
export * from './metering/index.js'
export * from './arbiter/index.js'
export { EscrowDb } from './store/db.js'
export { LevelVoucherStore, type VoucherStore } from './store/vouchers.js'
export { LevelEscrowStore, type LocalEscrow, type EscrowRole } from './store/escrows.js'
export { MemoryVoucherStore } from './store/memory.js'
export { EmbeddedLedger, embeddedLedger, escrowAccount, type EmbeddedLedgerInit, type LedgerHead } from './chain/embedded/ledger.js'
export { settlementBytes, settlementHash, openBytes } from './chain/settlement-bytes.js'
export { EscrowService, type EscrowServiceComponents, type EscrowSummary, type EscrowDetail, type SettleResult, type CloseMode } from './service.js'
export type * from './chain/port.js'
