export { MemoryCapacity, guardFromLedger, type ThrowingLedger } from './capacity.js'
export { SupplierNegotiator, checkTermsAgainstOffer, type SupplierNegotiatorInit, type Held } from './supplier.js'
export { RenterNegotiator, rent, type RenterNegotiatorInit, type Proposal, type ProposalOptions, type RentOptions, type RentResult } from './renter.js'
export { RenterCooldown, type HoldEnd } from './cooldown.js'
