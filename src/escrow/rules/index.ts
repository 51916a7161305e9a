export { checkTerms, termsEqual, isAddress, sameAccount } from './terms.js'
export { checkVoucher } from './voucher.js'
export { closeSettlement, refundSettlement, checkSettlementShape, settlementsEqual } from './settlement.js'
export { step, checkClosingVoucher, type EscrowEvent, type StepResult } from './machine.js'
