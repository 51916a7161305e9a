import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Keyring } from '@polkadot/keyring'
import type { KeyringPair } from '@polkadot/keyring/types'
import { cryptoWaitReady } from '@polkadot/util-crypto'
import { VoucherSigner } from '../../../src/escrow/voucher/keys.js'
import type { EscrowTerms } from '../../../src/escrow/types.js'

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
