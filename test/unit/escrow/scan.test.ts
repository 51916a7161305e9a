import { describe, expect, it } from 'vitest'
import type { ApiPromise } from '@polkadot/api'
import type { Call, Extrinsic } from '@polkadot/types/interfaces'
import { encodeAddress } from '@polkadot/util-crypto'
import { flattenCalls } from '../../../src/escrow/chain/subtensor/scan.js'

/**
 * Which calls vouch for an escrow's open record: only those that executed with it, all or none. A
 * `utility.batch` or `forceBatch` goes on past a failed transfer, so a remark beside a transfer
 * there proves no funding (the adapter would index an unfunded escrow as open).
 */
const signer = encodeAddress(new Uint8Array(32).fill(7), 42)
const call = (section: string, method: string, args: unknown[] = []): Call => ({ section, method, args }) as unknown as Call
const signed = (top: Call): Extrinsic => ({ isSigned: true, method: top, signer: { toString: () => signer } }) as unknown as Extrinsic
const api = {} as unknown as ApiPromise

describe('the calls an open record stands on', () => {
  const fund = call('balances', 'transferKeepAlive')
  const remark = call('system', 'remarkWithEvent')

  it('in a utility.batchAll, every call of the batch', () => {
    const found = flattenCalls(api, signed(call('utility', 'batchAll', [[fund, remark]])))
    expect(found.map((f) => f.call)).toEqual([fund, remark])
    expect(found.find((f) => f.call === remark)!.siblings).toEqual([fund, remark])
    expect(found.every((f) => f.origin === signer)).toBe(true)
  })

  it.each(['batch', 'forceBatch'])('in a utility.%s, which goes on past a failed call, the call alone', (method) => {
    const found = flattenCalls(api, signed(call('utility', method, [[fund, remark]])))
    expect(found.map((f) => f.call)).toEqual([fund, remark])
    expect(found.find((f) => f.call === remark)!.siblings).toEqual([remark])
  })

  it('a batchAll inside a batch keeps its own calls together', () => {
    const inner = call('utility', 'batchAll', [[fund, remark]])
    const found = flattenCalls(api, signed(call('utility', 'batch', [[call('system', 'remark'), inner]])))
    expect(found.find((f) => f.call === remark)!.siblings).toEqual([fund, remark])
  })

  it('an unsigned extrinsic, nothing', () => {
    expect(flattenCalls(api, { isSigned: false } as unknown as Extrinsic)).toEqual([])
  })
})
