import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Keyring } from '@polkadot/keyring'
import type { KeyringPair } from '@polkadot/keyring/types'
import { cryptoWaitReady } from '@polkadot/util-crypto'
import { VoucherSigner } from '../../../src/escrow/voucher/keys.js'
import type { EscrowTerms } from '../../../src/escrow/types.js'
import { Arbiter } from '../../../src/escrow/arbiter/service.js'
import { EmbeddedLedger } from '../../../src/escrow/chain/embedded/ledger.js'
import { EscrowDb } from '../../../src/escrow/store/db.js'
import { MemoryVoucherStore } from '../../../src/escrow/store/memory.js'
import { ManualClock } from '../../../src/util/clock.js'

export const T0 = Date.UTC(2026, 0, 1)
export const HOUR = 3_600_000
export const NETUID = 7

export interface Parties { payer: KeyringPair, payee: KeyringPair, arbiter: KeyringPair, other: KeyringPair }

/** Well-known dev accounts (sr25519, ss58 prefix 42). */
export async function parties (): Promise<Parties> {
  await cryptoWaitReady()
  const kr = new Keyring({ type: 'sr25519', ss58Format: 42 })
  return { payer: kr.addFromUri('//Alice'), payee: kr.addFromUri('//Bob'), arbiter: kr.addFromUri('//Charlie'), other: kr.addFromUri('//Dave') }
}

export const voucherSeed = '0x' + '11'.repeat(32)
export const signer = (): VoucherSigner => VoucherSigner.fromSeed(voucherSeed)

export function escrowId (n: number): string {
  return '0x' + n.toString(16).padStart(64, '0')
}

export function terms (p: Parties, over: Partial<EscrowTerms> = {}): EscrowTerms {
  return {
    escrowId: escrowId(1),
    agreementHash: '0x' + 'ab'.repeat(32),
    payer: p.payer.address,
    payee: p.payee.address,
    arbiter: p.arbiter.address,
    amount: 1_000_000_000n,
    netuid: NETUID,
    voucherKey: signer().publicKeyHex,
    expiresAt: T0 + 2 * HOUR,
    ...over
  }
}

export async function tempDir (): Promise<{ path: string, cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'bazaar-escrow-'))
  return { path, cleanup: async () => { await rm(path, { recursive: true, force: true }) } }
}

/**
 * A persisted embedded ledger that funds the payer with `funds`, the supplier's and the renter's
 * escrow stores, and a real arbiter on that ledger, all on one ManualClock at T0. Their closes and
 * directories go onto `cleanups` (run in reverse).
 */
export async function ledgerWorld (p: Parties, funds: bigint, cleanups: Array<() => Promise<void>>): Promise<{ clock: ManualClock, ledger: EmbeddedLedger, supplierDb: EscrowDb, renterDb: EscrowDb, arbiter: Arbiter }> {
  const clock = new ManualClock(T0)
  const dirs = await Promise.all([tempDir(), tempDir(), tempDir()])
  cleanups.push(...dirs.map((d) => d.cleanup))
  const ledger = await EmbeddedLedger.open({ netuid: NETUID, path: dirs[0].path, clock, genesis: [{ address: p.payer.address, amount: funds }] })
  const supplierDb = await EscrowDb.open(dirs[1].path)
  const renterDb = await EscrowDb.open(dirs[2].path)
  cleanups.push(async () => { await ledger.close(); await supplierDb.close(); await renterDb.close() })
  const arbiter = new Arbiter({ chain: ledger, key: p.arbiter, clock, vouchers: new MemoryVoucherStore() })
  return { clock, ledger, supplierDb, renterDb, arbiter }
}
