/** Gossip topics (public surface: a version bump is a breaking change). */
export const TOPIC_OFFERS = '/bazaar/offers/1'
export const TOPIC_BIDS = '/bazaar/bids/1'
export const TOPICS = [TOPIC_OFFERS, TOPIC_BIDS] as const
export type Topic = typeof TOPICS[number]

/** The DHT protocol of the marketplace's own DHT (kept apart from the public IPFS DHT). */
export const KAD_PROTOCOL = '/bazaar/kad/1.0.0'
