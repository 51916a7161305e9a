/**
 * Reading escrow records back from blocks. A record counts only when the chain executed it: the
 * remark must have produced a `system.Remarked { sender, hash }` event in its extrinsic, and the
 * sender must be the party the record speaks for (the payer for an open record, the escrow's
 * multisig account for a close or refund record). A remark anyone else wrote is ignored.
 */
import type { ApiPromise } from '@polkadot/api'
import type { Call, EventRecord, Extrinsic } from '@polkadot/types/interfaces'
import { u8aToHex, u8aToString } from '@polkadot/util'
import { blake2AsHex, createKeyMulti, decodeAddress, encodeAddress } from '@polkadot/util-crypto'
import { decodeRecord, type CloseRecord, type OpenRecord } from '../records.js'
import { SS58_PREFIX } from './keys.js'

/** An open record as the subtensor adapter writes it: the shared format plus where the alpha sits. */
export interface SubtensorOpenRecord extends OpenRecord {
  /** hotkey the escrow's alpha is staked under (asset 'alpha') */
  hotkey?: string
  /** alpha the open moved in: `amount` plus an allowance for the runtime's transfer fee (decimal string) */
  funded?: string
  /** why the escrow is in TAO (asset 'tao') */
  assetReason?: string
}

/** A call found inside an extrinsic with the origin it ran as. */
export interface OriginCall {
  origin: string
  call: Call
  /**
   * the calls that executed together with this one, all or none: those of the `utility.batchAll`
   * it belongs to, else itself alone (a `batch` or `forceBatch` goes on past a failed call, so its
   * other calls prove nothing about this one)
   */
  siblings: Call[]
}

const MAX_CALL_DEPTH = 6
const MAX_CALLS = 256

/** Walks batches and multisig wrappers; bounded in depth and count (blocks are public input). */
export function flattenCalls (api: ApiPromise, ex: Extrinsic): OriginCall[] {
  const out: OriginCall[] = []
  if (!ex.isSigned) return out
  const walk = (call: Call, origin: string, siblings: Call[], depth: number): void => {
    if (depth > MAX_CALL_DEPTH || out.length >= MAX_CALLS) return
    const { section, method } = call
    if (section === 'utility' && (method === 'batch' || method === 'batchAll' || method === 'forceBatch')) {
      const calls = call.args[0] as unknown as Call[]
      for (const c of calls) walk(c, origin, method === 'batchAll' ? calls : [c], depth + 1)
      return
    }
    if (section === 'multisig' && method === 'asMulti') {
      const threshold = Number(call.args[0]!.toString())
      const others = (call.args[1] as unknown as Array<{ toU8a: () => Uint8Array }>).map((a) => a.toU8a())
      const multi = encodeAddress(createKeyMulti([decodeAddress(origin), ...others], threshold), SS58_PREFIX)
      const inner = call.args[3] as unknown as Call
      walk(inner, multi, [inner], depth + 1)
      return
    }
    out.push({ origin, call, siblings })
  }
  const top = ex.method as unknown as Call
  // the signer is a MultiAddress (an enum): its string form is the ss58 address of the `Id` variant
  walk(top, encodeAddress(decodeAddress(ex.signer.toString()), SS58_PREFIX), [top], 0)
  return out
}

export interface FoundRecord {
  doc: SubtensorOpenRecord | CloseRecord
  remark: string
  sender: string
  /** the calls that executed with the remark, all or none (see OriginCall) */
  siblings: Call[]
  blockHash: string
  blockNumber: number
  txHash: string
}

/** Every executed escrow record in one block. */
export async function recordsInBlock (api: ApiPromise, blockHash: string): Promise<FoundRecord[]> {
  const [signed, events] = await Promise.all([
    api.rpc.chain.getBlock(blockHash),
    api.at(blockHash).then(async (at) => await at.query.system.events())
  ])
  const blockNumber = signed.block.header.number.toNumber()
  const out: FoundRecord[] = []
  signed.block.extrinsics.forEach((ex, index) => {
    const mine = (events as unknown as EventRecord[]).filter((e) => e.phase.isApplyExtrinsic && e.phase.asApplyExtrinsic.toNumber() === index)
    const remarked = new Set<string>()
    for (const e of mine) {
      if (api.events.system.Remarked.is(e.event)) {
        // Remarked { sender: AccountId, hash: H256 } (frame_system; hash is BlakeTwo256 of the bytes)
        const [sender, hash] = e.event.data as unknown as [{ toU8a: () => Uint8Array }, { toHex: () => string }]
        remarked.add(`${encodeAddress(sender.toU8a(), SS58_PREFIX)}:${hash.toHex()}`)
      }
    }
    if (remarked.size === 0) return
    for (const { origin, call, siblings } of flattenCalls(api, ex)) {
      if (call.section !== 'system' || call.method !== 'remarkWithEvent') continue
      const bytes = (call.args[0] as unknown as { toU8a: (bare: boolean) => Uint8Array }).toU8a(true)
      // [IGNORE] a remark that did not execute (no Remarked event from this origin with its hash)
      if (!remarked.has(`${origin}:${blake2AsHex(bytes, 256)}`)) continue
      const remark = u8aToString(bytes)
      const doc = decodeRecord(remark)
      if (doc == null) continue
      out.push({ doc: doc as SubtensorOpenRecord | CloseRecord, remark, sender: origin, siblings, blockHash, blockNumber, txHash: ex.hash.toHex() })
    }
  })
  return out
}

/** The account id bytes of an ss58 address as hex, for comparisons. */
export function accountHex (address: string): string {
  return u8aToHex(decodeAddress(address))
}
