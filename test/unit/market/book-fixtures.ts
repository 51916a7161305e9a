import type { Bid, Offer } from '../../../src/wire/market.js'

export const T0 = Date.UTC(2026, 0, 1)

/** a 32-byte hotkey stand-in: n repeated */
export function party (n: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(32).fill(n)
}

export function mkOffer (o: Partial<Offer> & { supplierN?: number } = {}): Offer {
  const { supplierN, ...rest } = o
  return {
    version: 1,
    id: 'o1',
    supplier: party(supplierN ?? 1),
    enclavePeer: new Uint8Array([0, 1, 2]),
    gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 8 }],
    teeKinds: ['tdx'],
    region: 'eu',
    pricePerGpuHour: 1_000_000_000n,
    netuid: 1,
    minDurationS: 60,
    maxDurationS: 86_400,
    createdAt: BigInt(T0),
    expiresAt: BigInt(T0 + 3_600_000),
    sequence: 1n,
    cancelled: false,
    addrs: [],
    images: [],
    ...rest
  }
}

export function mkBid (b: Partial<Bid> & { renterN?: number } = {}): Bid {
  const { renterN, ...rest } = b
  return {
    version: 1,
    id: 'b1',
    renter: party(renterN ?? 101),
    requirements: { gpu: 'h100', minMemoryMib: 0, count: 1, teeKinds: [], regions: [] },
    maxPricePerGpuHour: 5_000_000_000n,
    netuid: 1,
    durationS: 3600,
    createdAt: BigInt(T0),
    expiresAt: BigInt(T0 + 3_600_000),
    sequence: 1n,
    cancelled: false,
    addrs: [],
    ...rest
  }
}
