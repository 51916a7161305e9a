export { MeterSupplier, type MeterSupplierInit, type MeterSupplierEvents } from './supplier.js'
export { MeterRenter, type MeterRenterInit } from './renter.js'
export { amountFor } from './price.js'
export type { UsageReport, VoucherAck, MeterState, StopReason } from './types.js'
