import type { GossipSub } from '@libp2p/gossipsub'
import type { PeerScoreParams } from '@libp2p/gossipsub/score'
import type { Registry } from './metrics.js'

/**
 * One peer's gossipsub v1.1 score and its parts, each already multiplied by its weight (the
 * spec's P1..P7; P5, the application-specific score, is unused here). The parts of every topic are
 * summed after each topic's weight, and their total is capped by `topicScoreCap` before P6 and P7
 * are added, exactly as gossipsub computes `score`.
 */
export interface PeerScoreView {
  /** the router's own score of the peer (what mesh, gossip and graylist decisions use) */
  score: number
  /** P1: time in mesh */
  timeInMesh: number
  /** P2: first message deliveries */
  firstMessageDeliveries: number
  /** P3: mesh message delivery deficit */
  meshMessageDeliveries: number
  /** P3b: mesh failure penalty */
  meshFailurePenalty: number
  /** P4: invalid messages (REJECT verdicts) */
  invalidMessageDeliveries: number
  /** P6: IP colocation */
  ipColocation: number
  /** P7: behaviour penalty (broken promises, GRAFT during backoff) */
  behaviourPenalty: number
  /** topics in whose mesh the peer is */
  meshTopics: string[]
}

const ZERO: Omit<PeerScoreView, 'score' | 'meshTopics'> = {
  timeInMesh: 0, firstMessageDeliveries: 0, meshMessageDeliveries: 0, meshFailurePenalty: 0, invalidMessageDeliveries: 0, ipColocation: 0, behaviourPenalty: 0
}

/** what gossipsub keeps per peer for its score (its `PeerStats`, not exported by the package) */
interface PeerStats {
  connected: boolean
  knownIPs: Set<string>
  behaviourPenalty: number
  topics: Record<string, {
    inMesh: boolean
    meshTime: number
    firstMessageDeliveries: number
    meshMessageDeliveries: number
    meshMessageDeliveriesActive: boolean
    meshFailurePenalty: number
    invalidMessageDeliveries: number
  }>
}

/** the router's scoring state (public on the GossipSub class, absent from its interface typings) */
interface ScoringRouter {
  score: { params: PeerScoreParams, peerStats: Map<string, PeerStats>, peerIPs: Map<string, Set<string>> }
  getScore: (id: string) => number
}

/** The score of every peer the router knows, by peer id. */
export function peerScores (pubsub: GossipSub): Map<string, PeerScoreView> {
  const router = pubsub as unknown as ScoringRouter
  const params = router.score.params
  const out = new Map<string, PeerScoreView>()
  for (const [id, stats] of router.score.peerStats) {
    if (!stats.connected) continue
    const v: PeerScoreView = { score: router.getScore(id), ...ZERO, meshTopics: [] }
    for (const [topic, t] of Object.entries(stats.topics)) {
      const tp = params.topics[topic]
      if (tp == null) continue
      if (t.inMesh) v.meshTopics.push(topic)
      const w = tp.topicWeight
      if (t.inMesh) v.timeInMesh += w * tp.timeInMeshWeight * Math.min(t.meshTime / tp.timeInMeshQuantum, tp.timeInMeshCap)
      v.firstMessageDeliveries += w * tp.firstMessageDeliveriesWeight * Math.min(t.firstMessageDeliveries, tp.firstMessageDeliveriesCap)
      if (t.meshMessageDeliveriesActive && t.meshMessageDeliveries < tp.meshMessageDeliveriesThreshold) {
        const deficit = tp.meshMessageDeliveriesThreshold - t.meshMessageDeliveries
        v.meshMessageDeliveries += w * tp.meshMessageDeliveriesWeight * deficit * deficit
      }
      v.meshFailurePenalty += w * tp.meshFailurePenaltyWeight * t.meshFailurePenalty
      v.invalidMessageDeliveries += w * tp.invalidMessageDeliveriesWeight * t.invalidMessageDeliveries * t.invalidMessageDeliveries
    }
    const topicTotal = v.timeInMesh + v.firstMessageDeliveries + v.meshMessageDeliveries + v.meshFailurePenalty + v.invalidMessageDeliveries
    if (params.topicScoreCap > 0 && topicTotal > params.topicScoreCap) {
      // scale the parts so that they still add up to what the router counts
      const f = params.topicScoreCap / topicTotal
      v.timeInMesh *= f; v.firstMessageDeliveries *= f; v.meshMessageDeliveries *= f; v.meshFailurePenalty *= f; v.invalidMessageDeliveries *= f
    }
    for (const ip of stats.knownIPs) {
      if (params.IPColocationFactorWhitelist.has(ip)) continue
      const surplus = (router.score.peerIPs.get(ip)?.size ?? 0) - params.IPColocationFactorThreshold
      if (surplus > 0) v.ipColocation += params.IPColocationFactorWeight * surplus * surplus
    }
    const excess = stats.behaviourPenalty - params.behaviourPenaltyThreshold
    if (excess > 0) v.behaviourPenalty = params.behaviourPenaltyWeight * excess * excess
    out.set(id, v)
  }
  return out
}

/** upper bounds of the score histogram's buckets (REJECTs weigh -100 each, squared; graylist at -2500) */
export const SCORE_BUCKETS = [-2500, -1000, -500, -100, -10, 0, 1, 10, 50, 100, 200]

/**
 * `/metrics`: the distribution of connected peers' scores as a Prometheus histogram, sampled at
 * scrape time, plus the lowest score.
 */
export function registerScoreMetrics (r: Registry, pubsub: GossipSub): void {
  const router = pubsub as unknown as ScoringRouter
  const sample = (): number[] => pubsub.getPeers().map((p) => router.getScore(p.toString()))
  r.histogram('bazaar_gossip_peer_score', 'gossipsub scores of the connected gossip peers', SCORE_BUCKETS).collect(sample)
  r.gauge('bazaar_gossip_peer_score_min', 'lowest gossipsub score among the connected gossip peers').collect(() => {
    const s = sample()
    return s.length === 0 ? 0 : Math.min(...s)
  })
}
