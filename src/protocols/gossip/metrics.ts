import type { Counter, MetricsRegistry } from '../../util/metrics.js'

/** Gossip validation results by topic, verdict and code. */
export interface GossipMetrics {
  validated: Counter
  published: Counter
}

export function createGossipMetrics (r: MetricsRegistry): GossipMetrics {
  return {
    validated: r.counter('bazaar_gossip_validation_total', 'market gossip messages by topic, result and code'),
    published: r.counter('bazaar_gossip_published_total', 'market messages published by this node, by topic')
  }
}
