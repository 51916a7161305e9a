import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'

/**
 * DHT provider records per GPU class, so that a renter who joined late finds suppliers without
 * waiting for the next gossip re-publication. A supplier provides one record for each model it
 * offers (`gpu:h100-80gb`) and one for the model's family (`gpu:h100`), because a bid may name
 * either. The record key is the CIDv1 (raw, sha2-256) of the UTF-8 string `bazaar:gpu:<class>`.
 */
export function gpuClassKey (cls: string): string {
  return `bazaar:gpu:${cls}`
}

export async function gpuClassCid (cls: string): Promise<CID> {
  const digest = await sha256.digest(new TextEncoder().encode(gpuClassKey(cls)))
  return CID.createV1(raw.code, digest)
}

/** the family of a normalised model: `h100-80gb` → `h100` */
export function gpuFamily (model: string): string {
  const i = model.indexOf('-')
  return i === -1 ? model : model.slice(0, i)
}

/** the classes a supplier provides records for, from the models it offers */
export function classesToProvide (models: string[]): string[] {
  return [...new Set(models.flatMap((m) => [m, gpuFamily(m)]))].sort()
}
