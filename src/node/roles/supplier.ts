/**
 * The supplier role. Its pieces live in `./supplier/`: offer publisher, agreement lifecycle,
 * negotiation, session server, settlement, recovery, and `SupplierRole` composing them.
 */
export { SupplierRole } from './supplier/role.js'
export { SessionRefused, type SessionRefusedCode, type SupplierRoleInit, type SupplierJobRecord } from './supplier/types.js'
export { SupplierJobs, DEFAULT_MAX_FINISHED_JOBS } from './supplier/jobs.js'
export { AgreementLifecycle, type AgreementLifecycleComponents } from './supplier/agreements.js'
export { OfferPublisher, type OfferPublisherComponents, type OfferPublisherInit } from './supplier/offers.js'
export { SupplierSettlement, DEFAULT_SUPPLIER_SETTLE_WAIT_MS, type SupplierSettlementComponents } from './supplier/settlement.js'
export { SupplierRecovery, type SupplierRecoveryComponents } from './supplier/recovery.js'
export { SessionServer, type SessionServerComponents, type SessionServerInit } from './supplier/sessions.js'
export { SupplierNegotiation, type SupplierNegotiationComponents } from './supplier/negotiation.js'
