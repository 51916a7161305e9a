import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import * as Digest from 'multiformats/hashes/digest'
import type { Bid, Offer } from '../wire/market.js'
import { ss58 } from '../market/signing/index.js'
import { runtimeFields, type BookRow } from '../market/index.js'
import { AMOUNT_UNIT, type AmountUnit } from '../util/units.js'

/** JSON views of market messages for the control API and `--json` output (amounts as strings). */
/** an offer as the control API shows it: a book row with the enclave and the addresses */
export interface OfferView extends Omit<BookRow, 'peer'> {
  enclavePeer: string
  addrs: string[]
}

export interface BidView {
  key: string
  renter: string
  id: string
  /** `image`: the container image the job runs in; absent: a process job */
  requirements: { gpu: string, minMemoryMib: number, count: number, teeKinds: string[], regions: string[], image?: string }
  maxPricePerGpuHour: string
  /** the unit of the amount above (see util/units) */
  unit: AmountUnit
  netuid: number
  durationS: number
  createdAt: string
  expiresAt: string
  sequence: string
  addrs: string[]
}

const iso = (ms: bigint): string => new Date(Number(ms)).toISOString()

function addrStrings (addrs: Uint8Array[]): string[] {
  return addrs.map((a) => { try { return multiaddr(a).toString() } catch { return '' } }).filter((s) => s !== '')
}

export function peerIdString (bytes: Uint8Array): string {
  return peerIdFromMultihash(Digest.decode(bytes)).toString()
}

export function offerView (o: Offer): OfferView {
  const supplier = ss58(o.supplier)
  return {
    key: `${supplier}/${o.id}`,
    supplier,
    id: o.id,
    enclavePeer: o.cancelled ? '' : peerIdString(o.enclavePeer),
    gpus: o.gpus.map((g) => ({ model: g.model, memoryMib: g.memoryMib, count: g.count })),
    teeKinds: o.teeKinds,
    gpuCc: o.gpuCc === true,
    ...runtimeFields(o.runtime, o.images),
    region: o.region,
    pricePerGpuHour: o.pricePerGpuHour.toString(),
    unit: AMOUNT_UNIT,
    netuid: o.netuid,
    minDurationS: o.minDurationS,
    maxDurationS: o.maxDurationS,
    createdAt: iso(o.createdAt),
    expiresAt: iso(o.expiresAt),
    sequence: o.sequence.toString(),
    addrs: addrStrings(o.addrs)
  }
}

export function bidView (b: Bid): BidView {
  const renter = ss58(b.renter)
  const r = b.requirements ?? { gpu: '', minMemoryMib: 0, count: 0, teeKinds: [], regions: [] }
  return {
    key: `${renter}/${b.id}`,
    renter,
    id: b.id,
    requirements: { gpu: r.gpu, minMemoryMib: r.minMemoryMib, count: r.count, teeKinds: r.teeKinds, regions: r.regions, ...(r.image !== undefined ? { image: r.image } : {}) },
    maxPricePerGpuHour: b.maxPricePerGpuHour.toString(),
    unit: AMOUNT_UNIT,
    netuid: b.netuid,
    durationS: b.durationS,
    createdAt: iso(b.createdAt),
    expiresAt: iso(b.expiresAt),
    sequence: b.sequence.toString(),
    addrs: addrStrings(b.addrs)
  }
}
