import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { kadDHT, passthroughMapper, type KadDHT } from '@libp2p/kad-dht'
import { bootstrap } from '@libp2p/bootstrap'
import { mdns } from '@libp2p/mdns'
import { gossipsub, StrictNoSign, type GossipSub } from '@libp2p/gossipsub'
import type { Identify } from '@libp2p/identify'
import type { Ping } from '@libp2p/ping'
import type { PrivateKey } from '@libp2p/interface'
import { KAD_PROTOCOL, TOPIC_BIDS, TOPIC_OFFERS } from '../protocols/gossip/topics.js'
import { msgIdBytes, msgIdString } from '../protocols/gossip/validate.js'
import { installYamuxWindowRule } from './yamux-window.js'
import { installLengthPrefixGuard } from './length-prefix-guard.js'
import { installEventInboundReader } from './gossip-inbound.js'
import { noiseCrypto } from './noise-crypto.js'

/**
 * Bound on one gossipsub RPC frame (the length-prefixed protobuf RPC on a meshsub stream), kept apart
 * from the 8 KiB bound on one market message (MAX_ENVELOPE_BYTES, enforced by the validator as
 * TOO_LARGE). A frame carries control traffic and batches of messages, and gossipsub closes the
 * stream of a peer whose frame is over the bound, so the bound must hold every legal frame:
 * - an IHAVE or IWANT lists at most 5,000 ids (gossipsub's GossipsubMaxIHaveLength) of 20 bytes:
 *   about 110 KB;
 * - an IWANT reply carries every requested message still in the message cache (the last 3 s of
 *   gossip): at the validator's throughput (well under 10,000 messages/s) of typical offers (about
 *   450 bytes) that stays under 4 MiB; so does a reply of 500 maximal 8 KiB messages.
 * Lodestar and the Ethereum consensus specs bound the whole RPC by the largest payload
 * (MAX_PAYLOAD_SIZE, 10 MiB) for the same reason; 4 MiB is gossipsub's own default, and it also
 * bounds what a connected peer can make us buffer per stream.
 */
export const MAX_GOSSIP_RPC_BYTES = 4 * 1024 * 1024

/** noise's AEAD through libsodium where its addon loads (`noise-crypto.ts`) */
const NOISE_CRYPTO = noiseCrypto()

/** every dial ends within this time, whatever the transport does (libp2p's dial queue enforces it) */
export const DIAL_TIMEOUT_MS = 10_000

/**
 * libp2p's connection monitor pings every connection on a timer and aborts one whose ping fails.
 * Its defaults (every 10 s; a timeout that adapts to measured round trips, from 5 s up to 60 s)
 * cut live connections under load twice over:
 * - a loaded node (a wave of re-publications, a major GC) stalls its event loop for seconds: at
 *   30 nodes on two cores the scale test's processes stalled for up to 2 s during its waves, and
 *   pings timed out on connections that were alive;
 * - a ping still running when the next one starts fails at once (the ping protocol allows one
 *   outbound stream per connection: `TooManyOutboundProtocolStreamsError`), and that failure aborts
 *   the connection too; the scale test beside six busy processes lost ten connections so.
 * The monitor is there to find dead connections, not slow ones: a ping has 25 s, fixed, and the
 * next starts 30 s after the last began, so two never overlap. A dead connection is found within a
 * minute.
 */
export const PING_INTERVAL_MS = 30_000
export const PING_TIMEOUT_MS = 25_000

export interface HostServices {
  identify: Identify
  ping: Ping
  /** absent when the host was built with `dht: false` */
  dht?: KadDHT
  pubsub: GossipSub
  [key: string]: unknown
}

export type Host = Libp2p<HostServices>

export interface HostInit {
  privateKey: PrivateKey
  listen: string[]
  bootstrap?: string[]
  mdns?: boolean
  /** gossipsub mesh degree; defaults to the gossipsub spec's D=6 */
  meshDegree?: number
  /** libp2p connection limit */
  maxConnections?: number
  /**
   * kad-dht on (default) or off. Its routing-table refresh dials every peer it learns of, so a
   * network that must keep a given sparse topology (the scale tests) runs without it.
   */
  dht?: boolean
  /**
   * networks (`/ip4/127.0.0.1/ipcidr/8`) exempt from the inbound connection limits (a few a second
   * per IP, a few pending upgrades): a test or devnet runs many nodes on one loopback address
   */
  allow?: string[]
}

/** the loopback network, for `allow` where every node of a test, bench or devnet listens on 127.0.0.1 */
export const LOOPBACK_NETWORK = '/ip4/127.0.0.1/ipcidr/8'

/**
 * Peer scoring (gossipsub v1.1): an invalid message (REJECT verdict) costs its forwarder heavily and
 * decays slowly, so a peer that keeps sending junk drops below the graylist threshold and loses its
 * mesh place; IGNOREd messages cost nothing.
 */
function scoreParams (): Record<string, unknown> {
  const topic = {
    topicWeight: 1,
    timeInMeshWeight: 0.01,
    timeInMeshQuantum: 1000,
    timeInMeshCap: 100,
    firstMessageDeliveriesWeight: 1,
    firstMessageDeliveriesDecay: 0.9,
    firstMessageDeliveriesCap: 50,
    // marketplace traffic is sparse: no penalty for a quiet mesh
    meshMessageDeliveriesWeight: 0,
    meshMessageDeliveriesDecay: 0.9,
    meshMessageDeliveriesCap: 10,
    meshMessageDeliveriesThreshold: 1,
    meshMessageDeliveriesWindow: 10,
    meshMessageDeliveriesActivation: 5000,
    meshFailurePenaltyWeight: 0,
    meshFailurePenaltyDecay: 0.9,
    invalidMessageDeliveriesWeight: -100,
    invalidMessageDeliveriesDecay: 0.99
  }
  return {
    topics: { [TOPIC_OFFERS]: topic, [TOPIC_BIDS]: topic },
    topicScoreCap: 100,
    // loopback devnets run many nodes on one IP: do not punish colocation there
    IPColocationFactorWeight: 0,
    behaviourPenaltyWeight: -10,
    behaviourPenaltyThreshold: 6,
    behaviourPenaltyDecay: 0.9
  }
}

/**
 * Builds the libp2p host: TCP, noise, yamux, identify, ping, kad-dht (our own protocol id, LAN
 * addresses kept so a local devnet works), gossipsub (StrictNoSign: every market message carries its
 * own signature), bootstrap and mDNS. Yamux streams send window updates by the half-window rule
 * (`yamux-window.ts`), noise's frame decoder throws no new error per read
 * (`length-prefix-guard.ts`), noise seals small frames with libsodium (`noise-crypto.ts`), and
 * gossipsub reads its inbound frames from stream events (`gossip-inbound.ts`).
 */
export async function createHost (init: HostInit): Promise<Host> {
  installYamuxWindowRule()
  installLengthPrefixGuard()
  const peerDiscovery = []
  if ((init.bootstrap?.length ?? 0) > 0) peerDiscovery.push(bootstrap({ list: init.bootstrap ?? [] }))
  if (init.mdns === true) peerDiscovery.push(mdns({ interval: 5000 }))
  const D = init.meshDegree ?? 6
  const host = await createLibp2p<HostServices>({
    privateKey: init.privateKey,
    addresses: { listen: init.listen },
    transports: [tcp()],
    connectionEncrypters: [noise({ crypto: NOISE_CRYPTO })],
    streamMuxers: [yamux()],
    peerDiscovery,
    connectionManager: { maxConnections: init.maxConnections ?? 100, dialTimeout: DIAL_TIMEOUT_MS, allow: init.allow },
    connectionMonitor: { pingInterval: PING_INTERVAL_MS, pingTimeout: { minTimeout: PING_TIMEOUT_MS, maxTimeout: PING_TIMEOUT_MS } },
    services: {
      identify: identify(),
      ping: ping(),
      ...(init.dht === false ? {} : { dht: kadDHT({ protocol: KAD_PROTOCOL, clientMode: false, peerInfoMapper: passthroughMapper }) }),
      pubsub: gossipsub({
        globalSignaturePolicy: StrictNoSign,
        msgIdFn: (m) => msgIdBytes(m.data),
        // gossipsub keys its caches by this string (never sent): Node's base64, not multiformats' JS one
        msgIdToStrFn: msgIdString,
        allowedTopics: [TOPIC_OFFERS, TOPIC_BIDS],
        // frames, not messages: the 8 KiB per-message cap is the validator's (TOO_LARGE)
        maxInboundDataLength: MAX_GOSSIP_RPC_BYTES,
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        D,
        Dlo: Math.max(1, D - 2),
        Dhi: D * 2,
        scoreParams: scoreParams(),
        scoreThresholds: { gossipThreshold: -500, publishThreshold: -1000, graylistThreshold: -2500, acceptPXThreshold: 100, opportunisticGraftThreshold: 5 }
      })
    }
  })
  installEventInboundReader(host.services.pubsub)
  return host
}

export interface EnclaveHostInit {
  /** the enclave's own peer key: its public key is bound into every piece of evidence */
  privateKey: PrivateKey
  /** defaults to one TCP port on loopback, chosen by the system */
  listen?: string[]
}

/** The enclave's host: a libp2p peer that serves attested sessions and nothing else. */
export type EnclaveHost = Libp2p<{ identify: Identify }>

/**
 * Builds the enclave's libp2p host: the same transport, encryption and multiplexing as the node's
 * host (TCP, noise, yamux, identify), so a renter dials it like any peer, but no gossip, DHT or
 * discovery. It answers only the session protocol, and the noise key a renter sees is the key the
 * evidence binds.
 */
export async function createEnclaveHost (init: EnclaveHostInit): Promise<EnclaveHost> {
  installYamuxWindowRule()
  installLengthPrefixGuard()
  return await createLibp2p({
    privateKey: init.privateKey,
    addresses: { listen: init.listen ?? ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise({ crypto: NOISE_CRYPTO })],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
}
