import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Bid, Offer } from '../../src/wire/market.js'
import type { MessageSigner } from '../../src/market/signing/index.js'

/** A valid offer from `signer`, created at `now`, with fields overridable. */
export async function makeOffer (signer: MessageSigner, now: number, over: Partial<Offer> = {}): Promise<Offer> {
  const enclave = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  return {
    version: 1,
    id: 'gpu-0',
    supplier: signer.hotkey,
    enclavePeer: new Uint8Array(enclave.toMultihash().bytes),
    gpus: [{ model: 'h100-80gb', memoryMib: 81_920, count: 4 }],
    teeKinds: ['simulated'],
    region: 'eu-west',
    pricePerGpuHour: 2_000_000_000n,
    netuid: 1,
    minDurationS: 60,
    maxDurationS: 86_400,
    createdAt: BigInt(now),
    expiresAt: BigInt(now + 600_000),
    sequence: 1n,
    cancelled: false,
    addrs: [],
    images: [],
    ...over
  }
}

export function makeBid (signer: MessageSigner, now: number, over: Partial<Bid> = {}): Bid {
  return {
    version: 1,
    id: 'job-0',
    renter: signer.hotkey,
    requirements: { gpu: 'h100', minMemoryMib: 40_000, count: 1, teeKinds: [], regions: [] },
    maxPricePerGpuHour: 3_000_000_000n,
    netuid: 1,
    durationS: 3600,
    createdAt: BigInt(now),
    expiresAt: BigInt(now + 600_000),
    sequence: 1n,
    cancelled: false,
    addrs: [],
    ...over
  }
}
