import type { BazaarNode } from '../bazaar-node.js'

/**
 * What the supplier role uses of its node: the clock, metrics, the host (negotiation is served on
 * it), the market signer and certificate cache, the market's own offers, and offer publication.
 * A narrower type than the node, so that what a role depends on is written down in one place.
 */
export type SupplierNode = Pick<BazaarNode, 'clock' | 'metrics' | 'host' | 'signer' | 'market' | 'gossip' | 'publishOffer' | 'cancelOffer'>

/**
 * What the renter role uses of its node: the clock, metrics, the host (it dials suppliers and
 * enclaves), the market signer and certificate cache, the book and its events, the chain's
 * `netuid` from the config, and bid publication.
 */
export type RenterNode = Pick<BazaarNode, 'clock' | 'metrics' | 'host' | 'signer' | 'market' | 'gossip' | 'config' | 'publishBid' | 'cancelBid'>
