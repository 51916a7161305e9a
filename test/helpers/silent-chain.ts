import { EventEmitter } from 'node:events'
import type { ApiPromise } from '@polkadot/api'
import type { ManualClock } from '../../src/util/clock.js'

/**
 * A node that keeps its websocket open and stops answering (a stuck RPC node, a half-open TCP
 * connection, a proxy): @polkadot/api's calls then return promises that never settle, and the
 * connection hears of no drop. The adapter's clock is a ManualClock, so its read deadline is the
 * test's to reach.
 */
export const never = async <T>(): Promise<T> => await new Promise<T>(() => {})

const GENESIS = '0x' + 'aa'.repeat(32)
export const hex = (h: string): { toHex: () => string } => ({ toHex: () => h })

/**
 * The part of an ApiPromise a read of the subtensor adapter touches, on a runtime without
 * transferStake (escrows in TAO): `hang` names the methods that never answer; `asked` lists the
 * methods called, in order.
 */
export function silentApi (hang: Set<string>): ApiPromise & EventEmitter & { asked: string[] } {
  const asked: string[] = []
  const answer = <T>(method: string, value: T): Promise<T> => {
    asked.push(method)
    return hang.has(method) ? never<T>() : Promise.resolve(value)
  }
  const header = (n: number): { number: { toNumber: () => number } } => ({ number: { toNumber: () => n } })
  const api = Object.assign(new EventEmitter(), {
    asked,
    isConnected: true,
    genesisHash: hex(GENESIS),
    runtimeVersion: { specVersion: { toNumber: () => 218 } },
    tx: { multisig: { asMulti: {}, approveAsMulti: {} }, utility: { batchAll: {} }, system: { remarkWithEvent: {} } },
    rpc: {
      system: { chain: async () => await answer('system_chain', 'Bittensor') },
      chain: {
        getFinalizedHead: async () => await answer('chain_getFinalizedHead', hex('0x' + '11'.repeat(32))),
        getHeader: async () => await answer('chain_getHeader', header(0)),
        getBlockHash: async (n: number) => await answer('chain_getBlockHash', hex(n === 0 ? GENESIS : '0x' + '22'.repeat(32)))
      }
    },
    query: {
      system: { account: async () => await answer('system.account', { data: { free: { toBigInt: () => 7n }, frozen: { toBigInt: () => 0n } } }) }
    }
  })
  return api as unknown as ApiPromise & EventEmitter & { asked: string[] }
}

/** settles `p` by advancing `clock` one timer at a time (each read's deadline, each retry's sleep) */
export async function drive<T> (clock: ManualClock, p: Promise<T>): Promise<{ ok: T } | { err: unknown }> {
  let out: { ok: T } | { err: unknown } | undefined
  void p.then((ok) => { out = { ok } }, (err: unknown) => { out = { err } })
  for (let i = 0; i < 10_000 && out == null; i++) {
    if (!await clock.runNext()) await Promise.resolve()
  }
  return out!
}

