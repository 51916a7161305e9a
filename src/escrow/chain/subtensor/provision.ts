/**
 * Puts a local chain (chopsticks) in the state a market needs: dev accounts with TAO, a subnet whose
 * pool can sell alpha, and alpha staked by the accounts that open escrows.
 *
 * Balances and subnet state are written with chopsticks' `dev_setStorage`, which only a simulator
 * answers; staking is a real `subtensorModule.addStake` signed by each account, so the stake and the
 * pool move exactly as they would on a live chain.
 */
import type { ApiPromise } from '@polkadot/api'
import type { SubmittableExtrinsic } from '@polkadot/api/types'
import type { AccountPair } from '../../../util/sr25519.js'
import { encodeAddress } from '@polkadot/util-crypto'
import { SubtensorError } from './errors.js'
import { SS58_PREFIX } from './keys.js'
import { describeDispatchError } from './submit.js'

const TAO = 1_000_000_000n

/** Depth given to an empty pool on each side: 10^8 TAO against 10^8 alpha, about mainnet's scale. */
export const DEV_POOL_DEPTH = 100_000_000n * TAO

export interface ProvisionSubnet {
  netuid: number
  /** coldkey recorded as owner of `hotkey` where the subnet has no owner hotkey yet */
  ownerColdkey: string
  /** hotkey made the subnet's owner hotkey where it has none (escrow alpha is staked under it) */
  ownerHotkey: string
  /**
   * give the pool `DEV_POOL_DEPTH` on both sides where it holds less (a fresh chain from a spec:
   * raonet's netuid 1 pool holds 1 rao of alpha), and enable its token. Leave false on a fork of a
   * live network, whose pools and prices are the point of forking.
   */
  deepenPool: boolean
}

export interface ProvisionResult {
  /** the hotkey escrow alpha of `netuid` is staked under (the subnet's owner hotkey) */
  subnetHotkey?: string
  /** storage items set, for the output */
  changed: string[]
}

/** Whether the endpoint answers chopsticks' dev RPCs (a simulator, not a live node). */
export async function isDevchain (api: ApiPromise): Promise<boolean> {
  const methods = await api.rpc.rpc.methods()
  return methods.methods.some((m) => m.toString() === 'dev_setStorage')
}

async function setStorage (api: ApiPromise, changes: Record<string, unknown>): Promise<void> {
  await api.rpc('dev_setStorage' as never, changes as never)
}

/**
 * Gives each address `free` rao of TAO, keeping its nonce and any reserved or frozen balance
 * (`dev_setStorage` replaces the whole `System.Account` entry).
 */
export async function fundTao (api: ApiPromise, addresses: string[], free: bigint): Promise<void> {
  if (addresses.length === 0) return
  const entries: unknown[] = []
  for (const a of addresses) {
    const acc = (await api.query.system.account(a)).toJSON() as { nonce?: number, consumers?: number, providers?: number, sufficients?: number, data?: Record<string, unknown> }
    entries.push([[a], {
      nonce: acc.nonce ?? 0,
      consumers: acc.consumers ?? 0,
      providers: Math.max(1, acc.providers ?? 0),
      sufficients: acc.sufficients ?? 0,
      data: { ...(acc.data ?? {}), free: free.toString() }
    }])
  }
  await setStorage(api, { System: { Account: entries } })
}

function zeroAccount (): string {
  return encodeAddress(new Uint8Array(32), SS58_PREFIX)
}

/**
 * Makes `netuid` usable for alpha escrows: an owner hotkey (escrow alpha is staked under it) and,
 * with `deepenPool`, a pool deep enough that staking a few thousand TAO barely moves its price.
 * Items the runtime does not have are left out (runtime 218 keeps no `SubtokenEnabled`).
 */
export async function provisionSubnet (api: ApiPromise, s: ProvisionSubnet): Promise<ProvisionResult> {
  const q = api.query.subtensorModule
  if (q == null) throw new SubtensorError('RUNTIME_UNSUPPORTED', 'the runtime has no subtensorModule')
  const changed: string[] = []
  const items: Record<string, unknown> = {}
  let hotkey: string | undefined
  if (q.subnetOwnerHotkey != null) {
    const current = encodeAddress((await q.subnetOwnerHotkey(s.netuid)).toU8a(), SS58_PREFIX)
    if (current !== zeroAccount()) {
      hotkey = current
    } else {
      hotkey = s.ownerHotkey
      items.SubnetOwnerHotkey = [[[s.netuid], s.ownerHotkey]]
      changed.push(`SubnetOwnerHotkey(${s.netuid})`)
      if (q.owner != null) { items.Owner = [[[s.ownerHotkey], s.ownerColdkey]]; changed.push('Owner(hotkey)') }
    }
  }
  if (s.deepenPool) {
    if (q.subtokenEnabled != null && (await q.subtokenEnabled(s.netuid)).toJSON() !== true) {
      items.SubtokenEnabled = [[[s.netuid], true]]
      changed.push(`SubtokenEnabled(${s.netuid})`)
    }
    for (const [name, query] of [['SubnetAlphaIn', q.subnetAlphaIn], ['SubnetTAO', q.subnetTAO]] as const) {
      if (query == null) continue
      if (BigInt((await query(s.netuid)).toString()) < DEV_POOL_DEPTH) {
        items[name] = [[[s.netuid], DEV_POOL_DEPTH.toString()]]
        changed.push(`${name}(${s.netuid})`)
      }
    }
  }
  if (Object.keys(items).length > 0) await setStorage(api, { SubtensorModule: items })
  return { subnetHotkey: hotkey, changed }
}

/**
 * Signs, submits and waits for inclusion; a dispatch error is EXTRINSIC_FAILED with its name, and
 * so is a pool that drops the extrinsic. Finalized counts as included: polkadot-js drops its InBlock
 * report when the next status arrives before it has read the block's events (chopsticks sends
 * Finalized 100 ms after InBlock).
 */
export async function sendInBlock (api: ApiPromise, tx: SubmittableExtrinsic<'promise'>, signer: AccountPair): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    tx.signAndSend(signer, ({ status, dispatchError }) => {
      if (dispatchError != null) reject(new SubtensorError('EXTRINSIC_FAILED', describeDispatchError(api, dispatchError)))
      else if (status.isInBlock || status.isFinalized) resolve()
      else if (status.isInvalid || status.isDropped || status.isUsurped) reject(new SubtensorError('EXTRINSIC_FAILED', `the pool dropped the extrinsic (${status.type})`))
    }).then(() => {}, reject)
  })
}

/** Stakes `tao` rao of `signer`'s TAO on `netuid` under `hotkey` (a real addStake through the pool). */
export async function stakeAlpha (api: ApiPromise, signer: AccountPair, hotkey: string, netuid: number, tao: bigint): Promise<void> {
  await sendInBlock(api, api.tx.subtensorModule.addStake(hotkey, netuid, tao), signer)
}
