import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { MessageSigner } from '../market/signing/index.js'
import type { Offer } from '../wire/market.js'

/**
 * The offer the gossip benches publish: one H100 server of a supplier, valid for an hour from
 * `now`, with an enclave peer and an address of its own as a node's offers carry. Benches vary its
 * id and sequence.
 */
export async function offerTemplate (s: MessageSigner, id: string, now: number): Promise<Offer> {
  const node = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  return {
    version: 1,
    id,
    supplier: s.hotkey,
    enclavePeer: new Uint8Array(peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toMultihash().bytes),
    gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 8 }],
    teeKinds: ['tdx', 'sev-snp'],
    region: 'eu-west',
    pricePerGpuHour: 2_500_000_000n,
    netuid: 1,
    minDurationS: 60,
    maxDurationS: 86400,
    createdAt: BigInt(now),
    expiresAt: BigInt(now + 3600_000),
    sequence: 1n,
    cancelled: false,
    // a supplier names where it can be dialled, as a node's offers do
    addrs: [multiaddr(`/ip4/10.0.0.1/tcp/4001/p2p/${node.toString()}`).bytes],
    images: []
  }
}
