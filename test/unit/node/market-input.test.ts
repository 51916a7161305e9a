import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { InputError, parseBookQuery, parseOfferFilters, parseOfferInput } from '../../../src/node/market-input.js'

const MARKET = { teeKinds: ['simulated'], region: 'eu', pricePerGpuHour: '1000', minDurationS: 60, maxDurationS: 3600, offerTtlS: 600, netuid: 1 } as never

/** the field an input error names, or 'accepted' */
function fieldOf (fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    if (err instanceof InputError) return err.field
    throw err
  }
  return 'accepted'
}

describe('offer input: the enclave peer', () => {
  const offer = (enclavePeer: unknown): unknown => parseOfferInput({ id: 'e', gpus: [{ model: 'h100', memoryMib: 81920, count: 1 }], enclavePeer }, MARKET)

  it('refuses text that is no peer id, and a peer id of another key type, as BAD_INPUT naming the field', async () => {
    for (const bad of ['garbage', '1abc', '', '12D3KooW']) expect(fieldOf(() => offer(bad)), bad).toBe('enclavePeer')
    const secp = peerIdFromPrivateKey(await generateKeyPair('secp256k1')).toString()
    expect(fieldOf(() => offer(secp))).toBe('enclavePeer')
  })

  it('takes an ed25519 peer id', async () => {
    const ed = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    expect((offer(ed) as { enclavePeer?: string }).enclavePeer).toBe(ed)
  })
})

describe('offer input: the TEE kinds a supplier states', () => {
  const gpus = [{ model: 'h100', memoryMib: 81920, count: 1 }]
  const market = { ...(MARKET as object), teeKinds: ['sev-snp', 'tdx'] } as never

  it('are its tee.provider by default, not the kinds it accepts as a renter', () => {
    expect(parseOfferInput({ gpus }, { ...(market as object), teeProvider: 'simulated' } as never).teeKinds).toEqual(['simulated'])
    expect(parseOfferInput({ gpus }, { ...(market as object), teeProvider: 'tdx' } as never).teeKinds).toEqual(['tdx'])
  })

  it('refuse a kind it does not attest as, naming it', () => {
    const d = { ...(market as object), teeProvider: 'simulated' } as never
    expect(fieldOf(() => parseOfferInput({ gpus, teeKinds: ['simulated', 'tdx'] }, d))).toBe('teeKinds')
    expect(() => parseOfferInput({ gpus, teeKinds: ['tdx'] }, d)).toThrow('teeKinds: this node attests as simulated (tee.provider): its offers cannot state tdx')
    expect(parseOfferInput({ gpus, teeKinds: ['simulated'] }, d).teeKinds).toEqual(['simulated'])
  })

  it('indexed by entry where a GPU entry is refused', () => {
    expect(fieldOf(() => parseOfferInput({ gpus: [...gpus, { model: 'h100', memoryMib: 81920, count: 0 }] }, MARKET))).toBe('gpus[1].count')
  })
})

describe('book query', () => {
  const q = (s: string): ReturnType<typeof parseBookQuery> => parseBookQuery(new URLSearchParams(s))

  it('reads the filters, with 1,000 rows by default', () => {
    expect(q('gpu=h100&tee=tdx&gpuCc=true&region=eu&maxPrice=5000&limit=7')).toEqual({ gpu: 'h100', teeKind: 'tdx', gpuCc: true, region: 'eu', maxPrice: 5000n, limit: 7 })
    expect(q('').limit).toBe(1000)
    expect(q('gpuCc=0').gpuCc).toBeUndefined()
  })

  it('reads the runtime and an image as a bid carries it', () => {
    expect(q('runtime=process')).toEqual({ runtime: 'process', limit: 1000 })
    expect(q('runtime=container&image=docker.io/pytorch/pytorch:2.4.0')).toMatchObject({ runtime: 'container', image: 'docker.io/pytorch/pytorch:2.4.0' })
    expect(q(`image=${encodeURIComponent('ghcr.io/org/train@sha256:' + 'a'.repeat(64))}`).image).toBe('ghcr.io/org/train@sha256:' + 'a'.repeat(64))
    expect(q(`image=ghcr.io/${'a'.repeat(504)}`).image).toHaveLength(512)
  })

  it.each([
    ['limit=-5', 'limit'], ['limit=0', 'limit'], ['limit=abc', 'limit'], ['limit=10001', 'limit'], ['limit=1.5', 'limit'],
    ['maxPrice=abc', 'maxPrice'], ['maxPrice=-1', 'maxPrice'], ['maxPrice=', 'maxPrice'], ['gpuCc=maybe', 'gpuCc'],
    ['runtime=vm', 'runtime'], ['runtime=', 'runtime'], ['runtime=Container', 'runtime'],
    ['image=', 'image'], ['image=docker.io/pytorch/pytorch:*', 'image'], ['image=oci:/tmp/x', 'image'], ['image=--privileged', 'image'],
    [`image=ghcr.io/${'a'.repeat(505)}`, 'image'], ['image=ghcr.io/x:1&runtime=process', 'image'],
    // a filter no offer can match reads as an empty market: refused instead
    ['tee=sgx', 'tee'], ['tee=', 'tee'], ['gpu=H100', 'gpu'], ['gpu=%FF', 'gpu'], ['gpu=', 'gpu'], ['region=' + 'a'.repeat(33), 'region'], ['region=EU', 'region']
  ])('%s → BAD_INPUT %s', (query, field) => {
    expect(fieldOf(() => q(query))).toBe(field)
  })

  it('GET /v1/offers refuses the same filters', () => {
    expect(parseOfferFilters(new URLSearchParams('gpu=h100-80gb&tee=sev-snp&region=us-east'))).toEqual({ gpu: 'h100-80gb', teeKind: 'sev-snp', region: 'us-east' })
    expect(fieldOf(() => parseOfferFilters(new URLSearchParams('tee=sgx')))).toBe('tee')
  })
})
